"""One document, read once: sentences, recognised mentions and quotations.

Claims and events are both derived from this; keeping it in one record means
each rule looks things up by sentence instead of re-scanning the text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from vigil.model import Document, Mention, Sentence

# An outlet introducing a quotation: `The Independent reports, “...` / `Medya News reports: "...`
_QUOTE_INTRO = re.compile(
    r"((?:The\s+)?[A-Z][\w’'.&-]*(?:\s+[A-Z][\w’'.&-]*){0,4})\s+(?:reports|reported|wrote|writes|said|says)\s*[,:]?\s*$"
)
_QUOTES = re.compile(r"“[^”]*”|\"[^\"\n]*\"")
CAPTION = re.compile(r"\|\s*(?:Image|Photo|Picture)\b|\((?:AFP|AP|Reuters)\s+Photo\)|^Picture describing\b|\bGetty Images\b", re.I)


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

    def is_caption(self, s: Sentence) -> bool:
        start, end = self.paragraph_of(s)
        return bool(CAPTION.search(self.text[start:end]))


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
