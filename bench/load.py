"""Load test of vigil's API: 50 concurrent clients for 30 s against `vigil serve` on 127.0.0.1.

Builds (once, then reuses) a store of generated events (100,000 by default: synthetic
articles written from templates, not real reports), starts the server in its own process,
and runs two phases with the same clients: a baseline (`GET /health`, no database work)
and filtered event queries (governorate, type, dates, fatalities; a page of 100 events with
the total count). Prints requests, errors, throughput and p50/p95/max latency per phase.
Bounded in time and in requests; talks to 127.0.0.1 only.

    .venv/bin/python bench/load.py [--events 100000] [--clients 50] [--seconds 30] [--db var/bench.sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from rich.console import Console
from rich.table import Table

from vigil.ingest import make_document
from vigil.model import Claim, DateInterval, EventMention, Evidence, Extraction, Place, Span
from vigil.store import Store, sqlite_url

RULE_BENCH = "bench.generated@1"
GOVERNORATES = {  # name: (latitude, longitude) of its capital
    "Aleppo": (36.20, 37.16),
    "Idleb": (35.93, 36.63),
    "Lattakia": (35.53, 35.79),
    "Tartous": (34.89, 35.89),
    "Hama": (35.13, 36.76),
    "Homs": (34.72, 36.73),
    "Damascus": (33.51, 36.29),
    "Rural Damascus": (33.52, 36.50),
    "Dar'a": (32.62, 36.10),
    "As-Sweida": (32.71, 36.57),
    "Quneitra": (33.13, 35.82),
    "Deir-ez-Zor": (35.34, 40.14),
    "Ar-Raqqa": (35.95, 39.01),
    "Al-Hasakeh": (36.50, 40.75),
}
TYPES = [
    ("Violence against civilians", "Attack", "gunmen attacked a village"),
    ("Battles", "Armed clash", "two armed groups fought"),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack", "shells fell on a district"),
    ("Protests", "Peaceful protest", "residents marched peacefully"),
    ("Strategic developments", "Arrests", "security forces detained several men"),
]
EVENTS_PER_DOC = 10
PAGE = 100


# --- the generated store ---------------------------------------------------------------


def _extraction(n: int, rng: random.Random) -> Extraction:
    """One generated article with EVENTS_PER_DOC events, each with a claim and evidence."""
    day0 = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
    rows = []
    for _ in range(EVENTS_PER_DOC):
        gov = rng.choice(list(GOVERNORATES))
        event_type, sub, phrase = rng.choice(TYPES)
        dead = rng.choice([0, 0, 0, 1, 2, 3, 5, 8, 12, 20, 45])
        day = day0 + timedelta(days=rng.randrange(7))
        rows.append(
            (gov, event_type, sub, dead, day, f"On {day:%d %B %Y} in {gov}, {phrase}; {dead} people died.")
        )
    text = f"Generated report {n}.\n" + " ".join(r[5] for r in rows) + "\n"
    doc = make_document(
        text, name=f"bench-{n}.txt", source=f"bench:{n}", title=f"Generated report {n}", published=day0
    )
    claims, events = [], []
    offset = text.index("\n") + 1
    for i, (gov, event_type, sub, dead, day, sentence) in enumerate(rows):
        start = text.index(sentence, offset)
        offset = end = start + len(sentence)
        span = Span(doc_id=doc.id, start=start, end=end)
        at = text.index(gov, start)
        gov_span = Span(doc_id=doc.id, start=at, end=at + len(gov))
        lat, lon = GOVERNORATES[gov]
        claim = Claim(
            id=f"{doc.id}-c{i}",
            doc_id=doc.id,
            claimant="article",
            via=None,
            count=dead,
            qualifier="exact",
            killed_or_injured="killed",
            category="unknown",
            victim_group=None,
            scope="incident",
            period=DateInterval(start=day, end=day, precision=1),
            admin1=(gov,),
            span=span,
            sentence=span,
            evidence=(Evidence(field="count", span=span, rule=RULE_BENCH),),
        )
        events.append(
            EventMention(
                id=f"{doc.id}-e{i}",
                doc_id=doc.id,
                event_type=event_type,
                sub_event_type=sub,
                date=DateInterval(start=day, end=day, precision=1),
                country="Syria",
                admin1=(gov,),
                place=Place(
                    name=gov,
                    kind="admin1",
                    country="Syria",
                    country_code="SY",
                    admin1=gov,
                    latitude=lat + rng.uniform(-0.2, 0.2),
                    longitude=lon + rng.uniform(-0.2, 0.2),
                    geo_precision=3,
                ),
                actor1="Unidentified armed group",
                actor2="Civilians" if event_type == "Violence against civilians" else None,
                victim_group=rng.choice([None, None, "Alawite", "Druze", "Kurdish", "Christian"]),
                civilian_targeting=event_type == "Violence against civilians",
                fatalities=dead,
                fatalities_low=dead,
                fatalities_high=dead,
                toll_scope="incident",
                claim_ids=(claim.id,),
                span=span,
                sentence=span,
                evidence=(
                    Evidence(field="admin1", span=gov_span, rule=RULE_BENCH),
                    Evidence(field="fatalities", span=span, rule=RULE_BENCH),
                ),
            )
        )
        claims.append(claim)
    return Extraction(
        document=doc,
        sentences=(),
        mentions=(),
        claims=tuple(claims),
        events=tuple(events),
        extractor=RULE_BENCH,
    )


def build_store(path: Path, events: int, console: Console) -> None:
    """Fill `path` with `events` generated events (skipped when it already holds them)."""
    with Store.open(sqlite_url(path)) as store:
        have = store.counts()["events"]
        if have >= events:
            console.print(f"store {path}: {have:,} events (reused)")
            return
        rng = random.Random(20250306)
        started = time.perf_counter()
        n = have // EVENTS_PER_DOC
        while n * EVENTS_PER_DOC < events:
            batch = [_extraction(n + i, rng) for i in range(min(200, (events // EVENTS_PER_DOC) - n))]
            store.write(batch)
            n += len(batch)
        console.print(
            f"store {path}: {store.counts()['events']:,} events written in {time.perf_counter() - started:.0f} s"
        )


# --- the server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    command = [sys.executable, "-m", "vigil.cli", "serve", "--db", str(db), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5):
                return process, base
        except OSError:
            if process.poll() is not None:
                raise SystemExit("vigil serve exited before answering") from None
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("vigil serve did not answer within 60 s")


# --- the load -------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def row(self) -> list[str]:
        lat = sorted(self.latencies)
        n = len(lat) + self.errors

        def pct(p: float) -> str:
            return f"{lat[min(len(lat) - 1, int(p * len(lat)))] * 1000:.0f}" if lat else "-"

        return [
            self.name,
            f"{n:,}",
            f"{self.errors:,}",
            f"{n / self.seconds:.1f}" if self.seconds else "-",
            f"{statistics.median(lat) * 1000:.0f}" if lat else "-",
            pct(0.95),
            f"{lat[-1] * 1000:.0f}" if lat else "-",
        ]


def filtered_query(rng: random.Random) -> dict[str, str]:
    """A dashboard-like query: one to three filters, a page of events and the total count."""
    start = date(2025, 1, 1) + timedelta(days=rng.randrange(330))
    choices = [
        {"governorate": rng.choice(list(GOVERNORATES))},
        {"event_type": rng.choice(TYPES)[0]},
        {
            "date_from": start.isoformat(),
            "date_to": (start + timedelta(days=rng.choice([7, 30]))).isoformat(),
        },
        {"min_fatalities": str(rng.choice([5, 10, 20]))},
        {"victim_group": rng.choice(["Alawite", "Druze", "Kurdish"])},
    ]
    params: dict[str, str] = {"limit": str(PAGE)}
    for extra in rng.sample(choices, rng.randint(1, 3)):
        params.update(extra)
    return params


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str) -> int:
    """One GET on a kept-alive HTTP/1.1 connection; the status. A bare client: httpx spends
    more CPU per request than the server's answer costs, on the cores the server needs."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if length is None:
        raise ConnectionError("response without Content-Length")
    await reader.readexactly(int(length[1]))
    return status


async def run_phase(
    base: str,
    name: str,
    path: str,
    make_params,
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    think: float = 0.0,
) -> Phase:
    """`clients` connections, each sending its next request when the last answer is in (after
    a random pause averaging `think` seconds, when given), until `seconds` have passed."""
    phase = Phase(name=name)
    deadline = time.perf_counter() + seconds
    budget = [max_requests]
    host, port = base.removeprefix("http://").split(":")

    async def client(k: int) -> None:
        rng = random.Random(k)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline and budget[0] > 0:
                if think:
                    await asyncio.sleep(rng.expovariate(1 / think))
                budget[0] -= 1
                params = make_params(rng)
                target = f"{path}?{urlencode(params)}" if params else path
                t = time.perf_counter()
                ok = False
                for _attempt in range(2):  # a kept-alive connection the server closed: reopen, retry once
                    try:
                        ok = await asyncio.wait_for(_get(reader, writer, target), timeout=60) == 200
                        break
                    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                        writer.close()
                        reader, writer = await asyncio.open_connection(host, int(port))
                if ok:
                    phase.latencies.append(time.perf_counter() - t)
                else:
                    phase.errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    phase.seconds = time.perf_counter() - started
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("var/bench.sqlite"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="per phase")
    parser.add_argument("--max-requests", type=int, default=200_000, help="per phase")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause (s) of each client between requests, last phase"
    )
    args = parser.parse_args()
    console = Console()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    build_store(args.db, args.events, console)
    process, base = start_server(args.db)
    try:
        options = {"clients": args.clients, "seconds": args.seconds, "max_requests": args.max_requests}
        events = f"GET /events (filtered, {PAGE}/page)"
        phases = [
            asyncio.run(run_phase(base, "baseline: GET /health", "/health", lambda _rng: {}, **options)),
            asyncio.run(run_phase(base, f"{events}, back to back", "/events", filtered_query, **options)),
            asyncio.run(
                run_phase(
                    base,
                    f"{events}, {args.think:g} s pauses",
                    "/events",
                    filtered_query,
                    think=args.think,
                    **options,
                )
            ),
        ]
    finally:
        process.terminate()
        process.wait(timeout=30)
    table = Table(
        title=f"{args.clients} clients × {args.seconds:g} s per phase, {args.events:,} events, 127.0.0.1"
    )
    for col in ("phase", "requests", "errors", "req/s", "p50 ms", "p95 ms", "max ms"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for phase in phases:
        table.add_row(*phase.row())
    console.print(table)
    baseline, filtered = phases[0], phases[1]
    if baseline.latencies and filtered.latencies:
        ratio = statistics.median(filtered.latencies) / statistics.median(baseline.latencies)
        console.print(
            f"back-to-back filtered p50 is {ratio:.1f}× the baseline's "
            f"(client and server share {os.cpu_count()} cores)"
        )


if __name__ == "__main__":
    main()
