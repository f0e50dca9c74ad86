"""Casualty claims: every number of dead or injured, with who states it and what it covers.

A quantity becomes a claim when it counts people (or deaths) and a killing or
injury word governs it. Each field of a claim is read by a named rule and keeps
its evidence span; the same figure from the same claimant said twice in one
article is one claim (its evidence lists both places).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

from vigil.extract.analysis import Analysis, in_dateline
from vigil.extract.numbers import RULE_PRONOUN, RULE_SINGULAR, QuantityMatch, find_quantities
from vigil.model import Claim, DateInterval, Evidence, Mention, Sentence, Span

RULE_CLAIM = "claims.casualty@3"  # @3: "lost N members" counts a side's dead
RULE_CLAIMANT = "claims.attribution@2"
RULE_VIA = "claims.relay@1"
RULE_DESCRIBED = "claims.described_source@1"  # "the news agency later reported": the agency named before
RULE_SCOPE = "claims.scope@2"
RULE_CATEGORY = "claims.category@1"
RULE_MIXED = "claims.mixed_figure@1"  # "killed and wounded", "killed, injured or captured": at most
RULE_JOINED = "claims.joined_figures@1"  # "a lieutenant and three soldiers": parts of one toll
RULE_SIDE = "claims.armed_side@2"  # "members of regime forces": security forces; "ISIS members": fighters
RULE_VICTIMS = "claims.victim_group@1"
RULE_AREA = "claims.area@1"
RULE_PERIOD = "claims.period@1"
RULE_CARRIED = "claims.attribution_carried@2"
RULE_SAME_FIGURE = "claims.same_figure@2"  # when one number said twice is one claim
# "Fox News and the New York Times report ..." names its own (unlisted) source: nothing is carried over.
_OWN_SOURCE = re.compile(
    r"\W*(?:[A-Z][\w.’'-]*)(?:\s+(?:and|the|of|in|[A-Z][\w.’'()-]*)){0,8}\s+(?:report|reports|reported)\b"
)
RULE_PERIOD_CARRIED = (
    "claims.period_carried@1"  # "Since June 2019, ... attacks. These attacks claimed 927 lives"
)

_KILLED = re.compile(
    r"\b(?:kill(?:ed|ing|s)?|dead|deaths?|died|dying|toll|massacred|murdered|slain|executed|"
    r"lost\s+their\s+lives|lives|life|perished|butchered|slaughtered|fatalities|bodies|victims|assassinat\w*|"
    r"gunned\s+down|liquidated|succumbed|martyr(?:ed|s)?)\b",
    re.I,
)
_INJURED = re.compile(
    r"\b(?:injur(?:ed|ing|ies|y|ied)|wound(?:ed|ing|s)?|hurt)\b", re.I
)  # "injuried": a common misspelling

_CIVILIAN_NOUNS = {
    "civilians",
    "civilian",
    "residents",
    "resident",
    "villagers",
    "women",
    "woman",
    "children",
    "child",
    "boys",
    "girls",
    "minors",
    "worshippers",
    "congregants",
    "families",
    "journalists",
    "doctors",
    "medics",
    "students",
    "farmers",
    "shepherds",
    "brothers",
    "sisters",
    "relatives",
    "infants",
    "babies",
    "elderly",
    "boy",
    "girl",
    "baby",
    "infant",
    "toddler",
    "teenager",
    "villager",
    "farmer",
    "shepherd",
    "driver",
    "journalist",
    "reporter",
    "photographer",
    "doctor",
    "nurse",
    "paramedic",
    "medic",
    "teacher",
    "student",
    "worker",
    "workers",
    "citizen",
    "citizens",
    "merchant",
    "trader",
    "vendor",
    "engineer",
    "pharmacist",
    "lawyer",
    "activist",
    "mayor",
    "imam",
    "mukhtar",
    "pedestrian",
    "passenger",
    "passengers",
    "worshipper",
    "relative",
    "father",
    "mother",
    "son",
    "sons",
    "daughter",
    "daughters",
    "brother",
    "sister",
    "husband",
    "wife",
    "cousin",
    "nephew",
    "niece",
    "teenagers",
    "fishermen",
    "pilgrims",
    "uncle",
    "aunt",
    "grandfather",
    "grandmother",
    "grandson",
    "granddaughter",
    "refugee",
    "migrant",
    "labourer",
    "laborer",
    "pupil",
    "patient",
    "volunteer",
    "rescuer",
    "peasant",
    "female",
    "herders",
    "herder",
    "labourers",
    "laborers",
    "peasants",
    "refugees",
    "migrants",
    "pupils",
    "teachers",
    "nurses",
    "paramedics",
    "patients",
    "volunteers",
    "rescuers",
}
_SECURITY_NOUNS = {
    "soldiers",
    "soldier",
    "troops",
    "personnel",
    "officers",
    "policemen",
    "police",
    "guards",
    "servicemen",
    "officer",
    "policeman",
    "guard",
    "conscript",
    "conscripts",
    "recruits",
    "lieutenant",
    "lieutenants",
    "brigadier",
    "brigadiers",
    "colonel",
    "colonels",
    "captain",
    "captains",
    "sergeant",
    "sergeants",
    "corporal",
    "corporals",
}
_FIGHTER_NOUNS = {
    "fighters",
    "fighter",
    "gunmen",
    "militants",
    "insurgents",
    "loyalists",
    "elements",
    "jihadists",
    "rebels",
    "militant",
    "militiaman",
    "militiamen",
    "rebel",
    "insurgent",
    "jihadist",
    "gunman",
    "commander",
    "commanders",
    "leader",
    "leaders",
    "defector",
    "collaborator",
    "collaborators",
}
_GENERIC_NOUNS = {
    "people",
    "persons",
    "individuals",
    "deaths",
    "dead",
    "bodies",
    "victims",
    "casualties",
    "fatalities",
    "members",
    "member",
    "lives",
    "men",
    "others",
    "more",
    "killed",
    "wounded",
    "injured",
    "person",
    "man",
    "youth",
    "individual",
    "elder",
    "official",
    "officials",
    "employee",
    "employees",
    "prisoner",
    "prisoners",
    "detainee",
    "detainees",
    "dealer",
    "smuggler",
    "him",
    "her",
}
_IDENTITY_NOUNS = {
    "alawites",
    "alawite",
    "christians",
    "christian",
    "druze",
    "kurds",
    "sunnis",
    "shiites",
    "bedouins",
    "ismailis",
}
_PERSON_NOUNS = _CIVILIAN_NOUNS | _SECURITY_NOUNS | _FIGHTER_NOUNS | _GENERIC_NOUNS | _IDENTITY_NOUNS

_SECURITY_CUE = re.compile(
    r"\b(?:security\s+forces|government\s+forces|security\s+personnel|army|police|soldiers)\b", re.I
)
_FIGHTER_CUE = re.compile(r"\b(?:fighters|gunmen|militants|insurgents|loyalists|remnants)\b", re.I)
_CIVILIAN_CUE = re.compile(r"\bcivilians?\b", re.I)

_CUMULATIVE = re.compile(
    r"\b(?:toll\s+(?:has\s+|had\s+)?(?:rose|rises|risen|climbed|reached|increased|jumped|stands|stood|to|includes?)|"
    r"toll\b[^.;]{0,40}?\b(?:rose|rises|risen|climbed|reached|increased|jumped)|(?:rose|risen|climbed|jumped|jumps)\s+to|"
    r"(?:overall|total|cumulative)\s+(?:death\s+)?toll|brings?\s+the\s+toll|bringing\s+the\s+toll|taking\s+the\s+(?:\w+\s+)*toll|to\s+date|so\s+far|in\s+total|a\s+total\s+of|overall|since|"
    r"(?:over|in)\s+the\s+(?:past|last)(?!\s+(?:few|several|couple\s+of|\d|1\d|2[0-4]|twenty-four)\s+hours)|(?:in|within|over)\s+(?:just\s+)?(?:\d+|two|three|four|five|several)\s+(?:hours|days)|"
    r"(?:in|over)\s+(?:two|three|four|five|several|\d+)\s+days|(?:two|three|four|five|\d+)\s+days\s+of|"
    r"between\s+\w+\s+\d+\s+and|campaign|highest\s+number)\b",
    re.I,
)
_SUBSET = re.compile(
    r"\b(?:including|among\s+them|among\s+whom|of\s+whom|of\s+them)\s+(?:some\s+|at\s+least\s+)?$", re.I
)
_SAID = re.compile(
    r"\b(?:said|says|say|reported|reports|report|confirmed|documented|recorded|announced|stated|estimated|added|"
    r"noted|suggested|counted|told)\b",
    re.I,
)
_ACCORDING = re.compile(r"\b(?:according\s+to|citing|cited\s+by|as\s+reported\s+by)\s+(?:the\s+)?$", re.I)
_TOLD = re.compile(r"\btold\s+$", re.I)
_CLAIMANT_TYPES = {"organisation", "media", "person"}
# What may stand between a source and its speech verb: "(SOHR)", ", 67,", ", which relies on a network of
# sources inside Syria,", ", as reported by SANA,", "on Tuesday", "later", "meanwhile".
_SPEAKS_AFTER = re.compile(
    r"\s*(?:\(\w+\)\s*)?(?:,[^,;.]{1,90},\s*)?(?:(?:on\s+\w+|later|earlier|meanwhile|also|separately|"
    r"previously|late\s+on\s+\w+|in\s+a\s+statement)\s+)?(?:has\s+|had\s+|have\s+)?(?:also\s+)?"
    r"(?:said|says|say|reported|reports|report|confirmed|documented|recorded|announced|stated|estimated|added|"
    r"noted|suggested|counted)\b",
    re.I,
)
_SPEECH_BEFORE_DATE = re.compile(
    r"\b(?:said|says|reported|announced|stated|added|confirmed|told\s+\w+(?:\s+\w+)?)\s+(?:on\s+)?$", re.I
)


@dataclass(frozen=True, kw_only=True)
class Draft:
    """A claim before de-duplication, with the positions the event rules need."""

    claim: Claim
    match_start: int  # document offsets of the number
    match_end: int
    sentence: Sentence
    subset: bool
    breakdown: bool  # "25 in Latakia": a figure for one place, part of a list
    mixed: bool = False  # "3 militants were killed, injured or captured": dead and others in one figure
    joined_after: int | None = None  # "a lieutenant and three soldiers": match_start of the figure it adds to


def find_claims(a: Analysis) -> list[Draft]:
    drafts: list[Draft] = []
    carried: tuple[str, int] | None = None  # the last named claimant and the sentence it was named in
    last: Draft | None = None
    for s in a.sentences:
        if a.is_caption(s) or a.is_headline(s):
            continue
        text = a.sentence_text(s)
        previous: Draft | None = None
        dates = [
            (m.evidence.span.start - s.span.start, m.evidence.span.end - s.span.start)
            for m in a.in_sentence(a.dates, s)
        ]
        quantities = [q for q in find_quantities(text, dates=dates) if _counts_people(q)]
        for q in quantities:
            before_sentence = last if last is not None and last.sentence.index == s.index - 1 else None
            draft = _draft(a, s, text, q, previous, before_sentence, quantities, len(drafts))
            if draft is None:
                continue
            own_source = bool(_OWN_SOURCE.match(text))
            if draft.claim.claimant == "article" and carried and s.index - carried[1] <= 3 and not own_source:
                carried = (carried[0], s.index)
                draft = replace(
                    draft,
                    claim=replace(
                        draft.claim,
                        claimant=carried[0],
                        evidence=(
                            *draft.claim.evidence,
                            Evidence(field="claimant", span=s.span, rule=RULE_CARRIED),
                        ),
                    ),
                )
            elif draft.claim.claimant != "article":
                carried = (draft.claim.claimant, s.index)
            if (
                previous is not None
                and not draft.subset
                and previous.claim.killed_or_injured == draft.claim.killed_or_injured
                and _JOINED.fullmatch(a.text, previous.match_end, draft.match_start)
            ):
                draft = replace(draft, joined_after=previous.match_start)
            drafts.append(draft)
            previous = last = draft
    return _dedupe(drafts, a.text)


def _draft(
    a: Analysis,
    s: Sentence,
    text: str,
    q: QuantityMatch,
    previous: Draft | None,
    before: Draft | None,
    quantities: list[QuantityMatch],
    n: int,
) -> Draft | None:
    doc_id = a.document.id
    base = s.span.start
    noun = (q.quantity.noun or "").lower()
    head = noun.split()[-1] if noun else ""
    if noun and head not in _PERSON_NOUNS and noun.split()[0] not in _PERSON_NOUNS and "forces" not in noun:
        return None
    if q.quantity.count <= 0 or q.quantity.count > 2_000_000:
        return None
    if q.rule in (RULE_SINGULAR, RULE_PRONOUN) and not _tight_casualty(text, q):
        return None  # "a man" is a casualty only when the killing or wounding is said of him
    located = bool(_PLACE_AFTER.match(text, q.end)) and _place_follows(a, s, q)
    predicates = [(m.start(), m.end(), "killed") for m in _KILLED.finditer(text)] + [
        (m.start(), m.end(), "injured") for m in _INJURED.finditer(text)
    ]
    running = bool(_RISEN_TO.search(text[max(0, q.start - 30) : q.start]))
    refers_back = (
        before is not None and before.claim.killed_or_injured == "killed" and _BACK_REFERENCE.search(text)
    )
    if head in {"wounded", "injured"}:
        kind = "injured"
    elif _LOST.search(text, max(0, q.start - 12), q.start):
        kind = "killed"  # RULE_LOST: "ISIS also lost 11 members": a side's own dead
    elif head in {"dead", "deaths", "bodies", "fatalities", "killed", "lives"}:
        kind = "killed"
    elif (own := _OWN_VERB.match(text, q.end)) or (
        own := _OF_PREDICATE.search(text, max(0, q.start - 80), q.start)
    ):
        # RULE_GOVERNS: "two others were injured", "the death of a lieutenant and three soldiers": the
        # count's own verb or the noun it is the object of says what happened to it, however near another is
        kind = "injured" if _INJURED.match(own.group("p")) else "killed"
    elif predicates:
        start, end, kind = min(predicates, key=lambda p: _distance(p, q))
        limit = 90 if noun else (400 if located or previous or running else 45)
        if _distance((start, end), q) > limit:
            if not refers_back:
                return None
            kind = "killed"
    elif refers_back:
        kind = "killed"
    else:
        return None
    if not noun and previous is None and not located and not running:
        return None

    mixed = bool(_MIXED_AFTER.match(text, q.end) or _MIXED_BEFORE.search(text, max(0, q.start - 60), q.start))
    if mixed:
        kind = "killed"
    window = text[max(0, q.start - 30) : q.start]
    subset = previous is not None and (
        bool(_SUBSET.search(window))
        or bool(re.match(r"\s+(?:of\s+them|of\s+whom|among\s+them)\b", text[q.end :]))
        or (
            previous.subset
            and bool(re.fullmatch(r"\s*(?:,|and|,\s*and)\s*", text[previous.match_end - base : q.start]))
        )
    )
    parent = previous if subset or (previous is not None and (not noun or head in _IDENTITY_NOUNS)) else None
    category = _category(noun, text, q)
    side_ev: list[Evidence] = []
    if head in _MEMBER_NOUNS and (side := _armed_side(a, s, q)) is not None:
        category = side[0]
        side_ev = [Evidence(field="category", span=side[1], rule=RULE_SIDE)]
    if parent is not None and category in ("all", "unknown"):
        category = parent.claim.category
    if not noun and previous is None and before is not None and before.claim.category != "all":
        category = before.claim.category
    elif category == "all" and noun in {"deaths", "dead", "victims"}:
        category = _category_from_context(a, s) or category
    if not noun and re.search(
        r"\btoll\s+(?:to|at|of|reached)\s+$", text[max(0, q.start - 25) : q.start], re.I
    ):
        category = "all"
    elif not noun and running and _CIVILIAN_CUE.search(text[: q.start]):
        category = "civilians"
    if re.match(r"\s+(?:of\s+(?:them|whom)\s+)?(?:were|are|was)\s+(?:\w+\s+)?civilians\b", text[q.end :]):
        category = "civilians"

    claimant, via, attribution_ev = _attribution(a, s, text, q)
    victim_group, victim_ev = _victim_group(a, s, q, noun)
    admin1, area_ev, local = _area(a, s, q, quantities)
    if subset and parent is not None:
        admin1, area_ev, local = parent.claim.admin1, [], parent.breakdown
    elif not admin1 and refers_back and before is not None:
        admin1 = before.claim.admin1
    breakdown = local or (parent is not None and parent.breakdown)
    period, period_ev = _period(a, s, q)
    carried = _carried_period(a, s, text) if not period.precision else None
    if subset and parent is not None:
        period, scope = parent.claim.period, parent.claim.scope
    elif refers_back and before is not None and not period.precision:
        period, scope = before.claim.period, before.claim.scope
    elif carried is not None:
        period, scope = carried.date, "cumulative"
        period_ev = [Evidence(field="period", span=carried.evidence.span, rule=RULE_PERIOD_CARRIED)]
    else:
        scope = _scope(text, q, period, () if local else admin1, previous if parent else None)
        if scope == "incident" and not period.precision and before is not None and before.breakdown and local:
            scope = before.claim.scope

    span = Span(doc_id=doc_id, start=base + q.start, end=base + q.end)
    evidence = [
        Evidence(field="count", span=span, rule=q.rule if q.rule else RULE_CLAIM),
        *([Evidence(field="qualifier", span=span, rule=RULE_MIXED)] if mixed else []),
        Evidence(field="sentence", span=s.span, rule=RULE_CLAIM),
        *attribution_ev,
        *victim_ev,
        *side_ev,
        *area_ev,
        *period_ev,
    ]
    claim = Claim(
        id=f"{doc_id}-c{n}",
        doc_id=doc_id,
        claimant=claimant,
        via=via,
        count=q.quantity.count,
        qualifier="at_most" if mixed else q.quantity.qualifier,
        killed_or_injured=kind,
        category=category,
        victim_group=victim_group,
        scope=scope,
        period=period,
        admin1=admin1,
        span=span,
        sentence=s.span,
        evidence=tuple(evidence),
        confidence=0.8 if claimant != "article" else 0.7,
    )
    return Draft(
        claim=claim,
        match_start=span.start,
        match_end=span.end,
        sentence=s,
        subset=subset,
        breakdown=breakdown,
        mixed=mixed,
    )


_TIGHT_BEFORE = re.compile(
    r"(?:\b(?:death|deaths|killing|murder|execution|assassination|body|bodies|life|lives|injury|injuring|wounding)"
    r"\s+of\s+|\b(?:killed|killing|kills|kill|shot\s+dead|shooting\s+dead|shot\s+and\s+killed|gunned\s+down|"
    r"executed|executing|murdered|murdering|assassinated|assassinating|stabbed\s+(?:to\s+death\s+)?|slaughtered|"
    r"injured|injuring|wounded|wounding|shot|shooting|targeting|targeted|hit|claimed\s+the\s+li(?:fe|ves)\s+of|"
    r"leaving|left)[\s,]+(?:\w+[\s,]+){0,2}|\bincluding\s+|\bamong\s+them\s+)$",
    re.I,
)
_TIGHT_AFTER = re.compile(
    r"^(?:\s*,[^,;]{0,80},|\s+(?:of|from|in|with|for|at)\s+[^,;.]{0,60}?|\s+and\s+(?:[\w’'-]+\s+){1,4}?)?"
    r"\s*(?:who\s+|,\s*)?"
    r"(?:(?:was|were|has\s+been|had\s+been|is|got)\s+(?:\w+\s+){0,2}?"
    r"(?:killed|shot|executed|murdered|assassinated|found\s+dead|slain|stabbed|injured|wounded|hurt)|"
    r"(?:has\s+|had\s+)?(?:died|succumbed)\b)|"
    r"^\s+(?:died|dies|succumbed|perished|killed|dead|injured|wounded)\b|^\s+(?:immediate\s+|instant\s+)?death\b",
    re.I,
)


_BACK_TO_PERIOD = re.compile(
    r"^(?:\W*(?:these|those|such|the)\s+(?:\w+\s+){0,3}?(?:attacks|assassinations|incidents|operations|violations|"
    r"strikes|explosions|bombings|killings|clashes)\b|.*\b(?:in|during|over|within)\s+the\s+same\s+period\b)",
    re.I | re.S,
)


def _carried_period(a: Analysis, s: Sentence, text: str) -> Mention | None:
    """A running total whose period the sentence before gave ("Since June 2019 ... These attacks killed")."""
    if s.index == 0 or not _BACK_TO_PERIOD.search(text):
        return None
    prev = a.sentences[s.index - 1]
    for m in a.in_sentence(a.dates, prev):
        if m.evidence.rule.startswith(("timeparse.since", "timeparse.until_now")) and m.date and m.date.start:
            return m
    if re.search(r"\bsame\s+period\b", text, re.I):
        for sent in reversed(a.sentences[max(0, s.index - 3) : s.index]):
            for m in a.in_sentence(a.dates, sent):
                if m.evidence.rule.startswith(("timeparse.since", "timeparse.until_now")) and m.date:
                    return m
    return None


def _tight_casualty(text: str, q: QuantityMatch) -> bool:
    before = text[max(0, q.start - 60) : q.start]
    return bool(_TIGHT_BEFORE.search(before) or _TIGHT_AFTER.match(text[q.end : q.end + 140]))


def _counts_people(q: QuantityMatch) -> bool:
    noun = (q.quantity.noun or "").lower()
    return (
        not noun or noun.split()[-1] in _PERSON_NOUNS or noun.split()[0] in _PERSON_NOUNS or "forces" in noun
    )


_MEMBER_NOUNS = {"members", "member", "men", "elements", "personnel", "ranks"}
_STATE_TYPES = {"state_forces", "external_forces"}
_NONSTATE_TYPES = {"militia", "rebel_group", "identity_militia", "unknown_armed"}


def _armed_side(a: Analysis, s: Sentence, q: QuantityMatch) -> tuple[str, Span] | None:
    """RULE_SIDE: whose members a figure counts, from the armed group named with it: "seven members of regime
    forces", "674 ISIS members", "ISIS also lost 11 members". A state's forces are security forces; any
    other armed group's members are fighters."""
    base = s.span.start
    text = a.sentence_text(s)
    for m in a.in_sentence(a.actors, s):
        if m.actor is None or m.actor.type not in _STATE_TYPES | _NONSTATE_TYPES:
            continue
        rel_start, rel_end = m.evidence.span.start - base, m.evidence.span.end - base
        inside = q.start <= rel_start < q.end
        of_group = 0 <= rel_start - q.end <= 12 and re.fullmatch(
            r"\s+of\s+(?:the\s+)?", text[q.end : rel_start]
        )
        lost = 0 <= q.start - rel_end <= 20 and re.fullmatch(
            r"\s+(?:also\s+|have\s+|has\s+|had\s+)?(?:lost|loses|lose|losing)\s+", text[rel_end : q.start]
        )
        if inside or of_group or lost:
            return ("security_forces" if m.actor.type in _STATE_TYPES else "fighters"), m.evidence.span
    return None


# RULE_JOINED: two figures listed together as the dead of one event ("a brigadier and five members")
_JOINED = re.compile(r"\s*(?:,\s*)?(?:and|as\s+well\s+as|along\s+with|in\s+addition\s+to)\s+", re.I)
# RULE_MIXED: one figure for the dead and the wounded (or captured) together counts at most that many dead.
_MIXED_AFTER = re.compile(
    r"\s+(?:\w+\s+){0,3}?(?:were\s+|was\s+|have\s+been\s+|had\s+been\s+)?(?:killed|dead)\s*,?\s*(?:and|or|,)\s+"
    r"(?:injured|wounded|captured|arrested)\b",
    re.I,
)
_MIXED_BEFORE = re.compile(
    r"\b(?:killing|killed|kill)\s*,?\s*(?:and|or|,)\s+(?:injuring|wounding|injured|wounded|capturing|captured)"
    r"(?:\s*,?\s*or\s+(?:capturing|arresting|captured|arrested))?\s+(?:a\s+)?(?:total\s+of\s+)?"
    r"(?:(?:at\s+least|more\s+than|over|about|some|nearly)\s+)?$",
    re.I,
)
_OWN_VERB = re.compile(
    r"\s+(?:of\s+them\s+|of\s+whom\s+)?(?:were|was|have\s+been|has\s+been|had\s+been|are|is|got)\s+(?:\w+ly\s+)?"
    r"(?P<p>killed|injured|injuried|wounded|hurt|shot\s+dead|executed|murdered|slain)\b",
    re.I,
)
_OF_PREDICATE = re.compile(
    r"\b(?P<p>deaths?|killing|murder|execution|bod(?:y|ies)|corpses?|injury|injuries|injuring|wounding)\s+of\s+"
    r"(?:[\w’'-]+\s+){0,5}$",
    re.I,
)
_LOST = re.compile(r"\b(?:lost|loses|lose|losing)\s+$", re.I)
_RISEN_TO = re.compile(
    r"\b(?:rose|risen|rises|climbed|climbs|reached|reaches|jumped|jumps|increased|stands?|stood)\s+(?:to|at)\s+$",
    re.I,
)
_PLACE_AFTER = re.compile(r"\s*(?:\w+\s+)?(?:in|at|from)\s+", re.I)
_BACK_REFERENCE = re.compile(
    r"\b(?:(?:this|the|that)\s+(?:number|figure|toll|tally|count)|includes?|including|among\s+(?:them|the\s+dead|whom))\b",
    re.I,
)


def _place_follows(a: Analysis, s: Sentence, q: QuantityMatch) -> bool:
    at = s.span.start + q.end
    return any(0 <= m.evidence.span.start - at <= 25 for m in a.in_sentence(a.places, s))


def _distance(p: tuple[int, int, str] | tuple[int, int], q: QuantityMatch) -> int:
    start, end = p[0], p[1]
    if end <= q.start:
        return q.start - end
    if start >= q.end:
        return start - q.end
    return 0


def _category(noun: str, text: str, q: QuantityMatch) -> str:
    words = set(noun.split())
    after = text[q.end : q.end + 40]
    if words & _CIVILIAN_NOUNS:
        return "civilians"
    if words & _SECURITY_NOUNS or ("member" in noun and _SECURITY_CUE.search(after)):
        return "security_forces"
    if "security" in noun or "government" in noun:
        return "security_forces"
    if "forces" in noun:
        return "fighters"
    if words & _FIGHTER_NOUNS or ("member" in noun and _FIGHTER_CUE.search(after)):
        return "fighters"
    if "member" in noun:
        return "unknown"
    return "all"


def _category_from_context(a: Analysis, s: Sentence) -> str | None:
    """'49 deaths' after '158 civilians dead': a breakdown keeps its total's category."""
    if s.index == 0:
        return None
    prev = a.sentences[s.index - 1]
    return "civilians" if _CIVILIAN_CUE.search(a.sentence_text(prev)) else None


def _attribution(
    a: Analysis, s: Sentence, text: str, q: QuantityMatch
) -> tuple[str, str | None, list[Evidence]]:
    """Who gives the figure (claimant) and who relays it (via)."""
    base = s.span.start
    candidates: list[tuple[int, Mention, str]] = []
    for m in a.in_sentence(a.actors, s):
        if m.actor is None or m.actor.type not in _CLAIMANT_TYPES:
            continue
        rel_start = m.evidence.span.start - base
        rel_end = m.evidence.span.end - base
        before = text[max(0, rel_start - 30) : rel_start]
        if _TOLD.search(before):
            candidates.append((abs(rel_start - q.start), m, "told"))
        elif (
            _ACCORDING.search(before)
            or _SPEAKS_AFTER.match(text, rel_end)
            or re.search(
                r"\b(?:said|says|reported|according\s+to)\s+(?:the\s+)?(?:\w+\s+){0,2}$", before, re.I
            )
        ):
            candidates.append((abs(rel_start - q.start), m, "said"))
    evidence: list[Evidence] = []
    claimant, via = "article", None
    sources = sorted((c for c in candidates if c[2] == "said"), key=lambda c: c[0])
    relays = [c for c in candidates if c[2] == "told"]
    orgs = [c for c in sources if c[1].actor.type != "media"]
    media = [c for c in sources if c[1].actor.type == "media"]
    if orgs:
        claimant = orgs[0][1].actor.name
        evidence.append(Evidence(field="claimant", span=orgs[0][1].evidence.span, rule=RULE_CLAIMANT))
        if media:
            via = media[0][1].actor.name
    elif media:
        claimant = media[0][1].actor.name
        evidence.append(Evidence(field="claimant", span=media[0][1].evidence.span, rule=RULE_CLAIMANT))
    if relays:
        via = relays[0][1].actor.name
        evidence.append(Evidence(field="via", span=relays[0][1].evidence.span, rule=RULE_VIA))
        if claimant == "article":
            claimant = _speaker_before(text, relays[0][1].evidence.span.start - base) or "article"
    if (joint := _joint_source(a, s, text, q)) is not None:
        claimant, via = joint[0], None
        evidence = [e for e in evidence if e.field != "claimant"]
        evidence.append(Evidence(field="claimant", span=joint[1], rule=RULE_DESCRIBED))
    elif claimant == "article" and (described := _described_source(a, s, text, q)) is not None:
        claimant = described[0]
        evidence.append(Evidence(field="claimant", span=described[1], rule=RULE_DESCRIBED))
    quote = a.quote_around(base + q.start)
    if quote is not None and quote.introducer:
        outlet = _resolve_outlet(a, quote.introducer)
        if outlet and outlet != claimant:
            if claimant == "article":
                claimant = outlet
            else:
                via = via or outlet
            start = quote.introducer_start or quote.start
            evidence.append(
                Evidence(
                    field="via" if via == outlet else "claimant",
                    span=Span(doc_id=a.document.id, start=start, end=start + len(quote.introducer)),
                    rule=RULE_VIA,
                )
            )
    return claimant, via, evidence


_MEDIA_HEADS = {
    "news agency",
    "agency",
    "news outlet",
    "outlet",
    "broadcaster",
    "newspaper",
    "daily",
    "channel",
}
_DESCRIPTION = re.compile(
    r"\b(?P<det>[Tt]he|[Tt]his|[Tt]hat|[Aa]n?)\s+(?:[\w-]+\s+){0,3}?(?P<head>news\s+agency|agency|news\s+outlet|"
    r"outlet|broadcaster|newspaper|daily|channel|monitor|observatory|watchdog|ministry|rights\s+group|"
    r"organi[sz]ation)\b"
)
# Named sources said together: "Fox News and the New York Times report ...".
_JOINT = re.compile(r"\s+and\s+(?:the\s+)?", re.I)


def _described_source(a: Analysis, s: Sentence, text: str, q: QuantityMatch) -> tuple[str, Span] | None:
    """RULE_DESCRIBED: a source named by description as the subject of a speech verb before the figure.
    "The news agency later reported": the last news agency named before; "A local news outlet reported":
    that outlet, as the article describes it."""
    base = s.span.start
    found = None
    for m in _DESCRIPTION.finditer(text, 0, q.start):
        if _SPEAKS_AFTER.match(text, m.end()) and not a.within(a.actors, base + m.start(), base + m.end()):
            found = m
    if found is None:
        return None
    span = Span(doc_id=a.document.id, start=base + found.start(), end=base + found.end())
    head = " ".join(found.group("head").lower().split())
    if found.group("det").lower() in ("a", "an"):
        return found.group(), span
    kind = "media" if head in _MEDIA_HEADS else "organisation"
    before = [m for m in a.actors if m.actor and m.actor.type == kind and m.evidence.span.end <= span.start]
    if not before:
        return None
    return before[-1].actor.name, span


def _joint_source(a: Analysis, s: Sentence, text: str, q: QuantityMatch) -> tuple[str, Span] | None:
    """RULE_DESCRIBED: two named sources that speak together ("Fox News and the New York Times report")."""
    base = s.span.start
    named = [
        m
        for m in a.in_sentence(a.actors, s)
        if m.actor and m.actor.type in ("media", "organisation", "unknown")
    ]
    for first, second in itertools.pairwise(named):
        rel_end = second.evidence.span.end - base
        gap = a.text[first.evidence.span.end : second.evidence.span.start]
        if (
            rel_end <= q.start
            and _JOINT.fullmatch(gap)
            and _SPEAKS_AFTER.match(text, rel_end)
            and first.actor.name != second.actor.name
        ):
            start = first.evidence.span.start
            span = Span(doc_id=a.document.id, start=start, end=second.evidence.span.end)
            return " ".join(a.text[start : span.end].split()), span
    return None


def _resolve_outlet(a: Analysis, name: str) -> str | None:
    from vigil.extract.actors import lexicon

    found = lexicon().find(name, doc_id=a.document.id)
    if found and found[0].actor.type in _CLAIMANT_TYPES:
        return found[0].actor.name
    if name.split()[0] in {"The", "Al"} or len(name.split()) >= 2:
        return name
    return None


def _speaker_before(text: str, told_at: int) -> str | None:
    """'Baniyas resident Samir Haidar, 67, told AFP': the person before 'told'."""
    before = text[:told_at]
    m = re.search(r"([A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+){0,3})(?:,\s*\d+,)?\s+told\s+$", before)
    return m.group(1) if m else None


def _victim_group(a: Analysis, s: Sentence, q: QuantityMatch, noun: str) -> tuple[str | None, list[Evidence]]:
    base = s.span.start
    lo, hi = base + max(0, q.start - 25), base + min(len(a.sentence_text(s)), q.end + 60)
    best: tuple[int, Mention] | None = None
    for m in a.within(a.actors, lo, hi):
        if (
            m.actor is None
            or m.actor.type != "identity_group"
            or (m.actor.name == "Christian" and "worshippers" in m.text.lower())
        ):
            continue
        start = m.evidence.span.start
        own_noun = base + q.start <= start < base + q.end
        between = a.text[base + q.end : start] if start >= base + q.end else ""
        if not own_noun and start >= base + q.end and re.search(r"\bincluding\b", between):
            continue
        if not own_noun and re.search(r"\d", between):
            continue
        if start < base + q.start and not a.text[start : base + q.start].strip().endswith(m.text):
            # An identity word before the number only counts when it is the adjective of this figure.
            continue
        distance = 0 if own_noun else abs(start - (base + q.end))
        if best is None or distance < best[0]:
            best = (distance, m)
    if best is None:
        return None, []
    return best[1].actor.name, [Evidence(field="victim_group", span=best[1].evidence.span, rule=RULE_VICTIMS)]


def _area(
    a: Analysis, s: Sentence, q: QuantityMatch, quantities: list[QuantityMatch]
) -> tuple[tuple[str, ...], list[Evidence], bool]:
    """Governorates a figure covers: its own 'N in <place>', the nearest place when a sentence lists
    figures by place, else every place in the sentence, else in the sentence before."""
    base = s.span.start
    places = [m for m in a.in_sentence(a.places, s) if m.place and m.place.admin1]
    own = [
        m
        for m in places
        if 0 <= m.evidence.span.start - (base + q.end) <= 25
        and re.fullmatch(
            r"\s*(?:\w+\s+)?(?:in|at|across|from)\s+(?:the\s+)?(?:\w+\s+)?",
            a.text[base + q.end : m.evidence.span.start],
        )
    ]
    if own:
        group = _place_list(a, own[0], places)
        names = tuple(dict.fromkeys(m.place.admin1 for m in group))
        return (
            names,
            [Evidence(field="admin1", span=m.evidence.span, rule=RULE_AREA) for m in group],
            len(names) == 1,
        )
    distinct = list(dict.fromkeys(m.place.admin1 for m in places))
    if len(quantities) >= 2 and len(distinct) >= 2:
        text = a.sentence_text(s)
        main = [x for x in quantities if not _SUBSET.search(text[max(0, x.start - 30) : x.start])]
        if len(main) == len(distinct) and q in main:
            if _alternate(main, places, base):
                name = distinct[main.index(q)]
                m = next(m for m in places if m.place.admin1 == name)
                return (
                    (m.place.admin1,),
                    [Evidence(field="admin1", span=m.evidence.span, rule=RULE_AREA)],
                    True,
                )
            nearest = [_nearest_place(x, places, quantities, base) for x in main]
            if None not in nearest and len({m.place.admin1 for m in nearest}) == len(main):
                m = nearest[main.index(q)]
                return (
                    (m.place.admin1,),
                    [Evidence(field="admin1", span=m.evidence.span, rule=RULE_AREA)],
                    True,
                )
    for sent in (s, a.sentences[s.index - 1] if s.index > 0 else None):
        if sent is None:
            continue
        names: list[str] = []
        ev: list[Evidence] = []
        for m in a.in_sentence(a.places, sent):
            if m.place and m.place.admin1 and m.place.admin1 not in names:
                names.append(m.place.admin1)
                ev.append(Evidence(field="admin1", span=m.evidence.span, rule=RULE_AREA))
        if names:
            return tuple(names), ev, False
    return (), [], False


def _place_list(a: Analysis, first: Mention, places: list[Mention]) -> list[Mention]:
    """'in Latakia, Hama, Tartous and Homs': the first place and those listed after it."""
    group = [first]
    for m in sorted(places, key=lambda m: m.evidence.span.start):
        if m.evidence.span.start <= group[-1].evidence.span.start:
            continue
        if re.fullmatch(
            r"\s*(?:,|and|,\s*and|or|\(|\)\s*(?:,|and)?)\s*",
            a.text[group[-1].evidence.span.end : m.evidence.span.start],
        ):
            group.append(m)
        else:
            break
    return group


def _nearest_place(
    q: QuantityMatch, places: list[Mention], quantities: list[QuantityMatch], base: int
) -> Mention | None:
    """The closest place with no other figure between it and this one."""
    free = [
        m
        for m in places
        if not any(
            o is not q
            and min(m.evidence.span.start - base, q.start)
            < o.start
            < max(m.evidence.span.start - base, q.start)
            for o in quantities
        )
    ]
    if not free:
        return None
    return min(
        free,
        key=lambda m: min(
            abs(m.evidence.span.start - base - q.end), abs(q.start - (m.evidence.span.end - base))
        ),
    )


def _alternate(quantities: list[QuantityMatch], places: list[Mention], base: int) -> bool:
    """Figures and places take turns ('In Tartus, 33 ...; Latakia ... 52'), so the i-th goes with the i-th."""
    seq: list[tuple[int, str]] = [(q.start, "q") for q in quantities]
    last_admin1 = None
    for m in sorted(places, key=lambda m: m.evidence.span.start):
        if m.place.admin1 != last_admin1:
            seq.append((m.evidence.span.start - base, "p"))
            last_admin1 = m.place.admin1
    kinds = [k for _, k in sorted(seq)]
    return all(x != y for x, y in itertools.pairwise(kinds))


def _period(a: Analysis, s: Sentence, q: QuantityMatch) -> tuple[DateInterval, list[Evidence]]:
    """The dates a figure covers: the nearest date in its sentence that is not when it was said."""
    base = s.span.start
    best: tuple[int, Mention] | None = None
    for m in a.in_sentence(a.dates, s):
        if is_speech_date(a, m):
            continue
        d = abs(m.evidence.span.start - (base + q.end))
        if best is None or d < best[0]:
            best = (d, m)
    if best is None or best[1].date is None:
        return DateInterval(), []
    return best[1].date, [Evidence(field="period", span=best[1].evidence.span, rule=RULE_PERIOD)]


def is_speech_date(a: Analysis, m: Mention) -> bool:
    """'said on Wednesday' or a dateline: the day a figure was given, not the days it covers."""
    start = m.evidence.span.start
    return bool(_SPEECH_BEFORE_DATE.search(a.text[max(0, start - 40) : start])) or in_dateline(a.text, start)


def _scope(
    text: str, q: QuantityMatch, period: DateInterval, admin1: tuple[str, ...], previous: Draft | None
) -> str:
    day = re.search(
        r"\b(?:on\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|today|yesterday|last\s+night)\b",
        text[q.end : q.end + 50],
        re.I,
    )
    if day and not _SAID.search(text[q.end : q.end + day.start()]):
        return "incident"
    if _CUMULATIVE.search(text) or (len(admin1) >= 2 and period.precision != 1):
        return "cumulative"
    if period.start and period.end and period.start != period.end:
        return "cumulative"
    if period.precision and period.precision >= 2:
        return "cumulative"
    if previous is not None:
        return previous.claim.scope
    return "incident"


_DEFINITE = re.compile(r"\b(?:the|these|those)\s+$", re.I)


def _dedupe(drafts: list[Draft], text: str | None = None) -> list[Draft]:
    """One claim per (claimant, count, killed/injured) in a document; the fuller reading wins."""
    kept: dict[tuple, Draft] = {}
    order: list[tuple] = []
    attributed = {
        (d.claim.count, d.claim.killed_or_injured): d.claim.claimant
        for d in drafts
        if d.claim.claimant != "article"
    }
    for d in drafts:
        c = d.claim
        claimant = (
            c.claimant
            if c.claimant != "article"
            else attributed.get((c.count, c.killed_or_injured), "article")
        )
        key = (claimant, c.count, c.killed_or_injured)
        while key in kept and not _same_figure(kept[key].claim, c):
            key = (*key, "other")  # the same number for other people or another period: its own claim
        if key not in kept:
            kept[key] = d
            order.append(key)
            continue
        old = kept[key]
        primary, other = (d, old) if _richness(d.claim) > _richness(old.claim) else (old, d)
        p, o = primary.claim, other.claim
        scope = "cumulative" if "cumulative" in (p.scope, o.scope) else p.scope
        period = p.period if p.period.precision else o.period
        first, later = (old, d) if old.match_start <= d.match_start else (d, old)
        if text is not None and _DEFINITE.search(text, max(0, later.match_start - 6), later.match_start):
            # RULE_SAME_FIGURE: "... the death of the six members": a repeat takes its first saying's scope
            scope, period = first.claim.scope, first.claim.period if first.claim.period.precision else period
        merged = replace(
            p,
            claimant=p.claimant if p.claimant != "article" else o.claimant,
            via=p.via or o.via,
            qualifier=p.qualifier if p.qualifier != "exact" else o.qualifier,
            victim_group=p.victim_group or o.victim_group,
            category=p.category if p.category not in ("all", "unknown") else o.category,
            scope=scope,
            admin1=p.admin1 or o.admin1,
            period=period,
            evidence=p.evidence + tuple(replace(e, field=f"{e.field}") for e in o.evidence),
        )
        kept[key] = replace(
            primary,
            claim=merged,
            subset=primary.subset and other.subset,
            sentence=first.sentence,
            match_start=first.match_start,
            match_end=first.match_end,
        )
    renumbered = []
    for i, key in enumerate(order):
        d = kept[key]
        renumbered.append(replace(d, claim=replace(d.claim, id=f"{d.claim.doc_id}-c{i}")))
    return renumbered


def _same_figure(a: Claim, b: Claim) -> bool:
    """RULE_SAME_FIGURE: one number said twice is one claim unless the two sayings count different people
    (civilians and soldiers) or one is a day's toll and the other a running total over a long period."""
    specific = {"civilians", "security_forces", "fighters"}
    if a.category in specific and b.category in specific and a.category != b.category:
        return False
    if a.scope != b.scope:
        long = [c for c in (a, b) if c.scope == "cumulative" and _long_period(c.period)]
        if long:
            return False
    if (
        a.period.precision
        and b.period.precision
        and (a.period.start, a.period.end) != (b.period.start, b.period.end)
    ):
        return False  # the same number on other days
    # "a civilian" told twice with a day only once: one person is too common a figure to be one claim by it
    return not (a.count == 1 and bool(a.period.precision) != bool(b.period.precision))


def _long_period(p: DateInterval) -> bool:
    return p.start is not None and p.end is not None and (p.end - p.start).days > 31


def _richness(c: Claim) -> int:
    return (c.via is not None) * 4 + (c.qualifier != "exact") * 2 + (c.victim_group is not None)
