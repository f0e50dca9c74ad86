"""Incidents in the store: their current state, their versions, and which documents they have seen.

`save` writes a new set of incidents as a diff against the stored one, in one
transaction: an incident whose members, tolls and parent are unchanged is not
touched; every change becomes a version naming the documents that caused it.

Reviewers' decisions about merges (confirm an incident, reject one of its members) are
rows of `incident_reviews`, numbered in the order they were made; `record_decision`
checks and writes one, `decisions` reads them back for clustering.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select, update

from vigil.model import Incident, Toll, from_dict, to_dict
from vigil.reconcile import MERGE_ACTIONS, Decision
from vigil.store import Store, dialect
from vigil.store.schema import (
    documents,
    incident_events,
    incident_reviews,
    incident_versions,
    incidents,
    reconciled_documents,
)

MAX_REASON = 2000  # as an event review's (vigil.store.review.MAX_REASON)
REVIEWED = "reviewed"  # the kind of change of a version a merge review wrote


class UnknownIncident(LookupError):
    """No incident with that id."""


class IncidentReviewError(ValueError):
    """A merge review that cannot be recorded as asked; `field` names the input at fault."""

    def __init__(self, message: str, *, field: str = "action") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, kw_only=True)
class Version:
    """One change to an incident."""

    incident_id: str
    version: int
    kinds: tuple[str, ...]
    doc_ids: tuple[str, ...]
    detail: dict
    snapshot: Incident | None


@dataclass(frozen=True, kw_only=True)
class SaveResult:
    created: int
    changed: int
    removed: int
    unchanged: int


def pending_documents(store: Store) -> list[str]:
    """Stored documents not yet reconciled, in publication order (undated last), then by id."""
    done = select(reconciled_documents.c.doc_id)
    query = (
        select(documents.c.id)
        .where(documents.c.id.not_in(done))
        .order_by(documents.c.published.is_(None), documents.c.published, documents.c.id)
    )
    with store.engine.connect() as conn:
        return list(conn.scalars(query))


def reconciled(store: Store | Connection) -> set[str]:
    with _reading(store) as conn:
        return set(conn.scalars(select(reconciled_documents.c.doc_id)))


def load(store: Store | Connection) -> dict[str, Incident]:
    with _reading(store) as conn:
        rows = conn.execute(select(incidents.c.id, incidents.c.record)).all()
    return {r.id: from_dict(Incident, r.record) for r in rows if r.record is not None}


def get(store: Store | Connection, incident_id: str) -> Incident | None:
    with _reading(store) as conn:
        record = conn.scalar(select(incidents.c.record).where(incidents.c.id == incident_id))
    return from_dict(Incident, record) if record else None


@contextmanager
def _reading(source: Store | Connection) -> Iterator[Connection]:
    """`source` itself when it is a connection (inside the caller's transaction), else a new one."""
    if isinstance(source, Connection):
        yield source
        return
    with source.engine.connect() as conn:
        yield conn


@contextmanager
def writing(store: Store) -> Iterator[Connection]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    with store.engine.connect().execution_options(**{dialect.WRITE_OPTION: True}) as conn, conn.begin():
        yield conn


# --- merge reviews ---------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _decision(row) -> Decision:
    return Decision(
        version=row["version"],
        action=row["action"],
        event_ids=tuple(row["event_ids"]),
        event_id=row["event_id"],
        incident_id=row["incident_id"],
        reason=row["reason"],
        reviewer=row["reviewer"],
        created_at=_aware(row["created_at"]),
    )


def decisions(store: Store | Connection) -> list[Decision]:
    """Every merge decision ever recorded, oldest first."""
    with _reading(store) as conn:
        rows = conn.execute(select(incident_reviews).order_by(incident_reviews.c.version)).mappings()
        return [_decision(r) for r in rows]


def decision_json(d: Decision) -> dict:
    """A decision as the API and `vigil incidents --format jsonl` show it."""
    return {
        "version": d.version,
        "action": d.action,
        "incident_id": d.incident_id,
        "event_id": d.event_id,
        "event_ids": list(d.event_ids),
        "reason": d.reason,
        "reviewer": d.reviewer,
        "created_at": d.created_at.isoformat() if d.created_at else None,
    }


def record_decision(
    conn: Connection,
    incident_id: str,
    *,
    action: str,
    reason: str,
    reviewer: str,
    event_id: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Check and record one decision about incident `incident_id` on `conn`, inside the caller's
    write transaction: UnknownIncident if there is no such incident, IncidentReviewError if the
    decision cannot be made as asked."""
    if action not in MERGE_ACTIONS:
        raise IncidentReviewError(f"action must be one of: {', '.join(MERGE_ACTIONS)}")
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > MAX_REASON or "\x00" in reason:
        raise IncidentReviewError(f"a review needs a reason of 1 to {MAX_REASON} characters", field="reason")
    if not reviewer or len(reviewer) > 64 or not reviewer.isprintable():
        raise IncidentReviewError("a review needs a reviewer name of 1 to 64 characters", field="reviewer")
    incident = get(conn, incident_id)
    if incident is None:
        raise UnknownIncident(incident_id)
    if action == "confirm" and event_id is not None:
        raise IncidentReviewError(
            "confirm is about the whole incident: it takes no event_id", field="event_id"
        )
    if action == "reject":
        if not event_id:
            raise IncidentReviewError(
                "reject needs the event_id of the member that is not this incident", field="event_id"
            )
        if event_id not in incident.event_ids:
            raise IncidentReviewError(
                f"event {event_id!r} is not a member of incident {incident_id!r}", field="event_id"
            )
        if len(incident.event_ids) < 2:
            raise IncidentReviewError(
                f"incident {incident_id!r} has no other member to part {event_id!r} from", field="event_id"
            )
    now = now or datetime.now(UTC)
    values = {
        "incident_id": incident_id,
        "action": action,
        "event_id": event_id,
        "event_ids": list(incident.event_ids),
        "reason": reason,
        "reviewer": reviewer,
        "created_at": now,
    }
    version = conn.execute(insert(incident_reviews).values(**values)).inserted_primary_key[0]
    return _decision({**values, "version": version})


def history(store: Store, incident_id: str) -> list[Version]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(incident_versions)
            .where(incident_versions.c.incident_id == incident_id)
            .order_by(incident_versions.c.version)
        ).mappings()
        return [
            Version(
                incident_id=r["incident_id"],
                version=r["version"],
                kinds=tuple(r["kinds"]),
                doc_ids=tuple(r["doc_ids"]),
                detail=r["detail"],
                snapshot=from_dict(Incident, r["snapshot"]) if r["snapshot"] else None,
            )
            for r in rows
        ]


def incident_of_events(store: Store, event_ids: Sequence[str]) -> dict[str, str]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(incident_events.c.event_id, incident_events.c.incident_id).where(
                incident_events.c.event_id.in_(list(event_ids))
            )
        ).all()
    return {r.event_id: r.incident_id for r in rows}


def changes(old: Incident | None, new: Incident | None) -> tuple[tuple[str, ...], dict]:
    """What differs between two states of an incident: the kinds of change and their detail."""
    if old is None and new is not None:
        return ("created",), {"events": list(new.event_ids)}
    if new is None and old is not None:
        return ("dissolved",), {"events": list(old.event_ids)}
    assert old is not None and new is not None
    kinds: list[str] = []
    detail: dict = {}
    added = [e for e in new.event_ids if e not in old.event_ids]
    lost = [e for e in old.event_ids if e not in new.event_ids]
    if added:
        kinds.append("new_source")
        detail["events_added"] = added
    if lost:
        kinds.append("split")
        detail["events_removed"] = lost
    if _toll_view(old.tolls) != _toll_view(new.tolls):
        kinds.append("new_toll")
        detail["tolls"] = {"from": _toll_view(old.tolls), "to": _toll_view(new.tolls)}
    if old.parent_id != new.parent_id:
        kinds.append("re-nested")
        detail["parent"] = {"from": old.parent_id, "to": new.parent_id}
    if old.children != new.children:
        kinds.append("children")
        detail["children"] = {
            "added": sorted(set(new.children) - set(old.children)),
            "removed": sorted(set(old.children) - set(new.children)),
        }
    if not kinds:
        kinds.append("updated")  # dates, area, sources or the links behind the grouping
    return tuple(kinds), detail


def _toll_view(tolls: Iterable[Toll]) -> dict:
    return {t.category: [t.low, t.best, t.high] for t in tolls}


def save(
    store: Store,
    new: Sequence[Incident],
    *,
    caused_by: Sequence[str],
    merged_from: dict[str, list[str]] | None = None,
    mark_reconciled: Iterable[str] = (),
) -> SaveResult:
    """Write `new` as the incidents of the store, recording a version for each change."""
    with writing(store) as conn:
        return write(conn, new, caused_by=caused_by, merged_from=merged_from, mark_reconciled=mark_reconciled)


def write(
    conn: Connection,
    new: Sequence[Incident],
    *,
    caused_by: Sequence[str],
    merged_from: dict[str, list[str]] | None = None,
    mark_reconciled: Iterable[str] = (),
    review: Decision | None = None,
) -> SaveResult:
    """`save` on `conn`, inside the caller's write transaction. With `review`, every version
    written also has kind "reviewed" and the decision in its detail (`review`), and each incident
    that holds an event the decision is about gets a version even where nothing else changed."""
    merged_from = merged_from or {}
    concerned = {*review.event_ids, review.event_id} if review else set()
    rows = conn.execute(select(incidents.c.id, incidents.c.record)).all()
    old = {r.id: from_dict(Incident, r.record) for r in rows if r.record is not None}
    versions = dict(
        conn.execute(
            select(incident_versions.c.incident_id, incident_versions.c.version).order_by(
                incident_versions.c.version
            )
        ).all()
    )
    created = changed = unchanged = 0
    new_ids = {i.id for i in new}
    # Parents first, so a child's parent_id always names a stored row.
    for inc in sorted(new, key=lambda i: (i.parent_id is not None, i.id)):
        before = old.get(inc.id)
        if before == inc and not (review and concerned & set(inc.event_ids)):
            unchanged += 1
            continue
        kinds, detail = ((), {}) if before == inc else changes(before, inc)
        if inc.id in merged_from:
            kinds = (*kinds, "merged")
            detail["merged_from"] = merged_from[inc.id]
        if review is not None:
            kinds = (*kinds, REVIEWED)
            detail["review"] = _review_detail(review)
        values = {
            "event_type": inc.event_type,
            "date_start": inc.date.start,
            "date_end": inc.date.end,
            "time_precision": inc.date.precision,
            "admin1": list(inc.admin1),
            "parent_id": None,
            "tolls": [to_dict(t) for t in inc.tolls],
            "record": to_dict(inc),
        }
        if before == inc:  # a version for the review only; the record stays as it is
            unchanged += 1
        else:
            if before is None:
                conn.execute(insert(incidents).values(id=inc.id, **values))
                created += 1
            else:
                conn.execute(update(incidents).where(incidents.c.id == inc.id).values(**values))
                changed += 1
            conn.execute(delete(incident_events).where(incident_events.c.incident_id == inc.id))
            conn.execute(
                insert(incident_events), [{"incident_id": inc.id, "event_id": e} for e in inc.event_ids]
            )
        version = versions.get(inc.id, 0) + 1
        conn.execute(
            insert(incident_versions).values(
                incident_id=inc.id,
                version=version,
                kinds=list(kinds),
                doc_ids=[d for d in caused_by if d in inc.doc_ids] or list(caused_by),
                detail=detail,
                snapshot=to_dict(inc),
            )
        )
    for inc in new:
        conn.execute(update(incidents).where(incidents.c.id == inc.id).values(parent_id=inc.parent_id))
    removed = 0
    for gone in sorted(set(old) - new_ids):
        into = sorted(i.id for i in new if set(i.event_ids) & set(old[gone].event_ids))
        conn.execute(
            insert(incident_versions).values(
                incident_id=gone,
                version=versions.get(gone, 0) + 1,
                kinds=["merged" if into else "dissolved", *([REVIEWED] if review else [])],
                doc_ids=list(caused_by),
                detail={"into": into, **({"review": _review_detail(review)} if review else {})},
                snapshot=None,
            )
        )
        conn.execute(update(incidents).where(incidents.c.parent_id == gone).values(parent_id=None))
        conn.execute(delete(incident_events).where(incident_events.c.incident_id == gone))
        conn.execute(delete(incidents).where(incidents.c.id == gone))
        removed += 1
    done = set(conn.scalars(select(reconciled_documents.c.doc_id)))
    fresh = [d for d in dict.fromkeys(mark_reconciled) if d not in done]
    if fresh:
        conn.execute(insert(reconciled_documents), [{"doc_id": d} for d in fresh])
    return SaveResult(created=created, changed=changed, removed=removed, unchanged=unchanged)


def _review_detail(d: Decision) -> dict:
    """What a version written by a merge review says about it: who, why, which decision."""
    return {k: v for k, v in decision_json(d).items() if k != "event_ids"}
