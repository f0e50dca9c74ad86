"""Counts in news text ("at least 1,200 civilians", "Twenty-two people", "dozens of people"): the
number, its qualifier and the noun it counts, with exact spans.

Rules, not a model: numbers in digits or words (text2num reads the words), a
qualifier read from the words just before (or after) the number, the head of
the noun phrase just after it, and a list of things that are numbers but not
counts (years, dates, clock times, ages, percentages, money, durations,
distances, ranks, ids, URLs). Vague amounts follow ACLED's rule (DESIGN.md
section 4). Which counts are casualties is the claims layer's call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text_to_num import alpha2digit

from vigil.model import Quantity
from vigil.timeparse import find_dates

RULE_DIGITS = "numbers.digits@2"  # @2: "Street 50" is a label; "15 IS militants"
RULE_WORDS = "numbers.words@2"
RULE_VAGUE = "numbers.vague@1"
RULE_RANGE = "numbers.range@1"
RULE_SINGULAR = "numbers.singular@2"  # "a civilian", "an officer": one person
RULE_PRONOUN = "numbers.pronoun@2"  # "killing him", "causing his death": one person
RULE_AND_ONE = "numbers.and_one_more@1"  # "two of his brothers and his niece": three people


@dataclass(frozen=True, kw_only=True)
class QuantityMatch:
    """One count in a text: [start, end) runs from its qualifier to its noun; the number and the noun
    have their own spans (noun None when elided, as in "25 in Latakia")."""

    start: int
    end: int
    quantity: Quantity
    number_start: int
    number_end: int
    noun_start: int | None
    noun_end: int | None
    rule: str = RULE_DIGITS


# --- numbers -----------------------------------------------------------------------------------------

# fmt: off
_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ["hundred", "thousand", "million", "billion"]
# fmt: on
# One number word; "twenty-two" and "twenty two" are two of them joined, as text2num reads them.
_WORD = rf"(?:{'|'.join(sorted(_UNITS + _TENS + _SCALES, key=len, reverse=True))})\b"
_WORDS = (
    rf"(?:\ba\s+(?=(?:{'|'.join(_SCALES)})\b))?\b{_WORD}"
    rf"(?:(?:[-\s]+|(?:(?<=hundred)|(?<=thousand)|(?<=million)|(?<=billion))\s+and\s+){_WORD})*\b"
)
_DIGITS = r"(?<![\w.,/:+$£€#])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s+(?:thousand|million|billion)\b)?"
_DOZEN = rf"\b(?:half\s+a|a|\d+|{_WORDS})\s+dozen\b"

# ACLED: "several", "many", "few" -> 3 or 10 by scale; "dozens" -> 12; "hundreds" -> 100.
_VAGUE = {
    "a few": 3,
    "few": 3,
    "several": 3,
    "a handful": 3,
    "many": 10,
    "numerous": 10,
    "dozens": 12,
    "scores": 20,
    "hundreds": 100,
    "thousands": 1_000,
    "tens of thousands": 10_000,
    "hundreds of thousands": 100_000,
    "millions": 1_000_000,
}
_VAGUE_SCALED = re.compile(r"(several|a\s+few)\s+(dozen|hundred|thousand)", re.I)
_SCALE_VALUE = {
    "dozen": 12,
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
}
_VAGUE_PATTERN = (
    r"\b(?:tens\s+of\s+thousands|hundreds\s+of\s+thousands|(?:several|a\s+few)\s+(?:dozen|hundred|thousand)\b(?!s)"
    r"|a\s+handful|dozens|scores|hundreds|thousands|millions|several|a\s+few|few|many|numerous)\b(?!-)"
)
_CANDIDATE = re.compile(
    rf"(?P<vague>{_VAGUE_PATTERN})|(?P<dozen>{_DOZEN})|(?P<digits>{_DIGITS})|(?P<words>{_WORDS})", re.I
)
_NEEDS_NOUN = {"several", "a few", "few", "many", "numerous", "a handful", "scores"}
# A cheap test before the full search: no digit, number word, vague amount, article or pronoun, no count.
_HAS_NUMBER = re.compile(
    rf"\d|{_WORD}|\b(?:dozen|dozens|scores|hundreds|thousands|millions|several|few|many|numerous|handful|a|an|"
    r"him|her|his)\b",
    re.I,
)

# A person counted by the article alone: "a civilian", "an elderly man", "a member of the police".
# fmt: off
PERSON_SINGULARS = {
    "civilian", "man", "woman", "child", "boy", "girl", "baby", "infant", "toddler", "teenager", "youth", "resident",
    "villager", "farmer", "shepherd", "driver", "journalist", "reporter", "photographer", "doctor", "nurse",
    "paramedic", "medic", "teacher", "student", "worker", "citizen", "merchant", "trader", "vendor", "engineer",
    "pharmacist", "lawyer", "activist", "mayor", "imam", "sheikh", "mukhtar", "official", "employee", "prisoner",
    "detainee", "soldier", "officer", "policeman", "guard", "member", "fighter", "militant", "militiaman", "rebel",
    "insurgent", "jihadist", "commander", "leader", "collaborator", "dealer", "smuggler", "person", "individual",
    "pedestrian", "passenger", "worshipper", "relative", "father", "mother", "son", "daughter", "brother", "sister",
    "husband", "wife", "cousin", "nephew", "niece", "uncle", "aunt", "grandfather", "grandmother",
    "grandson", "granddaughter", "refugee", "migrant", "herder", "labourer", "laborer", "pupil", "patient",
    "volunteer", "rescuer", "peasant", "female", "lieutenant", "brigadier", "colonel", "captain", "sergeant", "corporal",
    "gunman", "recruit", "conscript", "defector", "elder",
}
# fmt: on
_SINGULAR = re.compile(
    r"\b(?:a|an)\s+(?=[“\"‘]?(?:[\w’'-]+\s+){0,3}?[“\"‘]?(?:" + "|".join(sorted(PERSON_SINGULARS)) + r")\b)",
    re.I,
)
# One more person of the same family or group joined to a count: "two of his brothers and his niece".
_AND_ONE_MORE = re.compile(r"\s+and\s+(?:his|her|their)\s+", re.I)


def _one_more(text: str, pos: int) -> _Word | None:
    """The person in "... and his niece" right after a counted noun, when there is one."""
    m = _AND_ONE_MORE.match(text, pos)
    if m is None:
        return None
    for w in _words_after(text, m.end(), limit=2):
        if w.lower in PERSON_SINGULARS:
            return w
    return None


_PRONOUN = re.compile(
    r"\b(?:(?:killing|killed|kills|shot\s+dead|shooting\s+dead|executing|executed|murdering|murdered|"
    r"injuring|injured|wounding|wounded)\s+(him|her)\b|(?:caus\w+|result\w*\s+in|led\s+to|leading\s+to)\s+"
    r"(his|her)\s+(?:immediate\s+|instant\s+)?death)",
    re.I,
)


def parse_number(text: str) -> int | None:
    """The integer a written amount stands for ("1,383", "twenty-two", "two dozen", "hundreds"), or None."""
    t = " ".join(text.lower().replace("’", "'").split())
    if t in _VAGUE:
        return _VAGUE[t]
    if m := _VAGUE_SCALED.fullmatch(t):
        return 3 * _SCALE_VALUE[m.group(2)]
    if t.endswith(" dozen"):
        head = t.removesuffix(" dozen")
        n = {"a": 1, "half a": 0.5}.get(head) or parse_number(head)
        return None if n is None else int(n * 12)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", t):
        return int(t.replace(",", ""))
    if m := re.fullmatch(r"(\d+(?:\.\d+)?|\d{1,3}(?:,\d{3})+)\s+(thousand|million|billion)", t):
        return round(float(m.group(1).replace(",", "")) * _SCALE_VALUE[m.group(2)])
    if re.fullmatch(_WORDS, t):
        digits = alpha2digit(re.sub(r"^a (?=hundred|thousand|million|billion)", "one ", t), "en", threshold=0)
        return int(digits) if digits.isdigit() else None
    return None


# --- what is a number but not a count ---------------------------------------------------------------

_URL = re.compile(
    r"\b(?:https?://|www\.)\S+|\b[\w.-]+@[\w-]+\.[\w.]+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|int|edu|tv|mk|co|news)(?:/\S*)?",
    re.I,
)
_CLOCK = re.compile(
    r"\b\d{1,2}:\d{2}(?:\s*(?:[ap]\.?m\.?|hrs|GMT|UTC))?\b|\b\d{1,2}\s*(?:[ap]\.m\.|[ap]m\b|o'clock)", re.I
)
_UNIT_AFTER = re.compile(
    r"[\s-]*(?:(?:more|additional|consecutive|full|straight|long|short|whole|successive|previous|past|next|"
    r"last|extra)\s+)?(?:seconds?|minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|months?|years?|yrs?|"
    r"decades?|centur(?:y|ies)|km|kms|kilomet(?:er|re)s?|miles?|met(?:er|re)s?|m|cm|mm|kg|kilograms?|grams?|"
    r"tons?|tonnes?|lit(?:er|re)s?|degrees?|°|feet|ft|inch(?:es)?|acres?|hectares?|square|sq|times|fold|"
    r"per\s*cent|percent|pc|%|dollars?|euros?|pounds?|liras?|lire|usd|eur|gbp|syp|cents?|bn)\b|\s*%",
    re.I,
)
_MONEY_BEFORE = re.compile(r"(?:[$£€¥]|\bUS\$|\b(?:USD|EUR|GBP|SYP)|\bS£)\s*$")
_LABEL_BEFORE = re.compile(
    r"(?:\bNos?\.|#|№|\b(?i:number|article|resolution|chapter|section|paragraph|clause|page|route|highway|flight|"
    r"room|phase|brigade|division|battalion|regiment|decree|law|camp|zone|sector|building|apartment|episode|"
    r"street|st\.|road|avenue|kilo|kilu|km|liwaa|liwa|corps|"
    r"season|volume|vol\.|item|gate|platform|tier|grade|level|stage|lot|plot|block|ward|unit|aged?|ages))\s*$"
)
_AGE = re.compile(r"\b[A-Z][\w'’-]*,\s*$")
_PRONOUN_ONE_BEFORE = re.compile(r"\b(?i:no|any|every|each|some|the|this|that|which|the\s+only|as|last)\s+$")
_PRONOUN_ONE_AFTER = re.compile(
    r"\s*(?:['’]s\b|(?i:another|by\s+one|of\s+(?:the\s+)?(?:most|least|worst|best|first|last|few|main|\w+est)|day|time|point|way|side|hand|thing)\b)"
)
_VAGUE_DURATION = re.compile(
    r"\s+(?:of\s+(?:the\s+)?)?(?:more\s+|additional\s+|long\s+)?"
    r"(?:seconds|minutes|hours|days|nights|weeks|months|years|decades|centuries|times|kilomet\w+|miles|met(?:er|re)s)\b",
    re.I,
)
# A four-digit number from 1800 to 2100 is a year unless one of these follows it.
# fmt: off
_PEOPLE_NOUNS = {
    "people", "civilians", "persons", "victims", "deaths", "dead", "killed", "wounded", "injured",
    "residents", "fighters", "soldiers", "children", "women", "men", "individuals", "casualties",
}
# fmt: on
_YEAR_BEFORE = re.compile(r"\b(?i:in|since|by|until|till|of|from|during|before|after|year)\s+$")
_DETERMINER_BEFORE = re.compile(r"\b(?i:the|these|those|its|their|his|her|our|all|both)\s+$")

# --- qualifiers --------------------------------------------------------------------------------------

_QUALIFIER_BEFORE = re.compile(
    r"(?:^|(?<=\W))(?i:"
    r"(?P<at_most>no\s+more\s+than|not\s+more\s+than|at\s+(?:the\s+)?most|a\s+maximum\s+of|fewer\s+than|less\s+than)"
    r"|(?P<at_least>at\s+(?:the\s+)?(?:very\s+)?least|a\s+minimum\s+of|(?:no|not)\s+(?:fewer|less)\s+than)"
    r"|(?P<more_than>(?:well\s+|just\s+|slightly\s+)?(?:more\s+than|over|above|in\s+excess\s+of|upwards?\s+of|exceeding))"
    r"|(?P<up_to>up\s+to|as\s+many\s+as|as\s+high\s+as|(?:could|may|might|would)\s+(?:reach|rise\s+to|climb\s+to|top))"
    r"|(?P<about>about|around|approximately|approx\.|roughly|some|nearly|almost|close\s+to|an\s+estimated|estimated|"
    r"circa|more\s+or\s+less))"
    r"\s+$"
)
_QUALIFIER_AFTER = re.compile(
    r"(?i:(?P<at_least>\s+or\s+more\b)|(?P<more_than>\s*\+|(?:-|\s+)plus\b)|(?P<about>\s+or\s+so\b))"
)

# --- nouns -------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[\s“”\"‘']*([A-Za-z][A-Za-z'’-]*)")
# fmt: off
_STOP = {
    "in", "on", "at", "from", "across", "including", "during", "since", "for", "by", "with", "to", "into", "onto",
    "upon", "and", "or", "but", "nor", "who", "whom", "which", "that", "were", "was", "is", "are", "be", "been",
    "being", "have", "has", "had", "as", "than", "of", "the", "a", "an", "this", "these", "those", "their", "his",
    "her", "its", "our", "your", "my", "it", "they", "them", "he", "she", "we", "you", "i", "there", "here",
    "when", "while", "where", "after", "before", "because", "if", "so", "according", "said", "says", "say",
    "told", "died", "die", "dies", "will", "would", "could", "should", "may", "might", "must", "can", "not",
    "also", "mostly", "mainly", "most", "all", "each", "every", "both", "per", "among", "between", "against",
    "under", "over", "near", "around", "about", "out", "up", "down", "off", "reportedly", "allegedly", "remain",
    "remains", "remained", "fled", "went", "came", "lost", "took", "got", "such", "whose", "towards",
    "afterwards", "besides", "always", "perhaps", "sometimes", "thus", "whereas", "unless", "plus", "less",
    "yes", "us", "ours", "yours", "theirs", "hers", "what", "how", "why", "then", "now", "later", "earlier",
    "again", "already", "still", "just", "only", "even", "amid", "via", "toward",
}
_IRREGULAR_PLURALS = {
    "people", "men", "women", "children", "police", "personnel", "staff", "dead", "wounded", "injured", "killed",
    "missing", "druze", "youth", "clergy", "elderly", "faithful", "kin", "folk", "aircraft", "livestock",
    "cattle", "sheep", "turkmen", "tribesmen", "gunmen", "policemen", "servicemen", "militiamen", "firemen",
    "countrymen", "fishermen",
}
_PARTICIPLES = {"dead", "wounded", "injured", "killed", "missing"}
# The word before a head that makes one term with it: "security forces", "aid workers".
_COMPOUND_MODIFIERS = {
    "security", "government", "regime", "armed", "army", "police", "rebel", "opposition", "aid", "rescue",
    "health", "medical", "media", "relief", "military", "defence", "defense", "border", "civil", "state",
    "pro-government", "pro-regime",
}
# fmt: on
_ACRONYM = re.compile(r"[A-Z]{2,6}")
_ELIDED = {"more", "others", "other", "additional", "further"}


@dataclass(frozen=True, kw_only=True)
class _Word:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower().replace("’", "'")


def _words_after(text: str, pos: int, limit: int = 7) -> list[_Word]:
    """The words right after `pos`, up to the first punctuation mark (quotes do not stop them)."""
    words: list[_Word] = []
    while len(words) < limit and (m := _TOKEN.match(text, pos)):
        words.append(_Word(text=m.group(1), start=m.start(1), end=m.end(1)))
        pos = m.end()
    return words


def _plural(w: _Word) -> bool:
    lw = w.lower
    if lw in _IRREGULAR_PLURALS:
        return True
    return lw not in _STOP and len(lw) > 2 and lw.endswith("s") and not lw.endswith(("ss", "us", "'s"))


def _noun(text: str, pos: int, count: int) -> tuple[_Word, _Word] | tuple[None, None]:
    """The first and last word of the counted noun after `pos`: its head ("civilians", "members"), with
    the word before when they make one term ("security forces")."""
    words = _words_after(text, pos)
    i = 0
    if words and words[0].lower in _ELIDED:
        if len(words) == 1 or words[1].lower in _STOP or words[0].lower == "others":
            return words[0], words[0]  # "injuring 52 more": the noun is elided
        i = 1
    if i < len(words) and words[i].lower == "of":  # "two of his brothers", "dozens of people"
        i += 1
        while i < len(words) and (words[i].lower in _STOP or words[i].lower.endswith(("'s", "'"))):
            if words[i].lower in ("them", "whom", "which", "us", "those", "these", "it"):
                return None, None
            i += 1
    last: int | None = None
    for j in range(i, len(words)):
        w = words[j]
        if _ACRONYM.fullmatch(w.text) and j + 1 < len(words):
            last = j if count == 1 else last
            continue  # "15 IS militants", "3 PKK fighters": a group's initials name whose people they are
        if w.lower in _STOP or w.lower.endswith(("'s", "'")):
            break
        if _plural(w):
            nxt = words[j + 1] if j + 1 < len(words) else None
            if nxt is not None and _plural(nxt) and nxt.lower not in _PARTICIPLES:
                j += 1  # "Druze fighters", "wounded soldiers": the second word is the head
            return _with_modifier(words, i, j)
        last = j
    if count == 1 and last is not None:  # "one member", "one elderly man"
        return _with_modifier(words, i, last)
    return None, None


def _person_noun(text: str, pos: int) -> tuple[_Word, _Word] | tuple[None, None]:
    """After "a"/"an": the first person word within four ("a former regime soldier" -> "soldier")."""
    words = _words_after(text, pos, limit=4)
    for j, w in enumerate(words):
        if w.lower in PERSON_SINGULARS:
            return _with_modifier(words, 0, j)
        if w.lower in _STOP:
            break
    return None, None


def _with_modifier(words: list[_Word], first: int, head: int) -> tuple[_Word, _Word]:
    if head > first and words[head - 1].lower in _COMPOUND_MODIFIERS:
        return words[head - 1], words[head]
    return words[head], words[head]


# --- the finder --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Number:
    start: int
    end: int
    value: int
    kind: str  # "vague" | "dozen" | "digits" | "words"
    text: str


def _blocked_spans(text: str, dates: list[tuple[int, int]] | None) -> list[tuple[int, int]]:
    spans = [m.span() for m in _URL.finditer(text)]
    spans += [m.span() for m in _CLOCK.finditer(text)]
    if dates is None:
        dates = [
            (d.evidence.span.start, d.evidence.span.end) for d in find_dates(text, doc_id="", published=None)
        ]
    return spans + dates


def _numbers(text: str, dates: list[tuple[int, int]] | None = None) -> list[_Number]:
    blocked = _blocked_spans(text, dates)
    found: list[_Number] = [
        _Number(
            start=m.start(), end=m.start() + len(m.group().split()[0]), value=1, kind="single", text=m.group()
        )
        for m in _SINGULAR.finditer(text)
    ]
    for m in _CANDIDATE.finditer(text):
        kind = m.lastgroup or ""
        start, end = m.span()
        if any(s < end and start < e for s, e in blocked):
            continue
        value = parse_number(m.group())
        if kind == "words" and value is None:
            start, end, value = _shortest_words(text, start, end)
        if value is None:
            continue
        found.append(_Number(start=start, end=end, value=value, kind=kind, text=text[start:end]))
    numbers = [n for n in found if n.kind != "single"]
    singles = [
        n
        for n in found
        if n.kind == "single" and not any(o.start < n.end + 12 and n.start < o.end for o in numbers)
    ]
    return sorted(numbers + singles, key=lambda n: n.start)


def _shortest_words(text: str, start: int, end: int) -> tuple[int, int, int | None]:
    """'one two' is two numbers: keep the longest leading run that reads as one."""
    for m in reversed(list(re.finditer(_WORD, text[start:end], re.I))):
        value = parse_number(text[start : start + m.end()])
        if value is not None:
            return start, start + m.end(), value
    return start, end, None


def _not_a_count(text: str, n: _Number) -> bool:
    """Years aside, the numbers that are not counts: clock times, ages, percentages, money, durations,
    distances, ranks, ids, and pieces of other tokens ("F-16", "3rd", "12/03")."""
    before = text[max(0, n.start - 40) : n.start]
    after = text[n.end : n.end + 40]
    if n.kind == "single":
        return False
    if n.kind == "vague":
        return bool(_VAGUE_DURATION.match(after))  # "several years", "hundreds of years", "many times"
    if re.match(r"[A-Za-z]|-[A-Za-z]|[.:/]\d", after) or re.search(r"[A-Za-z]-?$|[+]$", before):
        return True
    if _UNIT_AFTER.match(after) or _MONEY_BEFORE.search(before) or _LABEL_BEFORE.search(before):
        return True
    if n.kind == "digits":
        if "." in n.text and not n.text[-1].isalpha():
            return True  # a decimal with no "million" after it
        if n.text.isdigit() and (len(n.text) >= 6 or (len(n.text) > 1 and n.text.startswith("0"))):
            return True  # ids, phone numbers
        if _AGE.search(before) and re.match(r"\s*,", after) and n.value <= 120:
            return True  # "Samir Haidar, 67,"
        if re.search(r"(?:^|\n)[ \t]*$", before) and re.match(r"[.)]\s", after):
            return True  # a numbered list
    return (
        n.kind == "words"
        and n.value == 1
        and bool(_PRONOUN_ONE_BEFORE.search(before) or _PRONOUN_ONE_AFTER.match(after))
    )


def _year_like(n: _Number) -> bool:
    return n.kind == "digits" and len(n.text) == 4 and n.text.isdigit() and 1800 <= n.value <= 2100


def _qualifier_before(text: str, start: int) -> tuple[str, int] | None:
    lo = max(0, start - 40)
    m = _QUALIFIER_BEFORE.search(text, lo, start)
    if m is None or m.lastgroup is None:
        return None
    return m.lastgroup, m.start()


def _range_end(text: str, numbers: list[_Number], i: int) -> tuple[_Number, int] | None:
    """ "between 2,300 and 2,400", "20-30", "two or three": the upper number and where the range starts."""
    if i + 1 >= len(numbers) or {"vague", "single"} & {numbers[i].kind, numbers[i + 1].kind}:
        return None
    low, high = numbers[i], numbers[i + 1]
    gap = text[low.end : high.start]
    lead = text[max(0, low.start - 10) : low.start]
    between = re.search(r"\bbetween\s+$", lead, re.I)
    if high.value <= low.value:
        return None
    if re.fullmatch(r"\s*[-–]\s*", gap) or (
        re.fullmatch(r"\s+(?:to|or)\s+", gap, re.I) and not re.search(r"\bfrom\s+$", lead, re.I)
    ):
        return high, low.start
    if re.fullmatch(r"\s+and\s+", gap, re.I) and between:
        return high, low.start - len(between.group())
    return None


def find_quantities(text: str, *, dates: list[tuple[int, int]] | None = None) -> list[QuantityMatch]:
    """Every number in `text` that counts people or things, with its qualifier and noun, in text order.
    `dates`: the spans of the date expressions in `text`, when the caller has them already."""
    if not _HAS_NUMBER.search(text):
        return []
    numbers = _numbers(text, dates)
    matches: list[QuantityMatch] = []
    i = 0
    while i < len(numbers):
        low = numbers[i]
        ranged = _range_end(text, numbers, i)
        high, start = ranged if ranged is not None else (low, low.start)
        i += 2 if ranged is not None else 1
        if re.match(r"[-–]\d", text[high.end : high.end + 2]) or re.search(
            r"\d[-–]\s*$", text[max(0, low.start - 3) : low.start]
        ):
            continue  # a chain of hyphenated digits that is not a range: phone numbers, scores
        if _not_a_count(text, high) or (ranged is not None and _not_a_count(text, low)):
            continue
        match = _quantity(text, low, high, start, ranged=ranged is not None)
        if match is not None:
            matches.append(match)
    for m in _PRONOUN.finditer(text):
        g = 1 if m.group(1) else 2
        if not any(q.start <= m.start(g) < q.end for q in matches):
            matches.append(
                QuantityMatch(
                    start=m.start(g),
                    end=m.end(g),
                    quantity=Quantity(
                        count=1, qualifier="exact", noun="him" if m.group(g).lower() == "his" else "her"
                    ),
                    number_start=m.start(g),
                    number_end=m.end(g),
                    noun_start=m.start(g),
                    noun_end=m.end(g),
                    rule=RULE_PRONOUN,
                )
            )
    matches.sort(key=lambda q: q.start)
    return matches


def _quantity(text: str, low: _Number, high: _Number, start: int, *, ranged: bool) -> QuantityMatch | None:
    end = high.end
    qualifier = "at_least" if ranged else "exact"  # ACLED takes the low end of a range
    if (before := _qualifier_before(text, start)) is not None:
        qualifier, start = before
    if (after := _QUALIFIER_AFTER.match(text, end)) is not None and after.lastgroup:
        qualifier, end = after.lastgroup, after.end()
    if low.kind == "vague":
        qualifier = "vague"
    if low.kind == "single":
        qualifier = "exact"
        if _qualifier_before(text, start) is None:
            start = low.start
    if low.kind == "single":
        first, head = _person_noun(text, end)
        if head is None:
            return None
    else:
        first, head = _noun(text, end, low.value)
    if low.kind == "vague":
        if head is None and low.text.lower() in _NEEDS_NOUN:
            return None  # "many" alone is not a count; "many residents" is
        if re.search(r"\b(?:how|as)\s+$", text[max(0, low.start - 5) : low.start], re.I):
            return None  # "how many", "as many as"
    if low.kind == "words" and head is None and _DETERMINER_BEFORE.search(text, max(0, start - 10), start):
        return None  # "the two met"
    if _year_like(high) and (
        head is None
        or head.lower not in _PEOPLE_NOUNS
        or _YEAR_BEFORE.search(text, max(0, start - 10), start)
    ):
        return None  # "in 2011 people rose", "2025 marked"
    noun = None
    if first is not None and head is not None:
        noun = " ".join(text[first.start : head.end].split()).lower().replace("’", "'")
    count = low.value
    one_more = (
        _one_more(text, head.end) if head is not None and low.kind in ("digits", "words", "single") else None
    )
    if one_more is not None and not ranged:
        count, head = count + 1, one_more
    rule = (
        RULE_RANGE
        if ranged
        else {"vague": RULE_VAGUE, "words": RULE_WORDS, "dozen": RULE_WORDS, "single": RULE_SINGULAR}.get(
            low.kind, RULE_DIGITS
        )
    )
    if count != low.value:
        rule = RULE_AND_ONE
    return QuantityMatch(
        start=start,
        end=head.end if head is not None else end,
        quantity=Quantity(count=count, qualifier=qualifier, noun=noun),
        number_start=low.start,
        number_end=high.end,
        noun_start=None if first is None else first.start,
        noun_end=None if head is None else head.end,
        rule=rule,
    )
