"""The jobs the CLI and API run: each one library function over the stages.

`ingest` reads inputs, extracts each document and stores them in batches (one
transaction each, so a killed run leaves whole batches only and a re-run
completes it); `extract` does the same without a store. Extraction runs on the
engine named in `EngineOptions` (`vigil.engine`: in-process or on Dask); the
batches are written in input order either way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from vigil import engine
from vigil.engine import EngineOptions
from vigil.extract.output import gold_shape
from vigil.geo import Gazetteer
from vigil.ingest import IngestOptions, read_inputs
from vigil.model import Document, EventRecord, Extraction, Incident, Problem, to_dict
from vigil.store import ClaimRecord, EventFilter, Store

if TYPE_CHECKING:
    from vigil.reconcile import Decision


@dataclass(frozen=True, kw_only=True)
class IngestReport:
    """What an ingest run did: the counts printed at its end."""

    read: int
    stored: int
    duplicates: int
    skipped: tuple[Problem, ...] = field(default_factory=tuple)
    events: int = 0
    claims: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.skipped)


def extract(
    inputs: Sequence[str | Path], *, options: IngestOptions = IngestOptions(), stdin: BinaryIO | None = None
) -> Iterator[Extraction | Problem]:
    """Each input document extracted, in input order; unreadable inputs come back as Problems."""
    yield from engine.run_local(read_inputs(inputs, options=options, stdin=stdin))


def ingest(
    inputs: Sequence[str | Path],
    *,
    store: Store,
    options: IngestOptions = IngestOptions(),
    stdin: BinaryIO | None = None,
    batch_size: int = 50,
    progress: Callable[[Document | Problem], None] | None = None,
    engine_options: EngineOptions = EngineOptions(),
) -> IngestReport:
    """Read, extract (on the engine `engine_options` names) and store `inputs`; documents already
    stored are counted as duplicates."""
    read = stored = duplicates = n_events = n_claims = 0
    skipped: list[Problem] = []
    batch: list[Extraction] = []

    def flush() -> None:
        nonlocal stored, duplicates, n_events, n_claims
        if not batch:
            return
        result = store.write(batch)
        stored += result.stored
        duplicates += result.duplicates
        n_events += result.events
        n_claims += result.claims
        batch.clear()

    for item in _documents(inputs, options=options, stdin=stdin, store=store, engine_options=engine_options):
        if progress:
            progress(item)
        if isinstance(item, Problem):
            skipped.append(item)
            continue
        read += 1
        if isinstance(item, Document):  # already stored: no need to extract it again
            duplicates += 1
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    flush()
    return IngestReport(
        read=read,
        stored=stored,
        duplicates=duplicates,
        skipped=tuple(skipped),
        events=n_events,
        claims=n_claims,
    )


@dataclass(frozen=True, kw_only=True)
class _Known:
    """A document already stored: the engines pass it through instead of extracting it again."""

    document: Document


def _documents(
    inputs: Sequence[str | Path],
    *,
    options: IngestOptions,
    stdin: BinaryIO | None,
    store: Store,
    engine_options: EngineOptions,
) -> Iterable[Extraction | Document | Problem]:
    """Extractions for new documents, in input order; known documents come back as the bare Document."""

    def marked() -> Iterator[Document | Problem | _Known]:
        for item in read_inputs(inputs, options=options, stdin=stdin):
            known = isinstance(item, Document) and store.known_hashes([item.content_hash])
            yield _Known(document=item) if known else item

    if engine_options.name == "dask":
        results = engine.run_dask(marked(), engine_options)
    elif engine_options.name == "local":
        results = engine.run_local(marked())
    else:
        raise ValueError(f"unknown engine {engine_options.name!r}; one of {', '.join(engine.ENGINES)}")
    for item in results:
        yield item.document if isinstance(item, _Known) else item


def extract_json(
    inputs: Sequence[str | Path], *, options: IngestOptions = IngestOptions(), stdin: BinaryIO | None = None
) -> Iterator[dict | Problem]:
    """`extract`, each result in the answer-key shape (../shared/gold/README.md)."""
    for item in extract(inputs, options=options, stdin=stdin):
        yield item if isinstance(item, Problem) else gold_shape(item)


def event_filter(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    governorate: str | None = None,
    event_type: str | None = None,
    actor: str | None = None,
    min_fatalities: int | None = None,
    limit: int | None = None,
    offset: int = 0,
    reviewed: str = "all",
    include_rejected: bool = False,
    machine: bool = False,
) -> EventFilter:
    """A store filter from user input: a governorate in any spelling becomes its canonical name."""
    if governorate:
        governorate = Gazetteer.default().canonical_admin1(governorate) or governorate
    return EventFilter(
        date_from=date_from,
        date_to=date_to,
        governorate=governorate,
        event_type=event_type,
        actor=actor,
        min_fatalities=min_fatalities,
        limit=limit,
        offset=offset,
        reviewed=reviewed,
        include_rejected=include_rejected,
        machine=machine,
    )


def claim_json(record: ClaimRecord) -> dict:
    out = to_dict(record.claim)
    out["evidence_text"] = record.document.text[record.claim.sentence.start : record.claim.sentence.end]
    out["document"] = {"id": record.document.id, "name": record.document.name, "url": record.document.url}
    return out


@dataclass(frozen=True, kw_only=True)
class EvidenceView:
    field: str
    start: int
    end: int
    text: str
    rule: str


@dataclass(frozen=True, kw_only=True)
class SentenceView:
    text: str
    marks: tuple[tuple[int, int, str], ...]  # (start, end, field) relative to the sentence


@dataclass(frozen=True, kw_only=True)
class EventView:
    """An event laid out for reading: its fields, its sentences with evidence marked, its claims."""

    title: str
    fields: tuple[tuple[str, str], ...]
    document: str
    sentences: tuple[SentenceView, ...]
    evidence: tuple[EvidenceView, ...]
    claims: tuple[str, ...]


def event_view(record: EventRecord) -> EventView:
    e, doc = record.event, record.document
    text = doc.text
    sentence_spans = sorted(
        {(ev.span.start, ev.span.end) for ev in e.evidence if ev.field == "sentence"}
    ) or [(e.sentence.start, e.sentence.end)]
    sentences = []
    for s_start, s_end in sentence_spans:
        marks = tuple(
            (ev.span.start - s_start, ev.span.end - s_start, ev.field)
            for ev in e.evidence
            if ev.field != "sentence" and s_start <= ev.span.start and ev.span.end <= s_end
        )
        sentences.append(SentenceView(text=text[s_start:s_end], marks=marks))
    place = e.place
    fields = (
        ("type", f"{e.event_type} / {e.sub_event_type}"),
        ("dates", f"{e.date.start or '?'} .. {e.date.end or '?'} (time_precision {e.date.precision})"),
        ("country", e.country or ""),
        ("governorates", ", ".join(e.admin1)),
        ("location", e.location or ""),
        (
            "coordinates",
            f"{place.latitude}, {place.longitude} (geo_precision {place.geo_precision})" if place else "",
        ),
        ("actor1", f"{e.actor1 or ''} [{e.actor1_type or ''}]"),
        ("actor2", f"{e.actor2 or ''} [{e.actor2_type or ''}]"),
        ("victim_group", e.victim_group or ""),
        ("civilian_targeting", str(e.civilian_targeting)),
        (
            "fatalities",
            f"{e.fatalities} (range {e.fatalities_low}-{e.fatalities_high}, scope {e.toll_scope})",
        ),
        ("confidence", str(e.confidence)),
    )
    evidence = tuple(
        EvidenceView(
            field=ev.field,
            start=ev.span.start,
            end=ev.span.end,
            text=text[ev.span.start : ev.span.end],
            rule=ev.rule,
        )
        for ev in e.evidence
        if ev.field != "sentence"
    )
    claims = tuple(
        f"{c.id}: {c.claimant}{' via ' + c.via if c.via else ''} — {c.qualifier} {c.count:,} {c.killed_or_injured} "
        f"{c.category} ({c.scope}) «{text[c.span.start : c.span.end]}»"
        for c in record.claims
    )
    return EventView(
        title=f"{e.id}",
        fields=fields,
        document=f"{doc.name} ({doc.url or doc.source}; published {doc.published or 'unknown'})",
        sentences=tuple(sentences),
        evidence=evidence,
        claims=claims,
    )


@dataclass(frozen=True, kw_only=True)
class ReconcileReport:
    """What a reconcile run did: documents newly taken in, and incidents created, changed, removed."""

    documents: int
    incidents: int
    created: int
    changed: int
    removed: int


def reconcile(store: Store, *, per_document: int = 100) -> ReconcileReport:
    """Fold the documents not yet reconciled into the store's incidents.

    Up to `per_document` new documents are taken one at a time, in publication order, so each
    version of an incident names the document that changed it; more are taken in one step.
    The incidents themselves depend only on the set of documents (and reviewers' decisions about
    merges, all of which apply), never on their order.
    """
    from vigil import reconcile as reconciler
    from vigil.store import incidents as stored

    pending = stored.pending_documents(store)
    records = store.events() if pending else []
    decisions = stored.decisions(store) if pending else []
    visible = stored.reconciled(store)
    steps = [[d] for d in pending] if len(pending) <= per_document else [pending]
    created = changed = removed = 0
    current = stored.load(store)
    for step in steps:
        visible |= set(step)
        new = reconciler.incidents((r for r in records if r.document.id in visible), decisions=decisions)
        result = stored.save(
            store, new, caused_by=step, merged_from=_merged_from(current, new), mark_reconciled=step
        )
        created, changed, removed = (
            created + result.created,
            changed + result.changed,
            removed + result.removed,
        )
        current = {i.id: i for i in new}
    return ReconcileReport(
        documents=len(pending),
        incidents=len(current) if pending else len(stored.load(store)),
        created=created,
        changed=changed,
        removed=removed,
    )


def _merged_from(current: dict[str, Incident], new: Sequence[Incident]) -> dict[str, list[str]]:
    """For each new incident, the other current incidents that held some of its events."""
    owner = {e: i.id for i in current.values() for e in i.event_ids}
    merged_from = {}
    for inc in new:
        sources = sorted({owner[e] for e in inc.event_ids if e in owner} - {inc.id})
        if sources:
            merged_from[inc.id] = sources
    return merged_from


@dataclass(frozen=True, kw_only=True)
class IncidentReviewReport:
    """A merge review: the decision recorded, where its events are now, and what changed."""

    decision: Decision
    incidents: dict[str, str]  # event id -> id of the incident holding it now, for the events concerned
    created: int
    changed: int
    removed: int


def review_incident(
    store: Store,
    incident_id: str,
    *,
    action: str,
    reason: str,
    reviewer: str,
    event_id: str | None = None,
) -> IncidentReviewReport:
    """Record a reviewer's decision about a merge and regroup the reconciled documents' events.

    `confirm`: the incident's members belong together (kept together from now on, even where the
    scores would part them); `reject` with `event_id`: that member is not this incident (never
    grouped with the other members again). The incidents of the documents already reconciled are
    recomputed with every decision so far and saved as a diff, in the same transaction as the
    decision; each version written has kind "reviewed" and the decision (who, why, version) in its
    detail. Raises `UnknownIncident` and `IncidentReviewError` (vigil.store.incidents)."""
    from vigil import reconcile as reconciler
    from vigil.store import incidents as stored

    with stored.writing(store) as conn:
        decision = stored.record_decision(
            conn, incident_id, action=action, reason=reason, reviewer=reviewer, event_id=event_id
        )
        visible = stored.reconciled(conn)
        records = [r for r in store.events() if r.document.id in visible]
        current = stored.load(conn)
        new = reconciler.incidents(records, decisions=stored.decisions(conn))
        result = stored.write(
            conn, new, caused_by=[], merged_from=_merged_from(current, new), review=decision
        )
    concerned = {*decision.event_ids, decision.event_id}
    placed = {e: i.id for i in new for e in i.event_ids if e in concerned}
    return IncidentReviewReport(
        decision=decision,
        incidents=dict(sorted(placed.items())),
        created=result.created,
        changed=result.changed,
        removed=result.removed,
    )


@dataclass(frozen=True, kw_only=True)
class IncidentView:
    """An incident with its member mentions resolved to documents: what `vigil incidents` prints."""

    incident: Incident
    members: tuple[tuple[str, str, str], ...]  # (event id, document id, document source path or URL)
    reviews: tuple[Decision, ...] = ()  # the merge decisions about its events, latest first


def incident_views(store: Store, *, reviewed: str = "all") -> list[IncidentView]:
    """The store's incidents by date, each with its members and the merge decisions about its
    events; `reviewed="only"`: only incidents some decision is about."""
    from vigil.store import incidents as stored

    found = stored.load(store)
    records = {r.event.id: r for r in store.events()} if found else {}
    decided: dict[str, list[Decision]] = defaultdict(list)
    for d in reversed(stored.decisions(store)) if found else ():
        for e in dict.fromkeys((*d.event_ids, d.event_id)):
            if e:
                decided[e].append(d)
    out = []
    for inc in sorted(found.values(), key=lambda i: (i.date.start or date.max, i.id)):
        members = tuple(
            (e, records[e].document.id, records[e].document.url or records[e].document.source)
            for e in inc.event_ids
            if e in records
        )
        about = {d.version: d for e in inc.event_ids for d in decided.get(e, ())}
        if reviewed == "only" and not about:
            continue
        reviews = tuple(about[v] for v in sorted(about, reverse=True))
        out.append(IncidentView(incident=inc, members=members, reviews=reviews))
    return out


def incident_json(view: IncidentView) -> dict:
    from vigil.store import incidents as stored

    inc = view.incident
    return {
        "id": inc.id,
        "event_type": inc.event_type,
        "sub_event_type": inc.sub_event_type,
        "country": inc.country,
        "admin1": list(inc.admin1),
        "date_start": inc.date.start.isoformat() if inc.date.start else None,
        "date_end": inc.date.end.isoformat() if inc.date.end else None,
        "parent": inc.parent_id,
        "children": list(inc.children),
        "members": [{"event_id": e, "doc_id": d, "source": s} for e, d, s in view.members],
        "reviews": [stored.decision_json(d) for d in view.reviews],
        "sources": [list(g) for g in inc.sources],
        "tolls": [
            {
                "category": t.category,
                "low": t.low,
                "best": t.best,
                "high": t.high,
                "best_claim": t.best_claim_id,
                "claims": list(t.claim_ids),
                "claimants": [
                    {
                        "claimant": line.claimant,
                        "latest": line.latest,
                        "history": [
                            {
                                "date": p.date.isoformat() if p.date else None,
                                "count": p.count,
                                "qualifier": p.qualifier,
                                "status": p.status,
                                "claim": p.claim_id,
                                "via": p.via,
                            }
                            for p in line.points
                        ],
                    }
                    for line in t.lines
                ],
            }
            for t in inc.tolls
        ],
    }


def alerts(
    store: Store,
    *,
    as_of: date | None = None,
    rules_file: Path | None = None,
    json_out: Path | None = None,
    webhook: str | None = None,
) -> list:
    """Escalation alerts over the store's incidents (see vigil.alerts), written and posted as asked."""
    from vigil import alerts as alerting
    from vigil.store import incidents as stored

    found = list(stored.load(store).values())
    groups: dict[str, set[str]] = {}
    if found:
        owner = {e: i.id for i in found for e in i.event_ids}
        for r in store.events():
            if r.event.victim_group and r.event.id in owner:
                groups.setdefault(owner[r.event.id], set()).add(r.event.victim_group)
    rules = alerting.load_rules(rules_file) if rules_file else []
    raised = alerting.evaluate(
        found, as_of=as_of, rules=rules, victim_groups={k: tuple(sorted(v)) for k, v in groups.items()}
    )
    if json_out is not None:
        json_out.write_text(alerting.as_json(raised) + "\n", encoding="utf-8")
    if webhook:
        alerting.post(raised, webhook)
    return raised
