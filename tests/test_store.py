"""The store: migrations, one transaction per batch, duplicates, filters and lossless reads, each test
on SQLite and on PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from vigil.ingest import make_document
from vigil.model import (
    Claim,
    DateInterval,
    EventMention,
    Evidence,
    Extraction,
    Place,
    Span,
)
from vigil.store import EventFilter, Store, _insert, sqlite_url
from vigil.store.dialect import WRITE_OPTION, normalise_url
from vigil.store.schema import metadata

TEXT = (
    "Gunmen killed 12 civilians in the village of Example on Monday, a monitor said. "
    "Separately, a protest took place in Homs."
)


def _extraction(text: str = TEXT, *, published: date = date(2025, 3, 12), name: str = "a.txt") -> Extraction:
    doc = make_document(
        text, name=name, source=f"/tmp/{name}", published=published, published_from="metadata"
    )
    claim_span = Span(doc_id=doc.id, start=text.index("12"), end=text.index("12") + 13)
    sentence = Span(doc_id=doc.id, start=0, end=text.index(".") + 1)
    claim = Claim(
        id=f"{doc.id}-c0",
        doc_id=doc.id,
        claimant="SOHR",
        via=None,
        count=12,
        qualifier="exact",
        killed_or_injured="killed",
        category="civilians",
        victim_group=None,
        scope="incident",
        period=DateInterval(start=date(2025, 3, 10), end=date(2025, 3, 10), precision=1),
        admin1=("Lattakia",),
        span=claim_span,
        sentence=sentence,
        evidence=(Evidence(field="count", span=claim_span, rule="claims.casualty@1"),),
    )
    place = Place(
        name="Latakia",
        kind="town",
        country="Syria",
        country_code="SY",
        admin1="Lattakia",
        latitude=35.5,
        longitude=35.8,
        geo_precision=1,
        geonameid=173576,
    )
    event = EventMention(
        id=f"{doc.id}-e0",
        doc_id=doc.id,
        event_type="Violence against civilians",
        sub_event_type="Attack",
        date=DateInterval(start=date(2025, 3, 10), end=date(2025, 3, 10), precision=1),
        country="Syria",
        admin1=("Lattakia",),
        place=place,
        actor1="Unidentified armed group",
        actor2="Civilians",
        victim_group="Alawite",
        civilian_targeting=True,
        actor1_type="unknown_armed",
        actor2_type="civilians",
        fatalities=12,
        fatalities_low=12,
        fatalities_high=12,
        toll_scope="incident",
        claim_ids=(claim.id,),
        span=Span(doc_id=doc.id, start=7, end=13),
        sentence=sentence,
        evidence=(
            Evidence(field="event_type", span=Span(doc_id=doc.id, start=7, end=13), rule="events.trigger@1"),
        ),
        confidence=0.8,
    )
    protest = replace(
        event,
        id=f"{doc.id}-e1",
        event_type="Protests",
        sub_event_type="Peaceful protest",
        admin1=("Homs",),
        place=None,
        actor1="Protesters",
        actor2=None,
        date=DateInterval(),
        fatalities=0,
        fatalities_low=0,
        fatalities_high=None,
        civilian_targeting=False,
        claim_ids=(),
        evidence=(),
    )
    return Extraction(
        document=doc, sentences=(), mentions=(), claims=(claim,), events=(event, protest), extractor="test@1"
    )


@pytest.fixture
def store(database_url):
    s = Store.open(database_url)
    yield s
    s.close()


def test_migrations_create_exactly_the_schema(store):
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert set(inspect(conn).get_table_names()) >= {
            "documents",
            "events",
            "claims",
            "incidents",
            "evidence",
        }


def test_sqlite_runs_in_wal_mode(tmp_path):
    with Store.open(sqlite_url(tmp_path / "wal.sqlite")) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_reopening_migrates_nothing_and_keeps_data(database_url):
    url = database_url
    with Store.open(url) as s:
        s.write([_extraction()])
    with Store.open(url) as s:
        assert s.counts()["documents"] == 1


def test_written_records_read_back_equal(store):
    x = _extraction()
    result = store.write([x])
    assert (result.stored, result.duplicates, result.events, result.claims) == (1, 0, 2, 1)
    records = store.events()
    by_id = {r.event.id: r for r in records}
    assert by_id[x.events[0].id].event == x.events[0]
    assert by_id[x.events[0].id].claims == x.claims
    assert by_id[x.events[1].id].event == x.events[1]
    assert by_id[x.events[0].id].document == x.document


def test_same_text_is_stored_once(store):
    x = _extraction()
    store.write([x])
    again = store.write([x, _extraction(name="copy.txt")])
    assert (again.stored, again.duplicates) == (0, 2)
    assert store.counts() == {"documents": 1, "mentions": 0, "claims": 1, "events": 2}


def test_a_failing_batch_leaves_nothing_behind(store):
    good = _extraction()
    bad = _extraction(TEXT + " More.", name="b.txt")
    # Two events with the same id violate the primary key inside the batch.
    bad = replace(bad, events=(bad.events[0], bad.events[0]))
    with pytest.raises(IntegrityError):
        store.write([good, bad])
    assert store.counts()["documents"] == 0


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (EventFilter(), 2),
        (EventFilter(governorate="Lattakia"), 1),
        (EventFilter(governorate="Homs"), 1),
        (EventFilter(governorate="Idleb"), 0),
        (EventFilter(event_type="protests"), 1),
        (EventFilter(event_type="Attack"), 1),
        (EventFilter(actor="gunmen"), 0),
        (EventFilter(actor="unidentified"), 1),
        (EventFilter(min_fatalities=10), 1),
        (EventFilter(min_fatalities=13), 0),
        (EventFilter(date_from=date(2025, 3, 10), date_to=date(2025, 3, 10)), 1),
        (EventFilter(date_from=date(2025, 3, 11)), 0),
        (EventFilter(limit=1), 1),
    ],
)
def test_event_filters(store, flt, expected):
    store.write([_extraction()])
    assert len(store.events(flt)) == expected


def test_claim_filters(store):
    store.write([_extraction()])
    assert [r.claim.count for r in store.claims(EventFilter(governorate="Lattakia"))] == [12]
    assert store.claims(EventFilter(actor="sohr"))[0].document.name == "a.txt"
    assert store.claims(EventFilter(min_fatalities=20)) == []


def test_show_one_event(store):
    x = _extraction()
    store.write([x])
    assert store.event(x.events[0].id).event == x.events[0]
    assert store.event("nope") is None


def test_postgres_urls_get_the_installed_driver():
    assert normalise_url("postgresql://u:p@127.0.0.1:5433/v") == "postgresql+psycopg://u:p@127.0.0.1:5433/v"
    assert normalise_url("postgres://127.0.0.1/v") == "postgresql+psycopg://127.0.0.1/v"
    assert normalise_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


def _many(n: int) -> list[Extraction]:
    return [_extraction(f"{TEXT} Report {i}.", name=f"r{i}.txt") for i in range(n)]


def test_a_document_another_writer_is_storing_is_a_duplicate_not_an_error(database_url):
    x = _extraction()
    with Store.open(database_url) as first, Store.open(database_url) as second:
        outcome: list = []
        with first.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            assert _insert(conn, x)
            # The second writer starts while the first holds the document uncommitted.
            writer = threading.Thread(target=lambda: outcome.append(second.write([x])))
            writer.start()
            waited = _wait_until_blocked(second)
        writer.join(timeout=60)
        assert waited, "the second writer must have waited for the first"
        assert [(r.stored, r.duplicates, r.events) for r in outcome] == [(0, 1, 0)]
        assert second.counts() == {"documents": 1, "mentions": 0, "claims": 1, "events": 2}


def _wait_until_blocked(store: Store, timeout: float = 10.0) -> bool:
    """True once a session of `store` waits for a lock (PostgreSQL); SQLite's writer waits in
    BEGIN IMMEDIATE, which it cannot report, so give it a moment."""
    if store.engine.dialect.name == "sqlite":
        time.sleep(0.5)
        return True
    deadline = time.monotonic() + timeout
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    while time.monotonic() < deadline:
        with store.engine.connect() as conn:
            if conn.scalar(query):
                return True
        time.sleep(0.05)
    return False


def test_two_writers_storing_overlapping_batches_at_once(database_url):
    docs = _many(40)
    results: list = []

    def run(batches: list[list[Extraction]]) -> None:
        with Store.open(database_url) as s:
            results.extend(s.write(b) for b in batches)

    Store.open(database_url).close()  # migrated before the race
    forward = [docs[i : i + 5] for i in range(0, 30, 5)]
    backward = [docs[i : i + 5][::-1] for i in range(35, 5, -5)]  # the other order: no deadlock either
    threads = [threading.Thread(target=run, args=(b,)) for b in (forward, backward)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 12
    assert sum(r.stored for r in results) == 40
    assert sum(r.duplicates for r in results) == 20
    with Store.open(database_url) as s:
        assert s.counts() == {"documents": 40, "mentions": 0, "claims": 40, "events": 80}
        assert len({r.event.id for r in s.events()}) == 80


def test_merge_reviews_are_versioned_rows_that_regroup_the_incidents(store):
    from click.testing import CliRunner

    from vigil import pipeline
    from vigil.cli import main
    from vigil.store import incidents as stored

    a, b = _extraction(), _extraction(TEXT + " More news later.", name="b.txt")
    attack_a, protest_a = (e.id for e in a.events)
    attack_b = b.events[0].id
    store.write([a, b])
    pipeline.reconcile(store)

    def holders() -> dict[str, str]:
        return {e: i.id for i in stored.load(store).values() for e in i.event_ids}

    together, protest = holders()[attack_a], holders()[protest_a]
    assert holders()[attack_b] == together
    review = {"reason": "checked the articles", "reviewer": "ana"}
    with pytest.raises(stored.UnknownIncident):
        pipeline.review_incident(store, "inc-none", action="confirm", **review)
    for bad in (
        {"action": "reject", **review},
        {"action": "reject", "event_id": protest_a, **review},  # not a member
        {"action": "reject", "event_id": protest_a, **{**review, "reason": "x"}, "incident_id": protest},
        {"action": "confirm", "event_id": attack_b, **review},
        {"action": "merge", **review},
        {"action": "confirm", "reason": " \n ", "reviewer": "ana"},
    ):
        target = bad.pop("incident_id", together)
        with pytest.raises(stored.IncidentReviewError):
            pipeline.review_incident(store, target, **bad)
    assert stored.decisions(store) == []  # a refused review leaves nothing behind

    # confirming a lone mention changes no grouping, but its history says who looked and why
    pipeline.review_incident(store, protest, action="confirm", **review)
    last = stored.history(store, protest)[-1]
    assert last.kinds == ("reviewed",) and last.doc_ids == ()
    assert last.detail["review"] == {
        **last.detail["review"],
        "version": 1,
        "reviewer": "ana",
        "action": "confirm",
    }

    report = pipeline.review_incident(
        store, together, action="reject", event_id=attack_b, reason="  a second   attack ", reviewer="ana"
    )
    assert report.incidents[attack_a] != report.incidents[attack_b] == holders()[attack_b]
    assert holders()[attack_a] == report.incidents[attack_a]
    decisions = stored.decisions(store)
    assert [(d.version, d.action, d.event_id) for d in decisions] == [
        (1, "confirm", None),
        (2, "reject", attack_b),
    ]
    assert decisions[1].reason == "a second attack" and set(decisions[1].event_ids) == {attack_a, attack_b}
    assert decisions[1].incident_id == together and decisions[1].created_at.tzinfo is not None
    for held in set(report.incidents.values()):
        assert "reviewed" in stored.history(store, held)[-1].kinds

    runner = CliRunner()
    url = store.engine.url.render_as_string(hide_password=False)
    args = ["review-incident", holders()[attack_b], "--reason", "same", "--reviewer", "cli", "--db", url]
    assert runner.invoke(main, [*args, "--confirm", "--reject", attack_b]).exit_code == 2
    done = runner.invoke(main, [*args, "--confirm"])
    assert done.exit_code == 0, done.output
    assert [d.reviewer for d in stored.decisions(store)] == ["ana", "ana", "cli"]
    shown = runner.invoke(main, ["incident", holders()[attack_b], "--db", url])
    assert "review 3 confirm by cli" in shown.output and "review 2 reject" in shown.output
    missing = runner.invoke(main, ["review-incident", "inc-none", "--confirm", *args[2:]])
    assert missing.exit_code == 1 and "no incident" in missing.output
    listed = runner.invoke(main, ["incidents", "--db", url, "--reviewed", "only", "--format", "jsonl"])
    reviewed_ids = {json.loads(line)["id"] for line in listed.output.splitlines()}
    expected = {v.incident.id for v in pipeline.incident_views(store, reviewed="only")}
    assert reviewed_ids == expected and holders()[attack_b] in expected
    assert holders()[b.events[1].id] not in expected  # no decision is about the second protest
