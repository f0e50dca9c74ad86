"""The records that flow between vigil's stages.

Every record is a frozen, keyword-only dataclass. Extracted values carry
`Evidence`: the document, the character span and the named, versioned rule
that produced them, so any field can be traced back to the sentence it came
from. `to_dict` / `from_dict` turn records into JSON-ready dicts and back,
losslessly (the JSON Lines export and the store use them).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

# Vocabularies, spelled as in ../shared/gold/README.md and DESIGN.md.
QUALIFIERS = ("exact", "at_least", "more_than", "about", "at_most", "up_to", "vague")
CATEGORIES = ("civilians", "security_forces", "fighters", "all", "unknown")
SCOPES = ("incident", "cumulative")
KILLED_OR_INJURED = ("killed", "injured")
MENTION_KINDS = ("place", "actor", "date", "number")


@dataclass(frozen=True, kw_only=True)
class Span:
    """A character range [start, end) in one document's text."""

    doc_id: str
    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start : self.end]


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """Why a field has its value: a span and the rule (``name@version``) that read it."""

    field: str
    span: Span
    rule: str
    confidence: float = 1.0


@dataclass(frozen=True, kw_only=True)
class Document:
    """One article as ingested. `id` is derived from the normalised text, so
    identical text is one document whatever file or feed it came from."""

    id: str
    content_hash: str
    text: str
    name: str
    source: str
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    published: date | None = None
    published_from: str | None = None  # "metadata" | "caller" | None: never "today"
    language: str = "en"
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class Sentence:
    index: int
    span: Span


@dataclass(frozen=True, kw_only=True)
class DateInterval:
    """A date or span of days; precision is ACLED's time_precision (1 day, 2 week,
    3 month). Dates stay None when the text does not fix them (e.g. no year)."""

    start: date | None = None
    end: date | None = None
    precision: int | None = None


@dataclass(frozen=True, kw_only=True)
class Place:
    """A gazetteer entry a place name resolved to."""

    name: str
    kind: str  # "country" | "admin1" | "district" | "town" | "neighbourhood"
    country: str
    country_code: str
    admin1: str | None = None
    admin1_code: str | None = None  # ISO 3166-2 where known, e.g. SY-LA
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: int = 3  # ACLED: 1 town, 2 part of / near a town, 3 region
    geonameid: int | None = None
    town: str | None = None  # for a neighbourhood: the town it belongs to


@dataclass(frozen=True, kw_only=True)
class Actor:
    name: str
    type: str  # state_forces, rebel_group, militia, identity_group, civilians, ... unknown


@dataclass(frozen=True, kw_only=True)
class Quantity:
    """A number as written: "in excess of 1,300" is Quantity(count=1300, qualifier="more_than")."""

    count: int
    qualifier: str
    noun: str | None = None


@dataclass(frozen=True, kw_only=True)
class Mention:
    """A recognised name, date or number in the text. Exactly one payload is set,
    the one named by `kind`; `method` and `score` say how it was resolved."""

    kind: str
    text: str
    evidence: Evidence
    place: Place | None = None
    date: DateInterval | None = None
    actor: Actor | None = None
    quantity: Quantity | None = None
    method: str = "exact"
    score: float = 1.0


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A casualty figure as stated, with who states it and what it covers."""

    id: str
    doc_id: str
    claimant: str  # "article" when unattributed
    via: str | None
    count: int
    qualifier: str
    killed_or_injured: str
    category: str
    victim_group: str | None
    scope: str
    period: DateInterval
    admin1: tuple[str, ...]
    span: Span
    sentence: Span
    evidence: tuple[Evidence, ...] = ()
    confidence: float = 1.0


@dataclass(frozen=True, kw_only=True)
class EventMention:
    """One incident as one article reports it (ACLED sense: one type, place, day or span)."""

    id: str
    doc_id: str
    event_type: str
    sub_event_type: str
    date: DateInterval
    country: str | None
    admin1: tuple[str, ...]
    place: Place | None  # most precise place; kind "admin1" when only a governorate is known
    actor1: str | None
    actor2: str | None
    victim_group: str | None
    civilian_targeting: bool
    actor1_type: str | None = None  # an Actor.type, for ACLED inter codes and UCDP type_of_violence
    actor2_type: str | None = None
    fatalities: int
    fatalities_low: int | None
    fatalities_high: int | None
    toll_scope: str
    claim_ids: tuple[str, ...]
    span: Span
    sentence: Span
    evidence: tuple[Evidence, ...] = ()
    confidence: float = 0.5

    @property
    def location(self) -> str | None:
        """The most precise named place below governorate level, as ACLED's `location`."""
        if self.place is None or self.place.kind in ("admin1", "country"):
            return None
        return self.place.name


@dataclass(frozen=True, kw_only=True)
class TollPoint:
    """One claimant's figure at the date it was made (the publishing date of the document that carries it)."""

    claim_id: str
    doc_id: str
    date: date | None
    count: int
    qualifier: str
    via: str | None = None
    status: str = "running"  # running | latest | superseded | relayed_late | partial


@dataclass(frozen=True, kw_only=True)
class ClaimantLine:
    """A claimant's figures for one incident and category, in date order: its running total."""

    claimant: str
    points: tuple[TollPoint, ...]
    latest: int | None


@dataclass(frozen=True, kw_only=True)
class Toll:
    """An incident's deaths in one category (or "total"): UCDP-style low / best / high, with the claims used."""

    category: str
    low: int | None
    best: int | None
    high: int | None
    claim_ids: tuple[str, ...] = ()
    best_claim_id: str | None = None
    lines: tuple[ClaimantLine, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PairScore:
    """Why two event mentions were put in one incident: the score and its parts."""

    a: str
    b: str
    score: float
    parts: tuple[tuple[str, float], ...]


@dataclass(frozen=True, kw_only=True)
class Incident:
    """Event mentions from several documents that report the same thing."""

    id: str
    event_ids: tuple[str, ...]
    event_type: str
    date: DateInterval
    admin1: tuple[str, ...]
    parent_id: str | None = None
    tolls: tuple[Toll, ...] = ()
    sub_event_type: str | None = None
    country: str | None = None
    doc_ids: tuple[str, ...] = ()
    sources: tuple[tuple[str, ...], ...] = ()  # documents grouped by syndication: each group counts once
    children: tuple[str, ...] = ()
    links: tuple[PairScore, ...] = ()
    parent_score: float | None = None


@dataclass(frozen=True, kw_only=True)
class Extraction:
    """Everything extracted from one document: the unit the store writes at once."""

    document: Document
    sentences: tuple[Sentence, ...]
    mentions: tuple[Mention, ...]
    claims: tuple[Claim, ...]
    events: tuple[EventMention, ...]
    extractor: str


@dataclass(frozen=True, kw_only=True)
class EventRecord:
    """An event with what an export row needs: its claims and its document."""

    event: EventMention
    claims: tuple[Claim, ...]
    document: Document
    incident_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class EventRow:
    """One event flat, as tables, CSV and the API's lists show it: the values after review, its
    document, the sentence it was read from (whitespace collapsed) and its review mark."""

    event_id: str
    doc_id: str
    doc_name: str
    doc_title: str | None
    source_url: str | None
    published: date | None
    date_start: date | None
    date_end: date | None
    time_precision: int | None
    event_type: str
    sub_event_type: str
    country: str | None
    admin1: tuple[str, ...]
    location: str | None
    latitude: float | None
    longitude: float | None
    geo_precision: int | None
    actor1: str | None
    actor1_type: str | None
    actor2: str | None
    actor2_type: str | None
    victim_group: str | None
    civilian_targeting: bool
    fatalities: int
    fatalities_low: int | None
    fatalities_high: int | None
    toll_scope: str
    confidence: float
    incident_id: str | None
    claim_ids: tuple[str, ...]
    evidence: str
    review_status: str | None
    review_version: int | None


@dataclass(frozen=True, kw_only=True)
class Problem:
    """An input that could not be read, and why."""

    source: str
    reason: str


# --- lossless dict codec -------------------------------------------------------

T = TypeVar("T")


def to_dict(record: Any) -> Any:
    """A JSON-ready view of a record: dates become ISO strings, tuples lists."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: to_dict(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if isinstance(record, (tuple, list)):
        return [to_dict(v) for v in record]
    if isinstance(record, date):
        return record.isoformat()
    return record


def from_dict(cls: type[T], data: Any) -> T:
    """The inverse of `to_dict` for record class `cls`."""
    return _decode(cls, data)


@functools.cache
def _hints(tp: type) -> dict[str, Any]:
    return typing.get_type_hints(tp)


def _decode(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(inner[0], data)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in data)
        return tuple(_decode(a, v) for a, v in zip(args, data, strict=True))
    if tp is date:
        return date.fromisoformat(data)
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {
            f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.name in data
        }
        return tp(**kwargs)
    return data
