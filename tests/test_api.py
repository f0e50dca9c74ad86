"""The HTTP API: filters, formats, evidence, tokens, reviews overlaid in responses and exports,
one writer, security headers, and a bounded schemathesis run that must find no server error."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import re
import shutil
import threading
import warnings
from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from vigil import export, pipeline, web
from vigil.api import CSV_COLUMNS, Writer, create_app
from vigil.cli import main
from vigil.store import EventFilter, Store, sqlite_url
from vigil.store import review as reviews

with warnings.catch_warnings():  # starlette's test client asks for httpx2; httpx works and is pinned
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    import schemathesis
    from fastapi.testclient import TestClient
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "vigil" / "data" / "sample"

# Articles written for these tests (not from any outlet).
SHELLING = (
    "title: Shelling hits a market in Idlib\n"
    "date: 2025-05-14\n\n"
    "Artillery shelling struck a crowded vegetable market in Idlib city on Tuesday, killing seven "
    "civilians, a local rescue group said.\n"
)
CLASH = (
    "Fighting between two armed factions near Azaz on 2 June 2025 killed four fighters, "
    "according to a monitoring group.\n"
)


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory) -> Path:
    """A store with the bundled sample ingested once; tests copy it."""
    path = tmp_path_factory.mktemp("api") / "sample.sqlite"
    cache = os.environ.get("VIGIL_TEST_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "vigil-cache"))
    with pytest.MonkeyPatch.context() as env, Store.open(sqlite_url(path)) as store:
        env.setenv("VIGIL_CACHE_DIR", cache)  # as conftest's per-test fixture: never the user's cache
        report = pipeline.ingest([str(SAMPLE)], store=store)
        assert pipeline.reconcile(store).incidents > 0
    assert report.stored == 8 and report.events > 10
    return path


@pytest.fixture
def db(sample_file, tmp_path) -> Path:
    path = tmp_path / "store.sqlite"
    shutil.copy(sample_file, path)
    return path


@pytest.fixture
def store(db):
    with Store.open(sqlite_url(db)) as s:
        yield s


@pytest.fixture
def client(db):
    with TestClient(create_app(str(db))) as c:
        yield c


@pytest.fixture
def token(store) -> str:
    return reviews.create_token(store, "tester")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- reading -------------------------------------------------------------------------


def test_health_openapi_and_docs_without_cdn(client):
    assert client.get("/health").json() == {"status": "ok"}
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/events", "/events/{event_id}", "/claims", "/documents/{doc_id}", "/documents", "/health"):
        assert path in paths
    assert "post" in paths["/events/{event_id}/review"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "http" not in re.sub(r"https?://(www\.)?w3\.org\S*", "", docs.text)  # nothing from a CDN


@pytest.mark.parametrize("spelling", ["Lattakia", "Latakia", "latakia", "Al-Ladhiqiyah"])
def test_governorate_filter_takes_any_spelling_and_returns_only_that_governorate(client, store, spelling):
    page = client.get("/events", params={"governorate": spelling, "limit": 1000}).json()
    assert page["total"] > 0 and page["total"] == len(page["items"])
    assert all("Lattakia" in item["admin1"] for item in page["items"])
    expected = {r.event.id for r in store.events(EventFilter(governorate="Lattakia"))}
    assert {item["event_id"] for item in page["items"]} == expected
    assert page["total"] < client.get("/events").json()["total"]


@pytest.mark.parametrize(
    ("params", "holds"),
    [
        ({"event_type": "Protests"}, lambda e: e["event_type"] == "Protests"),
        ({"event_type": "peaceful protest"}, lambda e: e["sub_event_type"] == "Peaceful protest"),
        ({"min_fatalities": 100}, lambda e: e["fatalities"] >= 100),
        ({"actor": "security forces"}, lambda e: "security forces" in f"{e['actor1']} {e['actor2']}".lower()),
        ({"victim_group": "alawite"}, lambda e: e["victim_group"] == "Alawite"),
        (
            {"date_from": "2025-03-07", "date_to": "2025-03-10"},
            lambda e: (
                e["date_start"] is not None
                and e["date_start"] <= "2025-03-10"
                and (e["date_end"] or e["date_start"]) >= "2025-03-07"
            ),
        ),
    ],
)
def test_each_filter_selects_what_it_says(client, params, holds):
    everything = client.get("/events", params={"limit": 1000}).json()["items"]
    page = client.get("/events", params={**params, "limit": 1000}).json()
    assert 0 < page["total"] < len(everything)
    assert all(holds(e) for e in page["items"])
    assert page["total"] == sum(1 for e in everything if holds(e))


def test_text_search_finds_events_by_words_of_their_article(client, store):
    page = client.get("/events", params={"q": "CHURCH bomber"}).json()
    assert page["total"] > 0
    for item in page["items"]:
        text = store.document(item["doc_id"]).text.lower()
        assert "church" in text and "bomber" in text
    assert client.get("/events", params={"q": "zzqx-not-a-word"}).json()["total"] == 0
    assert client.get("/events", params={"q": "100%_"}).json()["total"] == 0  # LIKE wildcards are literal


def test_pages_add_up_to_the_whole(client):
    whole = client.get("/events", params={"limit": 1000}).json()
    ids = []
    for offset in range(0, whole["total"], 7):
        page = client.get("/events", params={"limit": 7, "offset": offset}).json()
        assert page["total"] == whole["total"] and page["offset"] == offset
        ids += [e["event_id"] for e in page["items"]]
    assert ids == [e["event_id"] for e in whole["items"]]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 100_000},
        {"offset": -1},
        {"date_from": "2025-02-30"},
        {"date_to": "yesterday"},
        {"date_from": "2025-04-01", "date_to": "2025-03-01"},
        {"min_fatalities": -1},
        {"min_fatalities": "many"},
        {"format": "xml"},
        {"reviewed": "maybe"},
        {"include_rejected": "perhaps"},
        {"governorate": "Lat\x01akia"},
        {"q": "x" * 201},
    ],
)
def test_invalid_parameters_are_422_with_a_message(client, params):
    response = client.get("/events", params=params)
    assert response.status_code == 422
    body = response.json()
    message = body.get("message") or body.get("detail")
    assert isinstance(message, str) and message


def test_csv_and_geojson_formats(client):
    json_page = client.get("/events", params={"governorate": "Damascus"}).json()
    response = client.get("/events", params={"governorate": "Damascus", "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-total-count"] == str(json_page["total"])
    header = next(csv.reader(io.StringIO(response.text)))
    assert tuple(header) == CSV_COLUMNS
    rows = csv_rows(response.text)
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in json_page["items"]]
    geo = client.get("/events", params={"governorate": "Damascus", "format": "geojson"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    collection = geo.json()
    assert collection["type"] == "FeatureCollection"
    assert [f["id"] for f in collection["features"]] == [e["event_id"] for e in json_page["items"]]
    for feature in collection["features"]:
        if feature["geometry"]:
            lon, lat = feature["geometry"]["coordinates"]
            assert (lat, lon) == (feature["properties"]["latitude"], feature["properties"]["longitude"])


def test_event_detail_evidence_points_into_its_article(client):
    items = client.get("/events", params={"limit": 1000}).json()["items"]
    detail = client.get(f"/events/{items[0]['event_id']}").json()
    doc = client.get(f"/documents/{detail['document']['id']}").json()
    assert detail["evidence"], "the sample's events carry evidence"
    for ev in detail["evidence"]:
        assert doc["text"][ev["start"] : ev["end"]] == ev["text"]
    for sentence in detail["sentences"]:
        assert doc["text"][sentence["start"] : sentence["end"]] == sentence["text"]
        assert all(sentence["start"] <= m["start"] <= m["end"] <= sentence["end"] for m in sentence["marks"])
    assert detail["row"]["event_id"] == items[0]["event_id"] and detail["review"] is None
    assert items[0]["event_id"] in doc["events"]
    assert all(0 <= s["start"] <= s["end"] <= len(doc["text"]) for s in doc["spans"])
    assert {"evidence", "sentence", "mention"} <= {s["kind"] for s in doc["spans"]}


def test_unknown_ids_are_404_and_malformed_ids_422(client):
    assert client.get("/events/abc-e0").status_code == 404
    assert client.get("/documents/0123456789abcdef").status_code == 404
    assert client.get("/documents/not%20an%20id").status_code == 422


def test_claims_filter_and_count(client):
    page = client.get("/claims", params={"governorate": "Tartus", "limit": 3}).json()
    assert page["total"] > len(page["items"]) == 3
    assert all("Tartous" in c["admin1"] for c in page["items"])
    assert all(c["evidence_text"] for c in page["items"])


def test_timeline_and_facets_count_the_same_events(client):
    days = client.get("/timeline").json()["days"]
    items = client.get("/events", params={"limit": 1000}).json()["items"]
    assert sum(d["events"] for d in days) == sum(1 for e in items if e["date_start"])
    assert sum(d["fatalities"] for d in days) == sum(e["fatalities"] for e in items if e["date_start"])
    facets = client.get("/facets").json()
    assert sum(f["count"] for f in facets["event_types"]) == len(items)
    assert "Lattakia" in {f["value"] for f in facets["governorates"]}


def test_incidents_and_alerts(client):
    page = client.get("/incidents", params={"limit": 2}).json()
    assert page["total"] > 2 and len(page["items"]) == 2
    incident = page["items"][0]
    member = incident["members"][0]
    assert client.get(f"/events/{member['event_id']}").status_code == 200
    assert member["source"] is None  # a server file path is not shown
    detail = client.get(f"/incidents/{incident['id']}").json()
    assert detail["incident"]["id"] == incident["id"] and detail["history"][0]["version"] == 1
    assert client.get("/incidents/inc-none").status_code == 404
    assert isinstance(client.get("/alerts").json()["alerts"], list)
    assert client.get("/alerts", params={"as_of": "1800-01-01"}).status_code == 422


# --- the review overlay in the store -------------------------------------------------------


def _order(records) -> list[str]:
    key = [(r.event.date.start is None, r.event.date.start or date.min, r.event.id) for r in records]
    return [k[2] for k in sorted(key)]


def test_counts_pages_days_and_facets_agree_with_the_events_after_reviews(store):
    ids = [r.event.id for r in store.events(EventFilter(limit=6))]
    store.review_event(ids[0], action="reject", reason="a duplicate", reviewer="t")
    changes = {"admin1": ["Homs"], "fatalities": 99, "date_start": "2025-01-02", "date_end": "2025-01-02"}
    store.review_event(ids[1], action="edit", reason="read again", reviewer="t", changes=changes)
    store.review_event(ids[2], action="confirm", reason="as extracted", reviewer="t")
    filters = [
        EventFilter(),
        EventFilter(governorate="Homs"),
        EventFilter(min_fatalities=99),
        EventFilter(reviewed="only"),
        EventFilter(reviewed="unreviewed"),
        EventFilter(include_rejected=True),
        EventFilter(reviewed="only", include_rejected=True),
        EventFilter(machine=True),
        EventFilter(date_to=date(2025, 1, 5)),
    ]
    for flt in filters:
        records = store.events(flt)
        assert store.count_events(flt) == len(records), flt
        assert [r.event.id for r in records] == _order(records), flt
        paged = [
            r.event.id
            for o in range(0, len(records), 4)
            for r in store.events(replace(flt, limit=4, offset=o))
        ]
        assert paged == [r.event.id for r in records], flt
        days = store.event_days(flt)
        assert sum(d.events for d in days) == sum(1 for r in records if r.event.date.start), flt
        assert sum(d.fatalities for d in days) == sum(
            r.event.fatalities for r in records if r.event.date.start
        )
        assert sum(f.count for f in store.facets(flt).event_types) == len(records), flt
    assert ids[0] not in {r.event.id for r in store.events()}
    assert {r.event.id for r in store.events(EventFilter(reviewed="only"))} == {ids[1], ids[2]}
    assert [r.event.id for r in store.events(EventFilter(min_fatalities=99, reviewed="only"))] == [ids[1]]
    edited = store.event(ids[1]).event
    assert (edited.admin1, edited.fatalities, edited.date.start) == (("Homs",), 99, date(2025, 1, 2))
    machine = next(r for r in store.events(EventFilter(machine=True)) if r.event.id == ids[1]).event
    assert machine.fatalities != 99 or machine.admin1 != ("Homs",)


# --- the in-memory event index (what `vigil serve` answers /events from) ------------------------


def _sql_page(store: Store, flt: EventFilter) -> tuple[int, list]:
    return store.count_events(flt), [export.event_row(r) for r in store.events(flt)]


def _reviewed(store: Store) -> list[str]:
    ids = [r.event.id for r in store.events(EventFilter(limit=6))]
    store.review_event(ids[0], action="reject", reason="a duplicate", reviewer="t")
    changes = {"admin1": ["Homs"], "fatalities": 99, "date_start": "2025-01-02", "victim_group": "Druze"}
    store.review_event(ids[1], action="edit", reason="read again", reviewer="t", changes=changes)
    store.review_event(ids[2], action="confirm", reason="as extracted", reviewer="t")
    return ids


def test_the_event_index_pages_counts_and_rows_equal_sqls_after_reviews(db):
    with Store.open(sqlite_url(db)) as plain, Store.open(sqlite_url(db)) as indexed:
        assert indexed.use_event_index()
        _reviewed(plain)
        filters = [
            EventFilter(),
            EventFilter(governorate="Homs"),
            EventFilter(governorate="Lattakia", limit=2, offset=1),
            EventFilter(event_type="VIOLENCE AGAINST CIVILIANS"),
            EventFilter(event_type="attack", min_fatalities=1),
            EventFilter(victim_group="alawite"),
            EventFilter(victim_group="Druze", reviewed="only"),
            EventFilter(min_fatalities=99),
            EventFilter(reviewed="unreviewed", limit=3),
            EventFilter(include_rejected=True),
            EventFilter(reviewed="only", include_rejected=True),
            EventFilter(date_from=date(2025, 3, 7), date_to=date(2025, 3, 31)),
            EventFilter(date_to=date(2025, 1, 5)),
            EventFilter(limit=0),
        ]
        for flt in filters:
            assert indexed._event_index.page(flt) is not None, flt
            assert indexed.event_page(flt) == _sql_page(plain, flt), flt
        # filters the index does not hold are answered by SQL, the same way
        for flt in (EventFilter(actor="protesters"), EventFilter(q="Latakia"), EventFilter(machine=True)):
            assert indexed._event_index.page(flt) is None
            assert indexed.event_page(flt) == _sql_page(plain, flt), flt


def test_the_event_index_sees_another_connections_write_at_once(db):
    with Store.open(sqlite_url(db)) as plain, Store.open(sqlite_url(db)) as indexed:
        indexed.use_event_index()
        before, _ = indexed.event_page(EventFilter())
        event_id = indexed.event_page(EventFilter(limit=1))[1][0].event_id
        plain.review_event(event_id, action="reject", reason="not an event", reviewer="t")
        assert indexed.event_page(EventFilter())[0] == before - 1
        report = pipeline.ingest([_text_file(db.parent, SHELLING)], store=plain)
        assert report.events >= 1
        assert indexed.event_page(EventFilter()) == _sql_page(plain, EventFilter())


def _text_file(folder: Path, text: str) -> str:
    path = folder / "shelling.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_filter_the_event_index_holds_gives_sqls_answer(indexed_and_plain, data):
    indexed, plain = indexed_and_plain
    values = plain.facets(EventFilter(include_rejected=True))
    pick = lambda options: data.draw(st.none() | st.sampled_from(options))  # noqa: E731
    events = [r.event for r in plain.events(EventFilter(include_rejected=True))]
    ends = {d for e in events for d in (e.date.start, e.date.end) if d}
    edges = {d + timedelta(days=k) for d in ends for k in (-1, 0, 1)}
    tolls = sorted({e.fatalities for e in events})
    days = st.sampled_from(sorted(edges)) | st.dates(
        min_value=date(2024, 12, 1), max_value=date(2025, 12, 31)
    )
    flt = EventFilter(
        governorate=pick([f.value for f in values.governorates] + ["Nowhere"]),
        event_type=pick([f.value for f in values.event_types] + ["attack", "Peaceful protest", "riots"]),
        victim_group=pick([f.value.upper() for f in values.victim_groups] + ["Yazidi"]),
        min_fatalities=data.draw(st.none() | st.sampled_from(tolls) | st.integers(0, 150)),
        date_from=data.draw(st.none() | days),
        date_to=data.draw(st.none() | days),
        reviewed=data.draw(st.sampled_from(["all", "only", "unreviewed"])),
        include_rejected=data.draw(st.booleans()),
        limit=data.draw(st.none() | st.integers(0, 30)),
        offset=data.draw(st.integers(0, 30)),
    )
    assert indexed.event_page(flt) == _sql_page(plain, flt)


@pytest.fixture
def indexed_and_plain(db):
    with Store.open(sqlite_url(db)) as plain, Store.open(sqlite_url(db)) as indexed:
        _reviewed(plain)
        indexed.use_event_index()
        yield indexed, plain


def test_editing_a_field_back_to_the_machine_value_drops_the_override(store):
    event = store.events(EventFilter(min_fatalities=1, limit=1))[0].event
    store.review_event(
        event.id, action="edit", reason="r", reviewer="t", changes={"fatalities": event.fatalities + 5}
    )
    store.review_event(
        event.id, action="edit", reason="r", reviewer="t", changes={"fatalities": event.fatalities}
    )
    state = store.review_state(event.id)
    assert state.version == 2 and "fatalities" not in state.overrides
    assert store.event(event.id).event.fatalities == event.fatalities
    assert [v.changes["fatalities"].after for v in store.review_history(event.id)] == [
        event.fatalities + 5,
        event.fatalities,
    ]


def test_reviews_tokens_and_filters_on_each_backend(database_url):
    from vigil.extract import extract as extract_document
    from vigil.ingest import make_document

    texts = (CLASH, SHELLING.split("\n\n", 1)[1])
    batch = [
        extract_document(make_document(t, name=f"t{i}", source="test", published=date(2025, 6, 3)))
        for i, t in enumerate(texts)
    ]
    with Store.open(database_url) as s:
        s.write(batch)
        records = s.events()
        assert s.count_events() == len(records) >= 2
        first, second = records[0].event, records[1].event
        s.review_event(
            first.id,
            action="edit",
            reason="checked",
            reviewer="pg",
            changes={"fatalities": 77, "admin1": ["Homs"]},
        )
        s.review_event(second.id, action="reject", reason="not an event", reviewer="pg")
        assert s.event(first.id).event.fatalities == 77
        assert [r.event.id for r in s.events(EventFilter(governorate="Homs"))] == [first.id]
        assert s.count_events() == len(records) - 1
        assert s.count_events(EventFilter(include_rejected=True)) == len(records)
        assert sum(d.fatalities for d in s.event_days(EventFilter(reviewed="only"))) == (
            77 if first.date.start else 0
        )
        assert {f.value for f in s.facets().governorates} >= {"Homs"}
        assert [v.version for v in s.review_history(first.id)] == [1]
        assert s.review_history(first.id)[0].created_at.tzinfo is not None
        token = reviews.create_token(s, "pg")
        assert reviews.token_owner(s, token) == "pg"
        assert s.count_events(EventFilter(q="Azaz")) + s.count_events(EventFilter(q="market")) >= 1


# --- security --------------------------------------------------------------------------


def test_every_response_carries_a_restrictive_csp(client):
    for path in ("/", "/events", "/events/nope", "/app/app.js"):
        csp = client.get(path).headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["img-src"] == "'self' data:"
        assert directives["object-src"] == "'none'"
    response = client.get("/")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_online_base_layer_is_only_configured_on_request(db):
    with TestClient(create_app(str(db))) as c:
        assert c.get("/config").json()["tiles"] is None
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    with TestClient(create_app(str(db), tiles=tiles)) as c:
        assert c.get("/config").json()["tiles"] == tiles
        csp = c.get("/").headers["content-security-policy"]
        assert "img-src 'self' data: https://tiles.example.org;" in csp
        assert "script-src 'self';" in csp and "connect-src 'self';" in csp


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text += data.strip()


@pytest.mark.parametrize("page", ["index.html", "docs.html"])
def test_pages_have_no_inline_script_style_or_handlers(page):
    parser = _Tags()
    parser.feed((web.APP_DIR / page).read_text(encoding="utf-8"))
    assert parser.script_text == ""
    assert all("src" in attrs for tag, attrs in parser.found if tag == "script")
    assert not [
        tag for tag, attrs in parser.found if "style" in attrs or any(a.startswith("on") for a in attrs)
    ]


def test_dashboard_script_never_writes_html():
    source = (web.APP_DIR / "app.js").read_text(encoding="utf-8") + (web.APP_DIR / "docs.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source


# --- tokens ----------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_can_be_revoked(store, db):
    token = reviews.create_token(store, "ann")
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT name, token_hash FROM api_tokens").all()
    assert stored == [("ann", hashlib.sha256(token.encode()).hexdigest())]
    assert token not in Path(db).read_bytes().decode("latin-1")
    assert reviews.token_owner(store, token) == "ann"
    with pytest.raises(reviews.TokenError):
        reviews.create_token(store, "ann")
    assert reviews.revoke_token(store, "ann") == 1
    assert reviews.token_owner(store, token) is None
    assert reviews.revoke_token(store, "ann") == 0
    assert reviews.create_token(store, "ann") != token


def test_review_knows_acleds_event_types():
    from vigil.export import DISORDER_TYPES

    assert set(reviews.EVENT_TYPES) == set(DISORDER_TYPES)


def test_token_commands(db):
    runner = CliRunner()
    created = runner.invoke(main, ["token", "create", "bob", "--db", str(db)], catch_exceptions=False)
    assert created.exit_code == 0
    token = created.stdout.strip()
    assert token.startswith(reviews.TOKEN_PREFIX) and len(token) > 40
    listed = runner.invoke(main, ["token", "list", "--db", str(db)], catch_exceptions=False)
    assert "bob" in listed.stdout and token not in listed.stdout
    assert runner.invoke(main, ["token", "create", "bob", "--db", str(db)]).exit_code != 0
    assert runner.invoke(main, ["token", "revoke", "bob", "--db", str(db)]).exit_code == 0
    assert runner.invoke(main, ["token", "revoke", "bob", "--db", str(db)]).exit_code != 0
    assert runner.invoke(main, ["token", "create", "no spaces", "--db", str(db)]).exit_code != 0


def test_write_endpoints_need_a_valid_token(client, store, token):
    event_id = client.get("/events").json()["items"][0]["event_id"]
    review = {"action": "confirm", "reason": "checked"}
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Basic {token}"}):
        assert client.post(f"/events/{event_id}/review", json=review, headers=headers).status_code == 401
        assert client.post("/documents", json={"text": CLASH}, headers=headers).status_code == 401
    assert client.post(f"/events/{event_id}/review", json=review, headers=auth(token)).status_code == 200
    reviews.revoke_token(store, "tester")
    assert client.post(f"/events/{event_id}/review", json=review, headers=auth(token)).status_code == 401


# --- writing ---------------------------------------------------------------------------


def test_post_a_document_as_json_then_as_a_file(client, token):
    body = {"text": CLASH, "title": "Factions clash near Azaz", "published": "2025-06-03"}
    first = client.post("/documents", json=body, headers=auth(token))
    assert first.status_code == 201
    doc = first.json()["documents"][0]
    assert not doc["duplicate"] and doc["events"]
    again = client.post("/documents", json=body, headers=auth(token))
    assert again.status_code == 200 and again.json()["documents"][0]["duplicate"]
    stored = client.get(f"/documents/{doc['id']}").json()
    assert stored["title"] == "Factions clash near Azaz" and stored["published"] == "2025-06-03"
    upload = client.post(
        "/documents", files={"file": ("idlib.txt", SHELLING.encode(), "text/plain")}, headers=auth(token)
    )
    assert upload.status_code == 201
    created = upload.json()["documents"][0]
    assert created["title"] == "Shelling hits a market in Idlib" and created["events"]
    event = client.get(f"/events/{created['events'][0]}").json()["row"]
    assert event["published"] == "2025-05-14"


def test_a_posted_document_joins_the_incidents_without_a_reconcile_run(client, token, store):
    body = {"text": CLASH, "title": "Factions clash near Azaz", "published": "2025-06-03"}
    created = client.post("/documents", json=body, headers=auth(token)).json()["documents"][0]
    client.app.state.vigil.writer.submit(lambda: None).result(timeout=120)  # the writer has caught up
    incidents = client.get("/incidents", params={"limit": 500}).json()["items"]
    assert any(created["id"] in {m["doc_id"] for m in i["members"]} for i in incidents)
    assert pipeline.reconcile(store).documents == 0  # nothing left pending


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"text": ""}}, 422),
        ({"json": {"title": "no text"}}, 422),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
        ({"content": b"plain", "headers": {"content-type": "text/plain"}}, 415),
        ({"files": {"other": ("a.txt", b"text")}}, 422),
        ({"files": {"file": ("a.bin", b"\x00\x01\x02" * 50)}}, 422),
    ],
)
def test_bad_documents_are_client_errors(client, token, kwargs, status):
    headers = {**auth(token), **kwargs.pop("headers", {})}
    assert client.post("/documents", headers=headers, **kwargs).status_code == status


def _first(client, **params) -> dict:
    return client.get("/events", params={**params, "limit": 1}).json()["items"][0]


def test_a_review_edit_appears_in_the_next_exports_with_its_version(client, db, token):
    event = _first(client, governorate="Hama", min_fatalities=1)
    event_id, before = event["event_id"], event["fatalities"]
    response = client.post(
        f"/events/{event_id}/review",
        json={
            "action": "edit",
            "reason": "the article gives a lower figure",
            "changes": {"fatalities": before - 1},
        },
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["version"], result["status"], result["reviewer"]) == (1, "edited", "tester")
    assert result["changes"]["fatalities"] == {"before": before, "after": before - 1}

    rows = {
        r["event_id"]: r
        for r in csv_rows(client.get("/events", params={"format": "csv", "limit": 1000}).text)
    }
    assert rows[event_id]["fatalities"] == str(before - 1)
    assert (rows[event_id]["review_status"], rows[event_id]["review_version"]) == ("edited", "1")
    assert client.get("/events", params={"values": "machine", "governorate": "Hama"}).json()["items"]

    second = client.post(
        f"/events/{event_id}/review",
        json={
            "action": "edit",
            "reason": "victims named",
            "changes": {"victim_group": "Druze"},
            "expected_version": 1,
        },
        headers=auth(token),
    )
    assert second.json()["version"] == 2

    runner = CliRunner()
    exported = runner.invoke(main, ["export", "--db", str(db), "--format", "csv"], catch_exceptions=False)
    row = next(r for r in csv_rows(exported.stdout) if r["event_id"] == event_id)
    assert (row["fatalities"], row["victim_group"]) == (str(before - 1), "Druze")
    assert row["review_version"] == "2"
    only = runner.invoke(main, ["export", "--db", str(db), "--format", "csv", "--reviewed", "only"])
    assert [r["event_id"] for r in csv_rows(only.stdout)] == [event_id]
    unreviewed = runner.invoke(
        main, ["export", "--db", str(db), "--format", "csv", "--reviewed", "unreviewed"]
    )
    assert event_id not in {r["event_id"] for r in csv_rows(unreviewed.stdout)}
    machine_rows = runner.invoke(main, ["export", "--db", str(db), "--format", "csv", "--machine"])
    assert next(r for r in csv_rows(machine_rows.stdout) if r["event_id"] == event_id)["fatalities"] == str(
        before
    )
    lossless = runner.invoke(main, ["export", "--db", str(db), "--format", "jsonl"], catch_exceptions=False)
    record = next(r for r in map(json.loads, lossless.stdout.splitlines()) if r["event"]["id"] == event_id)
    rules = {(e["field"], e["rule"]) for e in record["event"]["evidence"]}
    assert {
        ("review", "review.edited@2"),
        ("fatalities", "review.edited@2"),
        ("victim_group", "review.edited@2"),
    } <= rules
    acled = runner.invoke(main, ["export", "--db", str(db), "--format", "acled"], catch_exceptions=False)
    assert next(r for r in csv_rows(acled.stdout) if r["vigil_event_id"] == event_id)["fatalities"] == str(
        before - 1
    )

    detail = client.get(f"/events/{event_id}").json()
    assert detail["review"]["machine"]["fatalities"] == before
    assert detail["review"]["machine"]["victim_group"] == event["victim_group"]
    assert [v["version"] for v in detail["review"]["history"]] == [1, 2]
    assert detail["review"]["history"][0]["reason"] == "the article gives a lower figure"
    machine = client.get("/events?values=machine&limit=1000").json()["items"]
    assert next(e for e in machine if e["event_id"] == event_id)["fatalities"] == before


def test_reviewed_values_drive_filters(client, token):
    event = _first(client, governorate="Damascus")
    event_id = event["event_id"]
    client.post(
        f"/events/{event_id}/review",
        json={"action": "edit", "reason": "wrong governorate", "changes": {"admin1": ["Homs"]}},
        headers=auth(token),
    )
    in_homs = {
        e["event_id"]
        for e in client.get("/events", params={"governorate": "Hims", "limit": 1000}).json()["items"]
    }
    in_damascus = {
        e["event_id"]
        for e in client.get("/events", params={"governorate": "Damascus", "limit": 1000}).json()["items"]
    }
    assert event_id in in_homs and event_id not in in_damascus
    assert [e["event_id"] for e in client.get("/events", params={"reviewed": "only"}).json()["items"]] == [
        event_id
    ]
    assert event_id not in {
        e["event_id"]
        for e in client.get("/events", params={"reviewed": "unreviewed", "limit": 1000}).json()["items"]
    }


def test_a_rejected_event_is_hidden_unless_asked_for(client, token):
    total = client.get("/events").json()["total"]
    event_id = _first(client)["event_id"]
    response = client.post(
        f"/events/{event_id}/review", json={"action": "reject", "reason": "not an event"}, headers=auth(token)
    )
    assert response.json()["status"] == "rejected"
    assert client.get("/events").json()["total"] == total - 1
    shown = client.get("/events", params={"include_rejected": "true", "limit": 1000}).json()
    assert shown["total"] == total
    assert next(e for e in shown["items"] if e["event_id"] == event_id)["review_status"] == "rejected"
    assert client.get(f"/events/{event_id}").json()["review"]["status"] == "rejected"
    csv_ids = {
        r["event_id"] for r in csv_rows(client.get("/events", params={"format": "csv", "limit": 1000}).text)
    }
    assert event_id not in csv_ids


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "edit", "reason": "x", "changes": {"no_such_field": 1}}, 422),
        ({"action": "edit", "reason": "x", "changes": {"fatalities": -3}}, 422),
        ({"action": "edit", "reason": "x", "changes": {"fatalities": True}}, 422),
        ({"action": "edit", "reason": "x", "changes": {"event_type": "Picnic"}}, 422),
        ({"action": "edit", "reason": "x", "changes": {"date_start": "2025-02-30"}}, 422),
        ({"action": "edit", "reason": "x", "changes": {"latitude": 35.1}}, 422),  # longitude too, or neither
        ({"action": "edit", "reason": "x", "changes": {}}, 422),
        ({"action": "confirm", "reason": "x", "changes": {"fatalities": 1}}, 422),
        ({"action": "confirm", "reason": "   "}, 422),
        ({"action": "approve", "reason": "x"}, 422),
        ({"action": "confirm", "reason": "x", "expected_version": 3}, 409),
    ],
)
def test_review_errors(client, token, body, status):
    event_id = _first(client)["event_id"]
    response = client.post(f"/events/{event_id}/review", json=body, headers=auth(token))
    assert response.status_code == status, response.text
    assert client.get(f"/events/{event_id}").json()["review"] is None


def test_reviewing_an_unknown_event_is_404(client, token):
    response = client.post(
        "/events/nope-e1/review", json={"action": "confirm", "reason": "x"}, headers=auth(token)
    )
    assert response.status_code == 404


def test_concurrent_reviews_go_through_one_writer_and_get_distinct_versions(db, token):
    app = create_app(str(db))
    event_id = Store.open(sqlite_url(db)).events(EventFilter(limit=1))[0].event.id

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as c:
            posts = [
                c.post(
                    f"/events/{event_id}/review",
                    json={"action": "edit", "reason": f"round {n}", "changes": {"fatalities": 1000 + n}},
                    headers=auth(token),
                )
                for n in range(12)
            ]
            responses = await asyncio.gather(*posts)
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        return [r.json()["version"] for r in responses]

    versions = asyncio.run(run())
    assert sorted(versions) == list(range(1, 13))
    app.state.vigil.writer.close()


def test_the_writer_runs_every_job_on_one_thread_in_order():
    writer = Writer()
    seen: list[tuple[int, int]] = []
    futures = []
    threads = [
        threading.Thread(
            target=lambda i=i: futures.append(writer.submit(lambda: seen.append((i, threading.get_ident()))))
        )
        for i in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for f in futures:
        f.result(timeout=10)
    assert len(seen) == 20 and len({ident for _, ident in seen}) == 1
    assert seen[0][1] != threading.get_ident()
    failing = writer.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=10)
    assert writer.submit(lambda: "still running").result(timeout=10) == "still running"
    writer.close()


# --- robustness: schemathesis ------------------------------------------------------------

# The operations in the app's OpenAPI document (a test below checks the list is complete).
OPERATIONS = [
    ("GET", "/health"),
    ("GET", "/events"),
    ("GET", "/timeline"),
    ("GET", "/facets"),
    ("GET", "/events/{event_id}"),
    ("GET", "/claims"),
    ("GET", "/documents/{doc_id}"),
    ("POST", "/documents"),
    ("POST", "/events/{event_id}/review"),
    ("GET", "/incidents"),
    ("GET", "/incidents/{incident_id}"),
    ("POST", "/incidents/{incident_id}/review"),
    ("GET", "/alerts"),
    ("GET", "/sources"),
]
EXAMPLES = 25  # per generation mode: 50 requests per operation that takes input


@pytest.fixture(scope="module")
def fuzz_target(sample_file, tmp_path_factory):
    """One app over a copy of the sample store, with a valid token for the write endpoints."""
    path = tmp_path_factory.mktemp("fuzz") / "store.sqlite"
    shutil.copy(sample_file, path)
    with Store.open(sqlite_url(path)) as s:
        token = reviews.create_token(s, "fuzzer")
    app = create_app(str(path))
    yield schemathesis.openapi.from_asgi("/openapi.json", app), auth(token)
    app.state.vigil.writer.close()


def test_the_fuzzed_operations_are_all_the_operations(fuzz_target):
    schema, _ = fuzz_target
    assert sorted((r.ok().method.upper(), r.ok().path) for r in schema.get_all_operations()) == sorted(
        OPERATIONS
    )


@pytest.mark.parametrize(
    ("mode", "method", "path"),
    [(schemathesis.GenerationMode.POSITIVE, *op) for op in OPERATIONS]
    # invalid requests: every operation that takes any input
    + [
        (schemathesis.GenerationMode.NEGATIVE, *op)
        for op in OPERATIONS
        if op not in (("GET", "/health"), ("GET", "/sources"))
    ],
)
def test_no_request_makes_a_server_error(fuzz_target, method, path, mode):
    """Generated requests, valid and invalid, with a valid token, never get a 5xx, and every
    response matches the schema. Seeded: the same requests on every run."""
    schema, headers = fuzz_target
    operation = schema[path][method]
    sent = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance], timeout=120
        )
        sent.append(response.status_code)

    check()
    assert sent and all(code < 500 for code in sent)


def test_sources_endpoint_shows_watched_source_health(client, store):
    from vigil.store import watch as watched

    assert client.get("/sources").json() == {"sources": []}
    watched.register(
        store, [watched.SourceConfig(name="wire", url="http://127.0.0.1:9/feed.xml", interval=60)]
    )
    [source] = client.get("/sources").json()["sources"]
    assert source["name"] == "wire" and source["items_total"] == 0 and source["last_success"] is None


# --- merge reviews -------------------------------------------------------------------------


def _report(name: str, *, published: date, day: date, admin1: str = "Hama", dead: int = 12):
    """An invented article reporting one attack, extracted by hand: the same day, place and figure
    in two of them make one incident."""
    from vigil.ingest import make_document
    from vigil.model import Claim, DateInterval, EventMention, Extraction, Span

    text = f"Gunmen killed {dead} civilians in a village in {admin1}, a monitor said ({name})."
    doc = make_document(text, name=name, source=name, published=published)
    sentence = Span(doc_id=doc.id, start=0, end=len(text))
    claim = Claim(
        id=f"{doc.id}-c0",
        doc_id=doc.id,
        claimant="SOHR",
        via=None,
        count=dead,
        qualifier="exact",
        killed_or_injured="killed",
        category="civilians",
        victim_group=None,
        scope="incident",
        period=DateInterval(),
        admin1=(admin1,),
        span=Span(doc_id=doc.id, start=14, end=16),
        sentence=sentence,
    )
    event = EventMention(
        id=f"{doc.id}-e0",
        doc_id=doc.id,
        event_type="Violence against civilians",
        sub_event_type="Attack",
        date=DateInterval(start=day, end=day, precision=1),
        country="Syria",
        admin1=(admin1,),
        place=None,
        actor1="Unidentified armed group",
        actor2="Civilians",
        victim_group=None,
        civilian_targeting=True,
        fatalities=dead,
        fatalities_low=None,
        fatalities_high=None,
        toll_scope="incident",
        claim_ids=(claim.id,),
        span=Span(doc_id=doc.id, start=0, end=6),
        sentence=sentence,
    )
    return Extraction(
        document=doc, sentences=(), mentions=(), claims=(claim,), events=(event,), extractor="t@1"
    )


def test_merge_reviews_through_the_api_on_each_backend(database_url):
    day = date(2025, 3, 12)
    reports = [_report(f"r{i}.txt", published=day + timedelta(days=i), day=day) for i in range(3)]
    elsewhere = _report("homs.txt", published=day, day=day - timedelta(days=9), admin1="Homs", dead=3)
    r0, r1, r2 = (x.events[0].id for x in reports)
    from vigil.store import incidents as stored

    with Store.open(database_url) as s:
        s.write([*reports, elsewhere])
        pipeline.reconcile(s)
        [incident_id] = {i for e, i in _holders(s).items() if e in (r0, r1, r2)}
        token = reviews.create_token(s, "analyst")
        with TestClient(create_app(store=s)) as client:
            path = f"/incidents/{incident_id}/review"
            reject = {"action": "reject", "event_id": r2, "reason": "another attack, same day"}
            for headers in ({}, {"Authorization": "Bearer nonsense"}):
                assert client.post(path, json=reject, headers=headers).status_code == 401
            assert (
                client.post("/incidents/inc-none/review", json=reject, headers=auth(token)).status_code == 404
            )
            for bad in (
                {**reject, "event_id": "nope-e0"},
                {"action": "reject", "reason": "which one?"},
                {"action": "confirm", "event_id": r2, "reason": "confirm names no member"},
                {**reject, "reason": "   "},
                {**reject, "action": "split"},
            ):
                response = client.post(path, json=bad, headers=auth(token))
                assert response.status_code == 422, bad
                assert response.json()["message"]
            assert stored.decisions(s) == []  # nothing recorded by the refused requests
            assert client.get("/incidents", params={"reviewed": "only"}).json()["total"] == 0

            done = client.post(path, json=reject, headers=auth(token))
            assert done.status_code == 200, done.text
            result = done.json()
            assert result["version"] == 1 and result["reviewer"] == "analyst" and result["action"] == "reject"
            placed = result["placement"]
            assert placed[r0] == placed[r1] != placed[r2]
            assert sorted(result["incidents"]) == sorted({placed[r0], placed[r2]})
            assert _holders(s)[r2] != _holders(s)[r0]
            for held in (placed[r0], placed[r2]):
                detail = client.get(f"/incidents/{held}").json()
                last = detail["history"][-1]
                assert "reviewed" in last["kinds"]
                assert last["detail"]["review"]["reviewer"] == "analyst"
                assert last["detail"]["review"]["reason"] == "another attack, same day"
                assert last["detail"]["review"]["version"] == 1
                assert [d["version"] for d in detail["incident"]["reviews"]] == [1]
            only = client.get("/incidents", params={"reviewed": "only"}).json()
            assert {i["id"] for i in only["items"]} == {placed[r0], placed[r2]} and only["total"] == 2
            everything = client.get("/incidents").json()
            assert everything["total"] == 3
            assert [i["reviews"] for i in everything["items"] if i["id"] not in placed.values()] == [[]]

            # a later document reconciled the usual way does not undo the split
            s.write([_report("r3.txt", published=day + timedelta(days=3), day=day)])
            assert pipeline.reconcile(s).documents == 1
            holders = _holders(s)
            assert holders[r2] not in (holders[r0], holders[r1]) and holders[r0] == holders[r1]

            # confirming the two that stay together: a newer decision, shown latest first
            confirm = {"action": "confirm", "reason": "same attack, same figure"}
            again = client.post(f"/incidents/{holders[r0]}/review", json=confirm, headers=auth(token))
            assert again.status_code == 200 and again.json()["version"] == 2
            reviewed = client.get(f"/incidents/{holders[r0]}").json()
            assert [d["version"] for d in reviewed["incident"]["reviews"]] == [2, 1]
            assert reviewed["history"][-1]["detail"]["review"]["action"] == "confirm"
            links = stored.get(s, holders[r0]).links
            assert any(part == ("review.confirm@2", 1.0) for link in links for part in link.parts)

        history = CliRunner().invoke(main, ["incident", holders[r2], "--history", "--db", database_url])
        assert history.exit_code == 0, history.output
        assert "reviewed" in history.output and "analyst" in history.output


def _holders(store: Store) -> dict[str, str]:
    """Each event in an incident -> that incident's id."""
    from vigil.store import incidents as stored

    return {e: i.id for i in stored.load(store).values() for e in i.event_ids}


def test_rejecting_a_member_of_a_sample_incident_moves_it_out(client, token):
    incidents = client.get("/incidents", params={"limit": 500}).json()["items"]
    target = max(incidents, key=lambda i: len(i["members"]))
    members = [m["event_id"] for m in target["members"]]
    assert len(members) >= 2
    rejected = members[-1]
    response = client.post(
        f"/incidents/{target['id']}/review",
        json={"action": "reject", "event_id": rejected, "reason": "a different attack"},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    placed = response.json()["placement"]
    assert all(placed[rejected] != placed[m] for m in members if m != rejected and m in placed)
    holder = client.get(f"/incidents/{placed[rejected]}").json()
    assert not (set(members) - {rejected}) & {m["event_id"] for m in holder["incident"]["members"]}
    assert any("reviewed" in v["kinds"] for v in holder["history"])
    assert client.get(f"/events/{rejected}").json()["row"]["incident_id"] == placed[rejected]
