"""The filterable values of every event, held in memory by a long-running server.

A filtered page of events and its total count over 100,000 events cost SQLite tens of
milliseconds (the count visits every match; the order needs a sort); here they are a few
array comparisons. Answers are those of `Store.events` / `Store.count_events`: the same
conditions on the same values (reviewed values for reviewed events), the same order (start
date, undated last, then id). SQLite's `PRAGMA data_version` says when any connection has
committed since the last look; the index then reloads before it answers, so a write is seen
by the next request. Filters it does not hold (actor, text search, machine values) go to SQL.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine, String, select, type_coerce

from vigil.model import EventRow
from vigil.store.schema import event_admin1, event_review_admin1, event_review_state, events

if TYPE_CHECKING:
    from vigil.store import EventFilter

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UNREVIEWED, _REVIEWED, _REJECTED = 0, 1, 2
_NO_DAY = -1
_ROW_CACHE = 50_000  # rows kept between changes: about 100 MB at most


def _lower(value: str) -> str:
    """Lower case as SQLite's lower() does it (ASCII letters only), so matches agree with SQL."""
    return value.translate(_ASCII_LOWER)


@dataclass(frozen=True, kw_only=True)
class _Columns:
    """One array per filterable value, every array in the events' display order."""

    ids: list[str]
    position: dict[str, int]  # id -> index into the arrays
    start: np.ndarray  # proleptic ordinal of date_start, _NO_DAY when undated
    cover: np.ndarray  # ordinal of date_end, else date_start, else _NO_DAY
    event_type: np.ndarray  # code into `values` (lower case)
    sub_event_type: np.ndarray
    victim_group: np.ndarray  # code, -1 when none
    fatalities: np.ndarray
    status: np.ndarray  # _UNREVIEWED, _REVIEWED or _REJECTED
    admin1: dict[str, np.ndarray]  # governorate -> positions of its events
    values: dict[str, int]  # lower-cased text value -> code


class EventIndex:
    """Pages and counts of filtered events from memory; reloads when the database changes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._watch = sqlite3.connect(engine.url.database, check_same_thread=False)
        self._version: int | None = None
        self._columns: _Columns | None = None
        self._rows: dict[str, EventRow] = {}

    def close(self) -> None:
        with self._lock:
            self._watch.close()

    def page(self, flt: EventFilter) -> tuple[int, list[str]] | None:
        """(total, ids of the page) for `flt`, or None when `flt` needs SQL."""
        if flt.machine or flt.actor or (flt.q and flt.q.split()):
            return None
        cols = self._current()
        mask = _matches(cols, flt)
        found = np.flatnonzero(mask)
        end = None if flt.limit is None else flt.offset + flt.limit
        return len(found), [cols.ids[i] for i in found[flt.offset : end]]

    def unreviewed_rows(self, ids: Sequence[str]) -> dict[str, EventRow]:
        """The rows of those of `ids` never reviewed (what `Store.event_rows` gives for them).
        Rows read since the database last changed are kept (up to `_ROW_CACHE` of them); the
        rest come in one statement: per page, SQLAlchemy's statement building and row
        processing cost more than SQLite's work."""
        cols = self._current()
        cache = self._rows
        plain = [i for i in ids if i in cols.position and cols.status[cols.position[i]] == _UNREVIEWED]
        found = {i: cache[i] for i in plain if i in cache}
        missing = [i for i in plain if i not in found]
        if missing:
            sql = _ROWS_SQL.format(marks=",".join("?" * len(missing)))
            with self._engine.connect() as conn:
                read = {r[0]: _row(r) for r in conn.exec_driver_sql(sql, tuple(missing))}
            if len(cache) + len(read) > _ROW_CACHE:
                cache.clear()
            cache.update(read)
            found.update(read)
        return found

    def _current(self) -> _Columns:
        with self._lock:
            # Read the version first: a commit during the load makes the next call load again.
            version = self._watch.execute("PRAGMA data_version").fetchone()[0]
            if self._columns is None or version != self._version:
                self._columns = _load(self._engine)
                self._rows = {}
                self._version = version
            return self._columns


def _matches(cols: _Columns, flt: EventFilter) -> np.ndarray:
    status = cols.status
    if flt.reviewed == "only":
        mask = status != _UNREVIEWED
    elif flt.reviewed == "unreviewed":
        mask = status == _UNREVIEWED
    else:
        mask = np.ones(len(status), dtype=bool)
    if not flt.include_rejected:
        mask &= status != _REJECTED
    if flt.date_from:
        mask &= cols.cover >= flt.date_from.toordinal()
    if flt.date_to:
        mask &= (cols.start != _NO_DAY) & (cols.start <= flt.date_to.toordinal())
    if flt.governorate is not None:
        governed = np.zeros(len(status), dtype=bool)
        governed[cols.admin1.get(flt.governorate, [])] = True
        mask &= governed
    if flt.event_type is not None:
        code = cols.values.get(_lower(flt.event_type), -2)
        mask &= (cols.event_type == code) | (cols.sub_event_type == code)
    if flt.min_fatalities is not None:
        mask &= cols.fatalities >= flt.min_fatalities
    if flt.victim_group is not None:
        mask &= cols.victim_group == cols.values.get(_lower(flt.victim_group), -2)
    return mask


def _load(engine: Engine) -> _Columns:
    """Every event's filterable values: the reviewer's where reviewed, the machine's otherwise."""
    s = event_review_state.c

    def text(column):  # ISO dates as stored: no per-row date parsing on 100,000 rows
        return type_coerce(column, String)

    query = select(
        events.c.id,
        text(events.c.date_start),
        text(events.c.date_end),
        events.c.event_type,
        events.c.sub_event_type,
        events.c.victim_group,
        events.c.fatalities,
        s.status,
        text(s.date_start),
        text(s.date_end),
        s.event_type,
        s.sub_event_type,
        s.victim_group,
        s.fatalities,
    ).select_from(events.outerjoin(event_review_state, s.event_id == events.c.id))
    with engine.connect() as conn:
        rows = []
        for r in conn.execute(query):
            if r[7] is None:
                rows.append((r[0], r[1], r[2], r[3], r[4], r[5], r[6], _UNREVIEWED))
            else:
                status = _REJECTED if r[7] == "rejected" else _REVIEWED
                rows.append((r[0], r[8], r[9], r[10], r[11], r[12], r[13], status))
        rows.sort(key=lambda r: (r[1] is None, r[1] or "", r[0]))
        position = {r[0]: i for i, r in enumerate(rows)}
        places: dict[str, list[int]] = {}
        reviewed = {r[0] for r in rows if r[7] != _UNREVIEWED}
        for table in (event_admin1, event_review_admin1):
            for event_id, admin1 in conn.execute(select(table.c.event_id, table.c.admin1)):
                if (table is event_review_admin1) == (event_id in reviewed) and event_id in position:
                    places.setdefault(admin1, []).append(position[event_id])
    values: dict[str, int] = {}

    def code(value: str | None) -> int:
        return -1 if value is None else values.setdefault(_lower(value), len(values))

    def day(value: str | None) -> int:
        return _NO_DAY if value is None else date.fromisoformat(value[:10]).toordinal()

    start = np.array([day(r[1]) for r in rows], dtype=np.int64)
    end = np.array([day(r[2]) for r in rows], dtype=np.int64)
    return _Columns(
        ids=[r[0] for r in rows],
        position=position,
        start=start,
        cover=np.where(end != _NO_DAY, end, start),
        event_type=np.array([code(r[3]) for r in rows], dtype=np.int64),
        sub_event_type=np.array([code(r[4]) for r in rows], dtype=np.int64),
        victim_group=np.array([code(r[5]) for r in rows], dtype=np.int64),
        fatalities=np.array([r[6] for r in rows], dtype=np.int64),
        status=np.array([r[7] for r in rows], dtype=np.int8),
        admin1={name: np.array(sorted(set(p)), dtype=np.int64) for name, p in places.items()},
        values=values,
    )


# Columns as `_row` reads them; admin1 and claim ids as JSON arrays in their stored order.
_ROWS_SQL = """
SELECT e.id, e.doc_id, d.name, d.title, d.url, d.published, e.date_start, e.date_end, e.time_precision,
  e.event_type, e.sub_event_type, e.country, e.location, e.latitude, e.longitude, e.geo_precision,
  e.actor1, e.actor1_type, e.actor2, e.actor2_type, e.victim_group, e.civilian_targeting, e.fatalities,
  e.fatalities_low, e.fatalities_high, e.toll_scope, e.confidence,
  substr(d.text, e.sentence_start + 1, e.sentence_end - e.sentence_start),
  (SELECT json_group_array(admin1) FROM
     (SELECT admin1 FROM event_admin1 WHERE event_id = e.id ORDER BY position)),
  (SELECT json_group_array(claim_id) FROM
     (SELECT claim_id FROM event_claims WHERE event_id = e.id ORDER BY position)),
  (SELECT incident_id FROM incident_events WHERE event_id = e.id LIMIT 1)
FROM events AS e JOIN documents AS d ON d.id = e.doc_id
WHERE e.id IN ({marks})
"""


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value[:10])


def _row(r) -> EventRow:
    lat, lon = r[13], r[14]
    point = lat is not None and lon is not None and math.isfinite(lat) and math.isfinite(lon)
    return EventRow(
        event_id=r[0],
        doc_id=r[1],
        doc_name=r[2],
        doc_title=r[3],
        source_url=r[4],
        published=_day(r[5]),
        date_start=_day(r[6]),
        date_end=_day(r[7]),
        time_precision=r[8],
        event_type=r[9],
        sub_event_type=r[10],
        country=r[11],
        location=r[12],
        latitude=lat if point else None,
        longitude=lon if point else None,
        geo_precision=r[15],
        actor1=r[16],
        actor1_type=r[17],
        actor2=r[18],
        actor2_type=r[19],
        victim_group=r[20],
        civilian_targeting=bool(r[21]),
        fatalities=r[22],
        fatalities_low=r[23],
        fatalities_high=r[24],
        toll_scope=r[25],
        confidence=r[26],
        evidence=" ".join((r[27] or "").split()),
        admin1=tuple(json.loads(r[28])),
        claim_ids=tuple(json.loads(r[29])),
        incident_id=r[30],
        review_status=None,
        review_version=None,
    )
