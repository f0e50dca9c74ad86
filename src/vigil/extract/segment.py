"""Sentences with character offsets.

Paragraphs (lines) never share a sentence: headlines, captions and datelines
have no final stop. Inside a paragraph spaCy's rule-based sentencizer splits.
"""

from __future__ import annotations

import re
from functools import lru_cache

import spacy

from vigil.model import Sentence, Span

RULE = "segment.sentencizer@1"
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
        for sent in nlp(para.group()).sents:
            start = para.start() + sent.start_char
            end = para.start() + sent.end_char
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                out.append(Sentence(index=len(out), span=Span(doc_id=doc_id, start=start, end=end)))
    return tuple(out)
