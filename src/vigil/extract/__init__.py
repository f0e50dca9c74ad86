"""Extraction: one document in, its sentences, mentions, claims and events out.

`extract(document)` is a pure function of the document and read-only lexicons,
so it runs the same in-process, in a pool or on a cluster. The stages:
segment → recognise (places, actors, dates) → claims → events.
"""

from __future__ import annotations

from vigil.extract.actors import lexicon
from vigil.extract.analysis import Analysis, event_places, find_quotes
from vigil.extract.claims import find_claims
from vigil.extract.events import find_events
from vigil.extract.segment import sentences
from vigil.geo import Gazetteer
from vigil.model import Document, Extraction
from vigil.timeparse import find_dates

EXTRACTOR = "vigil-rules@0.1"


def analyse(document: Document) -> Analysis:
    """Sentences and recognised mentions: what every later rule reads."""
    text = document.text
    return Analysis(
        document=document,
        sentences=sentences(text, doc_id=document.id),
        places=event_places(text, Gazetteer.default().find(text, doc_id=document.id)),
        actors=tuple(lexicon().find(text, doc_id=document.id)),
        dates=tuple(find_dates(text, doc_id=document.id, published=document.published)),
        quotes=find_quotes(text),
    )


def extract(document: Document) -> Extraction:
    a = analyse(document)
    drafts = find_claims(a)
    events = find_events(a, drafts)
    return Extraction(
        document=document,
        sentences=a.sentences,
        mentions=a.places + a.actors + a.dates,
        claims=tuple(d.claim for d in drafts),
        events=tuple(events),
        extractor=EXTRACTOR,
    )
