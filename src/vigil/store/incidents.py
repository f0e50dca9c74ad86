"""Incidents in the store: their current state, their versions, and which documents they have seen.

`save` writes a new set of incidents as a diff against the stored one, in one
transaction: an incident whose members, tolls and parent are unchanged is not
touched; every change becomes a version naming the documents that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from vigil.model import Incident, Toll, from_dict, to_dict
from vigil.store import Store, dialect
from vigil.store.schema import documents, incident_events, incident_versions, incidents, reconciled_documents


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


def reconciled(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.scalars(select(reconciled_documents.c.doc_id)))


def load(store: Store) -> dict[str, Incident]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(incidents.c.id, incidents.c.record)).all()
    return {r.id: from_dict(Incident, r.record) for r in rows if r.record is not None}


def get(store: Store, incident_id: str) -> Incident | None:
    with store.engine.connect() as conn:
        record = conn.scalar(select(incidents.c.record).where(incidents.c.id == incident_id))
    return from_dict(Incident, record) if record else None


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
    merged_from = merged_from or {}
    with store.engine.connect().execution_options(**{dialect.WRITE_OPTION: True}) as conn, conn.begin():
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
            if before == inc:
                unchanged += 1
                continue
            kinds, detail = changes(before, inc)
            if inc.id in merged_from:
                kinds = (*kinds, "merged")
                detail["merged_from"] = merged_from[inc.id]
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
                    kinds=["merged" if into else "dissolved"],
                    doc_ids=list(caused_by),
                    detail={"into": into},
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
