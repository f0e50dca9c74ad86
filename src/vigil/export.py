"""Writing events in the formats analysts already use: ACLED- and UCDP-GED-shaped CSV,
GeoJSON, a flat vigil CSV, and lossless JSON Lines of the internal model.

Every writer streams: one row per record as it arrives, nothing collected first.
CSV cells are guarded against spreadsheet formula injection, since article text is
third-party input. Output is deterministic (no wall-clock timestamps).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, TextIO

import pycountry

from vigil.model import EventMention, EventRecord, EventRow, from_dict, to_dict

FORMATS = ("acled", "ucdp", "geojson", "jsonl", "csv")

ACLED_COLUMNS = (
    # ACLED's own columns, in the order of a current ACLED export ...
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
    # ... then vigil's.
    "vigil_event_id",
    "vigil_doc_id",
    "incident_id",
    "date_end",
    "fatalities_low",
    "fatalities_high",
    "confidence",
    "source_url",
    "review_status",
    "review_version",
)

UCDP_COLUMNS = (
    # The UCDP GED columns vigil has values for, in GED order ...
    "id",
    "relid",
    "year",
    "type_of_violence",
    "side_a",
    "side_b",
    "source_article",
    "source_office",
    "source_date",
    "source_headline",
    "where_prec",
    "where_coordinates",
    "where_description",
    "adm_1",
    "adm_2",
    "latitude",
    "longitude",
    "geom_wkt",
    "country",
    "country_id",
    "region",
    "event_clarity",
    "date_prec",
    "date_start",
    "date_end",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "best",
    "high",
    "low",
    # ... then vigil's.
    "incident_id",
    "vigil_event_id",
)

VIGIL_COLUMNS = (
    "event_id",
    "doc_id",
    "doc_name",
    "source_url",
    "published",
    "date_start",
    "date_end",
    "time_precision",
    "event_type",
    "sub_event_type",
    "country",
    "admin1",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "actor1",
    "actor1_type",
    "actor2",
    "actor2_type",
    "victim_group",
    "civilian_targeting",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
    "toll_scope",
    "confidence",
    "incident_id",
    "claim_ids",
    "evidence",
    "review_status",
    "review_version",
)

# ACLED inter codes by vigil actor type; a type not listed (others, unknown) has no code.
INTER_CODES = {
    "state_forces": 1,
    "rebel_group": 2,
    "militia": 3,
    "political_militia": 3,
    "identity_militia": 4,
    "identity_group": 4,  # the spelling model.Actor's comment uses
    "rioters": 5,
    "protesters": 6,
    "civilians": 7,
    "external_forces": 8,
}

DISORDER_TYPES = {
    "Battles": "Political violence",
    "Explosions/Remote violence": "Political violence",
    "Violence against civilians": "Political violence",
    "Protests": "Demonstrations",
    "Riots": "Demonstrations",
    "Strategic developments": "Strategic developments",
}
# Sub-types ACLED files under another disorder type than their event type's.
DISORDER_BY_SUB_TYPE = {
    "Excessive force against protesters": "Political violence; Demonstrations",
    "Mob violence": "Political violence",
}

ARMED_EVENT_TYPES = ("Battles", "Explosions/Remote violence", "Violence against civilians")
NON_STATE_ARMED = ("rebel_group", "militia", "political_militia", "identity_militia", "identity_group")

# UCDP where_prec from ACLED geo_precision: town 1, near a town 2, governorate 4; the country alone is 6.
WHERE_PREC = {1: 1, 2: 2, 3: 4}
WHERE_PREC_COUNTRY = 6
# UCDP date_prec from ACLED time_precision: day 1, week 3, month 4.
DATE_PREC = {1: 1, 2: 3, 3: 4}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# JSON leaves these unescaped, yet str.splitlines() breaks lines on them.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@dataclass(frozen=True, kw_only=True)
class CountryInfo:
    """The codes and regions one country has in ACLED and UCDP."""

    alpha3: str
    iso_numeric: str
    acled_region: str | None = None
    ucdp_region: str | None = None
    gw: int | None = None  # Gleditsch-Ward number, UCDP's country_id


@dataclass(frozen=True, kw_only=True)
class _Regions:
    acled: str
    ucdp: str
    gw: int | None


_ME, _NAF = "Middle East", "Northern Africa"
# ACLED regions and UCDP regions / Gleditsch-Ward numbers (UCDP codes Palestine under Israel).
_REGIONS = {
    "BHR": _Regions(acled=_ME, ucdp=_ME, gw=692),
    "IRN": _Regions(acled=_ME, ucdp=_ME, gw=630),
    "IRQ": _Regions(acled=_ME, ucdp=_ME, gw=645),
    "ISR": _Regions(acled=_ME, ucdp=_ME, gw=666),
    "JOR": _Regions(acled=_ME, ucdp=_ME, gw=663),
    "KWT": _Regions(acled=_ME, ucdp=_ME, gw=690),
    "LBN": _Regions(acled=_ME, ucdp=_ME, gw=660),
    "OMN": _Regions(acled=_ME, ucdp=_ME, gw=698),
    "PSE": _Regions(acled=_ME, ucdp=_ME, gw=None),
    "QAT": _Regions(acled=_ME, ucdp=_ME, gw=694),
    "SAU": _Regions(acled=_ME, ucdp=_ME, gw=670),
    "SYR": _Regions(acled=_ME, ucdp=_ME, gw=652),
    "TUR": _Regions(acled=_ME, ucdp=_ME, gw=640),
    "ARE": _Regions(acled=_ME, ucdp=_ME, gw=696),
    "YEM": _Regions(acled=_ME, ucdp=_ME, gw=678),
    "EGY": _Regions(acled=_NAF, ucdp=_ME, gw=651),
    "DZA": _Regions(acled=_NAF, ucdp="Africa", gw=615),
    "LBY": _Regions(acled=_NAF, ucdp="Africa", gw=620),
    "MAR": _Regions(acled=_NAF, ucdp="Africa", gw=600),
    "SDN": _Regions(acled=_NAF, ucdp="Africa", gw=625),
    "TUN": _Regions(acled=_NAF, ucdp="Africa", gw=616),
}
# Names in use (GeoNames, ACLED) that pycountry's lookup does not know.
_COUNTRY_ALIASES = {
    "turkey": "TUR",
    "palestine": "PSE",
    "palestinian territory": "PSE",
    "palestinian territories": "PSE",
    "russia": "RUS",
}


@lru_cache(maxsize=512)
def country_info(name: str | None, alpha2: str | None = None) -> CountryInfo | None:
    """Codes for a country given by name (or, failing that, ISO alpha-2); None when unknown."""
    found = None
    if name:
        alias = _COUNTRY_ALIASES.get(name.strip().lower())
        try:
            found = pycountry.countries.get(alpha_3=alias) if alias else pycountry.countries.lookup(name)
        except LookupError:
            found = None
    if found is None and alpha2:
        found = pycountry.countries.get(alpha_2=alpha2.upper())
    if found is None:
        return None
    regions = _REGIONS.get(found.alpha_3)
    return CountryInfo(
        alpha3=found.alpha_3,
        iso_numeric=str(int(found.numeric)),
        acled_region=regions.acled if regions else None,
        ucdp_region=regions.ucdp if regions else None,
        gw=regions.gw if regions else None,
    )


def _country_of(event: EventMention) -> CountryInfo | None:
    return country_info(event.country, event.place.country_code if event.place else None)


def inter_code(actor: str | None, actor_type: str | None) -> int | None:
    """ACLED inter code: 0 for no actor, None when the actor's type has no code."""
    if actor is None and actor_type is None:
        return 0
    return INTER_CODES.get(actor_type or "")


def interaction(code1: int | None, code2: int | None) -> int | None:
    """ACLED's combined code: the two codes, smaller first (17); one actor alone gives 10*code (60)."""
    if code1 is None or code2 is None:
        return None
    codes = sorted(c for c in (code1, code2) if c)
    if not codes:
        return None
    return codes[0] * 10 + codes[1] if len(codes) == 2 else codes[0] * 10


def disorder_type(event_type: str, sub_event_type: str) -> str | None:
    return DISORDER_BY_SUB_TYPE.get(sub_event_type) or DISORDER_TYPES.get(event_type)


def type_of_violence(event: EventMention) -> int | None:
    """UCDP: 3 one-sided (civilians targeted), 1 state-based (state forces on a side), 2 non-state;
    None for protests, riots and strategic developments, which UCDP does not record."""
    if event.event_type not in ARMED_EVENT_TYPES:
        return None
    if event.civilian_targeting or event.event_type == "Violence against civilians":
        return 3
    if "state_forces" in (event.actor1_type, event.actor2_type):
        return 1
    return 2


def where_prec(event: EventMention) -> int | None:
    if event.place is None or event.place.kind == "country":
        return WHERE_PREC_COUNTRY if event.country or event.place else None
    return WHERE_PREC.get(event.place.geo_precision)


def date_prec(event: EventMention) -> int | None:
    """UCDP date_prec from time_precision, widened to what the span of days says (2: 2–6 days,
    3: a week, 4: a month, 5: longer)."""
    interval = event.date
    if interval.precision not in DATE_PREC:
        return None
    prec = DATE_PREC[interval.precision]
    if interval.start and interval.end and interval.end > interval.start:
        days = (interval.end - interval.start).days + 1
        prec = max(prec, 2 if days <= 6 else 3 if days <= 7 else 4 if days <= 31 else 5)
    return prec


@dataclass(frozen=True, kw_only=True)
class Sides:
    """UCDP side_a / side_b: the government is side a; in one-sided violence the perpetrator is."""

    a: str | None
    a_type: str | None
    b: str | None
    b_type: str | None


def ucdp_sides(event: EventMention, violence: int | None) -> Sides:
    a, a_type, b, b_type = event.actor1, event.actor1_type, event.actor2, event.actor2_type
    if violence != 3 and b_type == "state_forces" and a_type != "state_forces":
        a, a_type, b, b_type = b, b_type, a, a_type
    if violence == 3 and b is None:
        b, b_type = "Civilians", "civilians"
    return Sides(a=a, a_type=a_type, b=b, b_type=b_type)


@dataclass(frozen=True, kw_only=True)
class Deaths:
    a: int
    b: int
    civilians: int
    unknown: int


def ucdp_deaths(record: EventRecord, sides: Sides) -> Deaths:
    """Deaths by UCDP category from the event's claims of people killed.

    Per category the lowest count claimed (ACLED's lowest-credible rule: claims are alternative
    statements of one figure, not parts to add). civilians → deaths_civilians; security_forces →
    the side that is state forces; fighters → the one non-state armed side when exactly one
    side is one. What cannot be placed on a side (security forces or fighters with no matching
    side, "all", "unknown") is unknown: deaths_unknown = best − the placed deaths, and never
    less than the unplaced counts, so a + b + civilians + unknown = best whenever the claims
    do not exceed the event's fatalities."""
    lowest: dict[str, int] = {}
    for claim in record.claims:
        if claim.killed_or_injured == "killed":
            lowest[claim.category] = min(claim.count, lowest.get(claim.category, claim.count))
    a = b = unplaced = 0
    security = lowest.get("security_forces", 0)
    if sides.a_type == "state_forces":
        a += security
    elif sides.b_type == "state_forces":
        b += security
    else:
        unplaced += security
    fighters = lowest.get("fighters", 0)
    armed_a, armed_b = sides.a_type in NON_STATE_ARMED, sides.b_type in NON_STATE_ARMED
    if armed_a and not armed_b:
        a += fighters
    elif armed_b and not armed_a:
        b += fighters
    else:
        unplaced += fighters
    civilians = lowest.get("civilians", 0)
    unknown = max(unplaced, record.event.fatalities - (a + b + civilians))
    return Deaths(a=a, b=b, civilians=civilians, unknown=unknown)


def _coordinates(event: EventMention) -> tuple[float, float] | None:
    place = event.place
    if place is None or place.latitude is None or place.longitude is None:
        return None
    if not (math.isfinite(place.latitude) and math.isfinite(place.longitude)):
        return None
    return place.latitude, place.longitude


def _sentence(record: EventRecord) -> str:
    """The event's evidence sentence, whitespace runs collapsed to single spaces."""
    return " ".join(record.event.sentence.of(record.document.text).split())


def _source(record: EventRecord) -> str:
    doc = record.document
    return doc.outlet or doc.title or doc.name


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def acled_row(record: EventRecord) -> dict[str, Any]:
    """One event as an ACLED export row, with vigil's extra columns."""
    event, doc = record.event, record.document
    info = _country_of(event)
    start = event.date.start
    code1 = inter_code(event.actor1, event.actor1_type)
    code2 = inter_code(event.actor2, event.actor2_type)
    coords = _coordinates(event)
    return {
        "event_id_cnty": f"{info.alpha3}-{event.id}" if info else event.id,
        "event_date": start,
        "year": start.year if start else None,
        "time_precision": event.date.precision,
        "disorder_type": disorder_type(event.event_type, event.sub_event_type),
        "event_type": event.event_type,
        "sub_event_type": event.sub_event_type,
        "actor1": event.actor1,
        "assoc_actor_1": None,
        "inter1": code1,
        "actor2": event.actor2,
        "assoc_actor_2": None,
        "inter2": code2,
        "interaction": interaction(code1, code2),
        "civilian_targeting": "Civilian targeting" if event.civilian_targeting else None,
        "iso": info.iso_numeric if info else None,
        "region": info.acled_region if info else None,
        "country": event.country,
        "admin1": event.admin1,
        "admin2": None,
        "admin3": None,
        "location": event.location,
        "latitude": coords[0] if coords else None,
        "longitude": coords[1] if coords else None,
        "geo_precision": event.place.geo_precision if event.place else None,
        "source": _source(record),
        "source_scale": None,
        "notes": _sentence(record),
        "fatalities": event.fatalities,
        "tags": None,
        "timestamp": None,
        "vigil_event_id": event.id,
        "vigil_doc_id": doc.id,
        "incident_id": record.incident_id,
        "date_end": event.date.end,
        "fatalities_low": event.fatalities_low,
        "fatalities_high": event.fatalities_high,
        "confidence": event.confidence,
        "source_url": doc.url,
        **_review_columns(record),
    }


def ucdp_row(record: EventRecord) -> dict[str, Any]:
    """One event as a UCDP GED row (the GED columns vigil has values for)."""
    event, doc = record.event, record.document
    info = _country_of(event)
    violence = type_of_violence(event)
    sides = ucdp_sides(event, violence)
    deaths = ucdp_deaths(record, sides)
    coords = _coordinates(event)
    place = event.place
    start = event.date.start
    cumulative = event.toll_scope == "cumulative" or len(event.admin1) > 1
    return {
        "id": event.id,
        "relid": f"{info.alpha3}-{event.id}" if info else event.id,
        "year": start.year if start else None,
        "type_of_violence": violence,
        "side_a": sides.a,
        "side_b": sides.b,
        "source_article": doc.url or doc.name,
        "source_office": doc.outlet,
        "source_date": doc.published,
        "source_headline": doc.title,
        "where_prec": where_prec(event),
        "where_coordinates": place.name if place else None,
        "where_description": _where_description(event),
        "adm_1": event.admin1,
        "adm_2": None,
        "latitude": coords[0] if coords else None,
        "longitude": coords[1] if coords else None,
        "geom_wkt": f"POINT ({coords[1]} {coords[0]})" if coords else None,
        "country": event.country,
        "country_id": info.gw if info else None,
        "region": info.ucdp_region if info else None,
        "event_clarity": 2 if cumulative else 1,
        "date_prec": date_prec(event),
        "date_start": start,
        "date_end": event.date.end or start,
        "deaths_a": deaths.a,
        "deaths_b": deaths.b,
        "deaths_civilians": deaths.civilians,
        "deaths_unknown": deaths.unknown,
        "best": event.fatalities,
        "high": _or(event.fatalities_high, event.fatalities),
        "low": _or(event.fatalities_low, event.fatalities),
        "incident_id": record.incident_id,
        "vigil_event_id": event.id,
    }


def _where_description(event: EventMention) -> str | None:
    place = event.place
    if place is None:
        return event.country
    parts = [place.name, place.town, place.admin1, place.country]
    return ", ".join(dict.fromkeys(p for p in parts if p)) or None


def vigil_row(record: EventRecord) -> dict[str, Any]:
    """One event in vigil's own flat columns, with typed values (lists stay lists)."""
    event, doc = record.event, record.document
    coords = _coordinates(event)
    return {
        "event_id": event.id,
        "doc_id": event.doc_id,
        "doc_name": doc.name,
        "source_url": doc.url,
        "published": doc.published,
        "date_start": event.date.start,
        "date_end": event.date.end,
        "time_precision": event.date.precision,
        "event_type": event.event_type,
        "sub_event_type": event.sub_event_type,
        "country": event.country,
        "admin1": list(event.admin1),
        "location": event.location,
        "latitude": coords[0] if coords else None,
        "longitude": coords[1] if coords else None,
        "geo_precision": event.place.geo_precision if event.place else None,
        "actor1": event.actor1,
        "actor1_type": event.actor1_type,
        "actor2": event.actor2,
        "actor2_type": event.actor2_type,
        "victim_group": event.victim_group,
        "civilian_targeting": event.civilian_targeting,
        "fatalities": event.fatalities,
        "fatalities_low": event.fatalities_low,
        "fatalities_high": event.fatalities_high,
        "toll_scope": event.toll_scope,
        "confidence": event.confidence,
        "incident_id": record.incident_id,
        "claim_ids": list(event.claim_ids),
        "evidence": _sentence(record),
        **_review_columns(record),
    }


def event_row(record: EventRecord) -> EventRow:
    """`vigil_row` as a typed record, with the document's title (the API's and dashboard's row)."""
    row = vigil_row(record)
    row["admin1"] = tuple(row["admin1"])
    row["claim_ids"] = tuple(row["claim_ids"])
    return EventRow(**row, doc_title=record.document.title)


def _review_columns(record: EventRecord) -> dict[str, Any]:
    """The review status and version of a reviewed event (empty when the machine's values stand)."""
    from vigil.store.review import review_mark

    mark = review_mark(record)
    return {"review_status": mark.status if mark else None, "review_version": mark.version if mark else None}


def guard_cell(text: str) -> str:
    """Defuse a cell a spreadsheet would run as a formula; plain numbers ("-3.5") stay numbers."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_cell(value: Any) -> str:
    """A value as CSV text: empty for None, ISO dates, "; "-joined lists, true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(csv_cell(v) for v in value)
    return guard_cell(str(value))


def _write_csv(
    records: Iterable[EventRecord],
    out: TextIO,
    columns: tuple[str, ...],
    row: Callable[[EventRecord], Mapping[str, Any]],
) -> int:
    writer = csv.writer(out)  # RFC 4180 CRLF rows; it also makes the module quote any CR or LF in a cell
    writer.writerow(columns)
    count = 0
    for record in records:
        values = row(record)
        writer.writerow([csv_cell(values[c]) for c in columns])
        count += 1
    return count


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=_json_default)
    for char, escape in _LINE_BREAKS.items():
        text = text.replace(char, escape)
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _write_geojson(records: Iterable[EventRecord], out: TextIO) -> int:
    out.write('{"type": "FeatureCollection", "features": [')
    count = 0
    for record in records:
        coords = _coordinates(record.event)
        geometry = {"type": "Point", "coordinates": [coords[1], coords[0]]} if coords else None
        feature = {
            "type": "Feature",
            "id": record.event.id,
            "geometry": geometry,
            "properties": vigil_row(record),
        }
        out.write(("," if count else "") + "\n" + _json(feature))
        count += 1
    out.write("\n]}\n")
    return count


def _write_jsonl(records: Iterable[EventRecord], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(_json(to_dict(record)) + "\n")
        count += 1
    return count


def write(records: Iterable[EventRecord], fmt: str, out: TextIO) -> int:
    """Write `records` to `out` in format `fmt` (one of FORMATS); returns the number of events.

    Open a file for it with ``encoding="utf-8", newline=""``: CSV rows end in CRLF (RFC 4180)."""
    if fmt == "acled":
        return _write_csv(records, out, ACLED_COLUMNS, acled_row)
    if fmt == "ucdp":
        return _write_csv(records, out, UCDP_COLUMNS, ucdp_row)
    if fmt == "csv":
        return _write_csv(records, out, VIGIL_COLUMNS, vigil_row)
    if fmt == "geojson":
        return _write_geojson(records, out)
    if fmt == "jsonl":
        return _write_jsonl(records, out)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")


def read_jsonl(lines: Iterable[str]) -> Iterator[EventRecord]:
    """The records of a jsonl export, equal to those written; blank lines are skipped."""
    for line in lines:
        if line.strip():
            yield from_dict(EventRecord, json.loads(line))
