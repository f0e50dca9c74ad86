"""Reconcile event mentions across documents into incidents, with tolls that never double-count.

Three steps, each a pure function of the event mentions (so any ingest order gives
the same incidents):

1. **Cluster**: two mentions from different documents are linked when they are
   compatible (same country, same event type, overlapping governorates and dates,
   both summaries or both single incidents) and score above `LINK_THRESHOLD` on
   places, dates, victims, actors, shared figures and wording. Linked components
   are grouped greedily, best link first, never putting two mentions of one
   document together. A reviewer's decisions about merges (`Decision`) come first: a
   rejected member is never grouped with the others again (cannot-link), and a confirmed
   incident's mentions are linked before any score and kept together even where
   `compatible` would part them (must-link), unless a cannot-link forbids it. The latest
   decision on a pair of mentions wins.
2. **Nest**: an incident of one day or a few inside the span and area of a summary
   incident ("the coastal massacres, 6-14 March") becomes its child; its dead are
   never added to the parent.
3. **Count**: per category, each claimant's figures form a running total that
   never goes down (a lower figure published later is an older one relayed late);
   low / best / high follow DESIGN.md section 4.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from vigil.model import (
    Claim,
    ClaimantLine,
    DateInterval,
    EventRecord,
    Incident,
    PairScore,
    Toll,
    TollPoint,
)

RULE_LINK = "reconcile.link@1"
RULE_PARENT = "reconcile.parent@1"
RULE_TOLL = "reconcile.toll@1"
MERGE_ACTIONS = ("confirm", "reject")
LINK_THRESHOLD = 0.5
SYNDICATION_THRESHOLD = 0.6
DATE_SLACK = timedelta(days=3)
SUMMARY_SLACK = timedelta(days=14)  # running totals of one wave are published over weeks
SHORT_SPAN_DAYS = 3
CATEGORIES = ("civilians", "security_forces", "fighters", "unknown")
_FAMILY = {
    "Violence against civilians": "violence",
    "Battles": "violence",
    "Explosions/Remote violence": "violence",
    "Protests": "unrest",
    "Riots": "unrest",
    "Strategic developments": "other",
}
_SIDES = {
    "state_forces": "state",
    "militia": "state",
    "rebel_group": "armed_opposition",
    "identity_militia": "armed_opposition",
}
_DEFAULT_ACTORS = {None, "Unidentified armed group", "Civilians", "Protesters", "Rioters"}
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "at",
        "to",
        "and",
        "or",
        "for",
        "by",
        "with",
        "from",
        "that",
        "this",
        "was",
        "were",
        "is",
        "are",
        "has",
        "have",
        "had",
        "been",
        "be",
        "as",
        "it",
        "its",
        "said",
        "says",
        "say",
        "after",
        "before",
        "their",
        "they",
        "them",
        "his",
        "her",
        "he",
        "she",
        "who",
        "which",
        "also",
        "more",
        "than",
        "least",
    ]
)


@dataclass(frozen=True, kw_only=True)
class Member:
    """What reconciling needs to know of one event mention."""

    event_id: str
    doc_id: str
    published: date | None
    event_type: str
    sub_event_type: str
    country: str | None
    admin1: frozenset[str]
    location: str | None
    start: date | None
    end: date | None
    precision: int | None
    guessed_dates: bool  # no date in the text: the week before publication
    summary: bool  # a running total or a span longer than a few days
    victim_group: str | None
    actor1: str | None
    side: str | None  # which side of a conflict actor1 is on, from its type
    claims: tuple[Claim, ...]
    words: frozenset[str]
    anchor: tuple  # sort key: earliest publication first, then ids

    @property
    def family(self) -> str:
        return _FAMILY.get(self.event_type, "other")


def member(record: EventRecord) -> Member:
    e, doc = record.event, record.document
    guessed = any(ev.field == "date" and ev.rule.startswith("events.publication_week") for ev in e.evidence)
    span = (e.date.end - e.date.start).days if e.date.start and e.date.end and not guessed else None
    summary = (
        e.toll_scope == "cumulative"
        or (span is not None and span > SHORT_SPAN_DAYS)
        or (e.date.start is None and (e.date.precision or 0) >= 3)
    )
    sentence = doc.text[e.sentence.start : e.sentence.end].lower()
    return Member(
        event_id=e.id,
        doc_id=e.doc_id,
        published=doc.published,
        event_type=e.event_type,
        sub_event_type=e.sub_event_type,
        country=e.country,
        admin1=frozenset(e.admin1),
        location=e.location,
        start=e.date.start,
        end=e.date.end or e.date.start,
        precision=e.date.precision,
        guessed_dates=guessed,
        summary=summary,
        victim_group=e.victim_group,
        actor1=e.actor1,
        side=_SIDES.get(e.actor1_type or "") if e.actor1 not in _DEFAULT_ACTORS else None,
        claims=record.claims,
        words=frozenset(w for w in _WORD.findall(sentence) if w not in _STOP and len(w) > 2),
        anchor=(doc.published or date.max, e.doc_id, e.id),
    )


# --- 1. links --------------------------------------------------------------------------------


def same_doc_allowed(a: Member, b: Member) -> bool:
    """One article may give several running totals of one wave; never two of its own single incidents."""
    return (
        a.summary
        and b.summary
        and (a.actor1 in _DEFAULT_ACTORS or b.actor1 in _DEFAULT_ACTORS or a.actor1 == b.actor1)
    )


def compatible(a: Member, b: Member) -> bool:
    """Hard constraints: what can never be one incident."""
    if a.doc_id == b.doc_id and not same_doc_allowed(a, b):
        return False
    if a.event_type != b.event_type or a.summary != b.summary:
        return False
    if a.family == "other" and a.sub_event_type != b.sub_event_type:
        return False
    if a.country and b.country and a.country != b.country:
        return False
    if a.admin1 and b.admin1 and not (a.admin1 & b.admin1) and not a.summary:
        return False  # (running totals often name only part of their area: scored, not forbidden)
    if a.start and b.start:
        slack = SUMMARY_SLACK if a.summary else DATE_SLACK
        if a.start - slack > b.end or b.start - slack > a.end:
            return False
        exact_days = not (a.guessed_dates or b.guessed_dates) and a.precision == b.precision == 1
        if not a.summary and exact_days and a.start != b.start:
            return False  # ACLED: one event is one day
    elif not (a.summary and b.summary):
        return False  # an undated single incident cannot be placed in time next to another
    if a.victim_group and b.victim_group and a.victim_group != b.victim_group:
        return False
    # The same victims killed by opposite sides are two incidents.
    return not (
        a.family == "violence" and a.event_type != "Battles" and a.side and b.side and a.side != b.side
    )


def score(a: Member, b: Member) -> PairScore:
    """How alike two compatible mentions are; the parts explain the score."""
    parts: list[tuple[str, float]] = []
    if a.admin1 and b.admin1:
        overlap = len(a.admin1 & b.admin1) / len(a.admin1 | b.admin1)
        parts.append(("governorates", round(0.3 * overlap, 3) if overlap else -0.2))
    if a.location and b.location:
        parts.append(("location", 0.25 if a.location == b.location else -0.1))
    if a.start and b.start:
        parts.append(("dates", 0.2 if a.start == b.start else 0.1))
    if a.sub_event_type == b.sub_event_type:
        parts.append(("sub_event_type", 0.1))
    if a.victim_group and a.victim_group == b.victim_group:
        parts.append(("victim_group", 0.15))
    if a.actor1 not in _DEFAULT_ACTORS and a.actor1 == b.actor1:
        parts.append(("actor1", 0.1))
    counts_a = {c.count for c in a.claims if c.killed_or_injured == "killed"}
    counts_b = {c.count for c in b.claims if c.killed_or_injured == "killed"}
    if counts_a & counts_b:
        parts.append(("shared_figure", 0.2))
    claimants = {c.claimant for c in a.claims} & {c.claimant for c in b.claims} - {"article"}
    if claimants:
        # Running totals from one claimant over the same days and region are its count of one wave.
        parts.append(("shared_claimant", 0.3 if a.summary and b.summary else 0.1))
    if a.words and b.words:
        sim = len(a.words & b.words) / len(a.words | b.words)
        parts.append(("wording", round(0.3 * sim, 3)))
    if a.summary and b.summary:
        parts.append(("both_summaries", 0.15))
    first, second = sorted((a.event_id, b.event_id))
    return PairScore(a=first, b=second, score=round(sum(v for _, v in parts), 3), parts=tuple(parts))


def _blocks(members: Sequence[Member]) -> dict[tuple, list[Member]]:
    blocks: dict[tuple, list[Member]] = defaultdict(list)
    for m in members:
        blocks[(m.country, m.event_type, m.summary)].append(m)
    return blocks


# --- reviewers' decisions -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Decision:
    """A reviewer's decision about a merge, made on incident `incident_id` whose members were
    `event_ids`: `confirm` (they belong together: must-link for every pair) or `reject` (`event_id`
    is not the incident the others are: cannot-link with each of them). `version` orders decisions:
    the latest decision on a pair of mentions wins."""

    version: int
    action: str
    event_ids: tuple[str, ...]
    event_id: str | None = None
    incident_id: str = ""
    reason: str = ""
    reviewer: str = ""
    created_at: datetime | None = None

    @property
    def rule(self) -> str:
        """The part a must-link names: "review.confirm@3"."""
        return f"review.{self.action}@{self.version}"

    def pairs(self) -> list[tuple[str, str]]:
        """The pairs of mentions the decision is about, each as (smaller id, larger id)."""
        ids = sorted(set(self.event_ids))
        if self.action == "confirm":
            return [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
        if self.action == "reject" and self.event_id:
            e = self.event_id
            return [(min(e, x), max(e, x)) for x in ids if x != e]
        return []


@dataclass(frozen=True, kw_only=True)
class Constraints:
    """Each reviewed pair of mentions with the latest decision on it, split by what it says."""

    must: dict[tuple[str, str], Decision] = field(default_factory=dict)
    cannot: dict[tuple[str, str], Decision] = field(default_factory=dict)


def constraints(decisions: Iterable[Decision]) -> Constraints:
    """The latest decision on each pair (by version; at equal versions a reject outranks a confirm)."""
    latest: dict[tuple[str, str], Decision] = {}
    for d in sorted(decisions, key=lambda d: (d.version, d.action, d.event_id or "", d.event_ids)):
        for pair in d.pairs():
            latest[pair] = d
    return Constraints(
        must={p: d for p, d in latest.items() if d.action == "confirm"},
        cannot={p: d for p, d in latest.items() if d.action == "reject"},
    )


def reviewed_links(
    members: Sequence[Member], scored: Sequence[PairScore], rules: Constraints
) -> list[PairScore]:
    """The links to cluster over: reviewers' must-links first (newest decision first, score 1, the
    part naming the review), then the scored links that no decision is about."""
    present = {m.event_id for m in members}
    forced = [
        PairScore(a=a, b=b, score=1.0, parts=((d.rule, 1.0),))
        for (a, b), d in sorted(rules.must.items(), key=lambda kv: (-kv[1].version, kv[0]))
        if a in present and b in present
    ]
    decided = rules.must.keys() | rules.cannot.keys()
    return forced + [s for s in scored if (s.a, s.b) not in decided]


def links(members: Sequence[Member]) -> list[PairScore]:
    """Every pair above the threshold, best first (ties broken by ids, so the order is fixed)."""
    out = []
    for block in _blocks(members).values():
        block = sorted(block, key=lambda m: m.event_id)
        for i, a in enumerate(block):
            for b in block[i + 1 :]:
                if compatible(a, b):
                    s = score(a, b)
                    if s.score >= LINK_THRESHOLD:
                        out.append(s)
    out.sort(key=lambda s: (-s.score, s.a, s.b))
    return out


def cluster(
    members: Sequence[Member],
    found: Sequence[PairScore],
    *,
    cannot: Collection[tuple[str, str]] = (),
    must: Collection[tuple[str, str]] = (),
) -> list[list[Member]]:
    """Greedy grouping over the links `found` (in their order: best first); a group's members are
    all compatible, except where a link is a `must` pair (a reviewer's), and never hold a `cannot`
    pair. Pairs are (smaller id, larger id)."""
    group = {m.event_id: m.event_id for m in members}
    items: dict[str, list[Member]] = {m.event_id: [m] for m in members}
    apart: dict[str, set[str]] = defaultdict(set)
    for a, b in cannot:
        apart[a].add(b)
        apart[b].add(a)
    forced = set(must)
    for link in found:
        if link.a not in group or link.b not in group:
            continue
        ga, gb = group[link.a], group[link.b]
        if ga == gb:
            continue
        if apart:
            other = {m.event_id for m in items[gb]}
            if any(not apart[x.event_id].isdisjoint(other) for x in items[ga] if x.event_id in apart):
                continue
        if (link.a, link.b) not in forced and not all(compatible(x, y) for x in items[ga] for y in items[gb]):
            continue
        for m in items[gb]:
            group[m.event_id] = ga
        items[ga] += items.pop(gb)
    return sorted((sorted(g, key=lambda m: m.anchor) for g in items.values()), key=lambda g: g[0].anchor)


# --- 2. incidents and nesting -------------------------------------------------------------------


def incidents(
    records: Iterable[EventRecord],
    *,
    texts: dict[str, str] | None = None,
    decisions: Iterable[Decision] = (),
) -> list[Incident]:
    """All incidents of a set of event mentions: clustered (honouring reviewers' `decisions`),
    nested, counted."""
    records = list(records)
    members = [member(r) for r in records]
    rules = constraints(decisions)
    all_links = reviewed_links(members, links(members), rules)
    groups = cluster(members, all_links, cannot=rules.cannot.keys(), must=rules.must.keys())
    sources = syndication(texts or {r.document.id: r.document.text for r in records})
    built = [_incident(g, all_links, sources) for g in groups]
    return nest(built, {m.event_id: m for m in members})


def incident_id(group: Sequence[Member]) -> str:
    return "inc-" + hashlib.sha256(group[0].event_id.encode()).hexdigest()[:12]


def _incident(group: list[Member], all_links: list[PairScore], sources: dict[str, str]) -> Incident:
    ids = {m.event_id for m in group}
    types = Counter(m.event_type for m in group)
    subs = Counter(m.sub_event_type for m in group)
    countries = Counter(m.country for m in group if m.country)
    admin1 = Counter(a for m in group for a in sorted(m.admin1))
    starts = [m.start for m in group if m.start]
    ends = [m.end for m in group if m.end]
    precisions = [m.precision for m in group if m.precision]
    doc_ids = tuple(dict.fromkeys(m.doc_id for m in group))
    groups: dict[str, list[str]] = defaultdict(list)
    for d in doc_ids:
        groups[sources.get(d, d)].append(d)
    return Incident(
        id=incident_id(group),
        event_ids=tuple(m.event_id for m in group),
        event_type=types.most_common(1)[0][0],
        sub_event_type=subs.most_common(1)[0][0],
        country=countries.most_common(1)[0][0] if countries else None,
        date=DateInterval(
            start=min(starts) if starts else None,
            end=max(ends) if ends else None,
            precision=min(precisions) if precisions else None,
        ),
        admin1=tuple(a for a, _ in sorted(admin1.items(), key=lambda kv: (-kv[1], kv[0]))),
        doc_ids=doc_ids,
        sources=tuple(tuple(v) for v in groups.values()),
        tolls=tolls(group, sources),
        links=tuple(link for link in all_links if link.a in ids and link.b in ids),
    )


def nest(built: list[Incident], members: dict[str, Member]) -> list[Incident]:
    """Give each short incident the summary incident it lies in, if any (the best-fitting one)."""
    summaries = [i for i in built if members[i.event_ids[0]].summary]
    parent_of: dict[str, tuple[str, float]] = {}
    for child in built:
        if members[child.event_ids[0]].summary:
            continue
        best: tuple[float, str] | None = None
        for parent in summaries:
            fit = _fit(parent, child)
            if fit is not None and (best is None or (fit, parent.id) > best):
                best = (fit, parent.id)
        if best is not None:
            parent_of[child.id] = (best[1], best[0])
    children: dict[str, list[str]] = defaultdict(list)
    for child_id, (parent_id, _) in parent_of.items():
        children[parent_id].append(child_id)
    return [
        replace(
            i,
            parent_id=parent_of[i.id][0] if i.id in parent_of else None,
            parent_score=parent_of[i.id][1] if i.id in parent_of else None,
            children=tuple(sorted(children.get(i.id, ()))),
        )
        for i in built
    ]


def _fit(parent: Incident, child: Incident) -> float | None:
    """How well a short incident sits inside a summary one; None when it does not."""
    if parent.event_type != child.event_type:
        return None
    if parent.country and child.country and parent.country != child.country:
        return None
    if not (parent.date.start and child.date.start):
        return None
    if child.date.start < parent.date.start - timedelta(days=1) or (child.date.end or child.date.start) > (
        parent.date.end or parent.date.start
    ) + timedelta(days=1):
        return None
    if child.admin1 and parent.admin1 and not set(child.admin1) <= set(parent.admin1):
        return None
    if not child.admin1 or not parent.admin1:
        return 0.2
    span = ((parent.date.end or parent.date.start) - parent.date.start).days + 1
    return round(0.5 + len(child.admin1) / len(parent.admin1) * 0.3 + 0.2 / span, 4)


# --- syndication ----------------------------------------------------------------------------------


def syndication(texts: dict[str, str]) -> dict[str, str]:
    """Each document's source group: copies of one article (same wording) share the id of the first."""
    shingles = {d: _shingles(t) for d, t in sorted(texts.items())}
    group: dict[str, str] = {}
    ids = sorted(shingles)
    for i, a in enumerate(ids):
        if a in group:
            continue
        group[a] = a
        for b in ids[i + 1 :]:
            if b in group:
                continue
            sa, sb = shingles[a], shingles[b]
            if sa and sb and len(sa & sb) / min(len(sa), len(sb)) >= SYNDICATION_THRESHOLD:
                group[b] = a
    return group


def _shingles(text: str, n: int = 6) -> frozenset[int]:
    words = _WORD.findall(text.lower())
    return frozenset(hash(" ".join(words[i : i + n])) & 0xFFFFFFFF for i in range(max(0, len(words) - n + 1)))


# --- 3. tolls --------------------------------------------------------------------------------------


def tolls(group: Sequence[Member], sources: dict[str, str] | None = None) -> tuple[Toll, ...]:
    """Deaths per category and in total, from every killed figure the incident's mentions carry."""
    sources = sources or {}
    area = frozenset(a for m in group for a in m.admin1)
    summary = group[0].summary
    dated = {m.doc_id: m.published for m in group}
    seen: set[tuple] = set()
    claims: list[Claim] = []
    for m in group:
        for c in m.claims:
            key = (sources.get(c.doc_id, c.doc_id), c.claimant, c.count, c.category, c.killed_or_injured)
            if c.killed_or_injured != "killed" or c.qualifier == "vague" or key in seen:
                continue  # a syndicated copy's figure counts once
            if summary and c.scope != "cumulative":
                continue  # a day's figure belongs to the day's incident, inside the running total
            seen.add(key)
            claims.append(c)
    out = []
    for category in (*CATEGORIES, "all"):
        mine = [c for c in claims if c.category == category]
        if mine:
            out.append(_toll(category, mine, dated, area))
    parts = [t for t in out if t.category in CATEGORIES and t.best is not None]
    whole = next((t for t in out if t.category == "all"), None)
    total = _total(parts, whole)
    if total is not None:
        out.append(total)
    return tuple(out)


def _toll(category: str, claims: list[Claim], dated: dict[str, date | None], area: frozenset[str]) -> Toll:
    lines: dict[str, list[TollPoint]] = defaultdict(list)
    whole_area: set[str] = set()
    for c in sorted(claims, key=lambda c: (dated.get(c.doc_id) or date.max, c.count, c.id)):
        partial = bool(c.admin1) and len(area) > 1 and len(c.admin1) == 1
        if not partial:
            whole_area.add(c.id)
        lines[c.claimant].append(
            TollPoint(
                claim_id=c.id,
                doc_id=c.doc_id,
                date=dated.get(c.doc_id),
                count=c.count,
                qualifier=c.qualifier,
                via=c.via,
                status="partial" if partial else "running",
            )
        )
    built: list[ClaimantLine] = []
    latest: list[tuple[TollPoint, str]] = []
    for claimant in sorted(lines):
        points, best = _running(lines[claimant])
        built.append(
            ClaimantLine(claimant=claimant, points=tuple(points), latest=best.count if best else None)
        )
        if best is not None:
            latest.append((best, claimant))
    if not latest:
        return Toll(
            category=category,
            low=None,
            best=None,
            high=None,
            claim_ids=tuple(c.id for c in claims),
            lines=tuple(built),
        )
    high = max(p.count for p, _ in latest)
    floors = [(p, who) for p, who in latest if p.qualifier not in ("up_to", "at_most")]
    low = max((p.count for p, _ in floors), default=min(p.count for p, _ in latest))
    for p, _who in latest:
        contradicts = p.qualifier in ("exact", "about", "at_most", "up_to") and p.count < low
        newer = p.date is not None and all(
            q.date is None or p.date >= q.date for q, _ in floors if q.count == low
        )
        if contradicts and newer:
            low = p.count
    chosen, _ = max(
        floors or latest,
        key=lambda pw: (pw[0].date or date.min, pw[1] != "article", pw[0].count, pw[0].claim_id),
    )
    best = min(max(chosen.count, low), high)
    return Toll(
        category=category,
        low=low,
        best=best,
        high=high,
        claim_ids=tuple(c.id for c in claims),
        best_claim_id=chosen.claim_id,
        lines=tuple(built),
    )


def _running(points: list[TollPoint]) -> tuple[list[TollPoint], TollPoint | None]:
    """A claimant's whole-area figures in date order: the total only climbs; a lower later figure was relayed late."""
    out: list[TollPoint] = []
    best: TollPoint | None = None
    for p in points:
        if p.status == "partial":
            out.append(p)
            continue
        if best is None or p.count > best.count:
            if best is not None:
                out = [replace(q, status="superseded") if q.claim_id == best.claim_id else q for q in out]
            best = p
            out.append(replace(p, status="latest"))
        elif p.count == best.count:
            out.append(replace(p, status="superseded"))
        else:
            out.append(replace(p, status="relayed_late"))
    return out, best


def _total(parts: list[Toll], whole: Toll | None) -> Toll | None:
    if not parts and whole is None:
        return None
    if parts:
        low = sum(t.low or 0 for t in parts)
        best = sum(t.best or 0 for t in parts)
        high = sum(t.high or 0 for t in parts)
        ids = tuple(i for t in parts for i in t.claim_ids)
        if whole is None or (whole.best or 0) <= best:
            return Toll(
                category="total",
                low=low,
                best=best,
                high=max(high, whole.high or 0) if whole else high,
                claim_ids=ids,
            )
    return replace(whole, category="total")
