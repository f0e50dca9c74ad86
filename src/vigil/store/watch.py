"""What `vigil watch` remembers between runs: its sources (settings, HTTP validators, health), the
items each source listed and what became of them, robots.txt files, and alerts already announced.

An item goes pending → fetching → fetched, failed or skipped. It is marked fetching (in its own
transaction) before its page is asked for, and fetched right after its document is stored; an
item a crash left in fetching is settled by `recover` on the next start: fetched when its
document (found by `Document.source == ref`) is in the store, else pending again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, and_, case, func, or_, select, update

from vigil.fetch import RobotsFile
from vigil.model import Document, from_dict, to_dict
from vigil.store import Store, dialect
from vigil.store.schema import documents, watch_alerts, watch_items, watch_robots, watch_sources

STATES = ("pending", "fetching", "fetched", "failed", "skipped")


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    """One watched source as configured (SOURCES.yaml)."""

    name: str
    url: str
    kind: str = "feed"  # feed or sitemap
    outlet: str | None = None
    language: str | None = None
    interval: int = 900  # seconds between polls


@dataclass(frozen=True, kw_only=True)
class SourceRow:
    """A source as stored: its settings, validators and health counters."""

    config: SourceConfig
    etag: str | None
    last_modified: str | None
    checks: int
    not_modified: int
    failures: int
    consecutive_failures: int
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, kw_only=True)
class Listed:
    """An item as a listing gives it: its key (feed GUID or URL), the page to fetch, the document
    source to store it under, a date, a sitemap lastmod, and a feed entry's own text."""

    key: str
    url: str | None
    ref: str
    published: date | None = None
    lastmod: str | None = None  # ISO 8601 in UTC, so later sorts later
    fallback: Document | None = None


@dataclass(frozen=True, kw_only=True)
class Item:
    """An item as stored."""

    source: str
    key: str
    url: str | None
    ref: str
    state: str
    attempts: int
    published: date | None
    lastmod: str | None
    fallback: Document | None
    etag: str | None
    last_modified: str | None
    doc_id: str | None
    error: str | None


@dataclass(frozen=True, kw_only=True)
class ItemCounts:
    fetched_today: int = 0
    fetched: int = 0
    failed: int = 0
    skipped: int = 0
    pending: int = 0


def _write(store: Store):
    return store.engine.connect().execution_options(**{dialect.WRITE_OPTION: True})


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives timestamps back without their zone; they are stored in UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- sources ---------------------------------------------------------------------------


def register(store: Store, configs: Sequence[SourceConfig]) -> None:
    """Add new sources and update changed settings; a source whose URL changed forgets its validators."""
    with _write(store) as conn, conn.begin():
        known = {r.name: r for r in conn.execute(select(watch_sources)).mappings()}
        for c in configs:
            settings = {
                "url": c.url,
                "kind": c.kind,
                "outlet": c.outlet,
                "language": c.language,
                "interval": c.interval,
            }
            row = known.get(c.name)
            if row is None:
                conn.execute(
                    watch_sources.insert(),
                    {
                        "name": c.name,
                        **settings,
                        "checks": 0,
                        "not_modified": 0,
                        "failures": 0,
                        "consecutive_failures": 0,
                    },
                )
            elif any(row[k] != v for k, v in settings.items()):
                reset = {"etag": None, "last_modified": None} if row["url"] != c.url else {}
                conn.execute(
                    update(watch_sources).where(watch_sources.c.name == c.name).values(**settings, **reset)
                )


def sources(store: Store) -> list[SourceRow]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(watch_sources).order_by(watch_sources.c.name)).mappings()
        return [
            SourceRow(
                config=SourceConfig(
                    name=r["name"],
                    url=r["url"],
                    kind=r["kind"],
                    outlet=r["outlet"],
                    language=r["language"],
                    interval=r["interval"],
                ),
                etag=r["etag"],
                last_modified=r["last_modified"],
                checks=r["checks"],
                not_modified=r["not_modified"],
                failures=r["failures"],
                consecutive_failures=r["consecutive_failures"],
                last_checked_at=_aware(r["last_checked_at"]),
                last_success_at=_aware(r["last_success_at"]),
                last_error_at=_aware(r["last_error_at"]),
                last_error=r["last_error"],
            )
            for r in rows
        ]


def record_listing(
    store: Store,
    name: str,
    *,
    at: datetime,
    etag: str | None,
    last_modified: str | None,
    listed: Sequence[Listed],
) -> int:
    """A successful poll, in one transaction: the new validators, and every item not seen before
    (or listed with a newer lastmod) as pending. Returns how many items became pending."""
    with _write(store) as conn, conn.begin():
        _succeeded(conn, name, at, etag=etag, last_modified=last_modified)
        return _add_items(conn, name, listed, at)


def record_not_modified(store: Store, name: str, *, at: datetime) -> None:
    """A poll answered 304: a success with nothing new."""
    with _write(store) as conn, conn.begin():
        _succeeded(conn, name, at)
        conn.execute(
            update(watch_sources)
            .where(watch_sources.c.name == name)
            .values(not_modified=watch_sources.c.not_modified + 1)
        )


def record_failure(store: Store, name: str, *, at: datetime, error: str) -> None:
    with _write(store) as conn, conn.begin():
        c = watch_sources.c
        conn.execute(
            update(watch_sources)
            .where(c.name == name)
            .values(
                checks=c.checks + 1,
                failures=c.failures + 1,
                consecutive_failures=c.consecutive_failures + 1,
                last_checked_at=at,
                last_error_at=at,
                last_error=error[:2000],
            )
        )


def _succeeded(
    conn: Connection, name: str, at: datetime, *, etag: str | None = None, last_modified: str | None = None
) -> None:
    c = watch_sources.c
    values = {
        "checks": c.checks + 1,
        "consecutive_failures": 0,
        "last_checked_at": at,
        "last_success_at": at,
    }
    if etag is not None or last_modified is not None:
        values |= {"etag": etag, "last_modified": last_modified}
    conn.execute(update(watch_sources).where(c.name == name).values(**values))


def _add_items(conn: Connection, name: str, listed: Sequence[Listed], at: datetime) -> int:
    if not listed:
        return 0
    c = watch_items.c
    lastmods = {}
    for chunk in _chunks([x.key for x in listed]):
        lastmods |= dict(
            conn.execute(select(c.key, c.lastmod).where(c.source == name, c.key.in_(chunk))).all()
        )
    added = 0
    for x in listed:
        if x.key not in lastmods:
            inserted = conn.execute(
                dialect.insert_new(conn, watch_items, "source", "key"),
                {
                    "source": name,
                    "key": x.key,
                    "url": x.url,
                    "ref": x.ref,
                    "state": "pending",
                    "attempts": 0,
                    "published": x.published,
                    "lastmod": x.lastmod,
                    "fallback": to_dict(x.fallback) if x.fallback else None,
                    "first_seen_at": at,
                    "updated_at": at,
                },
            )
            added += inserted.rowcount
            lastmods[x.key] = x.lastmod
        elif x.lastmod and (lastmods[x.key] is None or x.lastmod > lastmods[x.key]):
            conn.execute(
                update(watch_items)
                .where(c.source == name, c.key == x.key, c.state != "fetching")
                .values(state="pending", attempts=0, lastmod=x.lastmod, published=x.published, updated_at=at)
            )
            added += 1
    return added


# --- items -----------------------------------------------------------------------------


def items_to_fetch(
    store: Store, name: str, *, retry_failed: bool, max_attempts: int, limit: int
) -> list[Item]:
    """The source's pending items (and failed ones with attempts left, when `retry_failed`), oldest first."""
    c = watch_items.c
    wanted = c.state == "pending"
    if retry_failed:
        wanted = or_(wanted, and_(c.state == "failed", c.attempts < max_attempts))
    query = select(watch_items).where(c.source == name, wanted).order_by(c.first_seen_at, c.key).limit(limit)
    with store.engine.connect() as conn:
        return [_item(r) for r in conn.execute(query).mappings()]


def has_pending(store: Store, names: Sequence[str]) -> bool:
    """Whether any of these sources has items waiting to be fetched."""
    c = watch_items.c
    query = select(c.key).where(c.source.in_(list(names)), c.state.in_(("pending", "fetching"))).limit(1)
    with store.engine.connect() as conn:
        return conn.scalar(query) is not None


def items(store: Store, source: str | None = None) -> list[Item]:
    query = select(watch_items).order_by(watch_items.c.source, watch_items.c.first_seen_at, watch_items.c.key)
    if source is not None:
        query = query.where(watch_items.c.source == source)
    with store.engine.connect() as conn:
        return [_item(r) for r in conn.execute(query).mappings()]


def start_item(store: Store, source: str, key: str, *, at: datetime) -> None:
    """Mark an item fetching (one more attempt) before its page is asked for."""
    c = watch_items.c
    with _write(store) as conn, conn.begin():
        conn.execute(
            update(watch_items)
            .where(c.source == source, c.key == key)
            .values(state="fetching", attempts=c.attempts + 1, updated_at=at)
        )


def finish_item(
    store: Store,
    source: str,
    key: str,
    *,
    state: str,
    at: datetime,
    doc_id: str | None = None,
    error: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> None:
    """Record what became of an item; idempotent. Validators are kept unless new ones are given."""
    if state not in STATES:
        raise ValueError(f"unknown item state {state!r}")
    c = watch_items.c
    values: dict = {"state": state, "updated_at": at, "error": error[:2000] if error else None}
    if state == "fetched":
        values |= {"doc_id": doc_id, "fetched_at": at}
    if etag is not None or last_modified is not None:
        values |= {"etag": etag, "last_modified": last_modified}
    with _write(store) as conn, conn.begin():
        conn.execute(update(watch_items).where(c.source == source, c.key == key).values(**values))


def recover(store: Store, *, at: datetime) -> tuple[int, int]:
    """Settle the items a killed watcher left fetching: (marked fetched, made pending again)."""
    c = watch_items.c
    fetched = pending = 0
    with _write(store) as conn, conn.begin():
        stuck = conn.execute(select(c.source, c.key, c.ref).where(c.state == "fetching")).all()
        for source, key, ref in stuck:
            doc_id = conn.scalar(
                select(documents.c.id).where(documents.c.source == ref).order_by(documents.c.id).limit(1)
            )
            where = and_(c.source == source, c.key == key)
            if doc_id is not None:
                conn.execute(
                    update(watch_items)
                    .where(where)
                    .values(state="fetched", doc_id=doc_id, fetched_at=at, updated_at=at, error=None)
                )
                fetched += 1
            else:
                conn.execute(update(watch_items).where(where).values(state="pending", updated_at=at))
                pending += 1
    return fetched, pending


def item_counts(store: Store, *, since: datetime) -> dict[str, ItemCounts]:
    """Per source: items fetched since `since` and in all, failed, skipped and waiting."""
    c = watch_items.c

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    query = select(
        c.source,
        count(and_(c.state == "fetched", c.fetched_at >= since)),
        count(c.state == "fetched"),
        count(c.state == "failed"),
        count(c.state == "skipped"),
        count(c.state.in_(("pending", "fetching"))),
    ).group_by(c.source)
    with store.engine.connect() as conn:
        return {
            source: ItemCounts(
                fetched_today=int(today or 0),
                fetched=int(total or 0),
                failed=int(failed or 0),
                skipped=int(skipped or 0),
                pending=int(waiting or 0),
            )
            for source, today, total, failed, skipped, waiting in conn.execute(query)
        }


def _item(r) -> Item:
    return Item(
        source=r["source"],
        key=r["key"],
        url=r["url"],
        ref=r["ref"],
        state=r["state"],
        attempts=r["attempts"],
        published=r["published"],
        lastmod=r["lastmod"],
        fallback=from_dict(Document, r["fallback"]) if r["fallback"] else None,
        etag=r["etag"],
        last_modified=r["last_modified"],
        doc_id=r["doc_id"],
        error=r["error"],
    )


def _chunks(values: list, size: int = 500):
    for i in range(0, len(values), size):
        yield values[i : i + size]


# --- robots.txt --------------------------------------------------------------------------


class StoreRobotsCache:
    """robots.txt files kept in the store, so a restarted watcher does not fetch them again."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self, origin: str) -> RobotsFile | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(watch_robots).where(watch_robots.c.origin == origin)).mappings().first()
        if row is None:
            return None
        return RobotsFile(
            origin=row["origin"], fetched_at=_aware(row["fetched_at"]), status=row["status"], body=row["body"]
        )

    def save(self, robots: RobotsFile) -> None:
        values = {"fetched_at": robots.fetched_at, "status": robots.status, "body": robots.body}
        with _write(self.store) as conn, conn.begin():
            done = conn.execute(
                update(watch_robots).where(watch_robots.c.origin == robots.origin).values(**values)
            )
            if done.rowcount == 0:
                conn.execute(
                    dialect.insert_new(conn, watch_robots, "origin"), {"origin": robots.origin, **values}
                )


# --- alerts ------------------------------------------------------------------------------


def unannounced(store: Store, keys: Iterable[str]) -> set[str]:
    """The keys among `keys` of alerts not announced yet."""
    keys = set(keys)
    seen: set[str] = set()
    with store.engine.connect() as conn:
        for chunk in _chunks(sorted(keys)):
            seen |= set(conn.scalars(select(watch_alerts.c.key).where(watch_alerts.c.key.in_(chunk))))
    return keys - seen


def announce(store: Store, alerts: Sequence[tuple[str, str, dict]], *, at: datetime) -> None:
    """Remember alerts as announced: (key, rule, the alert as JSON) each."""
    if not alerts:
        return
    with _write(store) as conn, conn.begin():
        for key, rule, alert in alerts:
            conn.execute(
                dialect.insert_new(conn, watch_alerts, "key"),
                {"key": key, "rule": rule, "raised_at": at, "alert": alert},
            )
