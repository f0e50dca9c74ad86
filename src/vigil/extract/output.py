"""An extraction in the answer-key shape of ../shared/gold/README.md, plus vigil's own fields.

Every gold field keeps its gold name and meaning; the extra fields (coordinates,
the fatality range, confidence, spans and the rules behind them) come after.
"""

from __future__ import annotations

from typing import Any

from vigil.model import Claim, EventMention, Evidence, Extraction


def gold_shape(x: Extraction, *, name: str | None = None) -> dict[str, Any]:
    doc = x.document
    text = doc.text
    return {
        "doc": name or doc.name,
        "published": doc.published.isoformat() if doc.published else None,
        "events": [_event(e, text) for e in x.events],
        "claims": [_claim(c, text) for c in x.claims],
        "doc_id": doc.id,
        "title": doc.title,
        "url": doc.url,
        "extractor": x.extractor,
    }


def _event(e: EventMention, text: str) -> dict[str, Any]:
    place = e.place
    return {
        "id": e.id.rsplit("-", 1)[-1],
        "event_type": e.event_type,
        "sub_event_type": e.sub_event_type,
        "date_start": _iso(e.date.start),
        "date_end": _iso(e.date.end),
        "time_precision": e.date.precision,
        "country": e.country,
        "admin1": list(e.admin1),
        "location": e.location,
        "actor1": e.actor1,
        "actor2": e.actor2,
        "victim_group": e.victim_group,
        "civilian_targeting": e.civilian_targeting,
        "fatalities": e.fatalities,
        "toll_scope": e.toll_scope,
        "evidence": text[e.sentence.start : e.sentence.end],
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "geo_precision": place.geo_precision if place else None,
        "fatalities_low": e.fatalities_low,
        "fatalities_high": e.fatalities_high,
        "confidence": e.confidence,
        "event_id": e.id,
        "actor1_type": e.actor1_type,
        "actor2_type": e.actor2_type,
        "claims": [c.rsplit("-", 1)[-1] for c in e.claim_ids],
        "span": [e.span.start, e.span.end],
        "sentence_span": [e.sentence.start, e.sentence.end],
        "spans": [_evidence(ev, text) for ev in e.evidence],
    }


def _claim(c: Claim, text: str) -> dict[str, Any]:
    return {
        "id": c.id.rsplit("-", 1)[-1],
        "claimant": c.claimant,
        "via": c.via,
        "count": c.count,
        "qualifier": c.qualifier,
        "killed_or_injured": c.killed_or_injured,
        "category": c.category,
        "victim_group": c.victim_group,
        "scope": c.scope,
        "period_start": _iso(c.period.start),
        "period_end": _iso(c.period.end),
        "admin1": list(c.admin1),
        "evidence": text[c.sentence.start : c.sentence.end],
        "span": [c.span.start, c.span.end],
        "sentence_span": [c.sentence.start, c.sentence.end],
        "confidence": c.confidence,
        "spans": [_evidence(ev, text) for ev in c.evidence],
    }


def _evidence(ev: Evidence, text: str) -> dict[str, Any]:
    return {
        "field": ev.field,
        "start": ev.span.start,
        "end": ev.span.end,
        "text": text[ev.span.start : ev.span.end],
        "rule": ev.rule,
        "confidence": ev.confidence,
    }


def _iso(d) -> str | None:
    return d.isoformat() if d else None
