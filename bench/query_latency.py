"""Latency of filtered event queries on SQLite and PostgreSQL stores holding 100,000 events.

    .venv/bin/python bench/query_latency.py [--events 100000] [--repeat 40] [--postgres URL]

The events are synthetic (four per document, spread over the governorates, event types, 2025 and
tolls) and written through `Store.write`, as an ingest would. Without --postgres a throwaway server
is started (bench/pgtemp.py). For each filter it times a page of 100 events (`Store.events`) and
the count (`Store.count_events`), with varying parameters, and prints p50/p95 in milliseconds; the
unfiltered count is the baseline.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from pgtemp import throwaway_postgres

from vigil.ingest import make_document
from vigil.model import DateInterval, EventMention, Evidence, Extraction, Span
from vigil.store import EventFilter, Store, sqlite_url

GOVERNORATES = ["Aleppo", "Damascus", "Dar'a", "Deir ez-Zor", "Hama", "Homs", "Idlib", "Lattakia",
                "Quneitra", "Ar-Raqqa", "Rural Damascus", "As-Sweida", "Tartus", "Al-Hasakeh"]  # fmt: skip
TYPES = [
    ("Violence against civilians", "Attack"),
    ("Battles", "Armed clash"),
    ("Explosions/Remote violence", "Air/drone strike"),
    ("Protests", "Peaceful protest"),
    ("Riots", "Mob violence"),
]
YEAR = date(2025, 1, 1)
PER_DOCUMENT = 4


def synthetic(i: int, rng: random.Random) -> Extraction:
    """Document `i` with four events: random governorate, type, day of 2025 and toll."""
    doc = make_document(
        f"Synthetic report {i}: several incidents were recorded.", name=f"s{i}.txt", source="bench"
    )
    events = []
    for k in range(PER_DOCUMENT):
        event_type, sub = rng.choice(TYPES)
        day = YEAR + timedelta(days=rng.randrange(365))
        dead = min(int(rng.expovariate(1 / 6)), 500) if event_type != "Protests" else 0
        span = Span(doc_id=doc.id, start=0, end=9)
        events.append(
            EventMention(
                id=f"{doc.id}-e{k}",
                doc_id=doc.id,
                event_type=event_type,
                sub_event_type=sub,
                date=DateInterval(start=day, end=day + timedelta(days=rng.choice([0, 0, 0, 2])), precision=1),
                country="Syria",
                admin1=(rng.choice(GOVERNORATES),),
                place=None,
                actor1="Unidentified armed group",
                actor2="Civilians",
                victim_group=None,
                civilian_targeting=event_type == "Violence against civilians",
                fatalities=dead,
                fatalities_low=dead,
                fatalities_high=dead,
                toll_scope="incident",
                claim_ids=(),
                span=span,
                sentence=span,
                evidence=(Evidence(field="event_type", span=span, rule="bench.synthetic@1"),),
            )
        )
    return Extraction(
        document=doc, sentences=(), mentions=(), claims=(), events=tuple(events), extractor="bench@1"
    )


def fill(store: Store, n_events: int) -> float:
    rng = random.Random(7)
    start = time.perf_counter()
    docs = n_events // PER_DOCUMENT
    for first in range(0, docs, 1000):
        store.write([synthetic(i, rng) for i in range(first, min(first + 1000, docs))])
    return time.perf_counter() - start


@dataclass(frozen=True, kw_only=True)
class Row:
    query: str
    backend: str
    matching: int
    page: tuple[float, float]
    count: tuple[float, float]


def month(rng: random.Random) -> dict:
    start = YEAR + timedelta(days=rng.randrange(335))
    return {"date_from": start, "date_to": start + timedelta(days=30)}


QUERIES: dict[str, Callable[[random.Random], dict]] = {
    "unfiltered (baseline)": lambda rng: {},
    "governorate": lambda rng: {"governorate": rng.choice(GOVERNORATES)},
    "date range (30 days)": month,
    "event type": lambda rng: {"event_type": rng.choice(TYPES)[rng.randrange(2)]},
    "min fatalities": lambda rng: {"min_fatalities": rng.choice([1, 10, 50])},
    "all four": lambda rng: {
        "governorate": rng.choice(GOVERNORATES),
        **month(rng),
        "event_type": rng.choice(TYPES)[0],
        "min_fatalities": rng.choice([1, 5]),
    },
}


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples) * 1000, cuts[18] * 1000


def measure(store: Store, backend: str, repeat: int) -> list[Row]:
    rows = []
    for name, make in QUERIES.items():
        rng = random.Random(name)
        filters = [EventFilter(**make(rng)) for _ in range(repeat)]
        store.events(replace(filters[0], limit=100))  # warm the caches
        page, count, matching = [], [], []
        for flt in filters:
            t = time.perf_counter()
            store.events(replace(flt, limit=100))
            page.append(time.perf_counter() - t)
            t = time.perf_counter()
            matching.append(store.count_events(flt))
            count.append(time.perf_counter() - t)
        rows.append(
            Row(
                query=name,
                backend=backend,
                matching=round(statistics.median(matching)),
                page=percentiles(page),
                count=percentiles(count),
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument(
        "--postgres", help="URL of an empty PostgreSQL database (default: a throwaway server)"
    )
    args = parser.parse_args()
    rows, fills = [], {}
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        server = nullcontext(args.postgres) if args.postgres else throwaway_postgres()
        with server as pg_url:
            for backend, url in (("sqlite", sqlite_url(Path(tmp) / "bench.sqlite")), ("postgresql", pg_url)):
                with Store.open(url) as store:
                    fills[backend] = fill(store, args.events)
                    assert store.count_events() == args.events // PER_DOCUMENT * PER_DOCUMENT
                    rows += measure(store, backend, args.repeat)
    print(f"{args.events:,} events; {args.repeat} queries of each kind; times in ms")
    print("written through Store.write in " + ", ".join(f"{b} {s:.0f} s" for b, s in fills.items()) + "\n")
    head = f"| {'query':<22} | {'backend':<10} | {'matching':>8} | {'page p50':>8} | {'page p95':>8} | {'count p50':>9} | {'count p95':>9} |"
    print(head)
    print("|" + "|".join("-" * len(cell) for cell in head.split("|")[1:-1]) + "|")
    for r in sorted(rows, key=lambda r: (list(QUERIES).index(r.query), r.backend)):
        print(
            f"| {r.query:<22} | {r.backend:<10} | {r.matching:>8,} | {r.page[0]:8.1f} | {r.page[1]:8.1f} "
            f"| {r.count[0]:9.1f} | {r.count[1]:9.1f} |"
        )


if __name__ == "__main__":
    main()
