"""One document, read once: sentences, recognised mentions and quotations.

Claims and events are both derived from this; keeping it in one record means
each rule looks things up by sentence instead of re-scanning the text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, replace

from vigil.model import Document, Mention, Sentence

# An outlet introducing a quotation: `The Independent reports, “...` / `Medya News reports: "...`
_QUOTE_INTRO = re.compile(
    r"((?:The\s+)?[A-Z][\w’'.&-]*(?:\s+[A-Z][\w’'.&-]*){0,4})\s+(?:reports|reported|wrote|writes|said|says)\s*[,:]?\s*$"
)
_QUOTES = re.compile(r"“[^”]*”|\"[^\"\n]*\"")
CAPTION = re.compile(
    r"\|\s*(?:Image|Photo|Picture)\b|\((?:AFP|AP|Reuters)\s+Photo\)|^Picture describing\b|\bGetty Images\b",
    re.I,
)


@dataclass(frozen=True, kw_only=True)
class Quote:
    start: int
    end: int
    introducer: str | None  # the capitalised name before "reports," / "said," if any
    introducer_start: int | None


@dataclass(frozen=True, kw_only=True)
class Analysis:
    document: Document
    sentences: tuple[Sentence, ...]
    places: tuple[Mention, ...]
    actors: tuple[Mention, ...]
    dates: tuple[Mention, ...]
    quotes: tuple[Quote, ...]

    @property
    def text(self) -> str:
        return self.document.text

    def sentence_text(self, s: Sentence) -> str:
        return self.text[s.span.start : s.span.end]

    def sentence_at(self, offset: int) -> Sentence:
        starts = [s.span.start for s in self.sentences]
        return self.sentences[max(0, bisect_right(starts, offset) - 1)]

    def within(self, mentions: tuple[Mention, ...], start: int, end: int) -> list[Mention]:
        return [m for m in mentions if m.evidence.span.start >= start and m.evidence.span.end <= end]

    def in_sentence(self, mentions: tuple[Mention, ...], s: Sentence) -> list[Mention]:
        return self.within(mentions, s.span.start, s.span.end)

    def quote_around(self, offset: int) -> Quote | None:
        for q in self.quotes:
            if q.start <= offset < q.end:
                return q
        return None

    def paragraph_of(self, s: Sentence) -> tuple[int, int]:
        start = self.text.rfind("\n", 0, s.span.start) + 1
        end = self.text.find("\n", s.span.end)
        return start, len(self.text) if end < 0 else end

    def is_headline(self, s: Sentence) -> bool:
        """A title line: the document's title, or a short first line with no final stop."""
        text = self.sentence_text(s).strip()
        if self.document.title and text == self.document.title.strip():
            return True
        text = _OPEN_BRACKET_END.sub(
            "", text
        )  # "... demanding wages. [" cut before "[size=...]": not a title
        first = s.index == 0 or all(
            not re.search(r"[A-Za-z]{3,}", self.sentence_text(x))
            or re.fullmatch(r"\W*[0-9a-f]{2,8}\W*", self.sentence_text(x))
            for x in self.sentences[: s.index]
        )  # a stray line of hexadecimal or digits left by a crawler above the title
        words = len(text.split())
        titled = words <= 20 or (
            " | " in text and words <= 35
        )  # "Section | a long title", as web pages give it
        return first and not re.search(r"[.!?”\"]$", text) and titled

    def is_caption(self, s: Sentence) -> bool:
        start, end = self.paragraph_of(s)
        return bool(CAPTION.search(self.text[start:end]))


_OPEN_BRACKET_END = re.compile(r"\s*[\[(]$")


def find_quotes(text: str) -> tuple[Quote, ...]:
    """Quoted passages, with the outlet or speaker that introduces them when one does."""
    out = []
    for m in _QUOTES.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[max(line_start, m.start() - 80) : m.start()]
        intro = _QUOTE_INTRO.search(before)
        out.append(
            Quote(
                start=m.start(),
                end=m.end(),
                introducer=intro.group(1) if intro else None,
                introducer_start=(m.start() - len(before) + intro.start(1)) if intro else None,
            )
        )
    return tuple(out)


_DATELINE = re.compile(r"[A-Z][A-Za-z/ .'-]{1,40}(?:,\s*[^\n–—]{0,60}?)?\s+[–—-]\s+")
_AGENCY_DATELINE = re.compile(r"[A-Z][\w' ]{1,30},\s*[^\n()]{3,30}?\d{4}\s*\([^)\n]{2,30}\)\s*[–—-]\s")
_POSSESSIVE_INSTITUTION = re.compile(
    r"(?:’s?|'s?)\s+(?:(?:\w+\s+)?(?:security\s+forces|forces|government|army|ministry|authorities|leadership|president|military))",
    re.I,
)
_ALIGNED = re.compile(
    r"\b(?:aligned\s+with|loyal\s+to|backed\s+by|affiliated\s+with|allied\s+(?:to|with))\s+$", re.I
)
_ROAD_AFTER = re.compile(r"\s*[–—-]\s*[A-Z][\w'’]+\s+(?:road|highway|motorway)\b", re.I)
_ROAD_LINKING = re.compile(
    r"\b(?:road|highway|motorway)\s+(?:linking|between|connecting|from)\s+(?:[A-Z][\w'’-]+\s+(?:and|to|with)\s+)?$",
    re.I,
)
_ROAD_BEFORE = re.compile(r"[A-Z][\w'’]+\s*[–—-]\s*$")
_ROAD_END = re.compile(r"\s+(?:road|highway|motorway)\b", re.I)
_NEAR_DAMASCUS = re.compile(
    r"(?:outskirts|suburbs?|countryside|environs)\s+of\s+(?:the\s+(?:Syrian\s+)?capital\s*,?\s*)?$"
    r"|\bnear\s+$|(?<!the\s)\b(?:south|north|east|west)\s+of\s+$",
    re.I,
)
_DAMASCUS_SUBURB = re.compile(r"\s+(?:suburbs?|countryside)\b", re.I)


def in_dateline(text: str, offset: int) -> bool:
    """Whether `offset` lies in a paragraph's dateline ('BEIRUT, March 9 -', 'DAMASCUS/PARIS —')."""
    line_start = text.rfind("\n", 0, offset) + 1
    agency = _AGENCY_DATELINE.match(text, line_start)
    if agency and offset < agency.end():
        return True
    dateline = _DATELINE.match(text, line_start)
    if not dateline or offset >= dateline.end():
        return False
    head = text[line_start : dateline.end()].split(",")[0]
    return head.strip(" –—-") == head.strip(" –—-").upper()


def event_places(text: str, places: list[Mention], hints: list[str] = ()) -> tuple[Mention, ...]:
    """Places that can locate an event: not a dateline, not 'Damascus’ forces', and in the story's country
    (the country most named, counting towns, country names twice and `hints`, e.g. from its actors).

    "the outskirts of Damascus" is the Rural Damascus governorate, not the city.
    """
    kept = []
    for m in places:
        start, end = m.evidence.span.start, m.evidence.span.end
        if in_dateline(text, start):
            continue
        if _POSSESSIVE_INSTITUTION.match(text, end) or _ALIGNED.search(text[max(0, start - 30) : start]):
            continue
        if (
            _ROAD_LINKING.search(text[max(0, start - 40) : start])
            or _ROAD_AFTER.match(text, end)
            or (_ROAD_BEFORE.search(text[max(0, start - 30) : start]) and _ROAD_END.match(text, end))
        ):
            continue
        near = _NEAR_DAMASCUS.search(text[max(0, start - 40) : start]) or _DAMASCUS_SUBURB.match(text, end)
        if m.place and m.place.admin1 == "Damascus" and m.place.country_code == "SY" and near:
            m = replace(
                m,
                place=replace(m.place, admin1="Rural Damascus", kind="admin1", geo_precision=2),
                method="near",
            )
        kept.append(m)
    weights = Counter(hints)
    for m in kept:
        if m.place:
            weights[m.place.country_code] += 2 if m.place.kind == "country" else 1
    countries = [m.place.country_code for m in kept if m.place and m.place.kind != "country"]
    if countries:
        main = max(sorted(set(countries)), key=lambda cc: weights[cc])
        kept = [
            m for m in kept if m.place is None or m.place.country_code == main or m.place.kind == "country"
        ]
    return tuple(kept)
