"""`vigil watch`: poll feeds and sitemaps on their schedules, fetch each new article once, extract
and store it, fold it into incidents and announce the alerts it raises.

A round polls the sources that are due (conditionally: a 304 means nothing new), records each
new item as pending together with the listing's validators, then fetches the pending items
through `vigil.fetch` (polite, robots.txt honoured) and stores each one as it comes. Everything
is in the store (`vigil.store.watch`), so a watcher killed at any point and started again
fetches nothing it had finished and loses nothing it had seen. A failing source is counted,
logged and shown in `status`; it never stops the others. Logs are JSON lines on stderr.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import signal
import sys
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
import yaml

from vigil import engine, pipeline
from vigil import fetch as fetching
from vigil.fetch import Fetcher, FetchError, FetchOptions, interruptible_sleep
from vigil.ingest import IngestOptions, read_bytes
from vigil.model import Document, Problem, to_dict
from vigil.store import Store, url_for
from vigil.store import watch as stored
from vigil.store.watch import Item, Listed, SourceConfig

KINDS = ("feed", "sitemap")
DEFAULT_INTERVAL = 900
MAX_KEY = 1024  # longer GUIDs and URLs are keyed by their hash
MAX_CHILD_SITEMAPS = 50
LISTING_ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1",
    "sitemap": "application/xml, text/xml;q=0.9, */*;q=0.1",
}
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.5"
MAX_FAILURE_STRETCH = 8  # a failing source is polled at least every 8 intervals
_WAKE_LATE = 0.05  # seconds past a source's due time, so the round never finds it not quite due
_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")

log = logging.getLogger("vigil.watch")


# --- configuration ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WatchConfig:
    """SOURCES.yaml: the sources, a contact for the User-Agent, and fetching limits."""

    sources: tuple[SourceConfig, ...]
    contact: str | None = None
    fetch: FetchOptions = field(default_factory=FetchOptions)
    max_items_per_round: int = 100  # per source
    max_attempts: int = 3  # per item, for failures worth retrying


class ConfigError(ValueError):
    pass


_TOP_KEYS = {"sources", "contact", "fetch", "max_items_per_round", "max_attempts"}
_SOURCE_KEYS = {"name", "url", "kind", "outlet", "language", "interval"}
_FETCH_KEYS = {f.name for f in dataclasses.fields(FetchOptions)} - {"user_agent"}


def load_config(path: str | Path) -> WatchConfig:
    """Read SOURCES.yaml: a list of sources, or a mapping with `sources` and the settings above."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: {error}") from None
    if isinstance(data, list):
        data = {"sources": data}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a list of sources or a mapping with 'sources'")
    _no_unknown(data, _TOP_KEYS, f"{path}")
    raw_sources = data.get("sources") or []
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ConfigError(f"{path}: 'sources' must be a non-empty list")
    sources = []
    for number, raw in enumerate(raw_sources, start=1):
        where = f"{path}: source {number}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where} is not a mapping")
        _no_unknown(raw, _SOURCE_KEYS, where)
        name, url = str(raw.get("name") or "").strip(), str(raw.get("url") or "").strip()
        if not name or len(name) > 128:
            raise ConfigError(f"{where}: 'name' is required (at most 128 characters)")
        parts = urlsplit(url)
        if parts.scheme not in fetching.SCHEMES or not parts.netloc:
            raise ConfigError(f"{where} ({name}): 'url' must be an http(s) URL")
        kind = str(raw.get("kind") or "feed")
        if kind not in KINDS:
            raise ConfigError(f"{where} ({name}): 'kind' must be one of {', '.join(KINDS)}")
        interval = raw.get("interval", DEFAULT_INTERVAL)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 1:
            raise ConfigError(f"{where} ({name}): 'interval' must be a number of seconds, at least 1")
        sources.append(
            SourceConfig(
                name=name,
                url=url,
                kind=kind,
                outlet=_opt_str(raw.get("outlet")),
                language=_opt_str(raw.get("language")),
                interval=int(interval),
            )
        )
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: source names must be unique")
    contact = _opt_str(data.get("contact"))
    raw_fetch = data.get("fetch") or {}
    if not isinstance(raw_fetch, dict):
        raise ConfigError(f"{path}: 'fetch' must be a mapping")
    _no_unknown(raw_fetch, _FETCH_KEYS, f"{path}: fetch")
    defaults = FetchOptions()
    try:
        settings = {k: type(getattr(defaults, k))(v) for k, v in raw_fetch.items()}
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{path}: fetch: {error}") from None
    return WatchConfig(
        sources=tuple(sources),
        contact=contact,
        fetch=FetchOptions(user_agent=fetching.user_agent(contact), **settings),
        max_items_per_round=int(data.get("max_items_per_round", 100)),
        max_attempts=int(data.get("max_attempts", 3)),
    )


def _no_unknown(data: dict, allowed: set[str], where: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(map(str, unknown))}")


def _opt_str(value: Any) -> str | None:
    return (str(value).strip() or None) if value is not None else None


# --- listings --------------------------------------------------------------------------


class ListingError(Exception):
    pass


def feed_items(data: bytes, *, url: str, source: SourceConfig) -> list[Listed]:
    """A feed's entries: keyed by GUID (else link), each with its link and its own text."""
    try:
        parsed = feedparser.parse(io.BytesIO(data), response_headers={"content-location": url})
    except Exception as error:  # feedparser's recovery has gaps on hostile input
        raise ListingError(f"malformed feed: {type(error).__name__}") from None
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            raise ListingError(f"malformed feed: {parsed.get('bozo_exception')}")
        return []
    own = list(read_bytes(data, source=url, kind="feed"))
    fallbacks = own if len(own) == len(entries) else [None] * len(entries)
    listed = []
    for entry, fallback in zip(entries, fallbacks, strict=True):
        link = entry.get("link")
        link = urljoin(url, link.strip()) if isinstance(link, str) and link.strip() else None
        if link and urlsplit(link).scheme not in fetching.SCHEMES:
            link = None
        document = fallback if isinstance(fallback, Document) else None
        guid = entry.get("id") if isinstance(entry.get("id"), str) else None
        key = (guid or "").strip() or link or (document.id if document else None)
        if key is None:
            continue
        ref = link or f"{url}#{key}"
        if document is not None:
            document = _as_watched(document, source, ref=ref, url=link)
        published = document.published if document else _entry_date(entry)
        listed.append(Listed(key=_key(key), url=link, ref=ref, published=published, fallback=document))
    return listed


def _entry_date(entry: Any) -> date | None:
    # dict.get: FeedParserDict.get maps "updated" to "published" with a deprecation warning
    for name in ("published_parsed", "updated_parsed"):
        value = dict.get(entry, name)
        if value is not None:
            try:
                return date(value.tm_year, value.tm_mon, value.tm_mday)
            except (AttributeError, ValueError):
                continue
    return None


def sitemap_items(data: bytes) -> tuple[list[Listed], list[str]]:
    """A sitemap's pages (`<url><loc>`, with lastmod) and, for a sitemap index, its child sitemaps."""
    data = _gunzip(data)
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=False
    )
    try:
        root = lxml.etree.fromstring(data, parser=parser)
    except lxml.etree.XMLSyntaxError as error:
        raise ListingError(f"malformed sitemap: {error}") from None
    kind = lxml.etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise ListingError(f"not a sitemap: root element <{kind}>")
    entries = []
    for element in root:
        if not isinstance(element.tag, str):
            continue
        fields = {
            lxml.etree.QName(child).localname: (child.text or "").strip()
            for child in element
            if isinstance(child.tag, str)
        }
        loc = fields.get("loc")
        if loc and urlsplit(loc).scheme in fetching.SCHEMES:
            entries.append((loc, _lastmod(fields.get("lastmod"))))
    if kind == "sitemapindex":
        return [], [loc for loc, _ in entries]
    listed = [
        Listed(
            key=_key(loc),
            url=loc,
            ref=loc,
            lastmod=lastmod.isoformat() if lastmod else None,
            published=lastmod.date() if lastmod else None,
        )
        for loc, lastmod in entries
    ]
    return listed, []


def _gunzip(data: bytes) -> bytes:
    """A gzipped sitemap (sitemap.xml.gz) unpacked, never past the page size cap."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    limit = FetchOptions().max_bytes * 10
    try:
        unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = unpacker.decompress(data, limit)
    except zlib.error as error:
        raise ListingError(f"malformed gzip: {error}") from None
    if unpacker.unconsumed_tail:
        raise ListingError(f"gzipped sitemap unpacks to more than {limit} bytes")
    return out


def _lastmod(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _key(value: str) -> str:
    if len(value) <= MAX_KEY:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def _as_watched(document: Document, source: SourceConfig, *, ref: str, url: str | None) -> Document:
    """A document as the watcher stores it: under the item's ref, with the source's outlet and language."""
    return dataclasses.replace(
        document,
        source=ref,
        name=url or document.name,
        url=url or document.url,
        outlet=source.outlet or document.outlet,
        language=source.language or document.language,
        metadata=(*document.metadata, ("watch_source", source.name)),
    )


# --- logging ---------------------------------------------------------------------------


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line: time, level, source, event, detail."""

    def format(self, record: logging.LogRecord) -> str:
        detail = dict(getattr(record, "detail", {}))
        if record.exc_info:
            detail["traceback"] = self.formatException(record.exc_info)
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(),
                "source": getattr(record, "source", None),
                "event": record.getMessage(),
                "detail": detail,
            },
            ensure_ascii=False,
            default=str,
        )


def configure_logging(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def _log(level: int, event: str, source: str | None = None, **detail: Any) -> None:
    log.log(level, event, extra={"source": source, "detail": detail})


# --- the watcher -----------------------------------------------------------------------


@dataclass(kw_only=True)
class RoundReport:
    """What one round did."""

    polled: int = 0
    not_modified: int = 0
    failed_sources: int = 0
    new_items: int = 0
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    fallbacks: int = 0
    failed_items: int = 0
    skipped_items: int = 0
    alerts: list = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


def due_at(row: stored.SourceRow) -> datetime | None:
    """When a source is next polled (None: now): its interval after the last check, stretched
    (doubled per failure in a row, up to MAX_FAILURE_STRETCH times) while it keeps failing."""
    if row.last_checked_at is None:
        return None
    stretch = min(2**row.consecutive_failures, MAX_FAILURE_STRETCH)
    return row.last_checked_at + timedelta(seconds=row.config.interval * stretch)


class Watcher:
    """Polls the configured sources into one store; `stop` (an Event) ends it between items."""

    def __init__(
        self,
        store: Store,
        config: WatchConfig,
        *,
        rules_file: Path | None = None,
        alerts_json: Path | None = None,
        webhook: str | None = None,
        stop: threading.Event | None = None,
        out: TextIO | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.rules_file = rules_file
        self.alerts_json = alerts_json
        self.webhook = webhook
        self.stop = stop or threading.Event()
        self.out = out or sys.stdout
        self.fetcher = fetcher or Fetcher(
            config.fetch, robots=stored.StoreRobotsCache(store), sleep=interruptible_sleep(self.stop)
        )
        self._settled = False  # incidents and alerts brought up to date since this process started
        stored.register(store, config.sources)

    def close(self) -> None:
        self.fetcher.close()

    def run(self, *, rounds: int | None = None, once: bool = False) -> list[RoundReport]:
        """Poll until stopped, or for `rounds` rounds; `once`: poll every source now, one round."""
        fetched, pending = stored.recover(self.store, at=_now())
        if fetched or pending:
            _log(logging.INFO, "recovered", fetched=fetched, pending_again=pending)
        reports = []
        while not self.stop.is_set():
            if not once:
                wait = self.seconds_to_next()
                if wait > 0 and self.stop.wait(wait + _WAKE_LATE):
                    break
            reports.append(self.round(force=once))
            if once or (rounds is not None and len(reports) >= rounds):
                break
        return reports

    def seconds_to_next(self) -> float:
        """Seconds until a source is due or, with items waiting, none."""
        names = {s.name for s in self.config.sources}
        if stored.has_pending(self.store, sorted(names)):
            return 0.0
        now = _now()
        waits = [
            (due - now).total_seconds() if (due := due_at(row)) else 0.0
            for row in stored.sources(self.store)
            if row.config.name in names
        ]
        return max(0.0, min(waits, default=0.0))

    def round(self, *, force: bool = False) -> RoundReport:
        """Poll the due sources (every one when `force`), fetch their waiting items, then bring
        incidents and alerts up to date."""
        report = RoundReport()
        rows = {row.config.name: row for row in stored.sources(self.store)}
        now = _now()
        for config in self.config.sources:
            if self.stop.is_set():
                break
            row = rows[config.name]
            due = force or (due_at(row) or now) <= now
            if due:
                try:
                    self._poll(config, row, report)
                except Exception as error:  # a bug or a library failure on one source stops only it
                    report.failed_sources += 1
                    message = f"unexpected {type(error).__name__}: {error}"
                    stored.record_failure(self.store, config.name, at=_now(), error=message)
                    log.exception(
                        "source.crashed", extra={"source": config.name, "detail": {"error": message}}
                    )
            waiting = stored.items_to_fetch(
                self.store,
                config.name,
                retry_failed=due,
                max_attempts=self.config.max_attempts,
                limit=self.config.max_items_per_round,
            )
            for item in waiting:
                if self.stop.is_set():
                    break
                try:
                    self._fetch_item(config, item, report)
                except Exception as error:
                    report.failed_items += 1
                    message = f"unexpected {type(error).__name__}: {error}"
                    stored.finish_item(
                        self.store, config.name, item.key, state="failed", at=_now(), error=message
                    )
                    log.exception("item.crashed", extra={"source": config.name, "detail": {"error": message}})
        if report.stored or not self._settled:
            self._settle(report)
        _log(
            logging.INFO,
            "round.done",
            **{k: v for k, v in dataclasses.asdict(report).items() if k != "alerts"},
            alerts=len(report.alerts),
        )
        return report

    # --- polling ---------------------------------------------------------------------

    def _poll(self, config: SourceConfig, row: stored.SourceRow, report: RoundReport) -> None:
        name = config.name
        report.polled += 1
        try:
            got = self.fetcher.fetch(
                config.url,
                etag=row.etag,
                last_modified=row.last_modified,
                accept=LISTING_ACCEPT[config.kind],
            )
        except FetchError as error:
            if error.kind == "stopped":
                return
            report.failed_sources += 1
            stored.record_failure(self.store, name, at=_now(), error=error.message)
            _log(
                logging.WARNING,
                "source.failed",
                name,
                kind=error.kind,
                error=error.message,
                attempts=error.attempts,
            )
            return
        if got.not_modified:
            report.not_modified += 1
            stored.record_not_modified(self.store, name, at=_now())
            _log(logging.INFO, "source.not_modified", name, attempts=got.attempts)
            return
        try:
            listed = self._listing(config, got)
        except ListingError as error:
            report.failed_sources += 1
            stored.record_failure(self.store, name, at=_now(), error=str(error))
            _log(logging.WARNING, "source.failed", name, kind="listing", error=str(error))
            return
        new = stored.record_listing(
            self.store, name, at=_now(), etag=got.etag, last_modified=got.last_modified, listed=listed
        )
        report.new_items += new
        _log(logging.INFO, "source.polled", name, listed=len(listed), new=new, attempts=got.attempts)

    def _listing(self, config: SourceConfig, got: fetching.Fetched) -> list[Listed]:
        if config.kind == "feed":
            return feed_items(got.body, url=got.final_url, source=config)
        listed, children = sitemap_items(got.body)
        for child in children[:MAX_CHILD_SITEMAPS]:
            if self.stop.is_set():
                break
            try:
                more, _ = sitemap_items(self.fetcher.fetch(child, accept=LISTING_ACCEPT["sitemap"]).body)
            except (FetchError, ListingError) as error:
                _log(logging.WARNING, "sitemap.child_failed", config.name, url=child, error=str(error))
                continue
            listed += more
        return listed

    # --- items -----------------------------------------------------------------------

    def _fetch_item(self, config: SourceConfig, item: Item, report: RoundReport) -> None:
        name, key = config.name, item.key
        stored.start_item(self.store, name, key, at=_now())
        if item.url is None:
            self._keep(config, item, item.fallback, report, fallback=True, note="entry has no link")
            return
        try:
            got = self.fetcher.fetch(
                item.url, etag=item.etag, last_modified=item.last_modified, accept=PAGE_ACCEPT
            )
        except FetchError as error:
            self._page_failed(config, item, error, report)
            return
        if got.not_modified:
            stored.finish_item(self.store, name, key, state="fetched", at=_now(), doc_id=item.doc_id)
            _log(logging.INFO, "item.not_modified", name, url=item.url)
            return
        content_type = (got.content_type or "").split(";")[0].strip().lower()
        if content_type and content_type not in _PAGE_TYPES:
            failure = FetchError("content", f"not an article page: {content_type} at {got.final_url}")
            self._page_failed(config, item, failure, report)
            return
        kind = "text" if content_type == "text/plain" else "html"
        options = IngestOptions(published=item.published, max_bytes=self.config.fetch.max_bytes)
        read = next(
            iter(read_bytes(got.body, source=item.ref, name=got.final_url, kind=kind, options=options))
        )
        if isinstance(read, Problem):
            self._page_failed(config, item, FetchError("content", f"unreadable page: {read.reason}"), report)
            return
        document = _as_watched(read, config, ref=item.ref, url=got.final_url)
        self._keep(config, item, document, report, etag=got.etag, last_modified=got.last_modified)

    def _page_failed(self, config: SourceConfig, item: Item, error: FetchError, report: RoundReport) -> None:
        name, key = config.name, item.key
        if error.kind == "stopped":
            stored.finish_item(self.store, name, key, state="pending", at=_now())
            return
        if item.fallback is not None:
            self._keep(config, item, item.fallback, report, fallback=True, note=error.message)
            return
        state = "skipped" if error.permanent else "failed"
        if state == "skipped":
            report.skipped_items += 1
        else:
            report.failed_items += 1
        stored.finish_item(self.store, name, key, state=state, at=_now(), error=error.message)
        _log(
            logging.WARNING,
            f"item.{state}",
            name,
            url=item.url,
            kind=error.kind,
            error=error.message,
            attempts=error.attempts,
        )

    def _keep(
        self,
        config: SourceConfig,
        item: Item,
        document: Document | None,
        report: RoundReport,
        *,
        fallback: bool = False,
        note: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Extract and store a document, then mark its item fetched."""
        name, key = config.name, item.key
        if document is None:
            report.skipped_items += 1
            stored.finish_item(self.store, name, key, state="skipped", at=_now(), error=note)
            _log(logging.WARNING, "item.skipped", name, key=key, error=note)
            return
        extraction = engine.extract_one(document)
        if isinstance(extraction, Problem):
            report.skipped_items += 1
            stored.finish_item(self.store, name, key, state="skipped", at=_now(), error=extraction.reason)
            _log(logging.WARNING, "item.skipped", name, url=item.url, error=extraction.reason)
            return
        result = self.store.write([extraction])
        stored.finish_item(
            self.store,
            name,
            key,
            state="fetched",
            at=_now(),
            doc_id=document.id,
            error=f"stored the feed entry's own text: {note}" if fallback else None,
            etag=etag,
            last_modified=last_modified,
        )
        report.fetched += 1
        report.stored += result.stored
        report.duplicates += result.duplicates
        report.fallbacks += int(fallback)
        _log(
            logging.INFO,
            "item.stored" if result.stored else "item.duplicate",
            name,
            url=item.url,
            doc_id=document.id,
            events=result.events,
            fallback=fallback,
            **({"note": note} if fallback else {}),
        )

    # --- incidents and alerts --------------------------------------------------------

    def _settle(self, report: RoundReport) -> None:
        """Fold new documents into incidents, then announce alerts not announced before."""
        reconciled = pipeline.reconcile(self.store)
        if reconciled.documents:
            _log(
                logging.INFO,
                "incidents.updated",
                documents=reconciled.documents,
                incidents=reconciled.incidents,
                created=reconciled.created,
                changed=reconciled.changed,
            )
        raised = pipeline.alerts(self.store, rules_file=self.rules_file, json_out=self.alerts_json)
        keyed = {alert_key(a): a for a in raised}
        new = stored.unannounced(self.store, keyed)
        fresh = [keyed[k] for k in sorted(new)]
        if fresh and self.webhook:
            from vigil import alerts as alerting

            try:
                alerting.post(fresh, self.webhook)
            except Exception as error:  # a webhook down must not stop the watcher; announced next time
                _log(logging.ERROR, "alerts.webhook_failed", error=f"{type(error).__name__}: {error}")
                return
        for alert in fresh:
            self.out.write(json.dumps(to_dict(alert), ensure_ascii=False) + "\n")
            _log(
                logging.WARNING,
                "alert.raised",
                rule=alert.rule,
                area=alert.area,
                explanation=alert.explanation,
            )
        self.out.flush()
        stored.announce(self.store, [(k, keyed[k].rule, to_dict(keyed[k])) for k in sorted(new)], at=_now())
        report.alerts = fresh
        self._settled = True


def alert_key(alert: Any) -> str:
    """An alert's identity: its rule, area, group, window and the incidents behind it."""
    identity = {
        "rule": alert.rule,
        "area": alert.area,
        "victim_group": alert.victim_group,
        "window": [alert.window_start.isoformat(), alert.window_end.isoformat()],
        "behind": sorted(b.incident_id for b in alert.behind),
        "dead": alert.dead,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


# --- status ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SourceStatus:
    """One source's health, for `vigil watch --status` and the API."""

    name: str
    url: str
    kind: str
    interval: int
    last_checked: datetime | None
    last_success: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    items_today: int  # fetched since midnight UTC
    items_total: int  # fetched in all
    items_failed: int
    items_skipped: int  # robots.txt, too large, not an article ...
    items_pending: int
    failures: int  # failed polls in all
    consecutive_failures: int
    checks: int
    not_modified: int
    next_due: datetime | None


def status(store: Store, *, now: datetime | None = None) -> list[SourceStatus]:
    """Every watched source with its last success and error, items today and in all, and failures."""
    now = now or _now()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    counts = stored.item_counts(store, since=midnight)
    out = []
    for row in stored.sources(store):
        c = counts.get(row.config.name, stored.ItemCounts())
        out.append(
            SourceStatus(
                name=row.config.name,
                url=row.config.url,
                kind=row.config.kind,
                interval=row.config.interval,
                last_checked=row.last_checked_at,
                last_success=row.last_success_at,
                last_error_at=row.last_error_at,
                last_error=row.last_error,
                items_today=c.fetched_today,
                items_total=c.fetched,
                items_failed=c.failed,
                items_skipped=c.skipped,
                items_pending=c.pending,
                failures=row.failures,
                consecutive_failures=row.consecutive_failures,
                checks=row.checks,
                not_modified=row.not_modified,
                next_due=due_at(row),
            )
        )
    return out


def status_json(s: SourceStatus) -> dict:
    return {
        k: v.isoformat() if isinstance(v, (datetime, date)) else v for k, v in dataclasses.asdict(s).items()
    }


def print_status(statuses: Sequence[SourceStatus], console: Any) -> None:
    from rich.table import Table

    def when(value: datetime | None) -> str:
        return value.isoformat(timespec="seconds") if value else "never"

    table = Table(title=f"{len(statuses)} watched sources")
    for col in (
        "source",
        "kind",
        "last success",
        "last error",
        "today",
        "total",
        "failures",
        "waiting",
        "skipped",
    ):
        table.add_column(col, overflow="fold")
    for s in statuses:
        error = f"{when(s.last_error_at)}: {s.last_error}" if s.last_error else ""
        table.add_row(
            f"{s.name}\n{s.url}",
            s.kind,
            when(s.last_success),
            error,
            str(s.items_today),
            str(s.items_total),
            f"{s.failures} ({s.consecutive_failures} in a row)",
            f"{s.items_pending} (+{s.items_failed} failed)",
            str(s.items_skipped),
        )
    console.print(table)


# --- the command -----------------------------------------------------------------------


def command(
    sources_file: Path,
    *,
    db: str | None = None,
    once: bool = False,
    rounds: int | None = None,
    show_status: bool = False,
    rules_file: Path | None = None,
    alerts_json: Path | None = None,
    webhook: str | None = None,
) -> int:
    """`vigil watch`: run the watcher (until SIGTERM/SIGINT, `rounds` rounds, or `once`), or print
    the sources' status. Returns the exit status."""
    from rich.console import Console

    configure_logging()
    try:
        config = load_config(sources_file)
        if rules_file is not None:
            from vigil import alerts as alerting

            alerting.load_rules(rules_file)
    except (ConfigError, ValueError, OSError) as error:
        _log(logging.ERROR, "config.invalid", error=str(error))
        Console(stderr=True).print(f"error: {error}", markup=False, highlight=False)
        return 2
    with Store.open(url_for(db)) as store:
        if show_status:
            stored.register(store, config.sources)
            console = Console() if Console().is_terminal else Console(width=200)
            print_status(status(store), console)
            return 0
        if config.contact is None:
            _log(
                logging.WARNING,
                "config.no_contact",
                hint="set 'contact' in the sources file for the User-Agent",
            )
        stop = threading.Event()
        previous = _on_signals(stop)
        watcher = Watcher(
            store, config, rules_file=rules_file, alerts_json=alerts_json, webhook=webhook, stop=stop
        )
        _log(logging.INFO, "watch.started", sources=len(config.sources), user_agent=config.fetch.user_agent)
        try:
            reports = watcher.run(rounds=rounds, once=once)
        finally:
            watcher.close()
            _restore_signals(previous)
        _log(logging.INFO, "watch.stopped", rounds=len(reports), stopped_by_signal=stop.is_set())
    return 0


def _on_signals(stop: threading.Event) -> dict:
    """SIGTERM and SIGINT finish the current item, then stop (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum, _frame) -> None:
        _log(logging.INFO, "watch.stopping", signal=signal.Signals(signum).name)
        stop.set()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}


def _restore_signals(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


__all__ = [
    "ConfigError",
    "FetchOptions",
    "ListingError",
    "RoundReport",
    "SourceConfig",
    "SourceStatus",
    "WatchConfig",
    "Watcher",
    "command",
    "feed_items",
    "load_config",
    "sitemap_items",
    "status",
]
