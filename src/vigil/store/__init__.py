"""The event store: documents and everything extracted from them, in SQLite or PostgreSQL.

`Store.open()` migrates the database to the current schema; `write()` stores a
batch of extractions in one transaction (a document already stored is counted
as a duplicate and left untouched); the query methods give records back as the
model's dataclasses.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import platformdirs
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, and_, create_engine, func, or_, select

from vigil.model import (
    Claim,
    DateInterval,
    Document,
    EventMention,
    EventRecord,
    Evidence,
    Extraction,
    Place,
    Span,
    from_dict,
    to_dict,
)
from vigil.store import dialect
from vigil.store.schema import (
    claim_admin1,
    claims,
    documents,
    event_admin1,
    event_claims,
    events,
    evidence,
    mentions,
)

MIGRATIONS = Path(__file__).with_name("migrations")


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

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        engine = create_engine(url or default_url(), future=True)
        dialect.configure(engine)
        store = cls(engine)
        store.migrate()
        return store

    def migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect().execution_options(**{dialect.WRITE_OPTION: True}) as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------

    def write(self, batch: Sequence[Extraction]) -> WriteResult:
        """Store a batch in one transaction; documents already stored are duplicates."""
        with self.engine.connect().execution_options(**{dialect.WRITE_OPTION: True}) as conn, conn.begin():
            hashes = [x.document.content_hash for x in batch]
            known = set(
                conn.scalars(select(documents.c.content_hash).where(documents.c.content_hash.in_(hashes)))
            )
            stored = duplicates = n_events = n_claims = 0
            for extraction in batch:
                if extraction.document.content_hash in known:
                    duplicates += 1
                    continue
                known.add(extraction.document.content_hash)
                _insert(conn, extraction)
                stored += 1
                n_events += len(extraction.events)
                n_claims += len(extraction.claims)
        return WriteResult(stored=stored, duplicates=duplicates, events=n_events, claims=n_claims)

    def known_hashes(self, hashes: Iterable[str]) -> set[str]:
        hashes = list(hashes)
        with self.engine.connect() as conn:
            return set(
                conn.scalars(select(documents.c.content_hash).where(documents.c.content_hash.in_(hashes)))
            )

    # --- reading ---------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                t.name: conn.scalar(select(func.count()).select_from(t))
                for t in (documents, mentions, claims, events)
            }

    def events(self, flt: EventFilter = EventFilter()) -> list[EventRecord]:
        query = (
            select(events)
            .where(*_event_conditions(flt))
            .order_by(events.c.date_start.is_(None), events.c.date_start, events.c.id)
        )
        if flt.limit is not None:
            query = query.limit(flt.limit)
        if flt.offset:
            query = query.offset(flt.offset)
        with self.engine.connect() as conn:
            return _event_records(conn, list(conn.execute(query).mappings()))

    def event(self, event_id: str) -> EventRecord | None:
        with self.engine.connect() as conn:
            rows = list(conn.execute(select(events).where(events.c.id == event_id)).mappings())
            records = _event_records(conn, rows)
        return records[0] if records else None

    def claims(self, flt: EventFilter = EventFilter()) -> list[ClaimRecord]:
        conditions = []
        if flt.governorate:
            conditions.append(
                claims.c.id.in_(
                    select(claim_admin1.c.claim_id).where(claim_admin1.c.admin1 == flt.governorate)
                )
            )
        if flt.min_fatalities is not None:
            conditions.append(
                and_(claims.c.count >= flt.min_fatalities, claims.c.killed_or_injured == "killed")
            )
        if flt.actor:
            pattern = f"%{flt.actor.lower()}%"
            conditions.append(
                or_(func.lower(claims.c.claimant).like(pattern), func.lower(claims.c.via).like(pattern))
            )
        if flt.date_from:
            conditions.append(func.coalesce(claims.c.period_end, documents.c.published) >= flt.date_from)
        if flt.date_to:
            conditions.append(func.coalesce(claims.c.period_start, documents.c.published) <= flt.date_to)
        query = (
            select(claims)
            .join(documents, documents.c.id == claims.c.doc_id)
            .where(*conditions)
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


def _event_conditions(flt: EventFilter) -> list:
    conditions = []
    if flt.date_from:
        conditions.append(func.coalesce(events.c.date_end, events.c.date_start) >= flt.date_from)
    if flt.date_to:
        conditions.append(events.c.date_start <= flt.date_to)
    if flt.governorate:
        conditions.append(
            events.c.id.in_(select(event_admin1.c.event_id).where(event_admin1.c.admin1 == flt.governorate))
        )
    if flt.event_type:
        wanted = flt.event_type.lower()
        conditions.append(
            or_(func.lower(events.c.event_type) == wanted, func.lower(events.c.sub_event_type) == wanted)
        )
    if flt.actor:
        pattern = f"%{flt.actor.lower()}%"
        conditions.append(
            or_(func.lower(events.c.actor1).like(pattern), func.lower(events.c.actor2).like(pattern))
        )
    if flt.min_fatalities is not None:
        conditions.append(events.c.fatalities >= flt.min_fatalities)
    return conditions


# --- row <-> record ------------------------------------------------------------


def _insert(conn, x: Extraction) -> None:
    doc = x.document
    conn.execute(
        documents.insert(),
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
    if x.mentions:
        conn.execute(
            mentions.insert(),
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
    evidence_rows = []
    for c in x.claims:
        conn.execute(
            claims.insert(),
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
        if c.admin1:
            conn.execute(
                claim_admin1.insert(),
                [{"claim_id": c.id, "position": i, "admin1": a} for i, a in enumerate(c.admin1)],
            )
        evidence_rows += _evidence_rows("claim", c.id, c.evidence)
    for e in x.events:
        place = e.place
        conn.execute(
            events.insert(),
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
        if e.admin1:
            conn.execute(
                event_admin1.insert(),
                [{"event_id": e.id, "position": i, "admin1": a} for i, a in enumerate(e.admin1)],
            )
        if e.claim_ids:
            conn.execute(
                event_claims.insert(),
                [{"event_id": e.id, "claim_id": cid, "position": i} for i, cid in enumerate(e.claim_ids)],
            )
        evidence_rows += _evidence_rows("event", e.id, e.evidence)
    if evidence_rows:
        conn.execute(evidence.insert(), evidence_rows)


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
    links: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(ids):
        for r in conn.execute(
            select(event_claims).where(event_claims.c.event_id.in_(chunk)).order_by(event_claims.c.position)
        ).mappings():
            links[r["event_id"]].append(r["claim_id"])
    claim_map = _claims_by_id(conn, [c for cs in links.values() for c in cs])
    docs = _documents(conn, {r["doc_id"] for r in rows})
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
            )
        )
    return records
