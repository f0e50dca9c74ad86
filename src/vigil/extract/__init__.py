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
from vigil.extract.ner import find_entities, veto_places
from vigil.extract.segment import sentences
from vigil.geo import Gazetteer
from vigil.model import Document, Extraction
from vigil.timeparse import find_dates

EXTRACTOR = "vigil-rules+ner@0.2"


def analyse(document: Document) -> Analysis:
    """Sentences and recognised mentions: what every later rule reads."""
    text = document.text
    actors = tuple(lexicon().find(text, doc_id=document.id))
    hints = lexicon().countries_of(actors)
    sents = sentences(text, doc_id=document.id)
    places = event_places(text, Gazetteer.default().find(text, doc_id=document.id, countries=hints), hints)
    found = find_entities(text, sents, places, actors, document.id)
    return Analysis(
        document=document,
        sentences=sents,
        places=veto_places(places, found.persons),
        actors=tuple(sorted(actors + found.actors, key=lambda m: m.evidence.span.start)),
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
