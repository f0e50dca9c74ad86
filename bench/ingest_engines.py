"""Ingest throughput: the local engine against Dask with 1 and 2 workers, on one generated corpus.

    .venv/bin/python bench/ingest_engines.py [--docs 600] [--shard-size 50]

The corpus is the sample reports (src/vigil/data/sample) rewritten with varied numbers, so every
document is new to the store. Each run ingests it into a fresh SQLite store. Dask runs are timed
twice: with the LocalCluster's start (what `vigil ingest --engine dask` costs) and on a cluster
already started and warmed up (what a long-running cluster gives). Prints one table.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from distributed import Client, LocalCluster

from vigil import pipeline
from vigil.engine import EngineOptions, local_cluster
from vigil.ingest import read_inputs
from vigil.model import Document
from vigil.store import Store, sqlite_url

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "vigil" / "data" / "sample"


@dataclass(frozen=True, kw_only=True)
class Run:
    label: str
    seconds: float
    stored: int


def varied(text: str, copy: int) -> str:
    """The text with its counts (numbers from 32 up, years left alone) raised by `copy`, and a last
    line naming the copy, so every copy is a new document."""

    def shift(m: re.Match) -> str:
        n = int(m.group())
        return m.group() if n < 32 or 1900 <= n <= 2100 else str(n + copy)

    return re.sub(r"\d+", shift, text) + f"\n(Copy {copy}.)"


def write_corpus(folder: Path, n: int) -> list[Path]:
    """`n` text files: the sample reports in turn, each copy with varied numbers."""
    samples = [d for d in read_inputs([SAMPLE]) if isinstance(d, Document)]
    paths = []
    for i in range(n):
        doc = samples[i % len(samples)]
        copy = i // len(samples) + 1
        text = varied(doc.text, copy)
        head = f"title: {doc.title or doc.name} ({copy})\n"
        if doc.published:
            head += f"date: {doc.published.isoformat()}\n"
        path = folder / f"doc_{i:05d}.txt"
        path.write_text(f"{head}\n{text}\n", encoding="utf-8")
        paths.append(path)
    return paths


def timed(label: str, corpus: list[Path], folder: Path, options: EngineOptions) -> Run:
    name = re.sub(r"\W+", "_", label)
    url = sqlite_url(folder / f"{name}.sqlite")
    with Store.open(url) as store:
        start = time.perf_counter()
        report = pipeline.ingest(corpus, store=store, engine_options=options)
        seconds = time.perf_counter() - start
    assert report.stored == len(corpus), report
    return Run(label=label, seconds=seconds, stored=report.stored)


def warm_cluster(workers: int) -> tuple[LocalCluster, Client]:
    cluster = local_cluster(workers)
    client = Client(cluster)
    # Load the lexicons and the gazetteer on every worker before the clock starts.
    client.run(lambda: pipeline.engine.extract_one(next(iter(read_inputs([SAMPLE])))))
    return cluster, client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--shard-size", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        folder = Path(tmp)
        (folder / "corpus").mkdir()
        corpus = write_corpus(folder / "corpus", args.docs)
        pipeline.engine.extract_one(next(iter(read_inputs([corpus[0]]))))  # warm this process too
        runs = [timed("local", corpus, folder, EngineOptions())]
        for workers in (1, 2):
            options = EngineOptions(name="dask", workers=workers, shard_size=args.shard_size)
            runs.append(timed(f"dask, {workers} worker(s), cluster start included", corpus, folder, options))
            cluster, client = warm_cluster(workers)
            try:
                warm = EngineOptions(
                    name="dask", scheduler=cluster.scheduler_address, shard_size=args.shard_size
                )
                runs.append(timed(f"dask, {workers} worker(s), warm cluster", corpus, folder, warm))
            finally:
                client.close()
                cluster.close()
    local = runs[0].seconds
    print(f"ingest of {args.docs} documents (shards of {args.shard_size}), SQLite store\n")
    print(f"| {'engine':<44} | {'seconds':>8} | {'docs/s':>8} | {'vs local':>8} |")
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for r in runs:
        print(
            f"| {r.label:<44} | {r.seconds:8.1f} | {r.stored / r.seconds:8.1f} | {local / r.seconds:7.2f}x |"
        )


if __name__ == "__main__":
    main()
