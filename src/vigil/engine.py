"""Where extraction runs: in this process, or on a Dask distributed cluster.

Both engines map `vigil.extract.extract` (a pure function of a Document) over a stream and give
the results back in input order: Documents come back as their Extraction (or a Problem when a rule
crashes), anything else passes through in its place. So the caller writes the same batches in the
same order, and the store ends up identical, whichever engine ran.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from vigil.extract import extract
from vigil.model import Document, Extraction, Problem

T = TypeVar("T")

ENGINES = ("local", "dask")


@dataclass(frozen=True, kw_only=True)
class EngineOptions:
    """Which engine runs extraction, and how a Dask run is laid out.

    `scheduler` is the address of a running Dask scheduler (tcp://host:8786); without one a
    LocalCluster of `workers` processes (one thread each) starts on 127.0.0.1 for the run.
    Documents go to the workers in shards of `shard_size`, at most `in_flight` shards at a time
    (default: two per worker), so memory stays bounded however long the input."""

    name: str = "local"
    scheduler: str | None = None
    workers: int = 2
    shard_size: int = 50
    in_flight: int | None = None


def extract_one(document: Document) -> Extraction | Problem:
    """One document extracted; a rule crashing on one article becomes a Problem, not a stopped run."""
    try:
        return extract(document)
    except Exception as exc:
        return Problem(source=document.source, reason=f"extraction failed: {type(exc).__name__}: {exc}")


def run_local(items: Iterable[Document | T]) -> Iterator[Extraction | Problem | T]:
    """Extract each Document in this process, in order; other items pass through."""
    for item in items:
        yield extract_one(item) if isinstance(item, Document) else item


def run_dask(
    items: Iterable[Document | T], options: EngineOptions = EngineOptions(name="dask")
) -> Iterator[Extraction | Problem | T]:
    """Extract the Documents on a Dask cluster, shard by shard, and yield everything in input order.

    A worker lost midway costs nothing: the scheduler runs its shards again elsewhere, and each
    shard's results are taken once, when its turn in the input order comes."""
    from distributed import Client

    cluster = local_cluster(options.workers) if options.scheduler is None else None
    client = Client(cluster if cluster is not None else options.scheduler, set_as_default=False)
    try:
        workers = options.workers if cluster is not None else len(client.scheduler_info()["workers"])
        limit = options.in_flight or max(2, 2 * workers)
        pending: deque = deque()  # (shard, future or None), in input order
        stream = iter(items)
        while True:
            while len(pending) < limit and (shard := list(islice(stream, options.shard_size))):
                documents = [item for item in shard if isinstance(item, Document)]
                future = client.submit(_extract_shard, documents, pure=False) if documents else None
                pending.append((shard, future))
            if not pending:
                return
            shard, future = pending.popleft()
            results = iter(future.result() if future is not None else ())
            for item in shard:
                yield next(results) if isinstance(item, Document) else item
            if future is not None:
                future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def local_cluster(workers: int):
    """A Dask LocalCluster on 127.0.0.1 only: `workers` processes of one thread each, no dashboard
    (the scheduler's health endpoints on a free loopback port instead of 8787)."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )


def _extract_shard(documents: list[Document]) -> list[Extraction | Problem]:
    """A Dask task: one shard of documents, extracted on a worker."""
    return [extract_one(document) for document in documents]
