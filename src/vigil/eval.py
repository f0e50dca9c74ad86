"""Score vigil's extraction against human-coded answer keys.

Three kinds of key: vigil gold JSON (../shared/gold, one file per article, matched
as ../shared/gold/README.md says), ACLED CSV rows (the coder's `notes` are the text,
the coded columns the answer) and UCDP-AEC JSON Lines (an article and the GED coding
of the event it reports). Every score is a plain ratio with its numerator and
denominator, so a report says how many items a number rests on; the per-item details
(what matched, what was missed) go to the JSON report. `check_floors` turns the
scores into a regression gate against `data/eval_floors.yaml`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

import pycountry
import yaml

from vigil import pipeline
from vigil.extract import extract as extract_document
from vigil.extract.actors import lexicon
from vigil.geo import Gazetteer, name_key
from vigil.ingest import make_document
from vigil.model import Claim, EventMention, Extraction, Problem, to_dict

KINDS = ("gold", "acled", "ucdp")
DATE_SLACK_DAYS = 3  # README: dates within 3 days of each other (or inside the gold span)
LOCATION_KM = 10.0
EARTH_RADIUS_KM = 6371.0088

REPO = Path(__file__).resolve().parents[2]


class SharedMissing(FileNotFoundError):
    """The default answer keys in ../shared are not there."""


# --- scores ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Score:
    """One ratio; `higher_is_better` is False for rates of failure (a ceiling, not a floor, gates them)."""

    name: str
    value: float
    numerator: int
    denominator: int
    higher_is_better: bool = True


def ratio(name: str, numerator: int, denominator: int, *, higher_is_better: bool = True) -> Score:
    """A score; 0/0 is 0.0 (nothing to score earns nothing, so a floor above 0 catches it)."""
    value = numerator / denominator if denominator else 0.0
    return Score(
        name=name,
        value=round(value, 4),
        numerator=numerator,
        denominator=denominator,
        higher_is_better=higher_is_better,
    )


def f_scores(prefix: str, *, matched: int, system: int, key: int) -> tuple[Score, Score, Score]:
    """Precision, recall and F1 (as 2·matched / (system + key))."""
    return (
        ratio(f"{prefix}_precision", matched, system),
        ratio(f"{prefix}_recall", matched, key),
        ratio(f"{prefix}_f1", 2 * matched, system + key),
    )


@dataclass(frozen=True, kw_only=True)
class Check:
    """One field compared: the key's value, the system's value and whether they agree."""

    name: str
    key: str | int | float | bool | None
    system: str | int | float | bool | None
    ok: bool


def accuracies(checks: Iterable[Check], names: Sequence[tuple[str, str]]) -> list[Score]:
    """For each (check name, score name), the share of the checks of that name that agree."""
    checks = list(checks)
    out = []
    for check, score in names:
        mine = [c for c in checks if c.name == check]
        out.append(ratio(score, sum(c.ok for c in mine), len(mine)))
    return out


# --- the report --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EventSummary:
    """The fields of a system event that the scores read."""

    id: str
    event_type: str
    sub_event_type: str
    date_start: date | None
    date_end: date | None
    admin1: tuple[str, ...]
    location: str | None
    latitude: float | None
    longitude: float | None
    fatalities: int
    fatalities_low: int | None
    fatalities_high: int | None
    toll_scope: str

    @classmethod
    def of(cls, e: EventMention) -> EventSummary:
        return cls(
            id=e.id,
            event_type=e.event_type,
            sub_event_type=e.sub_event_type,
            date_start=e.date.start,
            date_end=e.date.end,
            admin1=e.admin1,
            location=e.location,
            latitude=e.place.latitude if e.place else None,
            longitude=e.place.longitude if e.place else None,
            fatalities=e.fatalities,
            fatalities_low=e.fatalities_low,
            fatalities_high=e.fatalities_high,
            toll_scope=e.toll_scope,
        )


@dataclass(frozen=True, kw_only=True)
class ClaimSummary:
    id: str
    claimant: str
    via: str | None
    count: int
    qualifier: str
    killed_or_injured: str
    category: str
    scope: str


@dataclass(frozen=True, kw_only=True)
class Pair:
    """A key record matched to a system record, with the field checks of the pair."""

    key_id: str
    system_id: str
    checks: tuple[Check, ...]


@dataclass(frozen=True, kw_only=True)
class GoldItem:
    """One article against its gold file: matched pairs, missed gold ids, spurious system records."""

    doc: str
    events_matched: tuple[Pair, ...]
    events_missed: tuple[str, ...]
    events_spurious: tuple[EventSummary, ...]
    claims_matched: tuple[Pair, ...]
    claims_missed: tuple[str, ...]
    claims_spurious: tuple[ClaimSummary, ...]
    n_system_events: int
    n_system_claims: int
    n_gold_events: int
    n_gold_claims: int


@dataclass(frozen=True, kw_only=True)
class AcledItem:
    """One ACLED row: the system event picked for it (None when none was extracted) and the checks."""

    id: str
    country: str
    n_events: int
    picked: EventSummary | None
    checks: tuple[Check, ...]


@dataclass(frozen=True, kw_only=True)
class UcdpItem:
    """One UCDP-AEC article: the extracted event matching the coded one (None when none does)."""

    id: str
    n_events: int
    matched: EventSummary | None
    checks: tuple[Check, ...]


@dataclass(frozen=True, kw_only=True)
class FloorCheck:
    """A score against its floor (for a failure rate: its ceiling)."""

    kind: str
    name: str
    value: float | None  # None: the floor names a score the report does not have
    bound: float
    higher_is_better: bool = True

    @property
    def ok(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.bound if self.higher_is_better else self.value <= self.bound


@dataclass(frozen=True, kw_only=True)
class EvalReport:
    kind: str
    source: str
    n_items: int
    scores: tuple[Score, ...]
    errors: tuple[Problem, ...]
    items: tuple[GoldItem | AcledItem | UcdpItem, ...] = ()
    floors: tuple[FloorCheck, ...] = ()  # filled when the run checks floors

    def score(self, name: str) -> Score | None:
        return next((s for s in self.scores if s.name == name), None)

    @property
    def below_floor(self) -> tuple[FloorCheck, ...]:
        return tuple(f for f in self.floors if not f.ok)


# --- shared helpers -----------------------------------------------------------------

Interval = tuple[date, date]


def interval(start: date | None, end: date | None) -> Interval | None:
    """A closed day range; a missing end is the start and the other way round; None when undated."""
    if start is None and end is None:
        return None
    lo, hi = start or end, end or start
    return (min(lo, hi), max(lo, hi))  # type: ignore[type-var]


def day_gap(a: Interval, b: Interval) -> int:
    """Days between two ranges: 0 when they overlap (so a date inside the other's span is 0)."""
    return max((a[0] - b[1]).days, (b[0] - a[1]).days, 0)


def dates_agree(a: Interval | None, b: Interval | None, *, slack: int = DATE_SLACK_DAYS) -> bool:
    """Within `slack` days of each other; undated on both sides agrees, undated on one side does not."""
    if a is None or b is None:
        return a is None and b is None
    return day_gap(a, b) <= slack


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def parse_acled_date(value: str) -> date:
    """ACLED's export dates: "9-May-20" (two-digit years are 2000-2068, as strptime reads them)."""
    return datetime.strptime(value.strip(), "%d-%b-%y").date()


@lru_cache(maxsize=4096)
def canonical_admin1(name: str, country_code: str | None = None) -> str:
    """A governorate in the gazetteer's canonical spelling, else its case-folded name key."""
    gaz = Gazetteer.default()
    name = name.strip()
    found = (gaz.canonical_admin1(name, country_code) if country_code else None) or gaz.canonical_admin1(name)
    return found or name_key(name) or name.casefold()


def admin1_set(names: Iterable[str], country_code: str | None) -> frozenset[str]:
    return frozenset(canonical_admin1(n, country_code) for n in names if n and n.strip())


@lru_cache(maxsize=64)
def country_code(name: str | None) -> str | None:
    """ISO alpha-2 of a country name ("Syria" -> "SY"), else None."""
    if not name:
        return None
    found = Gazetteer.default().resolve(name)
    return found.place.country_code if found and found.place.kind == "country" else None


@lru_cache(maxsize=4096)
def _place_key(name: str, cc: str | None) -> str:
    found = Gazetteer.default().resolve(name, countries=[cc] if cc else [])
    if found is None:
        return name_key(name)
    p = found.place
    return f"{p.country_code}:{p.kind}:{p.geonameid or name_key(p.name)}"


def same_location(key: str | None, system: str | None, *, country: str | None = None) -> bool:
    """Both absent, or the same place by name key or gazetteer entry. A key written "place, town"
    ("a church, Dweila") also accepts its town: the level ACLED's `location` is coded at."""
    if key is None or system is None:
        return key is None and system is None
    names = [key, *(part.strip() for part in key.split(",") if part.strip())] if "," in key else [key]
    return any(
        name_key(k) == name_key(system) or _place_key(k, country) == _place_key(system, country)
        for k in names
    )


_PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*$")
_LEADING_THE = re.compile(r"^the\s+", re.I)


@lru_cache(maxsize=4096)
def canonical_claimant(name: str | None) -> str | None:
    """A claimant or relay through vigil's actor lexicon ("Syrian Observatory for Human Rights" = "SOHR").
    A trailing parenthetical note ("Samir Haidar (Baniyas resident)") is dropped; "article" stays itself."""
    if name is None:
        return None
    bare = _LEADING_THE.sub("", _PARENTHESIS.sub("", name.strip())).strip()
    if bare.casefold() == "article":
        return "article"
    hits = lexicon().find(bare, doc_id="eval")
    if len(hits) == 1 and hits[0].text == bare and hits[0].actor is not None:
        return hits[0].actor.name
    return " ".join(bare.casefold().split())


A = TypeVar("A")
B = TypeVar("B")


def match_one_to_one(
    keys: Sequence[A], system: Sequence[B], score: Callable[[A, B], float | None]
) -> list[tuple[int, int]]:
    """Greedy one-to-one matching: the best-scoring pairs first; `score` None means "cannot match"."""
    pairs = [
        (s, i, j) for i, k in enumerate(keys) for j, x in enumerate(system) if (s := score(k, x)) is not None
    ]
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_k: set[int] = set()
    used_s: set[int] = set()
    out = []
    for _s, i, j in pairs:
        if i in used_k or j in used_s:
            continue
        used_k.add(i)
        used_s.add(j)
        out.append((i, j))
    return sorted(out)


def _extract_text(text: str, *, name: str, source: str, published: date | None) -> Extraction | Problem:
    doc = make_document(text, name=name, source=source, published=published, published_from="caller")
    try:
        return extract_document(doc)
    except Exception as exc:  # one crashing rule must not stop the evaluation
        return Problem(source=name, reason=f"extraction failed: {type(exc).__name__}: {exc}")


# --- gold ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class GoldEvent:
    id: str
    event_type: str
    sub_event_type: str
    dates: Interval | None
    time_precision: int | None
    country: str | None
    admin1: tuple[str, ...]
    location: str | None
    civilian_targeting: bool
    fatalities: int


@dataclass(frozen=True, kw_only=True)
class GoldClaim:
    id: str
    claimant: str
    via: str | None
    count: int
    qualifier: str
    killed_or_injured: str
    category: str
    scope: str


@dataclass(frozen=True, kw_only=True)
class GoldDoc:
    path: Path
    doc: str
    published: date | None
    events: tuple[GoldEvent, ...]
    claims: tuple[GoldClaim, ...]


def _iso(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def read_gold(path: Path) -> GoldDoc:
    """One gold file (../shared/gold/README.md shape)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    events = tuple(
        GoldEvent(
            id=e.get("id") or f"e{i}",
            event_type=e["event_type"],
            sub_event_type=e["sub_event_type"],
            dates=interval(_iso(e.get("date_start")), _iso(e.get("date_end"))),
            time_precision=e.get("time_precision"),
            country=e.get("country"),
            admin1=tuple(e.get("admin1") or ()),
            location=e.get("location"),
            civilian_targeting=bool(e.get("civilian_targeting")),
            fatalities=int(e.get("fatalities") or 0),
        )
        for i, e in enumerate(raw.get("events", []), 1)
    )
    claims = tuple(
        GoldClaim(
            id=c.get("id") or f"c{i}",
            claimant=c["claimant"],
            via=c.get("via"),
            count=int(c["count"]),
            qualifier=c["qualifier"],
            killed_or_injured=c["killed_or_injured"],
            category=c["category"],
            scope=c["scope"],
        )
        for i, c in enumerate(raw.get("claims", []), 1)
    )
    return GoldDoc(
        path=path, doc=raw["doc"], published=_iso(raw.get("published")), events=events, claims=claims
    )


EVENT_SCORES = (
    ("sub_event_type", "sub_event_type_accuracy"),
    ("fatalities", "fatalities_exact"),
    ("time_precision", "time_precision_accuracy"),
    ("civilian_targeting", "civilian_targeting_accuracy"),
    ("location", "location_accuracy"),
)
CLAIM_SCORES = (
    ("qualifier", "claim_qualifier_accuracy"),
    ("category", "claim_category_accuracy"),
    ("scope", "claim_scope_accuracy"),
    ("via", "claim_via_accuracy"),
    ("killed_or_injured", "claim_killed_or_injured_accuracy"),
)


def _event_pair_score(g: GoldEvent, e: EventMention) -> float | None:
    """None unless the README's rule holds (type, governorate overlap, dates); else how well they fit."""
    if g.event_type != e.event_type:
        return None
    cc = country_code(g.country)
    ga, sa = admin1_set(g.admin1, cc), admin1_set(e.admin1, cc)
    if not (ga & sa) and (ga or sa):
        return None
    sd = interval(e.date.start, e.date.end)
    if not dates_agree(g.dates, sd):
        return None
    overlap = len(ga & sa) / len(ga | sa) if ga | sa else 1.0
    closeness = 1.0 / (1 + day_gap(g.dates, sd)) if g.dates and sd else 1.0
    return (
        overlap
        + closeness
        + 0.5 * (g.sub_event_type == e.sub_event_type)
        + 0.5 * (g.fatalities == e.fatalities)
    )


def event_checks(g: GoldEvent, e: EventMention) -> tuple[Check, ...]:
    cc = country_code(g.country)
    return (
        Check(
            name="sub_event_type",
            key=g.sub_event_type,
            system=e.sub_event_type,
            ok=g.sub_event_type == e.sub_event_type,
        ),
        Check(name="fatalities", key=g.fatalities, system=e.fatalities, ok=g.fatalities == e.fatalities),
        Check(
            name="time_precision",
            key=g.time_precision,
            system=e.date.precision,
            ok=g.time_precision == e.date.precision,
        ),
        Check(
            name="civilian_targeting",
            key=g.civilian_targeting,
            system=e.civilian_targeting,
            ok=g.civilian_targeting == e.civilian_targeting,
        ),
        Check(
            name="location",
            key=g.location,
            system=e.location,
            ok=same_location(g.location, e.location, country=cc),
        ),
    )


def _claim_pair_score(g: GoldClaim, c: Claim) -> float | None:
    if g.count != c.count or canonical_claimant(g.claimant) != canonical_claimant(c.claimant):
        return None
    return sum(ch.ok for ch in claim_checks(g, c))


def claim_checks(g: GoldClaim, c: Claim) -> tuple[Check, ...]:
    return (
        Check(name="qualifier", key=g.qualifier, system=c.qualifier, ok=g.qualifier == c.qualifier),
        Check(name="category", key=g.category, system=c.category, ok=g.category == c.category),
        Check(name="scope", key=g.scope, system=c.scope, ok=g.scope == c.scope),
        Check(name="via", key=g.via, system=c.via, ok=canonical_claimant(g.via) == canonical_claimant(c.via)),
        Check(
            name="killed_or_injured",
            key=g.killed_or_injured,
            system=c.killed_or_injured,
            ok=g.killed_or_injured == c.killed_or_injured,
        ),
    )


def _claim_summary(c: Claim) -> ClaimSummary:
    return ClaimSummary(
        id=c.id,
        claimant=c.claimant,
        via=c.via,
        count=c.count,
        qualifier=c.qualifier,
        killed_or_injured=c.killed_or_injured,
        category=c.category,
        scope=c.scope,
    )


def score_gold_doc(gold: GoldDoc, x: Extraction | None) -> GoldItem:
    """One article's extraction against its gold file (None: nothing extracted, all gold missed)."""
    events = x.events if x else ()
    claims = tuple(c for c in (x.claims if x else ()) if c.qualifier != "vague")
    ev_pairs = match_one_to_one(gold.events, events, _event_pair_score)
    cl_pairs = match_one_to_one(gold.claims, claims, _claim_pair_score)
    ev_sys = {j for _, j in ev_pairs}
    cl_sys = {j for _, j in cl_pairs}
    ev_gold = {i for i, _ in ev_pairs}
    cl_gold = {i for i, _ in cl_pairs}
    return GoldItem(
        doc=gold.doc,
        events_matched=tuple(
            Pair(
                key_id=gold.events[i].id,
                system_id=events[j].id,
                checks=event_checks(gold.events[i], events[j]),
            )
            for i, j in ev_pairs
        ),
        events_missed=tuple(g.id for i, g in enumerate(gold.events) if i not in ev_gold),
        events_spurious=tuple(EventSummary.of(e) for j, e in enumerate(events) if j not in ev_sys),
        claims_matched=tuple(
            Pair(
                key_id=gold.claims[i].id,
                system_id=claims[j].id,
                checks=claim_checks(gold.claims[i], claims[j]),
            )
            for i, j in cl_pairs
        ),
        claims_missed=tuple(g.id for i, g in enumerate(gold.claims) if i not in cl_gold),
        claims_spurious=tuple(_claim_summary(c) for j, c in enumerate(claims) if j not in cl_sys),
        n_system_events=len(events),
        n_system_claims=len(claims),
        n_gold_events=len(gold.events),
        n_gold_claims=len(gold.claims),
    )


def gold_scores(items: Sequence[GoldItem]) -> tuple[Score, ...]:
    ev_checks = [c for it in items for p in it.events_matched for c in p.checks]
    cl_checks = [c for it in items for p in it.claims_matched for c in p.checks]
    return (
        *f_scores(
            "event",
            matched=sum(len(it.events_matched) for it in items),
            system=sum(it.n_system_events for it in items),
            key=sum(it.n_gold_events for it in items),
        ),
        *accuracies(ev_checks, EVENT_SCORES),
        *f_scores(
            "claim",
            matched=sum(len(it.claims_matched) for it in items),
            system=sum(it.n_system_claims for it in items),
            key=sum(it.n_gold_claims for it in items),
        ),
        *accuracies(cl_checks, CLAIM_SCORES),
    )


def _article_for(doc: str, dirs: Sequence[Path]) -> Path | None:
    return next((d / doc for d in dirs if (d / doc).is_file()), None)


def evaluate_gold(gold_dir: Path, *, articles: Path | None = None, limit: int | None = None) -> EvalReport:
    """Every `*.gold.json` in `gold_dir` against the extraction of its article, looked up by file
    name in `articles`, then ../corpus and ../seeds beside `gold_dir`."""
    dirs = [d for d in (articles, gold_dir.parent / "corpus", gold_dir.parent / "seeds") if d is not None]
    files = sorted(gold_dir.glob("*.gold.json"))[:limit]
    items: list[GoldItem] = []
    errors: list[Problem] = []
    extractions: list[Extraction] = []
    golds: list[GoldDoc] = []
    for path in files:
        try:
            gold = read_gold(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            errors.append(
                Problem(source=str(path), reason=f"unreadable gold file: {type(exc).__name__}: {exc}")
            )
            continue
        article = _article_for(gold.doc, dirs)
        x: Extraction | None = None
        if article is None:
            errors.append(
                Problem(source=gold.doc, reason="article not found in " + ", ".join(map(str, dirs)))
            )
        else:
            for got in pipeline.extract([article]):
                if isinstance(got, Problem):
                    errors.append(got)
                else:
                    x = got
                    extractions.append(got)
        items.append(score_gold_doc(gold, x))
        golds.append(gold)
    incidents_key = gold_dir / "incidents.json"
    clustering: tuple[Score, ...] = ()
    if incidents_key.is_file():
        clustering = clustering_scores(
            items, extractions, json.loads(incidents_key.read_text(encoding="utf-8")), golds=golds
        )
    return EvalReport(
        kind="gold",
        source=str(gold_dir),
        n_items=len(items),
        scores=gold_scores(items) + clustering,
        errors=tuple(errors),
        items=tuple(items),
    )


# --- incidents across articles ----------------------------------------------------------


def clustering_scores(
    items: Sequence[GoldItem], extractions: Sequence[Extraction], key: dict, *, golds: Sequence[GoldDoc] = ()
) -> tuple[Score, ...]:
    """Incident clustering against incidents.json: B-cubed and pairwise F1 over the gold events (a gold
    event the extractor missed is its own system cluster), how many parent links come out right, and
    the tolls. A gold incident's key toll comes from its coders' per-article fatalities: low and high
    are their least and greatest; the system's is its incident's civilian toll for violence against
    civilians, else its total."""
    from vigil.model import EventRecord
    from vigil.reconcile import incidents as reconcile

    records = []
    for x in extractions:
        claims = {c.id: c for c in x.claims}
        for e in x.events:
            records.append(
                EventRecord(
                    event=e, claims=tuple(claims[i] for i in e.claim_ids if i in claims), document=x.document
                )
            )
    built = reconcile(records)
    incident_of = {eid: inc.id for inc in built for eid in inc.event_ids}
    parent_of = {inc.id: inc.parent_id for inc in built}
    labels: list[tuple[str, str]] = []  # (gold incident key, system incident id)
    system_of_gold: dict[tuple[str, str], str] = {}
    for it in items:
        keys = key.get("events", {}).get(it.doc, {})
        matched = {p.key_id: p.system_id for p in it.events_matched}
        for gold_id, incident_key in keys.items():
            system = incident_of.get(matched.get(gold_id, ""), f"unmatched:{it.doc}:{gold_id}")
            labels.append((incident_key, system))
            system_of_gold[(it.doc, gold_id)] = system
    precision, recall = _bcubed(labels)
    pair_p, pair_r = _pairwise(labels)
    parents = key.get("parents", {})
    by_key: dict[str, set[str]] = {}
    for incident_key, system in labels:
        by_key.setdefault(incident_key, set()).add(system)
    right = total = 0
    for child, parent in parents.items():
        for system_child in by_key.get(child, set()):
            if system_child.startswith("unmatched:"):
                continue
            total += 1
            right += parent_of.get(system_child) in by_key.get(parent, set())
    n = len(labels)
    toll_scores = _toll_scores(key, golds, system_of_gold, {inc.id: inc for inc in built})
    return (
        *toll_scores,
        _fraction("bcubed_precision", precision, n),
        _fraction("bcubed_recall", recall, n),
        _fraction("bcubed_f1", _f1(precision, recall), n),
        _fraction("pairwise_f1", _f1(pair_p, pair_r), n),
        ratio("parent_links_correct", right, total),
    )


def _toll_scores(key: dict, golds: Sequence[GoldDoc], system_of_gold: dict, built: dict) -> tuple[Score, ...]:
    figures: dict[str, list[int]] = {}
    systems: dict[str, set[str]] = {}
    for gold in golds:
        keys = key.get("events", {}).get(gold.doc, {})
        for g in gold.events:
            incident_key = keys.get(g.id)
            if incident_key is None:
                continue
            if g.fatalities > 0:
                figures.setdefault(incident_key, []).append(g.fatalities)
            system = system_of_gold.get((gold.doc, g.id), "")
            if system in built:
                systems.setdefault(incident_key, set()).add(system)
    within = low_ok = high_ok = total = 0
    for incident_key, counts in sorted(figures.items()):
        if len(systems.get(incident_key, ())) != 1:
            continue  # split or unmatched: the clustering scores count that
        inc = built[next(iter(systems[incident_key]))]
        toll = next((t for t in inc.tolls if t.category == "civilians"), None)
        if inc.event_type != "Violence against civilians" or toll is None:
            toll = next((t for t in inc.tolls if t.category == "total"), None)
        total += 1
        if toll is None or toll.best is None:
            continue
        within += min(counts) <= toll.best <= max(counts)
        low_ok += toll.low == min(counts)
        high_ok += toll.high == max(counts)
    return (
        ratio("toll_best_within_key_range", within, total),
        ratio("toll_low_exact", low_ok, total),
        ratio("toll_high_exact", high_ok, total),
    )


def _fraction(name: str, value: float, n: int) -> Score:
    return Score(name=name, value=round(value, 4), numerator=round(value * n), denominator=n)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _bcubed(labels: Sequence[tuple[str, str]]) -> tuple[float, float]:
    """B-cubed precision and recall (Bagga and Baldwin) of system labels against key labels."""
    if not labels:
        return 0.0, 0.0
    p = r = 0.0
    for k, s in labels:
        same_s = [x for x in labels if x[1] == s]
        same_k = [x for x in labels if x[0] == k]
        p += sum(1 for x in same_s if x[0] == k) / len(same_s)
        r += sum(1 for x in same_k if x[1] == s) / len(same_k)
    return p / len(labels), r / len(labels)


def _pairwise(labels: Sequence[tuple[str, str]]) -> tuple[float, float]:
    both = key_pairs = system_pairs = 0
    for i, (ka, sa) in enumerate(labels):
        for kb, sb in labels[i + 1 :]:
            key_pairs += ka == kb
            system_pairs += sa == sb
            both += ka == kb and sa == sb
    return (both / system_pairs if system_pairs else 1.0), (both / key_pairs if key_pairs else 1.0)


# --- ACLED ---------------------------------------------------------------------------

ACLED_SCORES = (
    ("event_type", "event_type_accuracy"),
    ("sub_event_type", "sub_event_type_accuracy"),
    ("fatalities", "fatalities_exact"),
    ("admin1", "admin1_accuracy"),
    ("location_10km", "location_within_10km"),
)


@dataclass(frozen=True, kw_only=True)
class AcledRow:
    id: str
    text: str
    published: date
    country: str
    country_code: str | None
    event_type: str
    sub_event_type: str
    admin1: str
    location: str
    latitude: float | None
    longitude: float | None
    fatalities: int


def read_acled(path: Path) -> Iterator[AcledRow]:
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            found = pycountry.countries.get(alpha_3=row.get("iso3") or "")
            yield AcledRow(
                id=row.get("event_id_cnty") or row.get("data_id") or "",
                text=row["notes"],
                published=parse_acled_date(row["event_date"]),
                country=row.get("country", ""),
                country_code=found.alpha_2 if found else country_code(row.get("country")),
                event_type=row["event_type"],
                sub_event_type=row["sub_event_type"],
                admin1=row.get("admin1", ""),
                location=row.get("location", ""),
                latitude=float(row["latitude"]) if row.get("latitude") else None,
                longitude=float(row["longitude"]) if row.get("longitude") else None,
                fatalities=int(row.get("fatalities") or 0),
            )


def pick_for_acled(events: Sequence[EventMention], event_type: str) -> EventMention | None:
    """The system event scored against a row: among those of the row's event type if any (else all),
    the one with most fatalities, the first on ties."""
    pool = [e for e in events if e.event_type == event_type] or list(events)
    return max(pool, key=lambda e: e.fatalities, default=None)  # max keeps the first of equals


def score_acled_row(row: AcledRow, events: Sequence[EventMention]) -> AcledItem:
    e = pick_for_acled(events, row.event_type)
    if e is None:
        checks = (
            Check(name="event_type", key=row.event_type, system=None, ok=False),
            Check(name="sub_event_type", key=row.sub_event_type, system=None, ok=False),
            Check(name="fatalities", key=row.fatalities, system=None, ok=False),
            Check(name="admin1", key=row.admin1, system=None, ok=False),
            Check(name="location_10km", key=row.location, system=None, ok=False),
        )
        return AcledItem(id=row.id, country=row.country, n_events=0, picked=None, checks=checks)
    cc = row.country_code
    km = None
    p = e.place
    if (
        p
        and p.latitude is not None
        and p.longitude is not None
        and row.latitude is not None
        and row.longitude is not None
    ):
        km = round(haversine_km(row.latitude, row.longitude, p.latitude, p.longitude), 2)
    checks = (
        Check(name="event_type", key=row.event_type, system=e.event_type, ok=row.event_type == e.event_type),
        Check(
            name="sub_event_type",
            key=row.sub_event_type,
            system=e.sub_event_type,
            ok=row.sub_event_type == e.sub_event_type,
        ),
        Check(name="fatalities", key=row.fatalities, system=e.fatalities, ok=row.fatalities == e.fatalities),
        Check(
            name="admin1",
            key=row.admin1,
            system=", ".join(e.admin1) or None,
            ok=bool(row.admin1) and canonical_admin1(row.admin1, cc) in admin1_set(e.admin1, cc),
        ),
        Check(
            name="location_10km",
            key=row.location,
            system=None if km is None else f"{e.location or ', '.join(e.admin1)}: {km} km away",
            ok=km is not None and km <= LOCATION_KM,
        ),
    )
    return AcledItem(
        id=row.id, country=row.country, n_events=len(events), picked=EventSummary.of(e), checks=checks
    )


def evaluate_acled(path: Path, *, limit: int | None = None) -> EvalReport:
    """Each row's notes extracted (published = its event_date) and scored against its coded columns.
    Every ratio is over all rows: a row with no extracted event fails each field."""
    return _evaluate_rows("acled", path, read_acled(path), score_acled_row, ACLED_SCORES, limit=limit)


def _evaluate_rows(kind, path: Path, rows, score_row, names, *, limit: int | None) -> EvalReport:
    """Extract each row's text (published = the row's date) and score it; ratios are over all rows."""
    items = []
    errors: list[Problem] = []
    for n, row in enumerate(rows):
        if limit is not None and n >= limit:
            break
        got = _extract_text(row.text, name=f"{kind}-{row.id}", source=str(path), published=row.published)
        if isinstance(got, Problem):
            errors.append(got)
        items.append(score_row(row, got.events if isinstance(got, Extraction) else ()))
    checks = [c for it in items for c in it.checks]
    scores = (
        *accuracies(checks, names),
        ratio("no_event_rate", sum(it.n_events == 0 for it in items), len(items), higher_is_better=False),
    )
    return EvalReport(
        kind=kind,
        source=str(path),
        n_items=len(items),
        scores=scores,
        errors=tuple(errors),
        items=tuple(items),
    )


# --- UCDP-AEC ------------------------------------------------------------------------

UCDP_SCORES = (
    ("event_match", "event_match_rate"),
    ("best_deaths_exact", "best_deaths_exact"),
    ("best_in_range", "best_within_extracted_range"),
)
_GOVERNORATE = re.compile(r"\s+governorate$", re.I)


@dataclass(frozen=True, kw_only=True)
class UcdpRow:
    id: str
    text: str
    published: date | None
    admin1: str | None
    dates: Interval | None
    best: int
    low: int | None
    high: int | None


def read_ucdp(path: Path) -> Iterator[UcdpRow]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            best = sum(
                int(r.get(k) or 0)
                for k in ("deaths_side_a", "deaths_side_b", "deaths_civilian", "deaths_unknown")
            )
            adm1 = _GOVERNORATE.sub("", (r.get("location_adm1_name") or "").strip())
            yield UcdpRow(
                id=str(r.get("id", "")),
                text=r["source_article"],
                published=_iso((r.get("source_date") or "")[:10] or None),
                admin1=adm1 or None,
                dates=interval(_iso(r.get("start_date")), _iso(r.get("end_date"))),
                best=best,
                low=r.get("deaths_low"),
                high=r.get("deaths_high"),
            )


def match_ucdp(row: UcdpRow, events: Sequence[EventMention]) -> EventMention | None:
    """The extracted event reporting the coded one: its governorates include the coded one (any, when the
    key names none) and its dates lie within 3 days of the coded span. Of several, the closest in time,
    then one incident's toll before a running total, then the shortest span, then the first."""
    want = canonical_admin1(row.admin1, "SY") if row.admin1 else None

    def rank(e: EventMention) -> tuple[int, int, int] | None:
        span = interval(e.date.start, e.date.end)
        if row.dates is None or span is None or not dates_agree(row.dates, span):
            return None
        if want is not None and want not in admin1_set(e.admin1, "SY"):
            return None
        return (day_gap(row.dates, span), e.toll_scope != "incident", (span[1] - span[0]).days)

    ranked = [(r, i) for i, e in enumerate(events) if (r := rank(e)) is not None]
    return events[min(ranked)[1]] if ranked else None


def score_ucdp_row(row: UcdpRow, events: Sequence[EventMention]) -> UcdpItem:
    e = match_ucdp(row, events)
    low = e.fatalities_low if e and e.fatalities_low is not None else (e.fatalities if e else None)
    high = e.fatalities_high if e and e.fatalities_high is not None else low
    checks = (
        Check(name="event_match", key=row.admin1, system=e.id if e else None, ok=e is not None),
        Check(
            name="best_deaths_exact",
            key=row.best,
            system=e.fatalities if e else None,
            ok=e is not None and e.fatalities == row.best,
        ),
        Check(
            name="best_in_range",
            key=row.best,
            system=f"{low}..{high}" if e else None,
            ok=low is not None and high is not None and low <= row.best <= high,
        ),
    )
    return UcdpItem(id=row.id, n_events=len(events), matched=EventSummary.of(e) if e else None, checks=checks)


def evaluate_ucdp(path: Path, *, limit: int | None = None) -> EvalReport:
    """Each article extracted (published = source_date) and checked for the coded event; ratios are
    over all articles."""
    return _evaluate_rows("ucdp", path, read_ucdp(path), score_ucdp_row, UCDP_SCORES, limit=limit)


# --- entry points ----------------------------------------------------------------------


def evaluate(kind: str, path: Path, *, limit: int | None = None, articles: Path | None = None) -> EvalReport:
    """Score the extractor on one answer key: "gold" (a directory), "acled" (CSV) or "ucdp" (JSON Lines)."""
    path = Path(path)
    if kind == "gold":
        return evaluate_gold(path, articles=articles, limit=limit)
    if kind == "acled":
        return evaluate_acled(path, limit=limit)
    if kind == "ucdp":
        return evaluate_ucdp(path, limit=limit)
    raise ValueError(f"unknown answer-key kind {kind!r} (one of {', '.join(KINDS)})")


def shared_dir() -> Path:
    """../shared beside the repository (or $VIGIL_SHARED)."""
    return Path(os.environ.get("VIGIL_SHARED", REPO.parent / "shared"))


def default_keys(shared: Path | None = None) -> tuple[tuple[str, Path], ...]:
    """The three development keys in ../shared; SharedMissing when it is not there."""
    shared = shared or shared_dir()
    keys = (
        ("gold", shared / "gold"),
        ("acled", shared / "data" / "acled_me_dev.csv"),
        ("ucdp", shared / "data" / "ucdp_aec_syria_dev.jsonl"),
    )
    missing = [str(p) for _, p in keys if not p.exists()]
    if missing:
        raise SharedMissing(f"the default answer keys are absent: {', '.join(missing)} (is ../shared there?)")
    return keys


# --- floors --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Floor:
    kind: str
    name: str
    bound: float


def floors_path() -> Path:
    return Path(str(resources.files("vigil").joinpath("data", "eval_floors.yaml")))


def load_floors(path: Path | None = None) -> tuple[Floor, ...]:
    """The gate's bounds: `{kind: {score: bound}}`."""
    raw = yaml.safe_load((path or floors_path()).read_text(encoding="utf-8")) or {}
    return tuple(
        Floor(kind=str(kind), name=str(name), bound=float(bound))
        for kind, scores in raw.items()
        for name, bound in (scores or {}).items()
    )


def check_floors(report: EvalReport, floors: Sequence[Floor]) -> tuple[FloorCheck, ...]:
    """The report's scores against the floors of its kind. A floor naming a score the report lacks
    fails, so renaming a score cannot drop it from the gate."""
    out = []
    for f in floors:
        if f.kind != report.kind:
            continue
        s = report.score(f.name)
        out.append(
            FloorCheck(
                kind=f.kind,
                name=f.name,
                value=s.value if s else None,
                bound=f.bound,
                higher_is_better=s.higher_is_better if s else True,
            )
        )
    return tuple(out)


def run(
    keys: Sequence[tuple[str, Path]],
    *,
    out: Path | None,
    limit: int | None = None,
    articles: Path | None = None,
    floors: Path | bool | None = None,
) -> list[EvalReport]:
    """Evaluate each (kind, path) key (none: the three default keys, SharedMissing when absent), check
    the floors when `floors` is True (the packaged file) or a path, and write the JSON report to `out`."""
    keys = list(keys) or list(default_keys())
    bounds = load_floors(None if floors is True else floors) if floors else ()
    reports = []
    for kind, path in keys:
        report = evaluate(kind, path, limit=limit, articles=articles)
        if bounds:
            report = replace(report, floors=check_floors(report, bounds))
        reports.append(report)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps({"reports": [to_dict(r) for r in reports]}, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
    return reports
