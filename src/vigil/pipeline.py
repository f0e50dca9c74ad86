"""The jobs the CLI and API run: each one library function over the stages.

`ingest` reads inputs, extracts each document and stores them in batches (one
transaction each, so a killed run leaves whole batches only and a re-run
completes it); `extract` does the same without a store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from vigil.extract import extract as extract_document
from vigil.extract.output import gold_shape
from vigil.geo import Gazetteer
from vigil.ingest import IngestOptions, read_inputs
from vigil.model import Document, EventRecord, Extraction, Problem, to_dict
from vigil.store import ClaimRecord, EventFilter, Store


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
    for item in read_inputs(inputs, options=options, stdin=stdin):
        if isinstance(item, Problem):
            yield item
            continue
        try:
            yield extract_document(item)
        except Exception as exc:  # a rule crashing on one article must not stop the run
            yield Problem(source=item.source, reason=f"extraction failed: {type(exc).__name__}: {exc}")


def ingest(
    inputs: Sequence[str | Path],
    *,
    store: Store,
    options: IngestOptions = IngestOptions(),
    stdin: BinaryIO | None = None,
    batch_size: int = 50,
    progress: Callable[[Document | Problem], None] | None = None,
) -> IngestReport:
    """Read, extract and store `inputs`; documents already stored are counted as duplicates."""
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

    for item in _documents(inputs, options=options, stdin=stdin, store=store):
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


def _documents(
    inputs: Sequence[str | Path], *, options: IngestOptions, stdin: BinaryIO | None, store: Store
) -> Iterable[Extraction | Document | Problem]:
    """Extractions for new documents; known documents come back as the bare Document."""
    for item in read_inputs(inputs, options=options, stdin=stdin):
        if isinstance(item, Problem) or store.known_hashes([item.content_hash]):
            yield item
        else:
            try:
                yield extract_document(item)
            except Exception as exc:  # a rule crashing on one article must not stop the run
                yield Problem(source=item.source, reason=f"extraction failed: {type(exc).__name__}: {exc}")


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
