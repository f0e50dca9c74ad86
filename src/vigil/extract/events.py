"""Event detection: trigger words typed into ACLED sub-types, with their place, date, actors and toll.

An event is seeded by a trigger ("massacre", "clashes", "suicide bomber") or by a
casualty claim, gets its place, date and actors from its own clause first and its
neighbours second, and is merged with the events of nearby sentences that report
the same thing. Statements, denials and threats are not events.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from vigil.extract.analysis import Analysis
from vigil.extract.claims import Draft, is_speech_date
from vigil.extract.triggers import (
    AIR,
    ARRESTS,
    ATTACK,
    BATTLES,
    CLASH,
    DISRUPTED,
    EXCESSIVE,
    EXPLOSIONS,
    FAMILY,
    IED,
    INTERVENTION,
    LOOTING,
    NOTE_LABEL,
    NOTE_LABELS,
    OTHER,
    PEACEFUL,
    PROTESTS,
    RANK,
    RIOTS,
    SD,
    SHELLING,
    TRIGGERS,
    TYPE_OF,
    VAC,
    ActorTypes,
    blocked,
    classify,
)
from vigil.geo import name_key
from vigil.model import DateInterval, EventMention, Evidence, Mention, Place, Sentence, Span

RULE_TRIGGER = "events.trigger@3"
RULE_FROM_CLAIM = "events.from_claim@2"
RULE_NOTE_LABEL = "events.note_label@1"
RULE_PLACE = "events.place@2"
RULE_PLACE_DOCUMENT = "events.place_document@1"  # a toll told without a place: the report's main governorate
RULE_DATE = "events.date@1"
RULE_PUBLICATION_WEEK = "events.publication_week@1"
RULE_ACTOR = "events.actor@1"
RULE_FATALITIES = "events.fatalities_acled@3"  # @3: figures listed together are added
RULE_CODED_FATALITIES = "events.coded_fatalities@2"  # @2: "N fatalities split between K events"
RULE_MAIN = "events.main_event@1"
RULE_PERIOD_TALLY = "events.period_tally@2"
RULE_SIDES = "events.each_sides_dead@1"  # two sides' dead told in consecutive sentences: one fight
RULE_TOLD_WITH = "events.told_with@1"
RULE_AIR_SUPPORT = "events.air_support@1"
RULE_OTHER_DAYS = "events.other_days@1"  # figures with days of their own that do not meet: two events
RULE_ARMED_REMNANT = "events.armed_remnant@1"  # an old mine that kills soldiers on operations is this war's  # strikes told just before a battle in the same area are its support  # a violent event with no dead joins the one beside it that has them  # a tally of a long period's attacks is no event of its own

_ARMED_TYPES = {
    "state_forces",
    "militia",
    "rebel_group",
    "unknown_armed",
    "identity_militia",
    "external_forces",
}


@dataclass(kw_only=True)
class _Candidate:
    event_type: str
    sub_event_type: str
    sentence: Sentence
    span: Span
    rule: str
    weak: bool = False  # typed only by what a generic verb hit ("attacked", "opened fire on")
    drafts: list[Draft] = field(default_factory=list)
    related: list[Draft] = field(default_factory=list)  # listed with the event, never counted in its toll
    sentences: list[Sentence] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def rank(self) -> int:
        return RANK[self.sub_event_type] - (30 if self.weak else 0)

    def retype(self, sub: str) -> None:
        self.sub_event_type, self.event_type = sub, TYPE_OF[sub]


def find_events(a: Analysis, drafts: list[Draft]) -> list[EventMention]:
    candidates = _triggered(a)
    _note_label(a, candidates)
    _attach_claims(a, drafts, candidates)
    candidates = [c for c in candidates if not _tally(a, c)]
    candidates = _absorb_concurrent(a, candidates)
    for _ in range(3):  # merging can make new merges possible (a total meets the sum of its parts)
        merged = _merge(a, candidates)
        if len(merged) == len(candidates):
            break
        candidates = merged
    events = []
    for c in candidates:
        event = _build(a, c, len(events))
        if event is not None:
            events.append(event)
    if not events:
        main = _main_candidate(candidates)
        if main is not None and (event := _build(a, main, 0, placeless=True)) is not None:
            events.append(event)
    return events


def _triggered(a: Analysis) -> list[_Candidate]:
    out: list[_Candidate] = []
    for s in a.sentences:
        if a.is_caption(s) or a.is_headline(s):
            continue
        text = a.sentence_text(s)
        if not _MAYBE_EVENT.search(text):
            continue
        actor_types = ActorTypes(
            spans=tuple(
                (m.evidence.span.start - s.span.start, m.evidence.span.end - s.span.start, m.actor.type)
                for m in a.in_sentence(a.actors, s)
                if m.actor
            )
        )
        matches = [(m.start(), m.end(), t) for t in TRIGGERS for m in t.pattern.finditer(text)]
        matches.sort(key=lambda x: (-_precedence(x[2]), -(x[1] - x[0]), x[0]))
        taken: list[tuple[int, int]] = []
        for start, end, trigger in matches:
            if any(start < e and s_ < end for s_, e in taken):
                continue
            if blocked(text, start, trigger):
                continue
            sub = classify(trigger, text, start, end, actor_types)
            if sub is None:
                continue
            taken.append((start, end))
            span = Span(doc_id=a.document.id, start=s.span.start + start, end=s.span.start + end)
            out.append(
                _Candidate(
                    event_type=TYPE_OF[sub],
                    sub_event_type=sub,
                    sentence=s,
                    span=span,
                    rule=RULE_TRIGGER,
                    weak=trigger.refine == "target" and sub in (CLASH, ATTACK),
                    sentences=[s],
                    evidence=[Evidence(field="event_type", span=span, rule=trigger.rule)],
                )
            )
    out.sort(key=lambda c: c.span.start)
    return _one_per_clause(a, out)


def _precedence(trigger) -> int:
    """Which of overlapping triggers reads the words: a remnant of war ("an old landmine", "an unexploded
    shell") is read before the weapon inside it, since what qualifies the weapon says what the event is."""
    return 1000 if trigger.sub_event_type == OTHER else RANK[trigger.sub_event_type]


# A sentence can only carry an event when one of these stems is in it: a cheap gate before the triggers.
_MAYBE_EVENT = re.compile(
    r"kill|dead|death|died|clash|fight|battle|attack|strike|struck|raid|bomb|shell|artiller|mortar|rocket|missile|"
    r"warplane|jet|drone|aircraft|helicopter|pounded|hit|"
    r"explo|blast|mine|IED|grenade|fire|shot|shoot|sniper|gun|massacr|execut|murder|assassin|slaughter|lynch|"
    r"stab|beat|tortur|rape|sexual|abduct|kidnap|disappear|hostage|protest|demonstrat|rall|sit-in|march|vigil|"
    r"strike|gather|slogan|block|riot|mob|molotov|hurl|threw|stone|tire|tyre|loot|plunder|pillag|demolish|raze|"
    r"bulldoz|arson|torch|vandal|burn|confiscat|seiz|uproot|trees|defus|dismantl|intercept|weapon|arrest|detain|"
    r"detention|custody|captur|control|gain|advance|overran|liberat|establish|base|headquarters|barracks|"
    r"agreement|deal|truce|ceasefire|cease-fire|prisoner|handed|reinforcement|deploy|fortif|curfew|lockdown|"
    r"measures|ban|defect|recruit|operation|campaign|siege|besieg|checkpoint|closed|remnants|unexploded|"
    r"ordnance|ambush|incursion|offensive|infiltrat|assault|wound|injur|casualt|toll|victim|bodies|body|lives|"
    r"storm|target|violence|pogrom|crackdown|disperse|tear gas|coded as",
    re.I,
)


def _one_per_clause(a: Analysis, cands: list[_Candidate]) -> list[_Candidate]:
    """Concurrent tactics in one clause are one event of the higher type (ACLED precedence)."""
    kept: list[_Candidate] = []
    for c in cands:
        prev = kept[-1] if kept else None
        same_clause = (
            prev is not None
            and prev.sentence.index == c.sentence.index
            and not _CLAUSE_SPLIT.search(a.text[prev.span.end : c.span.start])
        )
        if (
            same_clause
            and DISRUPTED in (prev.sub_event_type, c.sub_event_type)
            and EXPLOSIONS
            in (
                prev.event_type,
                c.event_type,
            )
        ):
            # "defused a roadside bomb": the weapon named is the one that did not go off
            winner = prev if prev.sub_event_type == DISRUPTED else c
            winner.evidence = prev.evidence + c.evidence
            kept[-1] = winner
            continue
        remnant = prev is not None and OTHER in (prev.sub_event_type, c.sub_event_type)
        if same_clause and remnant and EXPLOSIONS in (prev.event_type, c.event_type):
            # "a landmine left over from the war exploded": the explosive is a remnant of a past war
            winner = prev if prev.sub_event_type == OTHER else c
            winner.evidence = prev.evidence + c.evidence
            kept[-1] = winner
            continue
        if same_clause and FAMILY[prev.event_type] == FAMILY[c.event_type]:
            winner = prev if prev.rank >= c.rank else c
            winner.evidence = prev.evidence + c.evidence
            kept[-1] = winner
            continue
        kept.append(c)
    return kept


_CLAUSE_SPLIT = re.compile(r"[;:]|,\s+(?:and|while|as|but)\b|\.\s", re.I)


def _note_label(a: Analysis, cands: list[_Candidate]) -> None:
    """A report that opens with its sub-type ("Arrests: On 5 May ...") is an event of that sub-type."""
    m = NOTE_LABEL.match(a.text)
    sub = NOTE_LABELS.get(m.group(1).strip().lower()) if m else None
    if m is None or sub is None or not a.sentences:
        return
    first = a.sentences[0]
    span = Span(doc_id=a.document.id, start=m.start(1), end=m.end(1))
    evidence = Evidence(field="event_type", span=span, rule=RULE_NOTE_LABEL)
    own = [c for c in cands if c.sentence.index == first.index]
    if own:
        c = min(own, key=lambda c: c.span.start)
        c.retype(sub)
        c.evidence.append(evidence)
        for other in own:
            if other is not c and other.event_type == SD:
                cands.remove(other)
        return
    cands.insert(
        0,
        _Candidate(
            event_type=TYPE_OF[sub],
            sub_event_type=sub,
            sentence=first,
            span=span,
            rule=RULE_NOTE_LABEL,
            sentences=[first],
            evidence=[evidence],
        ),
    )


def _absorb_concurrent(a: Analysis, cands: list[_Candidate]) -> list[_Candidate]:
    """Arrests or looting told in the same or the next sentence as a battle, an attack or a protest
    are part of it (ACLED: one event of the higher type), as is a generic "attacked" beside a named tactic."""
    out = list(cands)
    for c in cands:
        secondary = c.sub_event_type in (ARRESTS, LOOTING) or c.weak
        if not secondary or (c.drafts and any(d.claim.killed_or_injured == "killed" for d in c.drafts)):
            continue
        hosts = [
            h
            for h in out
            if h is not c
            and h.rank > c.rank
            and (h.event_type != SD)
            and 0 <= c.sentence.index - h.sentence.index <= 1
            and _same_paragraph(a, h.sentence, c.sentence)
            and _compatible_places(a, h, c)
        ]
        if not hosts:
            continue
        host = min(hosts, key=lambda h: abs(h.span.start - c.span.start))
        if c.sub_event_type == ARRESTS and host.event_type == PROTESTS and host.sub_event_type == PEACEFUL:
            host.retype(INTERVENTION)
        host.drafts += c.drafts
        host.related += c.related
        host.evidence += c.evidence
        host.sentences += [s for s in c.sentences if s not in host.sentences]
        out.remove(c)
    return out


def _same_paragraph(a: Analysis, x: Sentence, y: Sentence) -> bool:
    return a.paragraph_of(x) == a.paragraph_of(y)


def _main_candidate(cands: list[_Candidate]) -> _Candidate | None:
    """The event a report leads with, when no event could be placed: the first, the highest on ties."""
    if not cands:
        return None
    first = min(c.sentence.index for c in cands)
    return max((c for c in cands if c.sentence.index == first), key=lambda c: (c.rank, -c.span.start))


def _attach_claims(a: Analysis, drafts: list[Draft], cands: list[_Candidate]) -> None:
    """Killed figures join the nearest event trigger in their sentence, or seed an event of their own."""
    covered = _covered_totals(drafts)
    placed: dict[int, _Candidate] = {}  # where each figure went, for the figures listed with it
    for d in drafts:
        c = d.claim
        if d.joined_after is not None and (host := placed.get(d.joined_after)) is not None:
            host.drafts.append(d)  # "a lieutenant and three soldiers": one toll, one event
            placed[d.match_start] = host
            continue
        same_sentence = [x for x in cands if x.sentence.index == d.sentence.index]
        if d.claim.id in covered or (d.breakdown and c.scope == "cumulative"):
            target = (
                _nearest(same_sentence, d) if d.claim.id in covered else None
            ) or _nearest_event_with_claims(cands, d, scope=c.scope)
            if target is not None:
                target.related.append(d)
            continue
        if c.killed_or_injured != "killed" or d.subset or c.qualifier == "vague":
            target = _nearest(same_sentence, d) or _nearest_event_with_claims(cands, d)
            if target is not None:
                target.drafts.append(d)
            continue
        target = _nearest(same_sentence, d, claim_free=True)
        civilian = c.category == "civilians" or c.victim_group is not None
        if (
            target is not None
            and (FAMILY[target.event_type] == "violence" or target.sub_event_type == OTHER)
            and not (target.event_type == BATTLES and civilian)
        ):
            target.drafts.append(d)
            placed[d.match_start] = target
            continue
        event_type, sub = _type_for_claim(a, d, cands)
        span = d.claim.span
        cands.append(
            _Candidate(
                event_type=event_type,
                sub_event_type=sub,
                sentence=d.sentence,
                span=span,
                rule=RULE_FROM_CLAIM,
                drafts=[d],
                sentences=[d.sentence],
                evidence=[Evidence(field="event_type", span=span, rule=RULE_FROM_CLAIM)],
            )
        )
        placed[d.match_start] = cands[-1]
    cands.sort(key=lambda x: x.span.start)


def _covered_totals(drafts: list[Draft]) -> set[str]:
    """A total broken down by province right after it is represented by its parts."""
    covered = set()
    for d in drafts:
        if d.breakdown or len(d.claim.admin1) < 2 or d.claim.scope != "incident":
            continue
        parts = [
            x
            for x in drafts
            if x.breakdown
            and x.claim.scope == d.claim.scope
            and x.claim.claimant == d.claim.claimant
            and 0 <= x.sentence.index - d.sentence.index <= 2
            and set(x.claim.admin1) <= set(d.claim.admin1)
        ]
        if len({p.claim.admin1 for p in parts}) >= 2:
            covered.add(d.claim.id)
    return covered


def _nearest(cands: list[_Candidate], d: Draft, *, claim_free: bool = False) -> _Candidate | None:
    pool = [
        c for c in cands if not (claim_free and any(x.claim.killed_or_injured == "killed" for x in c.drafts))
    ]
    if not pool:
        return None
    return min(pool, key=lambda c: abs(c.span.start - d.match_start))


def _nearest_event_with_claims(
    cands: list[_Candidate], d: Draft, scope: str | None = None
) -> _Candidate | None:
    pool = [
        c
        for c in cands
        if c.drafts
        and 0 <= d.sentence.index - c.sentence.index <= 2
        and (scope is None or any(x.claim.scope == scope for x in c.drafts))
    ]
    return max(pool, key=lambda c: c.span.start) if pool else None


def _type_for_claim(a: Analysis, d: Draft, cands: list[_Candidate]) -> tuple[str, str]:
    c = d.claim
    if c.category == "civilians":
        return VAC, "Attack"
    if c.category in ("security_forces", "fighters"):
        return BATTLES, "Armed clash"
    near = [
        x
        for x in cands
        if abs(x.sentence.index - d.sentence.index) <= 1 and FAMILY[x.event_type] == "violence"
    ]
    if near:
        best = min(near, key=lambda x: abs(x.sentence.index - d.sentence.index))
        return best.event_type, best.sub_event_type
    return VAC, "Attack"


def _merge(a: Analysis, cands: list[_Candidate]) -> list[_Candidate]:
    """Sentences that go on about the same event join it instead of repeating it."""
    out: list[_Candidate] = []
    for c in cands:
        target = None
        for prev in reversed(out):
            gap = c.sentence.index - _last_told(a, prev)
            if gap > 5:
                break
            absorbed = (
                prev.event_type == BATTLES
                and c.event_type == EXPLOSIONS
                and c.sub_event_type in ("Grenade", "Shelling/artillery/missile attack")
                and not _killed(c)
            ) or _air_support(a, prev, c, gap)
            told_with = _tells_the_toll_of(a, prev, c, gap)
            if (
                not absorbed
                and not told_with
                and (gap > 2 or prev.event_type != c.event_type or prev.sub_event_type != c.sub_event_type)
            ):
                continue
            if not _compatible_places(a, prev, c):
                continue
            if _killed(c) and _killed(prev) and not _same_toll(prev, c):
                continue
            if _other_days(a, prev, c):
                continue
            target = prev
            break
        if target is None:
            out.append(c)
            continue
        told_with = _tells_the_toll_of(a, target, c, c.sentence.index - target.sentence.index)
        if _air_support(a, target, c, c.sentence.index - target.sentence.index):
            # "jets struck their positions. Meanwhile, clashes continue ...": a battle with air support
            target.evidence.append(Evidence(field="event", span=c.span, rule=RULE_AIR_SUPPORT))
            target.retype(c.sub_event_type)
            target.span, target.sentence, target.rule, target.weak = c.span, c.sentence, c.rule, c.weak
            target.sentences = list(dict.fromkeys([c.sentence, *target.sentences]))
        if told_with:
            target.evidence.append(Evidence(field="event", span=c.span, rule=RULE_TOLD_WITH))
        if told_with and c.rule == RULE_TRIGGER and (_killed(c) or target.rule == RULE_FROM_CLAIM):
            # the announcement ("a new assassination") takes the type of the sentence that tells what
            # happened and whom it killed ("an IED exploded ..., killing him"); a toll told on its own
            # takes the type of the event it is told with
            target.retype(c.sub_event_type)
            target.span, target.sentence, target.rule, target.weak = c.span, c.sentence, c.rule, c.weak
            target.sentences.insert(0, c.sentence)
            target.sentences = list(dict.fromkeys(target.sentences))
        target.drafts += c.drafts
        target.related += c.related
        target.sentences += [s for s in c.sentences if s not in target.sentences]
        target.evidence += c.evidence
    return out


def _last_told(a: Analysis, c: _Candidate) -> int:
    """The last sentence that tells of a candidate: its own, or one that repeats its figures."""
    starts = {e.span.start for d in c.drafts for e in d.claim.evidence if e.field == "sentence"}
    told = [s.index for s in a.sentences if s.span.start in starts and s.index <= c.sentence.index + 5]
    return max([c.sentence.index, *told])


def _air_support(a: Analysis, x: _Candidate, y: _Candidate, gap: int) -> bool:
    """RULE_AIR_SUPPORT: air strikes or shelling told with no dead of their own, in the sentence before a
    battle in the same governorates, are that battle's support (ACLED: a battle with air support is a
    battle)."""
    return (
        0 <= gap <= 1
        and x.event_type == EXPLOSIONS
        and x.sub_event_type in (AIR, SHELLING)
        and y.event_type == BATTLES
        and y.rule == RULE_TRIGGER
        and not _killed(x)
        and _admin1_of(a, y)[0] in ((), _admin1_of(a, x)[0])
    )


def _tells_the_toll_of(a: Analysis, x: _Candidate, y: _Candidate, gap: int) -> bool:
    """RULE_TOLD_WITH: a violent event told with no dead, next to one of another type that has its dead,
    in the same paragraph and on compatible days, is one event (ACLED: concurrent tactics are one event;
    a battle with air support is a battle)."""
    if gap > 2 or not _violent(x) or not _violent(y):
        return False
    if x.event_type == y.event_type and x.sub_event_type == y.sub_event_type:
        return False
    if bool(_killed(x)) == bool(_killed(y)) or not _same_paragraph(a, x.sentence, y.sentence):
        return False
    dx, dy = _date_of(a, x)[0], _date_of(a, y)[0]
    if dx.start and dy.start and dx.end and dy.end:
        return (dx.start - dy.end).days <= 1 and (dy.start - dx.end).days <= 1
    return True


def _other_days(a: Analysis, x: _Candidate, y: _Candidate) -> bool:
    """RULE_OTHER_DAYS: dead told on days that do not meet ("On February 7 ... a refugee was killed", "On
    February 11 ... a refugee was killed", or one of them undated, so within the week of the report) are two
    events, however alike their figures."""
    if not (_killed(x) and _killed(y)):
        return False
    dx, dy = _date_of(a, x)[0], _date_of(a, y)[0]
    if not (dx.start and dx.end and dy.start and dy.end):
        return False
    return dx.start > dy.end or dy.start > dx.end


def _violent(c: _Candidate) -> bool:
    """Violence, or an explosion of a remnant of war (whose dead may be told in the next sentence)."""
    return FAMILY[c.event_type] == "violence" or c.sub_event_type == OTHER


def _killed(c: _Candidate) -> list[Draft]:
    return [d for d in c.drafts if d.claim.killed_or_injured == "killed" and not d.subset]


def _same_toll(a_: _Candidate, b: _Candidate) -> bool:
    """Two figures are one event's when they are cumulative totals of different categories or the same count."""
    ka, kb = _killed(a_), _killed(b)
    if any(x.claim.count == y.claim.count for x in ka for y in kb):
        return True
    cats_a, cats_b = {x.claim.category for x in ka}, {y.claim.category for y in kb}
    if len({x.sentence.index for x in ka + kb}) == 1 and not (cats_a & cats_b):
        return True  # one sentence giving each side's dead
    sides = {"security_forces", "fighters", "unknown"}
    indices = sorted({x.sentence.index for x in ka + kb})
    if (
        len(indices) == 2
        and indices[1] - indices[0] == 1
        and cats_a <= sides
        and cats_b <= sides
        and not (cats_a & cats_b)
        and all(x.claim.scope == "incident" for x in ka + kb)
    ):
        return True  # RULE_SIDES: "... killed 26 soldiers. ISIS also lost 11 members": each side's dead
    counts_a, counts_b = {x.claim.count for x in ka}, {y.claim.count for y in kb}
    if sum(counts_b) in counts_a or sum(counts_a) in counts_b:
        return True  # a total and its parts
    return all(x.claim.scope == "cumulative" and not x.breakdown for x in ka + kb) and not (
        {x.claim.category for x in ka} & {y.claim.category for y in kb}
    )


def _compatible_places(a: Analysis, x: _Candidate, y: _Candidate) -> bool:
    px, py = _admin1_of(a, x)[0], _admin1_of(a, y)[0]
    return not px or not py or bool(set(px) & set(py))


def _admin1_of(a: Analysis, c: _Candidate) -> tuple[tuple[str, ...], list[Mention], list[Evidence]]:
    """Governorates: the claims' areas, else places in the trigger's clause or sentence, else the sentence before."""
    for d in c.drafts:
        if d.claim.killed_or_injured == "killed" and d.claim.admin1 and not d.subset:
            ev = [e for e in d.claim.evidence if e.field == "admin1"]
            places = [m for m in a.places if any(m.evidence.span == e.span for e in ev)]
            return d.claim.admin1, places, ev
    for s in [c.sentence, *[x for x in c.sentences if x != c.sentence]]:
        places = _clause_places(a, s, c.span)
        if places:
            names = tuple(dict.fromkeys(m.place.admin1 for m in places if m.place and m.place.admin1))
            return (
                names,
                places,
                [Evidence(field="admin1", span=m.evidence.span, rule=RULE_PLACE) for m in places],
            )
    if c.sentence.index > 0:
        prev = a.sentences[c.sentence.index - 1]
        places = [m for m in a.in_sentence(a.places, prev) if m.place and m.place.admin1]
        if (
            places
            and c.rule == RULE_TRIGGER
            and re.search(
                r"\b(?:the\s+city|there|the\s+area|the\s+town|the\s+region)\b",
                a.sentence_text(c.sentence),
                re.I,
            )
        ):
            names = tuple(dict.fromkeys(m.place.admin1 for m in places))
            return (
                names,
                places,
                [Evidence(field="admin1", span=m.evidence.span, rule=RULE_PLACE) for m in places],
            )
    if _killed(c) and all(d.claim.scope == "incident" for d in _killed(c)):
        main = _main_admin1(a)
        if main is not None:
            return (
                (main.place.admin1,),
                [],
                [Evidence(field="admin1", span=main.evidence.span, rule=RULE_PLACE_DOCUMENT, confidence=0.5)],
            )
    return (), [], []


def _main_admin1(a: Analysis) -> Mention | None:
    """The governorate a report is mostly about (at least half its placed mentions), for a toll told without a place."""
    placed = [m for m in a.places if m.place and m.place.admin1]
    if not placed:
        return None
    counts = Counter(m.place.admin1 for m in placed)
    name, n = counts.most_common(1)[0]
    if n * 2 < len(placed):
        return None
    return next(m for m in placed if m.place.admin1 == name)


def _clause_places(a: Analysis, s: Sentence, trigger: Span) -> list[Mention]:
    """Places nearest the trigger: those after it in its clause first, then any in the sentence;
    a place the people or weapons came from ("reinforcements from Dhamar", "fired from Gaza")
    only when the sentence has no other."""
    places = [m for m in a.in_sentence(a.places, s) if m.place and m.place.admin1]
    if not places:
        return []
    places = _not_origins(a, places) or places
    after = [
        m
        for m in places
        if m.evidence.span.start >= trigger.end and m.evidence.span.start - trigger.end <= 120
    ]
    if after:
        first = min(after, key=lambda m: m.evidence.span.start)
        group = [first]
        for m in sorted(after, key=lambda m: m.evidence.span.start):
            if m is first:
                continue
            gap = a.text[group[-1].evidence.span.end : m.evidence.span.start]
            if re.fullmatch(
                r"[\s,]*(?:and|or|as\s+well\s+as|\()?[\s(]*(?:the\s+)?(?:city\s+of\s+)?|\s*\(\s*|\s*\)\s*(?:and|,)?\s*",
                gap,
                re.I,
            ) or _PLACE_LIST_GAP.fullmatch(gap):
                group.append(m)
        return group
    before = [m for m in places if m.evidence.span.end <= trigger.start]
    if before:
        last = max(before, key=lambda m: m.evidence.span.start)
        return [m for m in before if m.evidence.span.start >= last.evidence.span.start - 60]
    return places


# "Jabal al Kirsh front (Al Qabbaytah, Lahij), Bab Ghaliq (Qaatabah, Ad Dali), and ...": between
# the places of one list, only punctuation, "and"/"or", feature words and (unknown) names
_PLACE_LIST_GAP = re.compile(
    r"(?:[\s,;()\[\]]|\b(?:and|or|as\s+well\s+as|the|of|in|fronts?|frontlines?|areas?|districts?|regions?"
    r"|villages?|towns?|city|mountains?|governorates?|provinces?)\b|[A-Z][\w'’-]*)*"
)
_FROM_BEFORE = re.compile(r"\bfrom\s+(?:the\s+)?(?:city\s+of\s+|town\s+of\s+)?$", re.I)
_LIST_GAP = re.compile(r"[\s,()]*(?:(?:and|or)\s+)?[\s(]*(?:the\s+)?", re.I)


def _not_origins(a: Analysis, places: list[Mention]) -> list[Mention]:
    """Places that are not where something came from: "from X", and the names listed with X
    ("from Dhamar governorate and Rada (Al Bayda)")."""
    out, origin, prev_end = [], False, None
    for m in sorted(places, key=lambda m: m.evidence.span.start):
        start = m.evidence.span.start
        if _FROM_BEFORE.search(a.text[max(0, start - 30) : start]):
            origin = True
        elif not (origin and prev_end is not None and _LIST_GAP.fullmatch(a.text[prev_end:start])):
            origin = False
        if not origin:
            out.append(m)
        prev_end = m.evidence.span.end
    return out


def _date_of(a: Analysis, c: _Candidate) -> tuple[DateInterval, list[Evidence]]:
    for d in c.drafts:
        if d.claim.killed_or_injured == "killed" and d.claim.period.precision:
            return d.claim.period, [e for e in d.claim.evidence if e.field == "period"] or [
                Evidence(field="date", span=d.claim.span, rule=RULE_DATE)
            ]
    for s in c.sentences:
        dates = [m for m in a.in_sentence(a.dates, s) if not is_speech_date(a, m) and m.date]
        if dates:
            m = min(dates, key=lambda m: abs(m.evidence.span.start - c.span.start))
            return m.date, [Evidence(field="date", span=m.evidence.span, rule=RULE_DATE)]
    first = c.sentence.index
    for s in reversed(a.sentences[max(0, first - 2) : first]):
        dates = [m for m in a.in_sentence(a.dates, s) if not is_speech_date(a, m) and m.date]
        if dates:
            m = dates[-1]
            return m.date, [Evidence(field="date", span=m.evidence.span, rule=RULE_DATE)]
    published = a.document.published
    if published is not None:
        week_before = published - timedelta(days=min(6, (published - date.min).days))
        return DateInterval(start=week_before, end=published, precision=2), []
    return DateInterval(), []


def _actors(a: Analysis, c: _Candidate) -> tuple[Mention | None, Mention | None, Mention | None]:
    """Perpetrator, target and victims' communal identity from the event's sentence."""
    s = c.sentence
    mentions = [m for m in a.in_sentence(a.actors, s) if m.actor]
    armed = [m for m in mentions if m.actor.type in _ARMED_TYPES]
    by = [
        m
        for m in armed
        if re.search(
            r"\bby\s+(?:the\s+)?$", a.text[max(0, m.evidence.span.start - 10) : m.evidence.span.start]
        )
    ]
    before = [m for m in armed if m.evidence.span.end <= c.span.start]
    after = [
        m
        for m in armed
        if m.evidence.span.start >= c.span.end
        and not _CLAUSE_SPLIT.search(a.text[c.span.end : m.evidence.span.start])
    ]
    actor1 = (
        by[0] if by else (before[-1] if before else (after[0] if after and c.event_type != BATTLES else None))
    )
    actor2 = None
    if c.event_type == BATTLES:
        others = [m for m in armed if actor1 is None or m.actor.name != actor1.actor.name]
        if actor1 is None and len(others) >= 1:
            actor1, others = others[0], [m for m in others[1:] if m.actor.name != others[0].actor.name]
        actor2 = others[0] if others else None
    identity = [
        m
        for m in mentions
        if m.actor.type in ("identity_group",)
        and not re.search(
            r"\bincluding\s+(?:some\s+)?$", a.text[max(0, m.evidence.span.start - 20) : m.evidence.span.start]
        )
    ]
    victims = min(identity, key=lambda m: abs(m.evidence.span.start - c.span.start)) if identity else None
    return actor1, actor2, victims


def _fatalities(c: _Candidate) -> tuple[int, int | None, int | None, list[Draft]]:
    """ACLED: the lowest credible figure; the range is what the claims allow."""
    killed = _killed(c)
    whole = [d for d in killed if not d.breakdown]
    killed = whole or killed
    if c.event_type == VAC:
        civ = [d for d in killed if d.claim.category == "civilians"]
        civ = civ or [
            d
            for d in c.drafts
            if d.claim.killed_or_injured == "killed" and d.subset and d.claim.category == "civilians"
        ]
        killed = civ or killed
    elif c.event_type == BATTLES:
        armed = [
            d
            for d in killed
            if d.claim.category in ("security_forces", "fighters", "unknown") and not d.mixed
        ]
        if armed and not [d for d in killed if d.claim.category == "all"]:
            by_claimant: dict[str, int] = {}
            for d in armed:
                by_claimant[d.claim.claimant] = by_claimant.get(d.claim.claimant, 0) + d.claim.count
            total = min(by_claimant.values())
            return total, total, max(by_claimant.values()), armed
    if not killed:
        return 0, 0, None, []
    plain = [d for d in killed if not d.mixed]
    if not plain:  # only "killed and wounded" figures: how many of them died is not told
        return 0, 0, max(d.claim.count for d in killed), killed
    counts = _joined_counts(plain)
    high = max([*counts, *(d.claim.count for d in killed if d.mixed)])
    return min(counts), min(counts), high, killed


def _joined_counts(killed: list[Draft]) -> list[int]:
    """Each figure, with those listed together as one toll's parts added up ("a lieutenant and three
    soldiers" is four dead; "at least 12, SOHR said; 15, SANA said" stay two readings)."""
    starts = {d.match_start: d for d in killed}
    totals: dict[int, int] = {}
    for d in sorted(killed, key=lambda d: d.match_start):
        head = d.match_start
        while (after := starts[head].joined_after) is not None and after in starts and after != head:
            head = after
        totals[head] = totals.get(head, 0) + d.claim.count
    return list(totals.values())


def _build(a: Analysis, c: _Candidate, n: int, *, placeless: bool = False) -> EventMention | None:
    """The event a candidate stands for, or None when it cannot be placed (unless `placeless`: the
    one event a report is about is kept with its country alone)."""
    doc = a.document
    admin1, places, place_ev = _admin1_of(a, c)
    if placeless and not admin1 and (main := _main_admin1(a)) is not None:
        # the one event a report is about, told without a place of its own: the report's main place
        admin1 = (main.place.admin1,)
        places = [m for m in a.places if m.place and m.place.admin1 == main.place.admin1]
        place_ev = [
            Evidence(field="admin1", span=main.evidence.span, rule=RULE_PLACE_DOCUMENT, confidence=0.5)
        ]
    if not admin1 and not c.drafts and not placeless:
        return None
    if c.rule != RULE_FROM_CLAIM and not _killed(c) and any(d.claim.scope == "incident" for d in c.related):
        return None  # a day's total told province by province: the provinces are the events
    place = _best_place(a, admin1, places)
    date, date_ev = _date_of(a, c)
    actor1, actor2, victims = _actors(a, c)
    fatalities, low, high, used = _fatalities(c)
    coded = _coded_fatalities(a, c)
    if coded is not None:
        fatalities, low, high = coded[0], coded[0], max(coded[0], high or 0)
    event_type, sub = c.event_type, c.sub_event_type
    if sub == ATTACK and used and all(d.claim.category in ("security_forces", "fighters") for d in used):
        event_type, sub = BATTLES, CLASH  # the dead were armed: a fight, not violence against civilians
    if sub == OTHER and used and all(d.claim.category in ("security_forces", "fighters") for d in used):
        # RULE_ARMED_REMNANT: a mine that kills soldiers or fighters on operations is a weapon of this
        # conflict (laid by the side they fight), not a remnant of a past one
        event_type, sub = EXPLOSIONS, IED
        c.evidence.append(Evidence(field="event_type", span=c.span, rule=RULE_ARMED_REMNANT))
    elif sub == OTHER and fatalities:
        fatalities, low = 0, 0  # remnants of past wars: the casualties are no fatalities of this conflict
    if event_type == PROTESTS and sub == PEACEFUL and fatalities > 0:
        sub = EXCESSIVE
    civilian_targeting = event_type == VAC or (
        event_type in (EXPLOSIONS, PROTESTS)
        and (any(d.claim.category == "civilians" for d in used) or sub == EXCESSIVE)
    )
    victim_group = next((d.claim.victim_group for d in used if d.claim.victim_group), None)
    if victim_group is None and victims is not None and c.rule == RULE_TRIGGER:
        victim_group = victims.actor.name
    a1_name, a1_type = (actor1.actor.name, actor1.actor.type) if actor1 else _default_actor1(event_type)
    a2_name, a2_type = (actor2.actor.name, actor2.actor.type) if actor2 else _default_actor2(event_type, sub)
    if event_type == PROTESTS and sub != PEACEFUL and actor1 is not None:
        pass
    elif event_type == PROTESTS:
        a1_name, a1_type, a2_name, a2_type = "Protesters", "protesters", None, None
    country = place.country if place else _document_country(a)
    if not admin1:
        place_ev = []
    evidence = [
        *c.evidence,
        *[Evidence(field="sentence", span=s.span, rule=RULE_TRIGGER) for s in c.sentences],
        *[replace(e, field="admin1") for e in place_ev],
        *(
            [Evidence(field="location", span=places[0].evidence.span, rule=RULE_PLACE)]
            if place and place.kind not in ("admin1",) and places
            else []
        ),
        *[replace(e, field="date") for e in date_ev],
        *([Evidence(field="actor1", span=actor1.evidence.span, rule=RULE_ACTOR)] if actor1 else []),
        *([Evidence(field="actor2", span=actor2.evidence.span, rule=RULE_ACTOR)] if actor2 else []),
        *(
            [Evidence(field="victim_group", span=victims.evidence.span, rule=RULE_ACTOR)]
            if victims and victim_group == victims.actor.name
            else []
        ),
        *[Evidence(field="fatalities", span=d.claim.span, rule=RULE_FATALITIES) for d in used],
        *([Evidence(field="fatalities", span=coded[1], rule=RULE_CODED_FATALITIES)] if coded else []),
        *(
            [Evidence(field="event", span=c.sentence.span, rule=RULE_MAIN, confidence=0.5)]
            if placeless
            else []
        ),
    ]
    if not date_ev and date.start is not None:
        evidence.append(
            Evidence(field="date", span=c.sentence.span, rule=RULE_PUBLICATION_WEEK, confidence=0.3)
        )
    confidence = 0.4 + 0.25 * bool(used) + 0.15 * bool(places) + 0.1 * bool(date_ev) + 0.05 * bool(actor1)
    claim_ids = tuple(dict.fromkeys(d.claim.id for d in c.drafts + c.related))
    scope = used[0].claim.scope if used else "incident"
    return EventMention(
        id=f"{doc.id}-e{n}",
        doc_id=doc.id,
        event_type=event_type,
        sub_event_type=sub,
        date=date,
        country=country,
        admin1=admin1,
        place=place,
        actor1=a1_name,
        actor2=a2_name,
        actor1_type=a1_type,
        actor2_type=a2_type,
        victim_group=victim_group,
        civilian_targeting=civilian_targeting,
        fatalities=fatalities,
        fatalities_low=low,
        fatalities_high=high,
        toll_scope=scope,
        claim_ids=claim_ids,
        span=c.span,
        sentence=c.sentence.span,
        evidence=tuple(evidence),
        confidence=round(min(confidence, 0.95), 2),
    )


def _tally(a: Analysis, c: _Candidate) -> bool:
    """RULE_PERIOD_TALLY: "more than 850 attacks since June 2019" counts many events and is none of them;
    dropped before merging, so that its period does not date the event told before it."""
    return c.rule == RULE_TRIGGER and not c.drafts and not c.related and _period_tally(a, *_date_of(a, c))


def _period_tally(a: Analysis, date: DateInterval, evidence: list[Evidence]) -> bool:
    """A trigger dated only by a long running period ("since June 2019", "from March until today"): the
    sentence sums up the events of that period; it reports none of them."""
    if date.start is None or date.end is None or (date.end - date.start).days <= 31:
        return False
    spans = {e.span for e in evidence}
    return any(
        m.evidence.span in spans and m.evidence.rule.startswith(("timeparse.since", "timeparse.until_now"))
        for m in a.dates
    )


def _best_place(a: Analysis, admin1: tuple[str, ...], places: list[Mention]) -> Place | None:
    """The most precise place: a neighbourhood, town or district if named, else the one governorate.
    A governorate's capital named like it ("Cukurca district of Hakkari") is read as the governorate
    when a place inside it is named too."""

    def rank(p: Place) -> float:
        r = {"neighbourhood": 0, "town": 1, "district": 2, "admin1": 3}.get(p.kind, 4)
        return 2.5 if p.kind == "town" and p.admin1 and name_key(p.name) == name_key(p.admin1) else r

    ranked = sorted((m.place for m in places if m.place and m.place.admin1 in admin1), key=rank)
    if len(admin1) > 1:
        return None
    if ranked and ranked[0].kind in ("neighbourhood", "town", "district"):
        return ranked[0]
    if len(admin1) == 1:
        return next((p for p in ranked if p.kind == "admin1"), ranked[0] if ranked else None)
    return None


def _document_country(a: Analysis) -> str | None:
    countries = [m.place.country for m in a.places if m.place]
    if countries:
        return Counter(countries).most_common(1)[0][0]
    from vigil.extract.actors import lexicon
    from vigil.geo import Gazetteer

    hints = Counter(lexicon().countries_of(a.actors))
    if hints:
        return Gazetteer.default().country_of(hints.most_common(1)[0][0])
    return None


# ACLED notes state the count they code when the report gives none: "Unknown fatalities coded as 10",
# and how it was spread: "... and split between 3 locations" (each of them gets its share).
_CODED = re.compile(
    r"\b(?:fatalit\w*|deaths?|killed)\b[^.;]{0,40}?\bcoded\s+as\s+(\d+)(?:[^.;]{0,40}?\b(?:between|across|among|"
    r"into)\s+(\d+|two|three|four|five|six|seven|eight|nine|ten)\s+(?:locations|events|places|areas|days))?",
    re.I,
)
# "20 fatalities split up between 3 events": the stated toll shared out the same way.
_SPLIT = re.compile(
    r"\b(\d+)\s+(?:fatalit\w*|deaths?)\s+(?:were\s+|are\s+)?(?:split|spread|divided|distributed)(?:\s+up)?\s+"
    r"(?:between|across|among|into)\s+(\d+|two|three|four|five|six|seven|eight|nine|ten)\s+"
    r"(?:locations|events|places|areas|days)\b",
    re.I,
)
_SMALL = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def _coded_fatalities(a: Analysis, c: _Candidate) -> tuple[int, Span] | None:
    """The fatalities a coder's note states for this event, shared out when spread over several."""
    start, end = a.paragraph_of(c.sentence)
    m = _CODED.search(a.text, start, end) or _SPLIT.search(a.text, start, end)
    if m is None:
        return None
    total = int(m.group(1))
    parts = m.group(2)
    k = int(parts) if parts and parts.isdigit() else _SMALL.get((parts or "").lower(), 1)
    share = int(total / k + 0.5)
    return share, Span(doc_id=a.document.id, start=m.start(), end=m.end())


def _default_actor1(event_type: str) -> tuple[str | None, str | None]:
    if event_type in (VAC, BATTLES, EXPLOSIONS):
        return "Unidentified armed group", "unknown_armed"
    if event_type == RIOTS:
        return "Rioters", "rioters"
    return None, None


def _default_actor2(event_type: str, sub: str) -> tuple[str | None, str | None]:
    if event_type == VAC or sub == LOOTING:
        return "Civilians", "civilians"
    if event_type == PROTESTS and sub != PEACEFUL:
        return "Protesters", "protesters"
    return None, None
