"""Incidents across documents: clustering, nesting, running tolls, history, stability and alerts."""

from __future__ import annotations

import http.server
import json
import random
import threading
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from vigil import alerts as alerting
from vigil import pipeline
from vigil.cli import main
from vigil.ingest import IngestOptions, make_document
from vigil.model import Claim, DateInterval, EventMention, EventRecord, Incident, Span, Toll
from vigil.reconcile import Decision, incidents, syndication, tolls
from vigil.store import Store, sqlite_url
from vigil.store import incidents as stored


def _record(
    doc_name: str,
    *,
    published: date,
    text: str = "Gunmen killed civilians in a village.",
    event_type: str = "Violence against civilians",
    admin1: tuple[str, ...] = ("Hama",),
    day: tuple[date, date] | None = None,
    scope: str = "incident",
    claims: tuple[tuple[str, int, str], ...] = (),  # (claimant, count, scope)
    category: str = "civilians",
) -> EventRecord:
    doc = make_document(text + " " + doc_name, name=doc_name, source=doc_name, published=published)
    start, end = day or (published, published)
    made = tuple(
        Claim(
            id=f"{doc.id}-c{i}",
            doc_id=doc.id,
            claimant=who,
            via=None,
            count=n,
            qualifier="exact",
            killed_or_injured="killed",
            category=category,
            victim_group=None,
            scope=claim_scope,
            period=DateInterval(),
            admin1=admin1,
            span=Span(doc_id=doc.id, start=0, end=5),
            sentence=Span(doc_id=doc.id, start=0, end=len(text)),
        )
        for i, (who, n, claim_scope) in enumerate(claims)
    )
    event = EventMention(
        id=f"{doc.id}-e0",
        doc_id=doc.id,
        event_type=event_type,
        sub_event_type="Attack",
        date=DateInterval(start=start, end=end, precision=1 if start == end else 2),
        country="Syria",
        admin1=admin1,
        place=None,
        actor1="Unidentified armed group",
        actor2="Civilians",
        victim_group=None,
        civilian_targeting=True,
        fatalities=min((c.count for c in made), default=0),
        fatalities_low=None,
        fatalities_high=None,
        toll_scope=scope,
        claim_ids=tuple(c.id for c in made),
        span=Span(doc_id=doc.id, start=0, end=5),
        sentence=Span(doc_id=doc.id, start=0, end=len(text)),
    )
    return EventRecord(event=event, claims=made, document=doc)


D = date(2025, 3, 12)


def test_two_reports_of_one_attack_are_one_incident():
    a = _record("a.txt", published=D, claims=(("SOHR", 12, "incident"),))
    b = _record("b.txt", published=D + timedelta(days=1), day=(D, D), claims=(("SNHR", 14, "incident"),))
    [inc] = incidents([a, b])
    assert set(inc.event_ids) == {a.event.id, b.event.id}
    total = next(t for t in inc.tolls if t.category == "total")
    # SNHR's 14 is the newer figure; SOHR's older 12 does not contradict it downward.
    assert (total.low, total.best, total.high) == (14, 14, 14)
    assert inc.links and inc.links[0].parts


def test_different_days_places_or_types_stay_apart():
    a = _record("a.txt", published=D, claims=(("SOHR", 12, "incident"),))
    other_day = _record("b.txt", published=D + timedelta(days=2), claims=(("SOHR", 12, "incident"),))
    other_place = _record("c.txt", published=D, admin1=("Idleb",), claims=(("SOHR", 12, "incident"),))
    other_type = _record("d.txt", published=D, event_type="Battles", claims=(("SOHR", 12, "incident"),))
    assert len(incidents([a, other_day, other_place, other_type])) == 4


def test_a_day_inside_a_running_total_is_its_child_and_is_not_added():
    wave = _record(
        "wave.txt",
        published=D + timedelta(days=2),
        admin1=("Lattakia", "Tartous"),
        day=(D - timedelta(days=6), D + timedelta(days=2)),
        scope="cumulative",
        claims=(("SOHR", 1383, "cumulative"),),
    )
    day = _record("day.txt", published=D, admin1=("Tartous",), claims=(("SOHR", 49, "incident"),))
    built = {i.event_ids[0]: i for i in incidents([wave, day])}
    parent, child = built[wave.event.id], built[day.event.id]
    assert child.parent_id == parent.id and parent.children == (child.id,)
    civilians = next(t for t in parent.tolls if t.category == "civilians")
    assert civilians.best == 1383


def test_running_totals_climb_and_late_relays_do_not_lower_them():
    published = [date(2025, 3, 8), date(2025, 3, 9), date(2025, 3, 12), date(2025, 3, 14), date(2025, 3, 22)]
    counts = [340, 745, 1383, 1476, 1200]
    records = [
        _record(
            f"r{i}.txt",
            published=p,
            admin1=("Lattakia", "Tartous"),
            day=(date(2025, 3, 6), p),
            scope="cumulative",
            claims=(("SOHR", n, "cumulative"),),
        )
        for i, (p, n) in enumerate(zip(published, counts, strict=True))
    ]
    records.append(
        _record(
            "snhr.txt",
            published=date(2025, 3, 10),
            admin1=("Lattakia", "Tartous"),
            day=(date(2025, 3, 6), date(2025, 3, 10)),
            scope="cumulative",
            claims=(("SNHR", 803, "cumulative"),),
        )
    )
    [inc] = incidents(records)
    civ = next(t for t in inc.tolls if t.category == "civilians")
    assert civ.best == 1476 and civ.high == 1476
    sohr = next(line for line in civ.lines if line.claimant == "SOHR")
    assert [p.count for p in sohr.points] == counts
    assert [p.status for p in sohr.points][-2:] == ["latest", "relayed_late"]
    assert next(line for line in civ.lines if line.claimant == "SNHR").latest == 803


def test_syndicated_copies_count_as_one_source():
    text = "A car bomb exploded near the market of the town on Monday killing eleven people and wounding many more."
    groups = syndication(
        {"a": text, "b": text + " Copyright the agency.", "c": "Something else entirely here."}
    )
    assert groups["a"] == groups["b"] != groups["c"]


def test_toll_of_one_claimant_is_its_latest_figure():
    a = _record("a.txt", published=D, claims=(("Health Ministry", 15, "incident"),))
    b = _record(
        "b.txt", published=D + timedelta(days=1), day=(D, D), claims=(("Health Ministry", 20, "incident"),)
    )
    [inc] = incidents([a, b])
    civ = next(t for t in inc.tolls if t.category == "civilians")
    assert (civ.low, civ.best, civ.high) == (20, 20, 20)
    assert set(civ.claim_ids) == {c.id for c in a.claims + b.claims}


def _twelve_reports() -> list:
    """Twelve SOHR reports over three days in Hama and Homs, with different counts."""
    return [
        _record(
            f"d{i}.txt",
            published=D + timedelta(days=i % 3),
            admin1=(("Hama",), ("Homs",))[i % 2],
            claims=(("SOHR", 3 + i, "incident"),),
        )
        for i in range(12)
    ]


def test_incidents_do_not_depend_on_input_order():
    records = _twelve_reports()
    first = incidents(records)
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    assert incidents(shuffled) == first


# --- through the store, on the real articles ----------------------------------------------------


def _ingest(db: str, paths: list[Path]) -> None:
    with Store.open(sqlite_url(db)) as store:
        pipeline.ingest(paths, store=store, options=IngestOptions())
        pipeline.reconcile(store)


@pytest.fixture(scope="module")
def corpus_files(shared_dir) -> list[Path]:
    return sorted((shared_dir / "corpus").glob("*.txt")) + sorted((shared_dir / "seeds").glob("*.txt"))


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory, corpus_files) -> str:
    db = str(tmp_path_factory.mktemp("corpus") / "store.sqlite")
    _ingest(db, corpus_files)
    return db


def _coastal_parent(db: str) -> Incident:
    with Store.open(sqlite_url(db)) as store:
        found = list(stored.load(store).values())
    parents = [
        i
        for i in found
        if i.event_type == "Violence against civilians"
        and i.children
        and {"Lattakia", "Tartous"} <= set(i.admin1)
    ]
    return max(parents, key=lambda i: len(i.children))


def test_coastal_massacres_are_one_parent_with_sohr_running_total(corpus_db):
    parent = _coastal_parent(corpus_db)
    civ = next(t for t in parent.tolls if t.category == "civilians")
    assert civ.best == 1476
    sohr = next(line for line in civ.lines if line.claimant == "SOHR")
    climbing = [p.count for p in sohr.points if p.status in ("latest", "superseded") and p.count >= 300]
    assert climbing == sorted(climbing) and {340, 745, 1383, 1476} <= set(climbing)
    assert any(line.claimant == "SNHR" for line in civ.lines)  # kept beside SOHR, never merged into it


def test_day_level_massacres_are_children_not_added(corpus_db):
    parent = _coastal_parent(corpus_db)
    with Store.open(sqlite_url(corpus_db)) as store:
        found = stored.load(store)
    children = [found[c] for c in parent.children]
    days = {c.date.start for c in children}
    assert {date(2025, 3, 12), date(2025, 3, 13)} <= days
    civ = next(t for t in parent.tolls if t.category == "civilians")
    assert civ.best == 1476  # not 1476 plus any day's dead


def test_two_ingest_orders_give_identical_incidents(tmp_path, corpus_files, corpus_db):
    reverse = str(tmp_path / "reverse.sqlite")
    _ingest(reverse, list(reversed(corpus_files)))
    with Store.open(sqlite_url(corpus_db)) as a, Store.open(sqlite_url(reverse)) as b:
        assert stored.load(a) == stored.load(b)


def test_a_new_document_touches_only_its_incidents(tmp_path, corpus_files):
    db = str(tmp_path / "s.sqlite")
    *first, last = corpus_files
    _ingest(db, first)
    with Store.open(sqlite_url(db)) as store:
        before = stored.load(store)
        before_versions = {i: len(stored.history(store, i)) for i in before}
    _ingest(db, [last])
    with Store.open(sqlite_url(db)) as store:
        after = stored.load(store)
        changed = {i for i in before if after.get(i) != before[i]}
        for i in set(before) - changed:
            assert len(stored.history(store, i)) == before_versions[i]
        for i in changed:
            assert stored.history(store, i)[-1].doc_ids  # every change names its cause
    assert len(changed) < len(before)


def test_incidents_cli_history_and_explain(corpus_db):
    runner = CliRunner()
    out = runner.invoke(main, ["incidents", "--db", corpus_db, "--format", "jsonl"])
    lines = [json.loads(line) for line in out.output.splitlines() if line.startswith("{")]
    assert lines and all({"members", "tolls", "parent", "children"} <= set(x) for x in lines)
    member = lines[0]["members"][0]
    assert {"event_id", "doc_id", "source"} <= set(member)
    parent = _coastal_parent(corpus_db)
    shown = runner.invoke(main, ["incident", parent.id, "--db", corpus_db, "--history", "--explain"])
    assert shown.exit_code == 0
    assert "history" in shown.output and "v1 created" in shown.output
    assert "shared_claimant" in shown.output or "governorates" in shown.output
    export = runner.invoke(main, ["export", "--db", corpus_db, "--format", "acled"])
    assert "incident_id" in export.output.splitlines()[0]


# --- alerts -----------------------------------------------------------------------------------------


def _incident(i: int, day: date, area: str = "Homs", dead: int = 2) -> Incident:
    return Incident(
        id=f"inc-{i}",
        event_ids=(f"e{i}",),
        event_type="Violence against civilians",
        date=DateInterval(start=day, end=day, precision=1),
        admin1=(area,),
        tolls=(Toll(category="total", low=dead, best=dead, high=dead),),
    )


def test_a_surge_above_the_baseline_alerts_and_names_its_incidents():
    as_of = date(2025, 6, 30)
    quiet = [_incident(i, as_of - timedelta(days=20 + 7 * i)) for i in range(3)]
    surge = [_incident(10 + i, as_of - timedelta(days=i)) for i in range(4)]
    raised = alerting.evaluate(quiet + surge, as_of=as_of, victim_groups={"inc-10": ("Alawite",)})
    [alert] = [a for a in raised if a.victim_group is None]
    assert alert.area == "Homs" and alert.incidents == 4 and alert.p_value < alerting.ALPHA
    assert {b.incident_id for b in alert.behind} == {f"inc-{10 + i}" for i in range(4)}
    assert alerting.evaluate(quiet + surge[:2], as_of=as_of) == []  # under the floor


def test_a_steady_area_does_not_alert():
    as_of = date(2025, 6, 30)
    steady = [_incident(i, as_of - timedelta(days=i * 2)) for i in range(32)]
    assert [a for a in alerting.evaluate(steady, as_of=as_of) if a.rule == alerting.RULE_POISSON] == []


def test_poisson_tail():
    assert alerting.poisson_tail(0, 3.0) == 1.0
    assert abs(alerting.poisson_tail(1, 2.0) - (1 - 2.718281828**-2)) < 1e-9


def test_watch_rules_from_yaml_and_webhook(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("- name: homs\n  area: Homs\n  min_dead: 5\n  window: 3\n", encoding="utf-8")
    as_of = date(2025, 6, 30)
    found = [_incident(1, as_of, dead=3), _incident(2, as_of - timedelta(days=1), dead=4)]
    [alert] = alerting.evaluate(found, as_of=as_of, rules=alerting.load_rules(rules))
    assert alert.rule.endswith(":homs") and alert.dead == 7
    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status = alerting.post([alert], f"http://127.0.0.1:{server.server_address[1]}/hook")
    finally:
        server.shutdown()
    assert status == 204 and received[0]["alerts"][0]["dead"] == 7


def test_bad_watch_rules_are_a_clear_error(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("- name: x\n  colour: red\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown keys"):
        alerting.load_rules(rules)


def test_tolls_ignore_injured_and_vague():
    r = _record("a.txt", published=D, claims=(("SOHR", 5, "incident"),))
    hurt = replace(r.claims[0], id="x", killed_or_injured="injured", count=40)
    vague = replace(r.claims[0], id="y", qualifier="vague", count=100)
    from vigil.reconcile import member

    m = replace(member(r), claims=(*r.claims, hurt, vague))
    civ = next(t for t in tolls([m]) if t.category == "civilians")
    assert civ.best == 5


def test_reconcile_runs_on_an_empty_store(tmp_path):
    with Store.open(sqlite_url(tmp_path / "e.sqlite")) as store:
        report = pipeline.reconcile(store)
    assert (report.incidents, report.created) == (0, 0)


# --- reviewers' decisions about merges ------------------------------------------------------------


def _decision(version: int, action: str, event_ids, event_id: str | None = None) -> Decision:
    return Decision(version=version, action=action, event_ids=tuple(event_ids), event_id=event_id)


def _groups(found: list[Incident]) -> set[frozenset[str]]:
    return {frozenset(i.event_ids) for i in found}


def _one_attack(n: int = 2) -> list[EventRecord]:
    """`n` reports of one attack: the scores put them in one incident."""
    return [
        _record(f"r{i}.txt", published=D + timedelta(days=i), day=(D, D), claims=(("SOHR", 12, "incident"),))
        for i in range(n)
    ]


def test_a_rejected_member_is_never_grouped_with_the_others():
    a, b, c = _one_attack(3)
    ids = [r.event.id for r in (a, b, c)]
    assert _groups(incidents([a, b, c])) == {frozenset(ids)}
    reject = _decision(1, "reject", ids, event_id=c.event.id)
    found = incidents([a, b, c], decisions=[reject])
    assert _groups(found) == {frozenset(ids[:2]), frozenset([ids[2]])}
    # the scored link between the parted pair is gone, the others' stays
    assert all(c.event.id not in (link.a, link.b) for i in found for link in i.links)


def test_a_confirmed_incident_holds_mentions_the_scores_keep_apart():
    a = _record("a.txt", published=D, claims=(("SOHR", 12, "incident"),))
    other_day = _record("b.txt", published=D + timedelta(days=2), claims=(("SOHR", 12, "incident"),))
    assert len(incidents([a, other_day])) == 2  # exact days differ: never compatible
    confirm = _decision(4, "confirm", [a.event.id, other_day.event.id])
    [inc] = incidents([a, other_day], decisions=[confirm])
    assert set(inc.event_ids) == {a.event.id, other_day.event.id}
    [link] = inc.links
    assert link.score == 1.0 and link.parts == (("review.confirm@4", 1.0),)


def test_the_latest_decision_on_a_pair_wins():
    a, b = _one_attack(2)
    ids = [a.event.id, b.event.id]
    confirm_then_reject = [_decision(1, "confirm", ids), _decision(2, "reject", ids, event_id=b.event.id)]
    reject_then_confirm = [_decision(1, "reject", ids, event_id=b.event.id), _decision(2, "confirm", ids)]
    assert len(incidents([a, b], decisions=confirm_then_reject)) == 2
    assert len(incidents([a, b], decisions=reject_then_confirm)) == 1
    # the order the decisions come in does not matter, only their versions
    assert len(incidents([a, b], decisions=confirm_then_reject[::-1])) == 2


def test_a_cannot_link_outranks_must_links_that_would_join_its_pair():
    a = _record("a.txt", published=D, claims=(("SOHR", 12, "incident"),))
    b = _record("b.txt", published=D + timedelta(days=5), admin1=("Homs",))
    c = _record("c.txt", published=D + timedelta(days=9), admin1=("Idleb",))
    decisions = [
        _decision(1, "confirm", [a.event.id, b.event.id]),
        _decision(2, "confirm", [b.event.id, c.event.id]),
        _decision(3, "reject", [a.event.id, c.event.id], event_id=c.event.id),
    ]
    found = incidents([a, b, c], decisions=decisions)
    assert not any({a.event.id, c.event.id} <= set(i.event_ids) for i in found)
    # the newer confirm is the one kept
    assert _groups(found) == {frozenset([b.event.id, c.event.id]), frozenset([a.event.id])}


def test_decisions_give_the_same_incidents_in_any_order():
    records = _twelve_reports()
    plain = incidents(records)
    big = max(plain, key=lambda i: len(i.event_ids))
    assert len(big.event_ids) >= 2
    decisions = [
        _decision(1, "reject", big.event_ids, event_id=big.event_ids[-1]),
        _decision(2, "confirm", [records[0].event.id, records[5].event.id]),
    ]
    first = incidents(records, decisions=decisions)
    assert first != plain
    for seed in range(3):
        shuffled, order = records[:], decisions[:]
        random.Random(seed).shuffle(shuffled)
        random.Random(seed).shuffle(order)
        assert incidents(shuffled, decisions=order) == first


def test_decisions_about_absent_mentions_change_nothing_and_nesting_still_works():
    wave = _record(
        "wave.txt",
        published=D + timedelta(days=2),
        admin1=("Lattakia", "Tartous"),
        day=(D - timedelta(days=6), D + timedelta(days=2)),
        scope="cumulative",
        claims=(("SOHR", 1383, "cumulative"),),
    )
    day = _record("day.txt", published=D, admin1=("Tartous",), claims=(("SOHR", 49, "incident"),))
    other = _record("other.txt", published=D, admin1=("Tartous",), claims=(("SNHR", 49, "incident"),))
    elsewhere = [_decision(1, "confirm", ["x-e0", "y-e0"]), _decision(2, "reject", ["x-e0", "z-e0"], "z-e0")]
    assert incidents([wave, day], decisions=elsewhere) == incidents([wave, day])
    assert {day.event.id, other.event.id} in _groups(incidents([wave, day, other]))
    reject = _decision(3, "reject", [day.event.id, other.event.id], event_id=other.event.id)
    built = incidents([wave, day, other], decisions=[reject])
    by_event = {e: i for i in built for e in i.event_ids}
    parent = by_event[wave.event.id]
    assert by_event[day.event.id] is not by_event[other.event.id]
    assert by_event[day.event.id].parent_id == parent.id and by_event[other.event.id].parent_id == parent.id
    assert next(t for t in parent.tolls if t.category == "civilians").best == 1383
