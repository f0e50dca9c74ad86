"""The command line end to end: ingest every input kind and every bad input, query, show, export."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from vigil.cli import main
from vigil.store import Store, sqlite_url, url_for

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "vigil" / "data" / "sample"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"


def vigil(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "store.sqlite")


@pytest.fixture
def sample_db(db) -> str:
    result = vigil("ingest", str(SAMPLE), "--db", db)
    assert result.exit_code == 0, result.output
    return db


def test_ingest_the_sample_reports_counts(db):
    result = vigil("ingest", str(SAMPLE), "--db", db)
    assert result.exit_code == 0
    assert "documents read: 8" in result.output and "stored: 8" in result.output
    again = vigil("ingest", str(SAMPLE), "--db", db)
    assert again.exit_code == 0
    assert "stored: 0" in again.output and "duplicates: 8" in again.output
    with Store.open(sqlite_url(db)) as store:
        assert store.counts()["documents"] == 8


def test_every_input_kind_through_the_cli(db):
    jsonl = FIXTURES / "records.jsonl"
    result = vigil(
        "ingest",
        str(FIXTURES / "keyed.txt"),
        str(FIXTURES / "article.html"),
        str(FIXTURES / "news.rss"),
        str(FIXTURES / "wire.atom"),
        str(jsonl),
        str(FIXTURES / "tree"),
        "--db",
        db,
    )
    # The fixtures hold a feed entry with no text and three bad JSON lines on purpose.
    assert result.exit_code == 1
    assert "stored: 11" in result.output and "skipped: 4" in result.output, result.output
    stdin = vigil(
        "ingest", "-", "--db", db, "--published", "2025-05-01", input=b"Gunmen killed 3 civilians in Hama.\n"
    )
    assert stdin.exit_code == 0 and "stored: 1" in stdin.output
    with Store.open(sqlite_url(db)) as store:
        names = {r.document.name for r in store.events()} | set()
        assert store.counts()["documents"] >= 8
        stdin_doc = [r for r in store.events() if r.document.name == "stdin"]
        assert stdin_doc and stdin_doc[0].document.published.isoformat() == "2025-05-01"
    assert names


def test_bad_inputs_are_reported_and_the_rest_goes_on(db, tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.bin").write_bytes(b"\x00\x01\x02\xff" * 100)
    (tmp_path / "broken.html").write_text("<html><body><div></div></body></html>")
    (tmp_path / "bad.jsonl").write_text(
        '{"text": "Gunmen killed 2 civilians in Homs.", "url": "https://x.test/a"}\n{nope\n'
    )
    (tmp_path / "latin1.txt").write_bytes(
        "Des hommes armés ont tué 4 civils à Hama, a déclaré l'OSDH.".encode("latin-1")
    )
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    result = vigil(
        "ingest",
        str(tmp_path / "empty.txt"),
        str(tmp_path / "binary.bin"),
        str(tmp_path / "broken.html"),
        str(tmp_path / "bad.jsonl"),
        str(tmp_path / "latin1.txt"),
        str(big),
        str(tmp_path / "missing.txt"),
        str(SAMPLE / "01_coast_toll_340.txt"),
        "--db",
        db,
    )
    assert result.exit_code == 1
    out = result.output
    for reason in (
        "empty",
        "binary file",
        "malformed or empty HTML",
        "malformed JSON",
        "too large",
        "no such file",
    ):
        assert reason in out, reason
    assert "stored: 3" in out  # the good JSON line, the Latin-1 text and the sample report
    with Store.open(sqlite_url(db)) as store:
        assert store.counts()["documents"] == 3


def test_extract_prints_one_gold_shaped_object_per_document_in_order(tmp_path):
    files = sorted(SAMPLE.glob("0[1-3]*.txt"))
    result = vigil("extract", *map(str, files))
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [d["doc"] for d in lines] == [f.name for f in files]
    assert all({"doc", "published", "events", "claims"} <= set(d) for d in lines)


def test_extract_names_jsonl_records_by_id_then_url(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"id": "r1", "url": "https://x.test/1", "text": "Gunmen killed 2 civilians in Homs."})
        + "\n"
        + json.dumps({"url": "https://x.test/2", "text": "A protest took place in Hama."})
        + "\n"
    )
    result = vigil("extract", str(path))
    docs = [json.loads(line)["doc"] for line in result.output.splitlines() if line.startswith("{")]
    assert docs == ["r1", "https://x.test/2"]


def test_events_table_filters_and_show(sample_db):
    everything = vigil("events", "--db", sample_db, "--format", "jsonl")
    rows = [json.loads(line) for line in everything.output.splitlines() if line.strip()]
    assert rows
    latakia = vigil("events", "--db", sample_db, "--governorate", "Latakia", "--format", "jsonl")
    lat_rows = [json.loads(line) for line in latakia.output.splitlines() if line.strip()]
    assert lat_rows and all("Lattakia" in r["event"]["admin1"] for r in lat_rows)
    assert len(lat_rows) < len(rows)
    big = vigil("events", "--db", sample_db, "--min-fatalities", "100", "--format", "jsonl")
    assert all(
        json.loads(line)["event"]["fatalities"] >= 100 for line in big.output.splitlines() if line.strip()
    )
    table = vigil("events", "--db", sample_db)
    assert "events" in table.output and "Violence against" in table.output
    event_id = rows[0]["event"]["id"]
    shown = vigil("show", event_id, "--db", sample_db)
    assert shown.exit_code == 0 and "evidence" in shown.output and event_id in shown.output
    assert vigil("show", "no-such-event", "--db", sample_db).exit_code == 1


def test_claims_table(sample_db):
    result = vigil("claims", "--db", sample_db, "--actor", "SOHR", "--format", "jsonl")
    claims = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert claims and all("SOHR" in (c["claimant"] + (c["via"] or "")) for c in claims)
    assert {c["count"] for c in claims} >= {1383}


@pytest.mark.parametrize("fmt", ["acled", "ucdp", "csv", "geojson", "jsonl"])
def test_export_formats(sample_db, fmt, tmp_path):
    out = tmp_path / f"out.{fmt}"
    result = vigil("export", "--db", sample_db, "--format", fmt, "-o", str(out))
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    if fmt in ("acled", "ucdp", "csv"):
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows
        if fmt == "acled":
            assert {"event_date", "event_type", "sub_event_type", "admin1", "fatalities", "notes"} <= set(
                rows[0]
            )
    elif fmt == "geojson":
        assert json.loads(text)["type"] == "FeatureCollection"
    else:
        assert all(json.loads(line)["event"]["id"] for line in text.splitlines())


def test_bad_option_values_get_a_clear_error(sample_db):
    result = CliRunner().invoke(main, ["events", "--db", sample_db, "--from", "March"])
    assert result.exit_code == 2 and "is not a date" in result.output


def _make_corpus(folder: Path, n: int) -> None:
    folder.mkdir()
    towns = ["Hama", "Homs", "Latakia", "Tartus", "Idlib", "Aleppo", "Daraa", "Jableh"]
    for i in range(n):
        town = towns[i % len(towns)]
        (folder / f"report_{i:04d}.txt").write_text(
            f"date: 2025-03-{1 + i % 28:02d}\n\n"
            f"Gunmen killed {i + 2} civilians in {town} on Monday, a monitoring group said. "
            f"Residents of {town} protested the next day and security forces dispersed them.\n",
            encoding="utf-8",
        )


def _store_content(db: str) -> tuple:
    with Store.open(url_for(db)) as store:
        events = sorted(
            (r.event.id, r.event.fatalities, r.event.admin1, r.event.sub_event_type) for r in store.events()
        )
        claims = sorted((r.claim.id, r.claim.count) for r in store.claims())
        return store.counts(), events, claims


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request, tmp_path) -> Iterator[tuple[str, str]]:
    """Two empty stores on one backend: a file path each for SQLite, a database URL for PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "clean.sqlite"), str(tmp_path / "killed.sqlite")
        return
    server = request.getfixturevalue("postgres_server")
    urls = server.create_database(), server.create_database()
    yield urls
    for url in urls:
        server.drop_database(url)


@pytest.mark.slow
def test_an_ingest_killed_midway_is_completed_by_a_rerun(tmp_path, two_stores):
    corpus = tmp_path / "corpus"
    _make_corpus(corpus, 400)
    clean, killed = two_stores
    cmd = [sys.executable, "-m", "vigil.cli", "ingest", str(corpus), "--batch-size", "10"]
    env = dict(os.environ)
    proc = subprocess.Popen(
        [*cmd, "--db", killed], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            with Store.open(url_for(killed)) as store:
                stored = store.counts()["documents"]
        except Exception:
            continue
        if stored >= 30:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < stored < 400, "the ingest must be killed midway for this test to mean anything"
    with Store.open(url_for(killed)) as store:
        assert store.counts()["documents"] % 10 == 0  # whole batches only
    assert subprocess.run([*cmd, "--db", killed], env=env, capture_output=True).returncode == 0
    assert subprocess.run([*cmd, "--db", clean], env=env, capture_output=True).returncode == 0
    assert _store_content(killed) == _store_content(clean)
