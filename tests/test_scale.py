"""Scale-out proofs: concurrent ingests into one store and the Dask engine lose and duplicate nothing.

Each test compares a store against a clean single-process, local-engine run on the same inputs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from distributed import Client
from sqlalchemy import select, text

from vigil import pipeline
from vigil.cli import main
from vigil.engine import EngineOptions, local_cluster
from vigil.ingest import read_inputs
from vigil.model import Document
from vigil.store import Store, sqlite_url
from vigil.store.schema import documents

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "vigil" / "data" / "sample"
TOWNS = ["Hama", "Homs", "Latakia", "Tartus", "Idlib", "Aleppo", "Daraa", "Jableh", "Baniyas", "Qardaha"]


def _write_corpus(folder: Path, n: int) -> list[Path]:
    """`n` short reports of our own wording, each different (numbers, towns, days)."""
    folder.mkdir()
    paths = []
    for i in range(n):
        town, other = TOWNS[i % len(TOWNS)], TOWNS[(i * 3 + 1) % len(TOWNS)]
        path = folder / f"report_{i:04d}.txt"
        path.write_text(
            f"title: Report {i} from {town}\ndate: 2025-03-{1 + i % 28:02d}\n\n"
            f"Gunmen killed {i + 2} civilians in {town} on Monday, a monitoring group said. "
            f"Another {i % 7 + 1} people were wounded when a shell hit a market in {other}. "
            f"Residents of {town} protested the next day and security forces dispersed them. "
            f"Local officials put the toll at {i + 4} dead by Wednesday.\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    return _write_corpus(tmp_path_factory.mktemp("scale") / "corpus", 240)


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory) -> tuple:
    """What a single local-engine run stores from the corpus."""
    url = sqlite_url(tmp_path_factory.mktemp("clean") / "clean.sqlite")
    cache = os.environ.get("VIGIL_TEST_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "vigil-cache"))
    with pytest.MonkeyPatch.context() as env, Store.open(url) as store:
        env.setenv("VIGIL_CACHE_DIR", cache)  # as conftest's _isolated_cache, which runs per test
        report = pipeline.ingest(corpus, store=store)
        assert report.stored == len(corpus) and not report.skipped
        return _content(store)


def _content(store: Store) -> tuple:
    """Counts, the stored content hashes, and every event and claim in a backend-neutral form."""
    events = store.events()
    with store.engine.connect() as conn:
        hashes = set(conn.scalars(select(documents.c.content_hash)))
    return (
        store.counts(),
        hashes,
        sorted((r.event.id, r.event.fatalities, r.event.admin1, r.event.sub_event_type) for r in events),
        sorted((r.claim.id, r.claim.count) for r in store.claims()),
    )


def _corpus_hashes(paths: list[Path]) -> set[str]:
    return {d.content_hash for d in read_inputs(paths) if isinstance(d, Document)}


def _report(stderr: str) -> dict[str, int]:
    """The counts an `ingest` prints at its end."""
    line = next(x for x in stderr.splitlines() if x.startswith("documents read:"))
    return {name: int(n) for name, n in re.findall(r"(\w+): (\d+)", line)}


@pytest.mark.slow
def test_two_ingests_at_once_into_one_store_lose_and_duplicate_nothing(database_url, corpus, clean):
    first, second = corpus[:160], corpus[80:][::-1]  # 80 documents overlap, met in opposite orders
    env = dict(os.environ, COLUMNS="300")
    command = [sys.executable, "-m", "vigil.cli", "ingest", "--db", database_url, "--batch-size", "5"]
    command.append("--no-reconcile")
    procs = [
        subprocess.Popen(
            [*command, *map(str, part)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for part in (first, second)
    ]
    expected_events = Counter(event_id.split("-")[0] for event_id, *_ in clean[2])
    reads = last = 0
    with Store.open(database_url) as reader:  # reads while both write: whole documents only, ever more
        while any(p.poll() is None for p in procs):
            records = reader.events()
            ids = [r.event.id for r in records]
            assert len(ids) == len(set(ids))
            per_document = Counter(r.document.id for r in records)
            assert all(n == expected_events[doc] for doc, n in per_document.items())
            assert len(records) >= last
            last, reads = len(records), reads + 1
            time.sleep(0.2)
        outputs = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        reports = [_report(out) for out in outputs]
        assert sum(r["stored"] for r in reports) == len(corpus)
        assert sum(r["duplicates"] for r in reports) == 80
        assert reads > 0
        assert _content(reader) == clean
        assert reader.known_hashes(_corpus_hashes(corpus)) == clean[1]
        if reader.engine.dialect.name == "sqlite":  # writers waited for each other; nothing corrupt
            with reader.engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"


@pytest.mark.slow
def test_dask_and_local_engines_export_the_same_bytes(tmp_path, corpus):
    inputs = [str(SAMPLE), *map(str, corpus[:120])]
    local, dask = str(tmp_path / "local.sqlite"), str(tmp_path / "dask.sqlite")
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", *inputs, "--db", local, "--no-reconcile"])
    assert result.exit_code == 0, result.output
    command = [sys.executable, "-m", "vigil.cli", "ingest", *inputs, "--db", dask, "--no-reconcile"]
    command += ["--engine", "dask", "--workers", "2", "--batch-size", "20"]
    ran = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=dict(os.environ, COLUMNS="300")
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert _report(ran.stderr)["stored"] == len(corpus[:120]) + 8
    exports = [
        runner.invoke(main, ["export", "--db", db, "--format", "jsonl"], catch_exceptions=False).stdout_bytes
        for db in (local, dask)
    ]
    assert exports[0].count(b"\n") > 120
    assert exports[0] == exports[1]


@pytest.mark.slow
def test_a_dask_worker_killed_midway_loses_and_duplicates_nothing(tmp_path, corpus, clean):
    killed: list[tuple[str, int]] = []
    with (
        local_cluster(workers=2) as cluster,
        Client(cluster) as client,
        Store.open(sqlite_url(tmp_path / "dask.sqlite")) as store,
    ):
        pids = client.run(os.getpid)

        def kill_a_busy_worker(_item) -> None:
            if killed:
                return
            busy = [address for address, tasks in client.processing().items() if tasks]
            if busy:  # a worker in the middle of a shard: its work is lost unless rescheduled
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append((busy[0], pids[busy[0]]))

        options = EngineOptions(name="dask", scheduler=cluster.scheduler_address, shard_size=10, in_flight=8)
        report = pipeline.ingest(corpus, store=store, engine_options=options, progress=kill_a_busy_worker)
        assert killed, "a worker must be killed while it works for this test to mean anything"
        assert (report.read, report.stored, report.duplicates) == (len(corpus), len(corpus), 0)
        assert _content(store) == clean
        assert killed[0][1] not in client.run(os.getpid).values()
