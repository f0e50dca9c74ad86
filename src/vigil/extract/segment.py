"""Sentences with character offsets.

Paragraphs (lines) never share a sentence: headlines, captions and datelines
have no final stop. Inside a paragraph spaCy's rule-based sentencizer splits.
"""

from __future__ import annotations

import re
from functools import lru_cache

import spacy

from vigil.model import Sentence, Span

RULE = "segment.sentencizer@2"
_PARAGRAPH = re.compile(r"[^\n]+")


@lru_cache(maxsize=1)
def _nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def sentences(text: str, *, doc_id: str) -> tuple[Sentence, ...]:
    """The sentences of `text`, each a trimmed span that never crosses a line break."""
    out: list[Sentence] = []
    nlp = _nlp()
    for para in _PARAGRAPH.finditer(text):
        if not para.group().strip():
            continue
        bounds = [(para.start() + x.start_char, para.start() + x.end_char) for x in nlp(para.group()).sents]
        for i in range(len(bounds) - 1):
            # "... salaries. [size=no report]": an opening bracket starts the next sentence, not ends this one
            (s0, e0), (_, e1) = bounds[i], bounds[i + 1]
            trimmed = text[s0:e0].rstrip()
            if len(trimmed) > 1 and trimmed[-1] in "([{" and trimmed[-2].isspace():
                cut = s0 + len(trimmed) - 1
                bounds[i], bounds[i + 1] = (s0, cut), (cut, e1)
        for start, end in bounds:
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                out.append(Sentence(index=len(out), span=Span(doc_id=doc_id, start=start, end=end)))
    return tuple(out)
