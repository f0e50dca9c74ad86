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
from datetime import timedelta

from vigil.extract.analysis import Analysis
from vigil.extract.claims import Draft, is_speech_date
from vigil.model import DateInterval, EventMention, Evidence, Mention, Place, Sentence, Span

RULE_TRIGGER = "events.trigger@1"
RULE_FROM_CLAIM = "events.from_claim@1"
RULE_PLACE = "events.place@1"
RULE_DATE = "events.date@1"
RULE_PUBLICATION_WEEK = "events.publication_week@1"
RULE_ACTOR = "events.actor@1"
RULE_FATALITIES = "events.fatalities_acled@1"

VAC = "Violence against civilians"
BATTLES = "Battles"
EXPLOSIONS = "Explosions/Remote violence"
PROTESTS = "Protests"
RIOTS = "Riots"
SD = "Strategic developments"

# (pattern, event type, sub-event type), in ACLED precedence order within a sentence.
_TRIGGERS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(p, re.I), t, s)
    for p, t, s in [
        (
            r"\bchemical\s+(?:weapons?|attack)\b|\bsarin\b|\bchlorine\s+(?:gas|attack)\b",
            EXPLOSIONS,
            "Chemical weapon",
        ),
        (
            r"\bsuicide\s+(?:bomb(?:er|ing|s)?|attack(?:er)?|vest|car\s+bomb)\b|\bblew\s+himself\s+up\b|\bexplosive\s+vest\b",
            EXPLOSIONS,
            "Suicide bomb",
        ),
        (
            r"\b(?:air\s*strikes?|air\s+raids?|drone\s+strikes?|bombarded\s+from\s+the\s+air|warplanes?\s+(?:struck|bombed|hit))\b",
            EXPLOSIONS,
            "Air/drone strike",
        ),
        (
            r"\b(?:shelling|shelled|artillery|mortar\s+(?:fire|shells?|rounds?)|rocket\s+(?:attack|fire)|missile\s+(?:strike|attack))\b",
            EXPLOSIONS,
            "Shelling/artillery/missile attack",
        ),
        (
            r"\b(?:car\s+bomb|roadside\s+bomb|IEDs?|landmines?|improvised\s+explosive|explosive\s+device|booby[- ]trapped|"
            r"unexploded\s+(?:ordnance|shell|munition))\b",
            EXPLOSIONS,
            "Remote explosive/landmine/IED",
        ),
        (r"\bgrenades?\b", EXPLOSIONS, "Grenade"),
        (r"\b(?:raped|rape|sexual\s+(?:violence|assault))\b", VAC, "Sexual violence"),
        (
            r"\b(?:abduct(?:ed|ion|ions)|kidnapp?(?:ed|ing)|forcibly\s+disappeared)\b",
            VAC,
            "Abduction/forced disappearance",
        ),
        (
            r"\b(?:massacres?|massacred|pogrom|mass\s+killings?|killing\s+spree|executions?|executed|shot\s+dead|"
            r"murdered|butchered|slaughtered|sectarian\s+killings?|violence\s+against\s+(?:an?\s+)?(?:\w+\s+){0,2}"
            r"(?:civilians|neighbou?rhoods?|community|villages?|Alawites|Druze|Christians|Kurds|residents))\b",
            VAC,
            "Attack",
        ),
        (
            r"\b(?:clash(?:es|ed)?|fighting|firefights?|gun\s*battles?|exchanged\s+fire|battles?|ambush(?:ed)?|"
            r"attacked\s+(?:a\s+|an\s+)?(?:\w+\s+)?(?:checkpoints?|positions?|patrols?|convoys?|bases?))\b",
            BATTLES,
            "Armed clash",
        ),
        (r"\b(?:mobs?|rioters|rioting|riots?)\b", RIOTS, "Mob violence"),
        (
            r"\b(?:protests?|protesters|protestors|protested|demonstrations?|demonstrators|rall(?:y|ies)|sit-ins?)\b",
            PROTESTS,
            "Peaceful protest",
        ),
        (
            r"\b(?:loot(?:ed|ing)|vandali[sz](?:ed|ing)|torched|set\s+fire\s+to|burned\s+(?:down\s+)?(?:\w+\s+)?(?:homes|houses|shops)|"
            r"attacked\s+(?:\w+\s+){0,2}(?:shops|homes|houses|residences|property|properties|cars|stores))\b",
            SD,
            "Looting/property destruction",
        ),
        (r"\b(?:arrested|detained|arrest\s+campaign|rounded\s+up)\b", SD, "Arrests"),
        (
            r"\b(?:launch(?:ed|ing|es)?\s+(?:a\s+|an\s+)?(?:new\s+)?(?:[\w-]+\s+){0,2}(?:operation|campaign)|"
            r"halted\s+(?:\w+\s+)?operations|suspended\s+(?:\w+\s+)?operations|(?:second|new)\s+phase\s+of)\b",
            SD,
            "Change to group/activity",
        ),
        (r"\b(?:ceasefire|truce|peace\s+(?:deal|agreement)|signed\s+an?\s+agreement)\b", SD, "Agreement"),
    ]
]
_EXCESSIVE_FORCE = re.compile(
    r"\b(?:shot|shooting|shootings|opened\s+fire|live\s+(?:fire|ammunition|rounds)|gunfire|killed)\b", re.I
)
_INTERVENTION = re.compile(
    r"\b(?:dispersed|tear\s+gas|arrested|crack(?:ing|ed)?\s+down|crackdown|beat(?:en)?|attacked|detained)\b",
    re.I,
)
_BLOCKERS = re.compile(
    r"\b(?:condemn\w*|denounc\w*|urg(?:ed|es|ing)|call(?:ed|s|ing)?\s+(?:on|for)|demand\w*|den(?:ied|ies|y)|"
    r"threat(?:en|ened|ens)\s+to|warn(?:ed|s)?|would|could|might|if|plan(?:s|ned)?\s+to|vow(?:ed|s)?\s+to|"
    r"accountable|prevent\w*|fears?|rumou?rs?|alleged(?:ly)?\s+planned|pushed|ask(?:ed|s)\s+to)\b",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[,;:—–(]|\band\b|\bbut\b|\bafter\b|\bwhen\b|\bwhile\b", re.I)
_ARMED_TYPES = {
    "state_forces",
    "militia",
    "rebel_group",
    "unknown_armed",
    "identity_militia",
    "external_forces",
}
_FAMILY = {
    VAC: "violence",
    BATTLES: "violence",
    EXPLOSIONS: "violence",
    RIOTS: "unrest",
    PROTESTS: "unrest",
    SD: "other",
}


@dataclass(kw_only=True)
class _Candidate:
    event_type: str
    sub_event_type: str
    sentence: Sentence
    span: Span
    rule: str
    drafts: list[Draft] = field(default_factory=list)
    related: list[Draft] = field(default_factory=list)  # listed with the event, never counted in its toll
    sentences: list[Sentence] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)


def find_events(a: Analysis, drafts: list[Draft]) -> list[EventMention]:
    candidates = _triggered(a)
    _attach_claims(a, drafts, candidates)
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
    return events


def _triggered(a: Analysis) -> list[_Candidate]:
    out: list[_Candidate] = []
    for s in a.sentences:
        if a.is_caption(s) or a.is_headline(s):
            continue
        text = a.sentence_text(s)
        taken: list[tuple[int, int]] = []
        for pattern, event_type, sub in _TRIGGERS:
            for m in pattern.finditer(text):
                if any(m.start() < e and s_ < m.end() for s_, e in taken):
                    continue
                if _blocked(text, m.start()):
                    continue
                if event_type == PROTESTS and _protest_is_noise(text, m):
                    continue
                taken.append((m.start(), m.end()))
                span = Span(doc_id=a.document.id, start=s.span.start + m.start(), end=s.span.start + m.end())
                if event_type == PROTESTS:
                    sub = _protest_subtype(text, m.start(), m.end())
                out.append(
                    _Candidate(
                        event_type=event_type,
                        sub_event_type=sub,
                        sentence=s,
                        span=span,
                        rule=RULE_TRIGGER,
                        sentences=[s],
                        evidence=[Evidence(field="event_type", span=span, rule=RULE_TRIGGER)],
                    )
                )
    out.sort(key=lambda c: c.span.start)
    return _one_per_clause(a, out)


def _one_per_clause(a: Analysis, cands: list[_Candidate]) -> list[_Candidate]:
    """Concurrent tactics in one clause are one event of the higher type (ACLED precedence)."""
    order = {sub: i for i, (_, _, sub) in enumerate(_TRIGGERS)}
    kept: list[_Candidate] = []
    for c in cands:
        prev = kept[-1] if kept else None
        if (
            prev is not None
            and prev.sentence.index == c.sentence.index
            and not _CLAUSE_SPLIT.search(a.text[prev.span.end : c.span.start])
            and _FAMILY[prev.event_type] == _FAMILY[c.event_type]
        ):
            winner = prev if order.get(prev.sub_event_type, 99) <= order.get(c.sub_event_type, 99) else c
            winner.evidence = prev.evidence + c.evidence
            kept[-1] = winner
            continue
        kept.append(c)
    return kept


_CLAUSE_SPLIT = re.compile(r"[;:]|,\s+(?:and|while|as|but)\b|\.\s", re.I)


def _protest_is_noise(text: str, m: re.Match[str]) -> bool:
    before = text[max(0, m.start() - 40) : m.start()]
    return bool(
        re.search(r"\b(?:urg\w+|call\w*\s+(?:for|on)|plan\w*|threaten\w*)\s+(?:\w+\s+){0,3}$", before, re.I)
    )


def _protest_subtype(text: str, start: int, end: int) -> str:
    window = text[max(0, start - 80) : end + 120]
    if _EXCESSIVE_FORCE.search(window):
        return "Excessive force against protesters"
    if _INTERVENTION.search(window):
        return "Protest with intervention"
    return "Peaceful protest"


def _blocked(text: str, at: int) -> bool:
    """A denial, threat, condemnation or hypothetical governs the trigger in its clause."""
    clause_start = 0
    for m in _CLAUSE_BREAK.finditer(text, 0, at):
        clause_start = m.end()
    head = text[max(clause_start, at - 70) : at]
    return bool(_BLOCKERS.search(head)) or bool(re.search(r"\bto\s+$", head)) or _statement_sentence(text)


def _statement_sentence(text: str) -> bool:
    return bool(re.search(r"\b(?:condemn\w*|denounc\w*)\b", text, re.I))


def _attach_claims(a: Analysis, drafts: list[Draft], cands: list[_Candidate]) -> None:
    """Killed figures join the nearest event trigger in their sentence, or seed an event of their own."""
    covered = _covered_totals(drafts)
    for d in drafts:
        c = d.claim
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
            and _FAMILY[target.event_type] == "violence"
            and not (target.event_type == BATTLES and civilian)
        ):
            target.drafts.append(d)
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
        if abs(x.sentence.index - d.sentence.index) <= 1 and _FAMILY[x.event_type] == "violence"
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
            gap = c.sentence.index - prev.sentence.index
            if gap > 5:
                break
            absorbed = (
                prev.event_type == BATTLES
                and c.event_type == EXPLOSIONS
                and c.sub_event_type in ("Grenade", "Shelling/artillery/missile attack")
                and not _killed(c)
            )
            if not absorbed and (
                gap > 2 or prev.event_type != c.event_type or prev.sub_event_type != c.sub_event_type
            ):
                continue
            if not _compatible_places(a, prev, c):
                continue
            if _killed(c) and _killed(prev) and not _same_toll(prev, c):
                continue
            target = prev
            break
        if target is None:
            out.append(c)
            continue
        target.drafts += c.drafts
        target.related += c.related
        target.sentences += [s for s in c.sentences if s not in target.sentences]
        target.evidence += c.evidence
    return out


def _killed(c: _Candidate) -> list[Draft]:
    return [d for d in c.drafts if d.claim.killed_or_injured == "killed" and not d.subset]


def _same_toll(a_: _Candidate, b: _Candidate) -> bool:
    """Two figures are one event's when they are cumulative totals of different categories or the same count."""
    ka, kb = _killed(a_), _killed(b)
    if any(x.claim.count == y.claim.count for x in ka for y in kb):
        return True
    if len({x.sentence.index for x in ka + kb}) == 1 and not (
        {x.claim.category for x in ka} & {y.claim.category for y in kb}
    ):
        return True  # one sentence giving each side's dead
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
    return (), [], []


def _clause_places(a: Analysis, s: Sentence, trigger: Span) -> list[Mention]:
    """Places nearest the trigger: those after it in its clause first, then any in the sentence."""
    places = [m for m in a.in_sentence(a.places, s) if m.place and m.place.admin1]
    if not places:
        return []
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
            ):
                group.append(m)
        return group
    before = [m for m in places if m.evidence.span.end <= trigger.start]
    if before:
        last = max(before, key=lambda m: m.evidence.span.start)
        return [m for m in before if m.evidence.span.start >= last.evidence.span.start - 60]
    return places


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
        return DateInterval(start=published - timedelta(days=6), end=published, precision=2), []
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
        armed = [d for d in killed if d.claim.category in ("security_forces", "fighters", "unknown")]
        if armed and not [d for d in killed if d.claim.category == "all"]:
            by_claimant: dict[str, int] = {}
            for d in armed:
                by_claimant[d.claim.claimant] = by_claimant.get(d.claim.claimant, 0) + d.claim.count
            total = min(by_claimant.values())
            return total, total, max(by_claimant.values()), armed
    if not killed:
        return 0, 0, None, []
    counts = [d.claim.count for d in killed]
    return min(counts), min(counts), max(counts), killed


def _build(a: Analysis, c: _Candidate, n: int) -> EventMention | None:
    doc = a.document
    admin1, places, place_ev = _admin1_of(a, c)
    if not admin1 and not c.drafts:
        return None
    if c.rule == RULE_TRIGGER and not _killed(c) and any(d.claim.scope == "incident" for d in c.related):
        return None  # a day's total told province by province: the provinces are the events
    place = _best_place(a, admin1, places)
    date, date_ev = _date_of(a, c)
    actor1, actor2, victims = _actors(a, c)
    fatalities, low, high, used = _fatalities(c)
    event_type, sub = c.event_type, c.sub_event_type
    if event_type == SD and sub == "Looting/property destruction" and actor1 is None:
        event_type, sub = RIOTS, "Mob violence"
    if event_type == PROTESTS and sub == "Peaceful protest" and fatalities > 0:
        sub = "Excessive force against protesters"
    civilian_targeting = event_type == VAC or (
        event_type in (EXPLOSIONS, PROTESTS)
        and (
            any(d.claim.category == "civilians" for d in used) or sub == "Excessive force against protesters"
        )
    )
    victim_group = next((d.claim.victim_group for d in used if d.claim.victim_group), None)
    if victim_group is None and victims is not None and c.rule == RULE_TRIGGER:
        victim_group = victims.actor.name
    a1_name, a1_type = (actor1.actor.name, actor1.actor.type) if actor1 else _default_actor1(event_type)
    a2_name, a2_type = (actor2.actor.name, actor2.actor.type) if actor2 else _default_actor2(event_type, sub)
    if event_type == PROTESTS and sub != "Peaceful protest" and actor1 is not None:
        pass
    elif event_type == PROTESTS:
        a1_name, a1_type, a2_name, a2_type = "Protesters", "protesters", None, None
    country = place.country if place else _document_country(a)
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


def _best_place(a: Analysis, admin1: tuple[str, ...], places: list[Mention]) -> Place | None:
    """The most precise place: a neighbourhood or town if named, else the one governorate."""
    ranked = sorted(
        (m.place for m in places if m.place and m.place.admin1 in admin1),
        key=lambda p: {"neighbourhood": 0, "town": 1, "admin1": 2}.get(p.kind, 3),
    )
    if len(admin1) > 1:
        return None
    if ranked and ranked[0].kind in ("neighbourhood", "town"):
        return ranked[0]
    if len(admin1) == 1:
        return next((p for p in ranked if p.kind == "admin1"), ranked[0] if ranked else None)
    return None


def _document_country(a: Analysis) -> str | None:
    countries = [m.place.country for m in a.places if m.place]
    return Counter(countries).most_common(1)[0][0] if countries else None


def _default_actor1(event_type: str) -> tuple[str | None, str | None]:
    if event_type in (VAC, BATTLES, EXPLOSIONS):
        return "Unidentified armed group", "unknown_armed"
    if event_type == RIOTS:
        return "Rioters", "rioters"
    return None, None


def _default_actor2(event_type: str, sub: str) -> tuple[str | None, str | None]:
    if event_type == VAC or sub == "Looting/property destruction":
        return "Civilians", "civilians"
    if event_type == PROTESTS and sub != "Peaceful protest":
        return "Protesters", "protesters"
    return None, None
