"""The evaluator: matching rules on small invented keys, the parsers, the floor gate and the CI gate."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from vigil import eval as ev
from vigil.cli import main
from vigil.ingest import make_document
from vigil.model import Claim, DateInterval, EventMention, Extraction, Place, Span

D = date(2025, 3, 10)
SPAN = Span(doc_id="d", start=0, end=1)


def event(
    id: str,
    *,
    type: str = "Violence against civilians",
    sub: str = "Attack",
    start: date | None = D,
    end: date | None = None,
    admin1: tuple[str, ...] = ("Lattakia",),
    place: Place | None = None,
    dead: int = 0,
    low: int | None = None,
    high: int | None = None,
    precision: int | None = 1,
    civilians: bool = True,
    scope: str = "incident",
) -> EventMention:
    return EventMention(
        id=id,
        doc_id="d",
        event_type=type,
        sub_event_type=sub,
        date=DateInterval(start=start, end=end or start, precision=precision),
        country="Syria",
        admin1=admin1,
        place=place,
        actor1=None,
        actor2=None,
        victim_group=None,
        civilian_targeting=civilians,
        fatalities=dead,
        fatalities_low=dead if low is None else low,
        fatalities_high=high,
        toll_scope=scope,
        claim_ids=(),
        span=SPAN,
        sentence=SPAN,
    )


def claim(
    id: str, claimant: str, count: int, *, qualifier: str = "exact", category: str = "civilians"
) -> Claim:
    return Claim(
        id=id,
        doc_id="d",
        claimant=claimant,
        via=None,
        count=count,
        qualifier=qualifier,
        killed_or_injured="killed",
        category=category,
        victim_group=None,
        scope="incident",
        period=DateInterval(),
        admin1=(),
        span=SPAN,
        sentence=SPAN,
    )


def extraction(events=(), claims=()) -> Extraction:
    doc = make_document("An invented report.", name="x.txt", source="x.txt")
    return Extraction(
        document=doc, sentences=(), mentions=(), claims=tuple(claims), events=tuple(events), extractor="t"
    )


def gold_event(id: str, **kw) -> ev.GoldEvent:
    base = dict(
        event_type="Violence against civilians",
        sub_event_type="Attack",
        dates=(D, D),
        time_precision=1,
        country="Syria",
        admin1=("Lattakia",),
        location=None,
        civilian_targeting=True,
        fatalities=0,
    )
    base.update(kw)
    return ev.GoldEvent(id=id, **base)


def gold_claim(id: str, claimant: str, count: int, **kw) -> ev.GoldClaim:
    base = dict(
        via=None, qualifier="exact", killed_or_injured="killed", category="civilians", scope="incident"
    )
    base.update(kw)
    return ev.GoldClaim(id=id, claimant=claimant, count=count, **base)


def gold(events=(), claims=()) -> ev.GoldDoc:
    return ev.GoldDoc(
        path=Path("x.gold.json"), doc="x.txt", published=D, events=tuple(events), claims=tuple(claims)
    )


def scores(report_scores) -> dict[str, tuple[int, int]]:
    return {s.name: (s.numerator, s.denominator) for s in report_scores}


# --- parsers and geometry ----------------------------------------------------------------


def test_acled_dates_parse():
    assert ev.parse_acled_date("9-May-20") == date(2020, 5, 9)
    assert ev.parse_acled_date(" 12-Dec-19 ") == date(2019, 12, 12)
    with pytest.raises(ValueError):
        ev.parse_acled_date("2020-05-09")


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2068, 12, 31)))
def test_acled_dates_round_trip(d):
    assert ev.parse_acled_date(f"{d.day}-{d:%b}-{d:%y}") == d


def test_haversine_known_distances():
    assert ev.haversine_km(35.0, 36.0, 35.0, 36.0) == 0.0
    assert ev.haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(111.195, abs=0.01)
    assert ev.haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.195, abs=0.01)
    assert ev.haversine_km(90.0, 0.0, -90.0, 0.0) == pytest.approx(math.pi * ev.EARTH_RADIUS_KM)


@given(st.floats(-89, 89), st.floats(-179, 179), st.floats(-89, 89), st.floats(-179, 179))
def test_haversine_is_symmetric_and_bounded(a, b, c, d):
    km = ev.haversine_km(a, b, c, d)
    assert km == pytest.approx(ev.haversine_km(c, d, a, b))
    assert 0.0 <= km <= math.pi * ev.EARTH_RADIUS_KM + 1e-6


def test_dates_agree_within_three_days_or_inside_the_span():
    day = (D, D)
    assert ev.dates_agree(day, (D + timedelta(days=3), D + timedelta(days=3)))
    assert not ev.dates_agree(day, (D + timedelta(days=4), D + timedelta(days=4)))
    assert ev.dates_agree((D - timedelta(days=30), D + timedelta(days=30)), (D, D))  # inside the gold span
    assert ev.dates_agree(None, None)
    assert not ev.dates_agree(day, None) and not ev.dates_agree(None, day)
    assert ev.interval(None, D) == (D, D)


def test_ucdp_rows_read(tmp_path):
    path = tmp_path / "u.jsonl"
    row = {
        "id": 7,
        "source_article": "Invented: two people died in a blast.",
        "source_date": "2021-02-03 00:00",
        "deaths_side_a": 1,
        "deaths_side_b": 2,
        "deaths_civilian": 3,
        "deaths_unknown": 4,
        "deaths_low": 8,
        "deaths_high": 12,
        "location_adm1_name": "Hamah governorate",
        "start_date": "2021-02-01",
        "end_date": "2021-02-02",
    }
    path.write_text(json.dumps(row) + "\n\n", encoding="utf-8")
    (r,) = ev.read_ucdp(path)
    assert (r.id, r.best, r.low, r.high, r.admin1) == ("7", 10, 8, 12, "Hamah")
    assert r.published == date(2021, 2, 3) and r.dates == (date(2021, 2, 1), date(2021, 2, 2))


# --- gold matching ------------------------------------------------------------------------


def test_gold_events_match_by_type_governorate_and_date():
    key = gold(
        events=[
            gold_event("e1", admin1=("Latakia",), fatalities=12, location="Jableh"),
            gold_event("e2", admin1=("Hama",), dates=(D, D + timedelta(days=5))),
        ]
    )
    system = extraction(
        events=[
            event("s1", admin1=("Lattakia",), start=D + timedelta(days=2), dead=12),  # Latakia = Lattakia
            event("s2", admin1=("Hama",), type="Battles", sub="Armed clash"),  # wrong type
            event("s3", admin1=("Hama",), start=D + timedelta(days=9)),  # 4 days past the gold span
        ]
    )
    item = ev.score_gold_doc(key, system)
    assert [(p.key_id, p.system_id) for p in item.events_matched] == [("e1", "s1")]
    assert item.events_missed == ("e2",)
    assert {e.id for e in item.events_spurious} == {"s2", "s3"}
    got = scores(ev.gold_scores([item]))
    assert got["event_precision"] == (1, 3)
    assert got["event_recall"] == (1, 2)
    assert got["event_f1"] == (2, 5)
    assert got["fatalities_exact"] == (1, 1)
    assert got["location_accuracy"] == (0, 1)  # key says Jableh, system has no place


def test_gold_matching_is_one_to_one_and_prefers_the_closer_pair():
    key = gold(events=[gold_event("e1", fatalities=5)])
    system = extraction(events=[event("s1", start=D + timedelta(days=3)), event("s2", dead=5)])
    item = ev.score_gold_doc(key, system)
    assert [(p.key_id, p.system_id) for p in item.events_matched] == [("e1", "s2")]
    assert [e.id for e in item.events_spurious] == ["s1"]


def test_undated_events_match_only_undated_keys():
    key = gold(events=[gold_event("e1", dates=None)])
    assert ev.score_gold_doc(key, extraction(events=[event("s1", start=None)])).events_matched
    assert not ev.score_gold_doc(key, extraction(events=[event("s1")])).events_matched


def test_no_governorate_on_one_side_is_no_overlap():
    key = gold(events=[gold_event("e1", admin1=("Tartous",))])
    assert not ev.score_gold_doc(key, extraction(events=[event("s1", admin1=())])).events_matched


def test_claims_match_on_count_and_claimant_through_aliases():
    key = gold(
        claims=[
            gold_claim("c1", "Syrian Observatory for Human Rights", 40),
            gold_claim("c2", "article", 7),
            gold_claim("c3", "A villager (local farmer)", 2, category="all"),
        ]
    )
    system = extraction(
        claims=[
            claim("k1", "SOHR", 40),
            claim("k2", "SOHR", 7),  # right count, wrong claimant: "article" only equals "article"
            claim("k3", "a villager", 2),
            claim("k4", "article", 30, qualifier="vague"),  # vague: left out on the system side
        ]
    )
    item = ev.score_gold_doc(key, system)
    assert sorted((p.key_id, p.system_id) for p in item.claims_matched) == [("c1", "k1"), ("c3", "k3")]
    assert item.claims_missed == ("c2",)
    assert [c.id for c in item.claims_spurious] == ["k2"]
    got = scores(ev.gold_scores([item]))
    assert got["claim_precision"] == (2, 3)
    assert got["claim_recall"] == (2, 3)
    assert got["claim_category_accuracy"] == (1, 2)
    assert got["claim_scope_accuracy"] == (2, 2)


def test_claimant_canonical_forms():
    assert ev.canonical_claimant("Syrian Observatory for Human Rights") == ev.canonical_claimant("SOHR")
    assert ev.canonical_claimant("article") == "article"
    assert ev.canonical_claimant("SOHR") != "article"
    assert ev.canonical_claimant(None) is None


def test_location_accepts_the_town_of_a_place_town_key():
    assert ev.same_location(None, None)
    assert not ev.same_location("Jableh", None)
    assert ev.same_location("Al-Qusour, Baniyas", "Baniyas")
    assert ev.same_location("Latakia", "Latakia")
    assert not ev.same_location("Jableh", "Baniyas", country="SY")


def test_gold_directory_with_a_missing_article_counts_its_events_as_missed(tmp_path):
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    key = {"doc": "absent.txt", "published": None, "events": [], "claims": []}
    key["events"].append(
        {
            "id": "e1",
            "event_type": "Battles",
            "sub_event_type": "Armed clash",
            "date_start": None,
            "date_end": None,
            "admin1": ["Homs"],
            "fatalities": 0,
        }
    )
    (gold_dir / "absent.txt.gold.json").write_text(json.dumps(key), encoding="utf-8")
    report = ev.evaluate("gold", gold_dir)
    assert report.n_items == 1 and len(report.errors) == 1
    assert scores(report.scores)["event_recall"] == (0, 1)


# --- ACLED and UCDP rows ------------------------------------------------------------------


def acled_row(**kw) -> ev.AcledRow:
    base = dict(
        id="X1",
        text="",
        published=D,
        country="Syria",
        country_code="SY",
        event_type="Battles",
        sub_event_type="Armed clash",
        admin1="Latakia",
        location="Jableh",
        latitude=35.36,
        longitude=35.93,
        fatalities=3,
    )
    base.update(kw)
    return ev.AcledRow(**base)


def test_acled_pick_prefers_the_row_type_then_most_dead():
    a = event("a", type="Battles", dead=1)
    b = event("b", type="Battles", dead=4)
    c = event("c", dead=9)
    assert ev.pick_for_acled([c, a, b], "Battles") is b
    assert ev.pick_for_acled([a, c], "Protests") is c
    assert ev.pick_for_acled([event("x"), event("y")], "Riots").id == "x"
    assert ev.pick_for_acled([], "Riots") is None


def test_acled_row_checks():
    near = Place(
        name="Nearby", kind="town", country="Syria", country_code="SY", latitude=35.40, longitude=35.95
    )
    e = event("a", type="Battles", sub="Armed clash", dead=3, admin1=("Lattakia",), place=near)
    item = ev.score_acled_row(acled_row(), [e])
    assert all(c.ok for c in item.checks), item.checks
    far = Place(name="Far", kind="town", country="Syria", country_code="SY", latitude=36.0, longitude=36.0)
    item = ev.score_acled_row(
        acled_row(), [event("a", type="Battles", sub="Armed clash", admin1=("Hama",), place=far)]
    )
    failed = {c.name for c in item.checks if not c.ok}
    assert failed == {"admin1", "location_10km", "fatalities"}
    empty = ev.score_acled_row(acled_row(), [])
    assert empty.picked is None and not any(c.ok for c in empty.checks)


def ucdp_row(**kw) -> ev.UcdpRow:
    base = dict(id="1", text="", published=D, admin1="Hamah", dates=(D, D), best=4, low=3, high=6)
    base.update(kw)
    return ev.UcdpRow(**base)


def test_ucdp_match_needs_governorate_and_date():
    assert ev.match_ucdp(ucdp_row(), [event("a", admin1=("Homs",))]) is None
    assert ev.match_ucdp(ucdp_row(), [event("a", admin1=("Hama",), start=D + timedelta(days=4))]) is None
    hit = event("b", admin1=("Hama",), start=D + timedelta(days=1), dead=4)
    item = ev.score_ucdp_row(ucdp_row(), [event("a", admin1=("Hama",), start=D + timedelta(days=3)), hit])
    assert item.matched is not None and item.matched.id == "b"
    assert all(c.ok for c in item.checks)


def test_ucdp_range_treats_a_missing_high_as_the_low():
    item = ev.score_ucdp_row(ucdp_row(best=5), [event("a", admin1=("Hama",), dead=4, low=2, high=None)])
    checks = {c.name: c.ok for c in item.checks}
    assert checks == {"event_match": True, "best_deaths_exact": False, "best_in_range": False}
    item = ev.score_ucdp_row(ucdp_row(best=5), [event("a", admin1=("Hama",), dead=4, low=2, high=9)])
    assert {c.name: c.ok for c in item.checks}["best_in_range"]


# --- floors, the run and the CLI ----------------------------------------------------------


def report_with(*score_list: ev.Score, kind: str = "acled") -> ev.EvalReport:
    return ev.EvalReport(kind=kind, source="t", n_items=1, scores=score_list, errors=())


def test_floor_check_fails_below_a_floor_and_above_a_ceiling():
    report = report_with(
        ev.ratio("event_type_accuracy", 1, 2), ev.ratio("no_event_rate", 1, 4, higher_is_better=False)
    )
    floors = [
        ev.Floor(kind="acled", name="event_type_accuracy", bound=0.6),
        ev.Floor(kind="acled", name="no_event_rate", bound=0.2),
        ev.Floor(kind="ucdp", name="event_match_rate", bound=0.99),  # another kind: not this report's
    ]
    misses = {(m.name, m.value) for m in ev.check_floors(report, floors) if not m.ok}
    assert misses == {("event_type_accuracy", 0.5), ("no_event_rate", 0.25)}
    passing = [ev.Floor(kind="acled", name="event_type_accuracy", bound=0.5)]
    assert all(m.ok for m in ev.check_floors(report, passing))


def test_floor_naming_an_absent_score_fails():
    (miss,) = ev.check_floors(report_with(), [ev.Floor(kind="acled", name="renamed", bound=0.1)])
    assert not miss.ok and miss.value is None


def test_packaged_floors_name_only_scores_the_evaluator_produces():
    floors = ev.load_floors()
    assert {f.kind for f in floors} == set(ev.KINDS)
    names = {
        "gold": {s.name for s in ev.gold_scores([])} | {s.name for s in ev.clustering_scores([], [], {})},
        "acled": {n for _, n in ev.ACLED_SCORES} | {"no_event_rate"},
        "ucdp": {n for _, n in ev.UCDP_SCORES} | {"no_event_rate"},
    }
    for f in floors:
        assert f.name in names[f.kind], f
        assert 0.0 <= f.bound <= 1.0


def _write_acled(path: Path) -> Path:
    header = "event_id_cnty,event_date,iso3,country,event_type,sub_event_type,admin1,location,latitude,longitude,notes,fatalities"
    rows = [
        'T1,9-May-20,SYR,Syria,Battles,Armed clash,Hama,Hama,35.13,36.75,"On 9 May 2020, two armed groups fought near Hama; 3 fighters were killed.",3',
        'T2,8-May-20,SYR,Syria,Protests,Peaceful protest,Homs,Homs,34.73,36.71,"On 8 May 2020, people marched in Homs.",0',
    ]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_run_writes_the_report_and_checks_floors(tmp_path):
    csv_path = _write_acled(tmp_path / "a.csv")
    floors = tmp_path / "floors.yaml"
    floors.write_text(yaml.safe_dump({"acled": {"event_type_accuracy": 1.01}}), encoding="utf-8")
    out = tmp_path / "out" / "report.json"
    (report,) = ev.run([("acled", csv_path)], out=out, floors=floors)
    assert report.n_items == 2
    assert [m.name for m in report.below_floor] == ["event_type_accuracy"]
    written = json.loads(out.read_text(encoding="utf-8"))
    (r,) = written["reports"]
    assert r["kind"] == "acled" and len(r["items"]) == 2
    assert {s["name"] for s in r["scores"]} >= {"event_type_accuracy", "no_event_rate"}


def test_limit_caps_the_items(tmp_path):
    assert ev.evaluate("acled", _write_acled(tmp_path / "a.csv"), limit=1).n_items == 1
    with pytest.raises(ValueError):
        ev.evaluate("nope", tmp_path)


def test_cli_eval_prints_a_table(tmp_path):
    csv_path = _write_acled(tmp_path / "a.csv")
    result = CliRunner().invoke(
        main, ["eval", "--acled", str(csv_path), "--report", str(tmp_path / "r.json")]
    )
    assert result.exit_code == 0, result.output
    assert "event_type_accuracy" in result.output and "/2" in result.output
    assert (tmp_path / "r.json").is_file()


def test_cli_eval_without_shared_exits_2(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIL_SHARED", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(main, ["eval"])
    assert result.exit_code == 2
    assert "absent" in result.output


# --- the CI evaluation gate ----------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.slow
def test_dev_keys_meet_their_floors(shared_dir):
    reports = ev.run(ev.default_keys(shared_dir), out=None, floors=True)
    assert [r.kind for r in reports] == list(ev.KINDS)
    for r in reports:
        assert r.floors, f"no floors for {r.kind}"
        below = [f"{m.kind}.{m.name} = {m.value} (bound {m.bound})" for m in r.below_floor]
        assert not below, "scores past their floors:\n" + "\n".join(below)
