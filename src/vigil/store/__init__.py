"""The event store: documents and everything extracted from them, in SQLite or PostgreSQL.

`Store.open()` migrates the database to the current schema; `write()` stores a
batch of extractions in one transaction (a document already stored is counted
as a duplicate and left untouched); the query methods give records back as the
model's dataclasses.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import platformdirs
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, and_, create_engine, func, or_, select

from vigil import export as exporter
from vigil.model import (
    Claim,
    DateInterval,
    Document,
    EventMention,
    EventRecord,
    EventRow,
    Evidence,
    Extraction,
    Place,
    Span,
    from_dict,
    to_dict,
)
from vigil.store import dialect, review
from vigil.store.eventindex import EventIndex
from vigil.store.schema import (
    claim_admin1,
    claims,
    documents,
    event_admin1,
    event_claims,
    event_review_admin1,
    event_review_state,
    events,
    evidence,
    incident_events,
    mentions,
)

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATING = threading.Lock()


def default_url() -> str:
    """VIGIL_DATABASE_URL, else an SQLite file in the user's data directory."""
    if url := os.environ.get("VIGIL_DATABASE_URL"):
        return url
    folder = Path(os.environ.get("VIGIL_DATA_DIR") or platformdirs.user_data_dir("vigil"))
    return sqlite_url(folder / "vigil.sqlite")


def sqlite_url(path: str | Path) -> str:
    path = Path(path).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def url_for(db: str | None) -> str:
    """A `--db` argument (a file path or a database URL) as a URL."""
    if not db:
        return default_url()
    return db if "://" in db else sqlite_url(db)


@dataclass(frozen=True, kw_only=True)
class EventFilter:
    """What `events` / `claims` queries select; None means no constraint."""

    date_from: date | None = None
    date_to: date | None = None
    governorate: str | None = None
    event_type: str | None = None
    actor: str | None = None
    min_fatalities: int | None = None
    limit: int | None = None
    offset: int = 0
    victim_group: str | None = None  # equal, ignoring case
    q: str | None = None  # every word occurs in the event's document (title or text), ignoring case
    reviewed: str = "all"  # one of REVIEWED: "all", "only" (events with a review) or "unreviewed"
    include_rejected: bool = False  # events a reviewer rejected are left out unless asked for
    machine: bool = False  # the values as extracted: no review overlay, nothing left out


REVIEWED = ("all", "only", "unreviewed")


@dataclass(frozen=True, kw_only=True)
class DayCount:
    """Events and fatalities on one day (by event start date), for a timeline."""

    day: date
    events: int
    fatalities: int


@dataclass(frozen=True, kw_only=True)
class Facet:
    value: str
    count: int


@dataclass(frozen=True, kw_only=True)
class Facets:
    """The values filters can take, with how many events have each."""

    event_types: tuple[Facet, ...]
    governorates: tuple[Facet, ...]
    victim_groups: tuple[Facet, ...]


@dataclass(frozen=True, kw_only=True)
class DocumentSpan:
    """A stretch of a document's text that something was read from, to highlight.

    kind "evidence": a field of an event or claim (owner_kind / owner_id say whose);
    "sentence": an event's or claim's sentence; "mention": a recognised name, date or number."""

    kind: str
    field: str
    start: int
    end: int
    rule: str | None = None
    owner_kind: str | None = None
    owner_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class WriteResult:
    stored: int
    duplicates: int
    events: int = 0
    claims: int = 0


@dataclass(frozen=True, kw_only=True)
class ClaimRecord:
    claim: Claim
    document: Document


class Store:
    """One database, migrated to the current schema."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._event_index: EventIndex | None = None

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        engine = create_engine(dialect.normalise_url(url or default_url()), future=True)
        dialect.configure(engine)
        store = cls(engine)
        store.migrate()
        return store

    def migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        # Alembic keeps its context in module globals: one migration per process at a time.
        with _MIGRATING, self.engine.connect().execution_options(**{dialect.WRITE_OPTION: True}) as conn:
            dialect.lock_for_migration(conn)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()

    def close(self) -> None:
        if self._event_index is not None:
            self._event_index.close()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------

    def write(self, batch: Sequence[Extraction]) -> WriteResult:
        """Store a batch in one transaction; documents already stored are duplicates.

        Safe against other processes writing the same documents at once: a document another
        writer stored first is skipped with its children, never duplicated; documents are inserted
        in content-hash order so two writers' row locks cannot deadlock."""
        with self.engine.connect().execution_options(**{dialect.WRITE_OPTION: True}) as conn, conn.begin():
            hashes = [x.document.content_hash for x in batch]
            known = set(
                conn.scalars(select(documents.c.content_hash).where(documents.c.content_hash.in_(hashes)))
            )
            stored = duplicates = n_events = n_claims = 0
            children: dict = defaultdict(list)
            for extraction in sorted(batch, key=lambda x: x.document.content_hash):
                if extraction.document.content_hash in known:
                    duplicates += 1
                    continue
                known.add(extraction.document.content_hash)
                if not _insert(conn, extraction, children):
                    duplicates += 1
                    continue
                stored += 1
                n_events += len(extraction.events)
                n_claims += len(extraction.claims)
            _insert_children(conn, children)
        return WriteResult(stored=stored, duplicates=duplicates, events=n_events, claims=n_claims)

    def known_hashes(self, hashes: Iterable[str]) -> set[str]:
        hashes = list(hashes)
        with self.engine.connect() as conn:
            return set(
                conn.scalars(select(documents.c.content_hash).where(documents.c.content_hash.in_(hashes)))
            )

    # --- reading ---------------------------------------------------------------

    def ping(self) -> None:
        """Raise unless the database answers."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                t.name: conn.scalar(select(func.count()).select_from(t))
                for t in (documents, mentions, claims, events)
            }

    def events(self, flt: EventFilter = EventFilter()) -> list[EventRecord]:
        """Events matching `flt`, by start date. Reviewed values overlay the machine's (filters and
        order see them too) and rejected events are left out, unless `flt.machine`."""
        with self.engine.connect() as conn:
            ids = _page_ids(conn, flt)
            rows = {}
            for chunk in _chunks(ids):
                query = select(events).where(events.c.id.in_(chunk))
                rows.update((r["id"], r) for r in conn.execute(query).mappings())
            records = _event_records(conn, [rows[i] for i in ids])
            return records if flt.machine else _overlaid(conn, records)

    def event_page(self, flt: EventFilter) -> tuple[int, list[EventRow]]:
        """How many events match `flt` and the page of them `flt.limit`/`flt.offset` select, as
        flat rows. Served from the in-memory event index when `use_event_index` turned it on
        and it covers the filter; from SQL otherwise (same events, same order)."""
        index = self._event_index
        found = index.page(flt) if index is not None else None
        if found is None:
            return self.count_events(flt), self.event_rows(self.event_ids(flt), machine=flt.machine)
        total, ids = found
        rows = index.unreviewed_rows(ids)
        rest = [i for i in ids if i not in rows]
        rows.update((row.event_id, row) for row in self.event_rows(rest))
        return total, [rows[i] for i in ids if i in rows]

    def use_event_index(self) -> bool:
        """Keep the filterable values of every event in memory for `event_page` (a long-running
        server's choice; SQLite only, where a change by any writer is seen at once). True if on."""
        url = self.engine.url
        if (
            self._event_index is None
            and url.get_backend_name() == "sqlite"
            and url.database not in (None, "", ":memory:")
        ):
            self._event_index = EventIndex(self.engine)
        return self._event_index is not None

    def event_ids(self, flt: EventFilter = EventFilter()) -> list[str]:
        """The ids of the events `events(flt)` gives, in the same order."""
        with self.engine.connect() as conn:
            return _page_ids(conn, flt)

    def event_rows(self, ids: Sequence[str], *, machine: bool = False) -> list[EventRow]:
        """The events `ids` as flat rows, in that order (unknown ids left out), with reviewed values
        unless `machine`."""
        ids = list(ids)
        rows: dict = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(ids):
                rows.update(
                    (r["id"], r)
                    for r in conn.execute(select(events).where(events.c.id.in_(chunk))).mappings()
                )
            records = _event_records(conn, [rows[i] for i in ids if i in rows])
            records = records if machine else _overlaid(conn, records)
        return [exporter.event_row(r) for r in records]

    def count_events(self, flt: EventFilter = EventFilter()) -> int:
        """How many events `events(flt)` gives without its limit and offset."""
        with self.engine.connect() as conn:
            return sum(conn.scalar(query) for _side, query in _parts(flt, lambda _side: [func.count()]))

    def event(self, event_id: str) -> EventRecord | None:
        """One event with its reviewed values, rejected or not."""
        with self.engine.connect() as conn:
            rows = list(conn.execute(select(events).where(events.c.id == event_id)).mappings())
            records = _overlaid(conn, _event_records(conn, rows))
        return records[0] if records else None

    def event_days(self, flt: EventFilter = EventFilter()) -> list[DayCount]:
        """Events and fatalities per start date of the dated events matching `flt` (limit ignored)."""
        totals: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        with self.engine.connect() as conn:
            for side, query in _parts(
                flt, lambda side: [side.values.c.date_start, func.count(), func.sum(side.values.c.fatalities)]
            ):
                day = side.values.c.date_start
                for d, n, dead in conn.execute(query.where(day.is_not(None)).group_by(day)):
                    totals[_as_date(d)][0] += n
                    totals[_as_date(d)][1] += int(dead or 0)
        return [DayCount(day=d, events=n, fatalities=dead) for d, (n, dead) in sorted(totals.items())]

    def facets(self, flt: EventFilter = EventFilter()) -> Facets:
        """Event types, governorates and victim groups of the events matching `flt`, commonest first."""

        def counted(conn, value, *, admin1: bool = False) -> tuple[Facet, ...]:
            totals: dict[str, int] = defaultdict(int)
            for side, query in _parts(flt, lambda side: [value(side), func.count()], admin1=admin1):
                for v, n in conn.execute(query.where(value(side).is_not(None)).group_by(value(side))):
                    totals[v] += n
            return _facets(totals.items())

        with self.engine.connect() as conn:
            return Facets(
                event_types=counted(conn, lambda side: side.values.c.event_type),
                governorates=counted(conn, lambda side: side.admin1.c.admin1, admin1=True),
                victim_groups=counted(conn, lambda side: side.values.c.victim_group),
            )

    # --- reviews -------------------------------------------------------------------

    def review_event(
        self,
        event_id: str,
        *,
        action: str,
        reason: str,
        reviewer: str,
        changes: dict | None = None,
        expected_version: int | None = None,
    ) -> review.ReviewVersion:
        """Record one review of an event in its own transaction (see `vigil.store.review.record`)."""
        with self.engine.connect().execution_options(**{dialect.WRITE_OPTION: True}) as conn, conn.begin():
            rows = list(conn.execute(select(events).where(events.c.id == event_id)).mappings())
            if not rows:
                raise review.UnknownEvent(event_id)
            return review.record(
                conn,
                _event_records(conn, rows)[0].event,
                action=action,
                reason=reason,
                reviewer=reviewer,
                changes=changes,
                expected_version=expected_version,
            )

    def review_history(self, event_id: str) -> list[review.ReviewVersion]:
        with self.engine.connect() as conn:
            return review.history(conn, event_id)

    def review_state(self, event_id: str) -> review.ReviewState | None:
        with self.engine.connect() as conn:
            return review.states(conn, [event_id]).get(event_id)

    # --- documents -----------------------------------------------------------------

    def document_spans(self, doc_id: str) -> list[DocumentSpan]:
        """What was read from one document, in text order: the evidence of its events and claims,
        their sentences, and the names, dates and numbers recognised in it."""
        with self.engine.connect() as conn:
            spans = [
                DocumentSpan(
                    kind="evidence",
                    field=r["field"],
                    start=r["start"],
                    end=r["end"],
                    rule=r["rule"],
                    owner_kind=r["owner_kind"],
                    owner_id=r["owner_id"],
                )
                for r in conn.execute(select(evidence).where(evidence.c.doc_id == doc_id)).mappings()
            ]
            for table, kind in ((events, "event"), (claims, "claim")):
                query = select(table.c.id, table.c.sentence_start, table.c.sentence_end).where(
                    table.c.doc_id == doc_id
                )
                spans += [
                    DocumentSpan(
                        kind="sentence", field="sentence", start=s, end=e, owner_kind=kind, owner_id=i
                    )
                    for i, s, e in conn.execute(query)
                ]
            query = select(mentions.c.kind, mentions.c.start, mentions.c.end, mentions.c.rule).where(
                mentions.c.doc_id == doc_id
            )
            spans += [
                DocumentSpan(kind="mention", field=k, start=s, end=e, rule=r)
                for k, s, e, r in conn.execute(query)
            ]
        return sorted(spans, key=lambda sp: (sp.start, -sp.end, sp.kind, sp.field, sp.owner_id or ""))

    def document_events(self, doc_id: str) -> list[str]:
        """The ids of the events read from one document."""
        with self.engine.connect() as conn:
            return list(
                conn.scalars(select(events.c.id).where(events.c.doc_id == doc_id).order_by(events.c.id))
            )

    # --- claims ----------------------------------------------------------------------

    def count_claims(self, flt: EventFilter = EventFilter()) -> int:
        """How many claims `claims(flt)` gives without its limit and offset."""
        query = (
            select(func.count())
            .select_from(claims.join(documents, documents.c.id == claims.c.doc_id))
            .where(*_claim_conditions(flt))
        )
        with self.engine.connect() as conn:
            return conn.scalar(query)

    def claims(self, flt: EventFilter = EventFilter()) -> list[ClaimRecord]:
        query = (
            select(claims)
            .join(documents, documents.c.id == claims.c.doc_id)
            .where(*_claim_conditions(flt))
            .order_by(documents.c.published.is_(None), documents.c.published, claims.c.id)
        )
        if flt.limit is not None:
            query = query.limit(flt.limit)
        if flt.offset:
            query = query.offset(flt.offset)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query).mappings())
            claim_map = _claims_by_id(conn, [r["id"] for r in rows])
            docs = _documents(conn, {r["doc_id"] for r in rows})
        return [ClaimRecord(claim=claim_map[r["id"]], document=docs[r["doc_id"]]) for r in rows]

    def document(self, doc_id: str) -> Document | None:
        with self.engine.connect() as conn:
            return _documents(conn, {doc_id}).get(doc_id)


def _page_ids(conn, flt: EventFilter) -> list[str]:
    """The ids of the events matching `flt`, by start date (undated last), then id; one page."""
    end = None if flt.limit is None else flt.offset + flt.limit
    found = []
    for side, query in _parts(flt, lambda side: [events.c.id, side.values.c.date_start]):
        day = side.values.c.date_start
        query = query.order_by(day.is_(None), day, events.c.id)
        found += conn.execute(query if end is None else query.limit(end)).all()
    found.sort(key=lambda row: (row[1] is None, row[1] or date.min, row[0]))
    return [row[0] for row in found[flt.offset : end]]


def _claim_links(conn, ids: list[str]) -> dict[str, list[str]]:
    """Each event's claim ids, in their order."""
    links: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(ids):
        for r in conn.execute(
            select(event_claims).where(event_claims.c.event_id.in_(chunk)).order_by(event_claims.c.position)
        ).mappings():
            links[r["event_id"]].append(r["claim_id"])
    return links


def _incidents_of(conn, ids: list[str]) -> dict[str, str]:
    incident_of: dict[str, str] = {}
    for chunk in _chunks(ids):
        for r in conn.execute(
            select(incident_events).where(incident_events.c.event_id.in_(chunk))
        ).mappings():
            incident_of[r["event_id"]] = r["incident_id"]
    return incident_of


def _claim_conditions(flt: EventFilter) -> list:
    conditions = []
    if flt.governorate:
        conditions.append(
            claims.c.id.in_(select(claim_admin1.c.claim_id).where(claim_admin1.c.admin1 == flt.governorate))
        )
    if flt.min_fatalities is not None:
        conditions.append(and_(claims.c.count >= flt.min_fatalities, claims.c.killed_or_injured == "killed"))
    if flt.actor:
        pattern = f"%{flt.actor.lower()}%"
        conditions.append(
            or_(func.lower(claims.c.claimant).like(pattern), func.lower(claims.c.via).like(pattern))
        )
    if flt.date_from:
        conditions.append(func.coalesce(claims.c.period_end, documents.c.published) >= flt.date_from)
    if flt.date_to:
        conditions.append(func.coalesce(claims.c.period_start, documents.c.published) <= flt.date_to)
    if flt.victim_group:
        conditions.append(func.lower(claims.c.victim_group) == flt.victim_group.lower())
    if flt.q and flt.q.split():
        conditions.append(_text_condition(claims.c.doc_id, flt.q))
    return conditions


@dataclass(frozen=True, kw_only=True)
class _Side:
    """Where one part of an event query reads the values it filters on."""

    values: Table  # events (the machine's values) or event_review_state (a reviewer's)
    admin1: Table  # event_admin1 or event_review_admin1


_MACHINE = _Side(values=events, admin1=event_admin1)
_REVIEWED = _Side(values=event_review_state, admin1=event_review_admin1)


def _parts(flt: EventFilter, columns: Callable[[_Side], list], *, admin1: bool = False) -> list:
    """The events matching `flt` as (side, SELECT `columns(side)`) pairs whose results add up:
    events never reviewed, filtered on their own columns (so the events indexes serve them),
    and reviewed events, filtered on their reviewed values. `admin1` joins each event's
    governorates. Callers order, group or count each part and merge the results."""
    state = event_review_state

    def part(side: _Side, source, *extra):
        if admin1:
            source = source.join(side.admin1, side.admin1.c.event_id == events.c.id)
        return side, select(*columns(side)).select_from(source).where(*extra, *_event_conditions(flt, side))

    if flt.machine:
        return [part(_MACHINE, events)]
    parts = []
    if flt.reviewed != "only":
        parts.append(part(_MACHINE, events, events.c.id.not_in(select(state.c.event_id))))
    if flt.reviewed != "unreviewed":
        shown = () if flt.include_rejected else (state.c.status != "rejected",)
        parts.append(part(_REVIEWED, events.join(state, state.c.event_id == events.c.id), *shown))
    return parts


def _event_conditions(flt: EventFilter, side: _Side = _MACHINE) -> list:
    """`flt`'s conditions on the values `side` names (the review flags are `_parts`')."""
    col = side.values.c
    conditions = []
    if flt.date_from:
        conditions.append(func.coalesce(col.date_end, col.date_start) >= flt.date_from)
    if flt.date_to:
        conditions.append(col.date_start <= flt.date_to)
    if flt.governorate:
        governed = select(side.admin1.c.event_id).where(side.admin1.c.admin1 == flt.governorate)
        conditions.append(events.c.id.in_(governed))
    if flt.event_type:
        wanted = flt.event_type.lower()
        conditions.append(or_(func.lower(col.event_type) == wanted, func.lower(col.sub_event_type) == wanted))
    if flt.actor:
        pattern = f"%{flt.actor.lower()}%"
        conditions.append(or_(func.lower(col.actor1).like(pattern), func.lower(col.actor2).like(pattern)))
    if flt.min_fatalities is not None:
        conditions.append(col.fatalities >= flt.min_fatalities)
    if flt.victim_group:
        conditions.append(func.lower(col.victim_group) == flt.victim_group.lower())
    if flt.q and flt.q.split():
        conditions.append(_text_condition(events.c.doc_id, flt.q))
    return conditions


_MAX_TERMS = 10
_LIKE_ESCAPE = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})


def _text_condition(doc_id_column, q: str):
    """Documents whose title or text holds every word of `q` (the first ten), ignoring case."""
    terms = []
    for word in q.lower().split()[:_MAX_TERMS]:
        pattern = f"%{word.translate(_LIKE_ESCAPE)}%"
        terms.append(
            or_(
                func.lower(documents.c.text).like(pattern, escape="\\"),
                func.lower(func.coalesce(documents.c.title, "")).like(pattern, escape="\\"),
            )
        )
    return doc_id_column.in_(select(documents.c.id).where(*terms))


def _overlaid(conn, records: list[EventRecord]) -> list[EventRecord]:
    states = review.states(conn, [r.event.id for r in records])
    return [review.overlay(r, states.get(r.event.id)) for r in records]


def _facets(pairs) -> tuple[Facet, ...]:
    return tuple(Facet(value=v, count=n) for v, n in sorted(pairs, key=lambda p: (-p[1], p[0])))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


# --- row <-> record ------------------------------------------------------------


# Child tables in the order their foreign keys allow.
_CHILD_TABLES = (mentions, claims, claim_admin1, events, event_admin1, event_claims, evidence)


def _insert(conn, x: Extraction, pending: dict | None = None) -> bool:
    """Insert one extraction; False (and nothing inserted) when another writer stored its document.

    The document row goes in at once (it decides); its children's rows are added to `pending`, for
    `_insert_children` to write a whole batch's in one statement per table (now, when no `pending`)."""
    rows = pending if pending is not None else defaultdict(list)
    doc = x.document
    inserted = conn.execute(
        dialect.insert_new(conn, documents, "content_hash"),
        {
            "id": doc.id,
            "content_hash": doc.content_hash,
            "name": doc.name,
            "source": doc.source,
            "title": doc.title,
            "url": doc.url,
            "outlet": doc.outlet,
            "published": doc.published,
            "published_from": doc.published_from,
            "language": doc.language,
            "doc_metadata": [list(kv) for kv in doc.metadata],
            "text": doc.text,
            "extractor": x.extractor,
        },
    )
    if inserted.rowcount == 0:
        return False
    if x.mentions:
        rows[mentions].extend(
            [
                {
                    "id": f"{doc.id}-m{i}",
                    "doc_id": doc.id,
                    "kind": m.kind,
                    "text": m.text,
                    "start": m.evidence.span.start,
                    "end": m.evidence.span.end,
                    "rule": m.evidence.rule,
                    "confidence": m.evidence.confidence,
                    "method": m.method,
                    "score": m.score,
                    "value": to_dict(m.place or m.date or m.actor or m.quantity),
                }
                for i, m in enumerate(x.mentions)
            ],
        )
    for c in x.claims:
        rows[claims].append(
            {
                "id": c.id,
                "doc_id": c.doc_id,
                "claimant": c.claimant,
                "via": c.via,
                "count": c.count,
                "qualifier": c.qualifier,
                "killed_or_injured": c.killed_or_injured,
                "category": c.category,
                "victim_group": c.victim_group,
                "scope": c.scope,
                "period_start": c.period.start,
                "period_end": c.period.end,
                "period_precision": c.period.precision,
                "start": c.span.start,
                "end": c.span.end,
                "sentence_start": c.sentence.start,
                "sentence_end": c.sentence.end,
                "confidence": c.confidence,
            },
        )
        rows[claim_admin1] += [{"claim_id": c.id, "position": i, "admin1": a} for i, a in enumerate(c.admin1)]
        rows[evidence] += _evidence_rows("claim", c.id, c.evidence)
    for e in x.events:
        place = e.place
        rows[events].append(
            {
                "id": e.id,
                "doc_id": e.doc_id,
                "event_type": e.event_type,
                "sub_event_type": e.sub_event_type,
                "date_start": e.date.start,
                "date_end": e.date.end,
                "time_precision": e.date.precision,
                "country": e.country,
                "place": to_dict(place),
                "location": e.location,
                "latitude": place.latitude if place else None,
                "longitude": place.longitude if place else None,
                "geo_precision": place.geo_precision if place else None,
                "actor1": e.actor1,
                "actor1_type": e.actor1_type,
                "actor2": e.actor2,
                "actor2_type": e.actor2_type,
                "victim_group": e.victim_group,
                "civilian_targeting": e.civilian_targeting,
                "fatalities": e.fatalities,
                "fatalities_low": e.fatalities_low,
                "fatalities_high": e.fatalities_high,
                "toll_scope": e.toll_scope,
                "start": e.span.start,
                "end": e.span.end,
                "sentence_start": e.sentence.start,
                "sentence_end": e.sentence.end,
                "confidence": e.confidence,
            },
        )
        rows[event_admin1] += [{"event_id": e.id, "position": i, "admin1": a} for i, a in enumerate(e.admin1)]
        rows[event_claims] += [
            {"event_id": e.id, "claim_id": cid, "position": i} for i, cid in enumerate(e.claim_ids)
        ]
        rows[evidence] += _evidence_rows("event", e.id, e.evidence)
    if pending is None:
        _insert_children(conn, rows)
    return True


def _insert_children(conn, pending: dict) -> None:
    """Write the child rows `_insert` collected: one multi-row INSERT per table."""
    for table in _CHILD_TABLES:
        if pending.get(table):
            conn.execute(table.insert(), pending[table])


def _evidence_rows(kind: str, owner_id: str, items: Sequence[Evidence]) -> list[dict]:
    return [
        {
            "owner_id": owner_id,
            "position": i,
            "owner_kind": kind,
            "doc_id": ev.span.doc_id,
            "field": ev.field,
            "start": ev.span.start,
            "end": ev.span.end,
            "rule": ev.rule,
            "confidence": ev.confidence,
        }
        for i, ev in enumerate(items)
    ]


def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _evidence_for(conn, owner_ids: list[str]) -> dict[str, tuple[Evidence, ...]]:
    found: dict[str, list[Evidence]] = defaultdict(list)
    for chunk in _chunks(owner_ids):
        rows = conn.execute(
            select(evidence)
            .where(evidence.c.owner_id.in_(chunk))
            .order_by(evidence.c.owner_id, evidence.c.position)
        ).mappings()
        for r in rows:
            found[r["owner_id"]].append(
                Evidence(
                    field=r["field"],
                    span=Span(doc_id=r["doc_id"], start=r["start"], end=r["end"]),
                    rule=r["rule"],
                    confidence=r["confidence"],
                )
            )
    return {k: tuple(v) for k, v in found.items()}


def _admin1_for(conn, table, key, ids: list[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(ids):
        for r in conn.execute(select(table).where(key.in_(chunk)).order_by(key, table.c.position)).mappings():
            found[r[key.name]].append(r["admin1"])
    return {k: tuple(v) for k, v in found.items()}


def _claims_by_id(conn, claim_ids: list[str]) -> dict[str, Claim]:
    rows = []
    for chunk in _chunks(claim_ids):
        rows += list(conn.execute(select(claims).where(claims.c.id.in_(chunk))).mappings())
    admin1 = _admin1_for(conn, claim_admin1, claim_admin1.c.claim_id, claim_ids)
    ev = _evidence_for(conn, claim_ids)
    return {
        r["id"]: Claim(
            id=r["id"],
            doc_id=r["doc_id"],
            claimant=r["claimant"],
            via=r["via"],
            count=r["count"],
            qualifier=r["qualifier"],
            killed_or_injured=r["killed_or_injured"],
            category=r["category"],
            victim_group=r["victim_group"],
            scope=r["scope"],
            period=DateInterval(
                start=r["period_start"], end=r["period_end"], precision=r["period_precision"]
            ),
            admin1=admin1.get(r["id"], ()),
            span=Span(doc_id=r["doc_id"], start=r["start"], end=r["end"]),
            sentence=Span(doc_id=r["doc_id"], start=r["sentence_start"], end=r["sentence_end"]),
            evidence=ev.get(r["id"], ()),
            confidence=r["confidence"],
        )
        for r in rows
    }


def _documents(conn, doc_ids: set[str]) -> dict[str, Document]:
    out = {}
    for chunk in _chunks(sorted(doc_ids)):
        for r in conn.execute(select(documents).where(documents.c.id.in_(chunk))).mappings():
            out[r["id"]] = Document(
                id=r["id"],
                content_hash=r["content_hash"],
                text=r["text"],
                name=r["name"],
                source=r["source"],
                title=r["title"],
                url=r["url"],
                outlet=r["outlet"],
                published=r["published"],
                published_from=r["published_from"],
                language=r["language"],
                metadata=tuple((k, v) for k, v in r["doc_metadata"]),
            )
    return out


def _event_records(conn, rows: list) -> list[EventRecord]:
    ids = [r["id"] for r in rows]
    admin1 = _admin1_for(conn, event_admin1, event_admin1.c.event_id, ids)
    ev = _evidence_for(conn, ids)
    links = _claim_links(conn, ids)
    claim_map = _claims_by_id(conn, [c for cs in links.values() for c in cs])
    docs = _documents(conn, {r["doc_id"] for r in rows})
    incident_of = _incidents_of(conn, ids)
    records = []
    for r in rows:
        event = EventMention(
            id=r["id"],
            doc_id=r["doc_id"],
            event_type=r["event_type"],
            sub_event_type=r["sub_event_type"],
            date=DateInterval(start=r["date_start"], end=r["date_end"], precision=r["time_precision"]),
            country=r["country"],
            admin1=admin1.get(r["id"], ()),
            place=from_dict(Place, r["place"]) if r["place"] else None,
            actor1=r["actor1"],
            actor2=r["actor2"],
            victim_group=r["victim_group"],
            civilian_targeting=bool(r["civilian_targeting"]),
            actor1_type=r["actor1_type"],
            actor2_type=r["actor2_type"],
            fatalities=r["fatalities"],
            fatalities_low=r["fatalities_low"],
            fatalities_high=r["fatalities_high"],
            toll_scope=r["toll_scope"],
            claim_ids=tuple(links.get(r["id"], ())),
            span=Span(doc_id=r["doc_id"], start=r["start"], end=r["end"]),
            sentence=Span(doc_id=r["doc_id"], start=r["sentence_start"], end=r["sentence_end"]),
            evidence=ev.get(r["id"], ()),
            confidence=r["confidence"],
        )
        records.append(
            EventRecord(
                event=event,
                claims=tuple(claim_map[c] for c in event.claim_ids if c in claim_map),
                document=docs[r["doc_id"]],
                incident_id=incident_of.get(r["id"]),
            )
        )
    return records
