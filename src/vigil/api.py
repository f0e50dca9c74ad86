"""vigil's HTTP API and dashboard in one process: read endpoints open, write endpoints behind
a bearer token (`vigil token create NAME`).

`create_app(db)` builds the FastAPI app over one store and `serve(...)` runs it with uvicorn.
Every write (a new document, a review) goes through one writer thread, so SQLite sees a
single writer however many requests arrive at once; reads run in parallel. Responses carry
a Content-Security-Policy that allows only the app's own scripts and styles, and the
dashboard writes all text with textContent: article text is untrusted input.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import math
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from vigil import export as exporter
from vigil import model, pipeline, web
from vigil.extract import extract as extract_document
from vigil.geo import Gazetteer
from vigil.ingest import IngestOptions, make_document, read_bytes
from vigil.model import Document, EventRecord, Extraction, Problem, to_dict
from vigil.store import ClaimRecord, EventFilter, Store, url_for
from vigil.store import review as reviews

T = TypeVar("T")

MAX_LIMIT = 5000
MAX_BODY_BYTES = IngestOptions().max_bytes
REVIEW_COLUMNS = ("review_status", "review_version")
CSV_COLUMNS = (*exporter.VIGIL_COLUMNS, *(c for c in REVIEW_COLUMNS if c not in exporter.VIGIL_COLUMNS))

# Text from a query string: no control characters (they reach SQL and logs), bounded length.
_TEXT = r"^[^\x00-\x1f\x7f]*$"
Text = Annotated[str, Query(max_length=200, pattern=_TEXT)]
EventId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
DocId = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9]+$")]
IncidentId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
log = logging.getLogger(__name__)
ALERT_DAYS = (date(1900, 1, 1), date(2100, 12, 31))


# --- the one writer --------------------------------------------------------------


class Writer:
    """The single thread that runs every write job, in arrival order."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="vigil-writer", daemon=True)
                self._thread.start()
        self._jobs.put((job, future))
        return future

    async def run(self, job: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self.submit(job))

    def _loop(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:  # handed to the waiting request
                future.set_exception(exc)

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join(timeout=30)


# --- response shapes -------------------------------------------------------------


class EventRow(BaseModel):
    """One event, flat: the columns of `vigil export --format csv`, plus its review."""

    event_id: str
    doc_id: str
    doc_name: str
    doc_title: str | None = None
    source_url: str | None = None
    published: date | None = None
    date_start: date | None = None
    date_end: date | None = None
    time_precision: int | None = None
    event_type: str
    sub_event_type: str
    country: str | None = None
    admin1: list[str]
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: int | None = None
    actor1: str | None = None
    actor1_type: str | None = None
    actor2: str | None = None
    actor2_type: str | None = None
    victim_group: str | None = None
    civilian_targeting: bool
    fatalities: int
    fatalities_low: int | None = None
    fatalities_high: int | None = None
    toll_scope: str
    confidence: float
    incident_id: str | None = None
    claim_ids: list[str]
    evidence: str = Field(description="The event's sentence in its article.")
    review_status: str | None = Field(
        None, description="confirmed, edited or rejected; null if never reviewed"
    )
    review_version: int | None = None


class EventPage(BaseModel):
    total: int = Field(description="Events matching the filters, whatever the limit.")
    limit: int
    offset: int
    items: list[EventRow]


class EvidenceOut(BaseModel):
    field: str
    start: int
    end: int
    text: str
    rule: str
    confidence: float


class MarkOut(BaseModel):
    field: str
    start: int
    end: int


class SentenceOut(BaseModel):
    start: int
    end: int
    text: str
    marks: list[MarkOut] = Field(description="Evidence spans inside the sentence (document offsets).")


class DocumentInfo(BaseModel):
    id: str
    name: str
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    published: date | None = None


class ChangeOut(BaseModel):
    before: Any = None
    after: Any = None


class ReviewVersionOut(BaseModel):
    event_id: str
    version: int
    action: str
    status: str
    changes: dict[str, ChangeOut]
    reason: str
    reviewer: str
    created_at: datetime


class ReviewOut(BaseModel):
    status: str
    version: int
    reviewer: str
    reviewed_at: datetime
    machine: dict[str, Any] = Field(description="The machine's values of the fields a reviewer changed.")
    history: list[ReviewVersionOut]


class EventDetail(BaseModel):
    row: EventRow
    event: dict[str, Any] = Field(description="The event as vigil's model holds it (lossless).")
    document: DocumentInfo
    evidence: list[EvidenceOut]
    sentences: list[SentenceOut]
    claims: list[dict[str, Any]]
    review: ReviewOut | None = None


class ClaimPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


class SpanOut(BaseModel):
    kind: str = Field(description="evidence (a field of an event or claim), sentence or mention")
    field: str
    start: int
    end: int
    rule: str | None = None
    owner_kind: str | None = None
    owner_id: str | None = None


class DocumentOut(DocumentInfo):
    language: str
    text: str
    spans: list[SpanOut]
    events: list[str]


class DocumentIn(BaseModel):
    """One article to ingest."""

    text: str = Field(min_length=1, max_length=2_000_000)
    title: str | None = Field(None, max_length=1000)
    url: str | None = Field(None, max_length=2000)
    outlet: str | None = Field(None, max_length=200)
    published: date | None = None
    name: str | None = Field(None, max_length=200, pattern=r"^[^\x00-\x1f\x7f/\\]*$")


class DocumentCreated(BaseModel):
    id: str
    name: str
    title: str | None = None
    duplicate: bool = Field(description="Already stored: left as it was.")
    events: list[str]
    claims: int


class Skipped(BaseModel):
    source: str
    reason: str


class IngestOut(BaseModel):
    documents: list[DocumentCreated]
    skipped: list[Skipped]


class ReviewIn(BaseModel):
    """A review: confirm the event, edit fields (`changes`: field -> new value) or reject it."""

    action: Literal["confirm", "edit", "reject"]
    reason: str = Field(min_length=1, max_length=reviews.MAX_REASON)
    changes: dict[str, Any] = Field(
        default_factory=dict, description=f"Editable: {', '.join(reviews.EDITABLE)}"
    )
    expected_version: int | None = Field(
        None, ge=0, le=1_000_000_000, description="The review version you saw (0: none); 409 if it moved on."
    )


class ReviewResult(ReviewVersionOut):
    event: EventRow


class ErrorItem(BaseModel):
    loc: list[str]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """422: the request is malformed or asks for something impossible."""

    message: str = Field(description="What is wrong, in one sentence.")
    detail: list[ErrorItem]


class ErrorOut(BaseModel):
    detail: str


class IncidentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]] = Field(
        description="Incidents as `vigil incidents --format jsonl` writes them."
    )


class IncidentReviewIn(BaseModel):
    """A decision about a merge: confirm the incident (its members belong together) or reject one
    member (`event_id`: that mention is not this incident)."""

    action: Literal["confirm", "reject"]
    event_id: str | None = Field(
        None, max_length=64, pattern=r"^[A-Za-z0-9._-]+$", description="The member to reject."
    )
    reason: str = Field(min_length=1, max_length=reviews.MAX_REASON)


class IncidentReviewResult(BaseModel):
    version: int = Field(description="The decision's number; the latest decision on a pair of events wins.")
    action: str
    incident_id: str
    event_id: str | None = None
    event_ids: list[str] = Field(description="The incident's members when the decision was made.")
    reason: str
    reviewer: str
    created_at: datetime
    incidents: list[str] = Field(description="The incidents that now hold the events concerned.")
    placement: dict[str, str] = Field(description="Each event concerned -> the incident holding it now.")


class IncidentVersionOut(BaseModel):
    version: int
    kinds: list[str]
    doc_ids: list[str]
    detail: dict[str, Any]


class IncidentDetail(BaseModel):
    incident: dict[str, Any]
    history: list[IncidentVersionOut]


class AlertsOut(BaseModel):
    alerts: list[dict[str, Any]] = Field(
        description="Escalation alerts (see `vigil alerts`), no watch rules."
    )


class SourcesOut(BaseModel):
    sources: list[dict[str, Any]] = Field(
        description="Each watched source (see `vigil watch --status`): last success, last error, items today."
    )


class Health(BaseModel):
    status: str


class DayOut(BaseModel):
    day: date
    events: int
    fatalities: int


class Timeline(BaseModel):
    days: list[DayOut]


class FacetOut(BaseModel):
    value: str
    count: int


class FacetsOut(BaseModel):
    event_types: list[FacetOut]
    governorates: list[FacetOut]
    victim_groups: list[FacetOut]


# --- records -> responses ----------------------------------------------------------


def event_row(record: EventRecord) -> dict[str, Any]:
    """An event as an `EventRow` dict: the vigil CSV row, its document title and its review."""
    return to_dict(exporter.event_row(record))


def _document_info(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id,
        "name": doc.name,
        "title": doc.title,
        "url": doc.url,
        "outlet": doc.outlet,
        "published": doc.published,
    }


def _version_out(v: reviews.ReviewVersion) -> dict[str, Any]:
    return {
        "event_id": v.event_id,
        "version": v.version,
        "action": v.action,
        "status": v.status,
        "changes": {k: {"before": c.before, "after": c.after} for k, c in v.changes.items()},
        "reason": v.reason,
        "reviewer": v.reviewer,
        "created_at": v.created_at,
    }


def event_detail(record: EventRecord, store: Store) -> dict[str, Any]:
    event, doc = record.event, record.document
    text = doc.text
    sentence_spans = sorted(
        {(ev.span.start, ev.span.end) for ev in event.evidence if ev.field == "sentence"}
    ) or [(event.sentence.start, event.sentence.end)]
    field_evidence = [
        ev for ev in event.evidence if ev.field not in ("sentence", reviews.REVIEW_FIELD) and "@" in ev.rule
    ]
    sentences = [
        {
            "start": s,
            "end": e,
            "text": text[s:e],
            "marks": [
                {"field": ev.field, "start": ev.span.start, "end": ev.span.end}
                for ev in field_evidence
                if s <= ev.span.start and ev.span.end <= e and not ev.rule.startswith("review.")
            ],
        }
        for s, e in sentence_spans
    ]
    state = store.review_state(event.id)
    return {
        "row": event_row(record),
        "event": to_dict(event),
        "document": _document_info(doc),
        "evidence": [
            {
                "field": ev.field,
                "start": ev.span.start,
                "end": ev.span.end,
                "text": text[ev.span.start : ev.span.end],
                "rule": ev.rule,
                "confidence": ev.confidence,
            }
            for ev in event.evidence
        ],
        "sentences": sentences,
        "claims": [pipeline.claim_json(ClaimRecord(claim=c, document=doc)) for c in record.claims],
        "review": None
        if state is None
        else {
            "status": state.status,
            "version": state.version,
            "reviewer": state.reviewer,
            "reviewed_at": state.reviewed_at,
            "machine": dict(state.machine),
            "history": [_version_out(v) for v in store.review_history(event.id)],
        },
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def events_csv(rows: list[model.EventRow]) -> str:
    """The vigil CSV export of `rows`, with review_status and review_version columns."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([exporter.csv_cell(getattr(row, c)) for c in CSV_COLUMNS])
    return out.getvalue()


def events_geojson(rows: list[model.EventRow], *, total: int, limit: int, offset: int) -> str:
    features = []
    for row in rows:
        point = row.latitude is not None and row.longitude is not None
        features.append(
            {
                "type": "Feature",
                "id": row.event_id,
                "geometry": {"type": "Point", "coordinates": [row.longitude, row.latitude]}
                if point
                else None,
                "properties": vars(row),
            }
        )
    body = {
        "type": "FeatureCollection",
        "total": total,
        "limit": limit,
        "offset": offset,
        "features": features,
    }
    return json.dumps(body, ensure_ascii=False, default=_json_default)


def events_json(rows: list[model.EventRow], *, total: int, limit: int, offset: int) -> str:
    """An `EventPage` as JSON text (written directly: 100 rows through the response model cost
    more than the query)."""
    items = ",".join(_row_json(r) for r in rows)
    return f'{{"total":{total},"limit":{limit},"offset":{offset},"items":[{items}]}}'


_ROW_JSON: dict[model.EventRow, str] = {}
_ROW_JSON_MAX = 50_000


def _row_json(row: model.EventRow) -> str:
    """`row` as JSON text, kept for the next page that shows the same row (rows are values)."""
    text = _ROW_JSON.get(row)
    if text is None:
        if len(_ROW_JSON) >= _ROW_JSON_MAX:
            _ROW_JSON.clear()
        text = _ROW_JSON[row] = json.dumps(
            vars(row), ensure_ascii=False, allow_nan=False, default=_json_default
        )
    return text


# --- security headers ----------------------------------------------------------------


def content_security_policy(*, tiles: str | None = None, docs: bool = False) -> str:
    """Only the app's own scripts, styles and data; images also as data: URLs (and map tiles
    from `tiles`' origin when an online base layer is configured)."""
    img = "'self' data:"
    if tiles:
        parts = urlsplit(tiles.replace("{", "").replace("}", ""))
        img += f" {parts.scheme}://{parts.netloc.split('@')[-1]}"
    style = "'self' 'unsafe-inline'" if docs else "'self'"  # Swagger UI styles elements inline
    return (
        f"default-src 'self'; script-src 'self'; style-src {style}; img-src {img}; connect-src 'self'; "
        "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


class SecurityHeaders:
    """ASGI middleware adding the CSP and related headers to every HTTP response."""

    def __init__(self, app, *, tiles: str | None = None) -> None:
        self.app = app
        self.csp = content_security_policy(tiles=tiles).encode()
        self.docs_csp = content_security_policy(tiles=tiles, docs=True).encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = self.docs_csp if scope.get("path") == "/docs" else self.csp

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", csp),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- the app ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Service:
    store: Store
    writer: Writer
    tiles: str | None
    _reconcile_queued: threading.Event = field(default_factory=threading.Event)

    def reconcile_soon(self) -> None:
        """Fold newly stored documents into incidents on the writer, after the writes queued so
        far; requests do not wait for it, and a burst of documents queues it once."""
        if self._reconcile_queued.is_set():
            return
        self._reconcile_queued.set()

        def job() -> None:
            self._reconcile_queued.clear()
            try:
                pipeline.reconcile(self.store)
            except Exception:  # the documents stay pending; the next reconcile takes them
                log.exception("reconciling new documents failed")

        self.writer.submit(job)


@cache
def _gazetteer() -> Gazetteer:
    return Gazetteer.default()


def _canonical_admin1(name: str) -> str:
    """A governorate in any spelling as the store spells it (as `pipeline.event_filter` does,
    with the gazetteer loaded once per process)."""
    return _gazetteer().canonical_admin1(name) or name


bearer = HTTPBearer(auto_error=False, description="A token from `vigil token create NAME`.")


def create_app(db: str | None = None, *, store: Store | None = None, tiles: str | None = None) -> FastAPI:
    """The API and dashboard over the store at `db` (a path or URL; default: the user's store).

    `tiles`: an online map tile URL template; the dashboard offers it as a base layer that is
    off by default, and only when it loads."""
    store = store or Store.open(url_for(db))
    store.use_event_index()
    service = Service(store=store, writer=Writer(), tiles=tiles)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await run_in_threadpool(_gazetteer)
        await run_in_threadpool(store.event_page, EventFilter(limit=0))  # loads the event index
        yield
        service.writer.close()

    app = FastAPI(
        title="vigil",
        summary="Sourced, geocoded events of violence against civilians, read from news reports.",
        version=_version(),
        docs_url=None,  # served from the npm build at /docs, never from a CDN
        redoc_url=None,
        responses={422: {"model": ValidationProblem, "description": "Invalid request; `message` says why."}},
        lifespan=lifespan,
    )
    app.state.vigil = service
    app.add_middleware(SecurityHeaders, tiles=tiles)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    _routes(app, service)
    app.mount("/app", StaticFiles(directory=web.APP_DIR, check_dir=False), name="app")
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR, check_dir=False), name="static")
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vigil")
    except PackageNotFoundError:
        return "0"


async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with one readable sentence in `message`, and the details (no echo of the input)."""
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    message = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
    if len(errors) == 1 and errors[0]["type"] == "value_error" and errors[0]["loc"] in (["body"], []):
        message = errors[0]["msg"]
    return JSONResponse({"message": message, "detail": errors}, status_code=422)


def _where(loc: list[str]) -> str:
    if len(loc) >= 2 and loc[0] in ("query", "path", "header"):
        return f"{loc[0]} parameter {loc[1]!r}"
    if loc and loc[0] == "body":
        return "body" + "".join(f"[{p!r}]" for p in loc[1:])
    return ".".join(loc) or "request"


def _unprocessable(message: str, where: tuple[str, ...] = ("body",)) -> RequestValidationError:
    """A 422 in the same shape as FastAPI's own validation errors, for checks beyond types."""
    return RequestValidationError([{"loc": where, "msg": message, "type": "value_error"}])


async def event_filter(
    date_from: Annotated[
        date | None, Query(description="Events ending on or after this day (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[date | None, Query(description="Events starting on or before this day.")] = None,
    governorate: Annotated[
        str | None, Query(max_length=100, pattern=_TEXT, description="Any spelling.")
    ] = None,
    event_type: Annotated[
        str | None, Query(max_length=100, pattern=_TEXT, description="Type or sub-type.")
    ] = None,
    victim_group: Annotated[str | None, Query(max_length=100, pattern=_TEXT)] = None,
    actor: Annotated[
        str | None, Query(max_length=200, pattern=_TEXT, description="Text in actor1 or actor2.")
    ] = None,
    min_fatalities: Annotated[int | None, Query(ge=0, le=1_000_000_000)] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, pattern=_TEXT, description="Words all found in the article, any case."),
    ] = None,
    reviewed: Annotated[Literal["all", "only", "unreviewed"], Query()] = "all",
    include_rejected: Annotated[bool, Query(description="Also events a reviewer rejected.")] = False,
    values: Annotated[
        Literal["reviewed", "machine"], Query(description="machine: as extracted, without reviews.")
    ] = "reviewed",
) -> EventFilter:
    """The filters events and claims share, checked and with the governorate canonicalised."""
    if date_from and date_to and date_from > date_to:
        raise _unprocessable("date_from is after date_to", ("query", "date_from"))
    governorate = governorate.strip() if governorate else None
    return EventFilter(
        date_from=date_from,
        date_to=date_to,
        governorate=_canonical_admin1(governorate) if governorate else None,
        event_type=event_type or None,
        actor=actor or None,
        min_fatalities=min_fatalities,
        victim_group=victim_group or None,
        q=q or None,
        reviewed=reviewed,
        include_rejected=include_rejected,
        machine=values == "machine",
    )


@dataclass(frozen=True, kw_only=True)
class Page:
    limit: int
    offset: int


async def page(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


def reviewer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None
) -> str:
    """The name of the caller's token, or 401."""
    store = request.app.state.vigil.store
    name = reviews.token_owner(store, credentials.credentials) if credentials else None
    if name is None:
        raise HTTPException(
            status_code=401,
            detail="a valid bearer token is required (create one with `vigil token create NAME`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return name


def _routes(app: FastAPI, service: Service) -> None:
    store = service.store

    @app.get("/health", response_model=Health, tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: the store answers."""
        store.ping()
        return {"status": "ok"}

    @app.get(
        "/events",
        response_model=EventPage,
        tags=["events"],
        responses={200: {"content": {"application/geo+json": {}, "text/csv": {}}}},
    )
    def list_events(
        flt: Annotated[EventFilter, Depends(event_filter)],
        pg: Annotated[Page, Depends(page)],
        fmt: Annotated[Literal["json", "geojson", "csv"], Query(alias="format")] = "json",
    ):
        """Events matching the filters, by start date, with reviewed values; `total` counts them all."""
        total, rows = store.event_page(replace(flt, limit=pg.limit, offset=pg.offset))
        headers = {"X-Total-Count": str(total)}
        if fmt == "csv":
            return Response(events_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
        if fmt == "geojson":
            body = events_geojson(rows, total=total, limit=pg.limit, offset=pg.offset)
            return Response(body, media_type="application/geo+json", headers=headers)
        body = events_json(rows, total=total, limit=pg.limit, offset=pg.offset)
        return Response(body, media_type="application/json", headers=headers)

    @app.get("/timeline", response_model=Timeline, tags=["events"])
    def timeline(flt: Annotated[EventFilter, Depends(event_filter)]):
        """Events and fatalities per day (event start date) for the filters."""
        return {"days": [to_dict(d) for d in store.event_days(flt)]}

    @app.get("/facets", response_model=FacetsOut, tags=["events"])
    def facets(flt: Annotated[EventFilter, Depends(event_filter)]):
        """Event types, governorates and victim groups of the matching events, with counts."""
        return to_dict(store.facets(flt))

    @app.get(
        "/events/{event_id}",
        response_model=EventDetail,
        tags=["events"],
        responses={404: {"model": ErrorOut}},
    )
    def get_event(event_id: EventId):
        """One event with its evidence: each field's span and rule, its sentences, claims and reviews."""
        record = store.event(event_id)
        if record is None:
            raise HTTPException(status_code=404, detail=f"no event {event_id!r}")
        return event_detail(record, store)

    @app.get("/claims", response_model=ClaimPage, tags=["claims"])
    def list_claims(flt: Annotated[EventFilter, Depends(event_filter)], pg: Annotated[Page, Depends(page)]):
        """Casualty claims as stated (actor matches the claimant or relay)."""
        total = store.count_claims(flt)
        records = store.claims(replace(flt, limit=pg.limit, offset=pg.offset))
        return {
            "total": total,
            "limit": pg.limit,
            "offset": pg.offset,
            "items": [pipeline.claim_json(r) for r in records],
        }

    @app.get(
        "/documents/{doc_id}",
        response_model=DocumentOut,
        tags=["documents"],
        responses={404: {"model": ErrorOut}},
    )
    def get_document(doc_id: DocId):
        """An article's text and the spans read from it, to highlight."""
        doc = store.document(doc_id)
        if doc is None:
            raise HTTPException(status_code=404, detail=f"no document {doc_id!r}")
        return {
            **_document_info(doc),
            "language": doc.language,
            "text": doc.text,
            "spans": [to_dict(s) for s in store.document_spans(doc_id)],
            "events": store.document_events(doc_id),
        }

    @app.post(
        "/documents",
        response_model=IngestOut,
        status_code=201,
        tags=["documents"],
        responses={
            200: {"description": "Nothing new: every document was already stored."},
            401: {"model": ErrorOut},
            413: {"model": ErrorOut},
            415: {"model": ErrorOut},
        },
        openapi_extra={"requestBody": _DOCUMENT_BODY},
    )
    async def post_document(request: Request, response: Response, name: Annotated[str, Depends(reviewer)]):
        """Ingest one article: JSON (text and metadata) or a file upload (multipart field `file`,
        optional `published`). Needs a token."""
        documents, skipped = await _read_documents(request)
        known = await run_in_threadpool(store.known_hashes, [d.content_hash for d in documents])
        new = [d for d in documents if d.content_hash not in known]
        extracted = await run_in_threadpool(_extract_all, new)
        skipped += [x for x in extracted if isinstance(x, Problem)]
        batch = [x for x in extracted if isinstance(x, Extraction)]
        if batch:
            await service.writer.run(lambda: store.write(batch))
            service.reconcile_soon()
        stored = {x.document.id: x for x in batch}
        if not stored and not documents:
            raise _unprocessable("; ".join(f"{p.source}: {p.reason}" for p in skipped) or "no document")
        if not stored:
            response.status_code = 200
        out = []
        for doc in documents:
            if doc.content_hash in known:
                out.append(
                    {
                        **_created(doc, duplicate=True),
                        "events": await run_in_threadpool(store.document_events, doc.id),
                    }
                )
            elif doc.id in stored:
                x = stored[doc.id]
                out.append(
                    {
                        **_created(doc, duplicate=False),
                        "events": [e.id for e in x.events],
                        "claims": len(x.claims),
                    }
                )
        return {"documents": out, "skipped": [{"source": p.source, "reason": p.reason} for p in skipped]}

    @app.post(
        "/events/{event_id}/review",
        response_model=ReviewResult,
        tags=["reviews"],
        responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    )
    async def post_review(event_id: EventId, body: ReviewIn, name: Annotated[str, Depends(reviewer)]):
        """Confirm, edit (fields in `changes`) or reject an event, with a reason. Each review is a
        new version; reviewed values overlay the machine's in every response and export."""
        changes = dict(body.changes)
        if isinstance(changes.get("admin1"), list):
            changes["admin1"] = [_canonical_admin1(a) if isinstance(a, str) else a for a in changes["admin1"]]

        def job() -> reviews.ReviewVersion:
            return store.review_event(
                event_id,
                action=body.action,
                reason=body.reason,
                reviewer=name,
                changes=changes,
                expected_version=body.expected_version,
            )

        try:
            version = await service.writer.run(job)
        except reviews.UnknownEvent:
            raise HTTPException(status_code=404, detail=f"no event {event_id!r}") from None
        except reviews.ReviewConflict as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        except reviews.ReviewError as exc:
            raise _unprocessable(str(exc), ("body", "changes")) from None
        record = await run_in_threadpool(store.event, event_id)
        return {**_version_out(version), "event": event_row(record)}

    @app.post(
        "/incidents/{incident_id}/review",
        response_model=IncidentReviewResult,
        tags=["reviews"],
        responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}},
    )
    async def post_incident_review(
        incident_id: IncidentId, body: IncidentReviewIn, name: Annotated[str, Depends(reviewer)]
    ):
        """Confirm an incident (its members belong together) or reject one of its members
        (`event_id`), with a reason. The incidents are regrouped at once with every decision so
        far; each change is a version of kind "reviewed" naming the decision."""
        from vigil.store import incidents as stored

        def job() -> pipeline.IncidentReviewReport:
            return pipeline.review_incident(
                store,
                incident_id,
                action=body.action,
                event_id=body.event_id,
                reason=body.reason,
                reviewer=name,
            )

        try:
            report = await service.writer.run(job)
        except stored.UnknownIncident:
            raise HTTPException(status_code=404, detail=f"no incident {incident_id!r}") from None
        except stored.IncidentReviewError as exc:
            raise _unprocessable(str(exc), ("body", exc.field)) from None
        d = report.decision
        return {
            **stored.decision_json(d),
            "created_at": d.created_at,
            "incidents": sorted(set(report.incidents.values())),
            "placement": report.incidents,
        }

    @app.get("/incidents", response_model=IncidentPage, tags=["incidents"])
    def list_incidents(
        pg: Annotated[Page, Depends(page)],
        reviewed: Annotated[
            Literal["all", "only"], Query(description="only: incidents a merge review is about.")
        ] = "all",
    ):
        """Incidents (event mentions from several articles that report the same thing), by date,
        as the last `vigil reconcile` or merge review left them, each with its merge reviews."""
        views = pipeline.incident_views(store, reviewed=reviewed)
        chosen = views[pg.offset : pg.offset + pg.limit]
        return {
            "total": len(views),
            "limit": pg.limit,
            "offset": pg.offset,
            "items": [_incident(v) for v in chosen],
        }

    @app.get(
        "/incidents/{incident_id}",
        response_model=IncidentDetail,
        tags=["incidents"],
        responses={404: {"model": ErrorOut}},
    )
    def get_incident(incident_id: IncidentId):
        """One incident with its members, tolls and merge reviews, and every version of it (what
        changed, and which documents or review caused it)."""
        from vigil.store import incidents as stored

        view = next((v for v in pipeline.incident_views(store) if v.incident.id == incident_id), None)
        if view is None:
            raise HTTPException(status_code=404, detail=f"no incident {incident_id!r}")
        history = [
            {
                "version": v.version,
                "kinds": list(v.kinds),
                "doc_ids": list(v.doc_ids),
                "detail": _finite(v.detail),
            }
            for v in stored.history(store, incident_id)
        ]
        return {"incident": _incident(view), "history": history}

    @app.get("/alerts", response_model=AlertsOut, tags=["incidents"])
    def list_alerts(
        as_of: Annotated[
            date | None, Query(description="Last day of the window (default: the latest incident).")
        ] = None,
    ):
        """Escalation alerts over the incidents: more incidents in a governorate than its baseline."""
        if as_of is not None and not ALERT_DAYS[0] <= as_of <= ALERT_DAYS[1]:
            raise _unprocessable(
                f"as_of must be between {ALERT_DAYS[0]} and {ALERT_DAYS[1]}", ("query", "as_of")
            )
        return {"alerts": [_finite(to_dict(a)) for a in pipeline.alerts(store, as_of=as_of)]}

    @app.get("/sources", response_model=SourcesOut, tags=["watch"])
    def list_sources():
        """Health of the feeds and sitemaps `vigil watch` polls: last success, last error, items."""
        from vigil import watch

        return {"sources": [_finite(watch.status_json(x)) for x in watch.status(store)]}

    # --- dashboard (not part of the API schema) ---

    @app.get("/", include_in_schema=False)
    def dashboard():
        return FileResponse(web.APP_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/docs", include_in_schema=False)
    def docs():
        return FileResponse(web.APP_DIR / "docs.html", headers={"Cache-Control": "no-cache"})

    @app.get("/config", include_in_schema=False)
    def config():
        return {"tiles": service.tiles, "built": web.built()}

    @app.get("/boundaries", include_in_schema=False)
    def boundaries():
        body = _boundaries()
        if body is None:
            raise HTTPException(
                status_code=404, detail="no boundaries: run the dashboard build (scripts/setup)"
            )
        return Response(body, media_type="application/geo+json")


_DOCUMENT_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": DocumentIn.model_json_schema()},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "published": {"type": "string", "format": "date"},
                },
            }
        },
    },
}


def _incident(view: pipeline.IncidentView) -> dict[str, Any]:
    """An incident as `vigil incidents` prints it, without server file paths."""
    out = pipeline.incident_json(view)
    for member in out.get("members", []):
        source = member.get("source")
        if not (isinstance(source, str) and source.startswith(("http://", "https://"))):
            member["source"] = None
    return _finite(out)


def _finite(value: Any) -> Any:
    """`value` with NaN and infinities as None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _created(doc: Document, *, duplicate: bool) -> dict[str, Any]:
    return {
        "id": doc.id,
        "name": doc.name,
        "title": doc.title,
        "duplicate": duplicate,
        "events": [],
        "claims": 0,
    }


def _extract_all(documents: list[Document]) -> list[Extraction | Problem]:
    out: list[Extraction | Problem] = []
    for doc in documents:
        try:
            out.append(extract_document(doc))
        except Exception as exc:  # as in the CLI: a rule crashing on one article is reported, not fatal
            out.append(Problem(source=doc.name, reason=f"extraction failed: {type(exc).__name__}: {exc}"))
    return out


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail=f"request body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_documents(request: Request) -> tuple[list[Document], list[Problem]]:
    """The documents a POST /documents request carries, and the parts that cannot be read."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        try:
            item = DocumentIn.model_validate_json(await _body(request))
        except ValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
        if not item.text.strip():
            raise _unprocessable("text is empty")
        doc = make_document(
            item.text,
            name=item.name or "api",
            source="api",
            title=item.title,
            url=item.url,
            outlet=item.outlet,
            published=item.published,
            published_from="caller" if item.published else None,
        )
        return [doc], []
    if media == "multipart/form-data":
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail=f"request body over {MAX_BODY_BYTES} bytes")
        try:
            form = await request.form(max_files=1, max_fields=4)
        except Exception as exc:  # malformed multipart bodies: the client's error
            raise _unprocessable(f"unreadable form: {exc}") from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _unprocessable("multipart field 'file' (the article) is missing")
        data = await upload.read(MAX_BODY_BYTES + 1)
        if len(data) > MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail=f"file over {MAX_BODY_BYTES} bytes")
        published = form.get("published")
        try:
            day = date.fromisoformat(published) if isinstance(published, str) and published else None
        except ValueError:
            raise _unprocessable("published must be a date as YYYY-MM-DD") from None
        filename = "".join(
            ch for ch in (upload.filename or "upload") if ch.isprintable() and ch not in "/\\"
        )[:200]
        items = list(
            read_bytes(
                data,
                source=f"upload:{filename}",
                name=filename or "upload",
                options=IngestOptions(published=day),
            )
        )
        return [d for d in items if isinstance(d, Document)], [p for p in items if isinstance(p, Problem)]
    raise HTTPException(status_code=415, detail="send application/json or multipart/form-data")


@cache
def _boundaries() -> bytes | None:
    """The built governorate boundaries as one FeatureCollection; each feature gets `admin1`
    (vigil's canonical name, matching event governorates) and `country_code`."""
    files = sorted(web.BOUNDARIES_DIR.glob("*.geojson")) if web.BOUNDARIES_DIR.is_dir() else []
    if not files:
        return None
    gazetteer = _gazetteer()
    features = []
    for path in files:
        collection = json.loads(path.read_text(encoding="utf-8"))
        for feature in collection.get("features", []):
            props = feature.setdefault("properties", {}) or {}
            name, code = props.get("name"), str(feature.get("id") or "")
            country = code.split(".")[0] if "." in code else None
            if not name or not country:
                continue
            plain = name.split("(")[0].strip()
            props["admin1"] = (
                gazetteer.canonical_admin1(name, country)
                or gazetteer.canonical_admin1(plain, country)
                or name
            )
            props["country_code"] = country
            feature["properties"] = props
            features.append(feature)
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def serve(
    db: str | None = None, *, host: str = "127.0.0.1", port: int = 8000, tiles: str | None = None
) -> None:
    """Run the API and dashboard with uvicorn (one process: the single writer lives in it)."""
    import uvicorn

    uvicorn.run(create_app(db, tiles=tiles), host=host, port=port, log_level="info")
