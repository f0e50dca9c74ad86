"""Polite HTTP fetching for `vigil watch`: timeouts, bounded retries, conditional requests,
a per-host rate limit, a size cap, checked redirects, a clear User-Agent and robots.txt.

`Fetcher.fetch(url)` gives a `Fetched` response or raises `FetchError` saying why; it never
follows a redirect to a scheme other than http(s), never reads more than `max_bytes`, and
asks robots.txt first (kept in a `RobotsCache`, fetched at most once a day per origin).
"""

from __future__ import annotations

import threading
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from vigil import __version__

SCHEMES = ("http", "https")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_AGENT = "vigil"  # the token robots.txt groups are matched against
ROBOTS_MAX_BYTES = 500_000  # RFC 9309 lets crawlers stop parsing at 500 KiB
ROBOTS_TTL = timedelta(days=1)
ROBOTS_RETRY = timedelta(minutes=10)  # an unreachable robots.txt is asked again after this
MAX_CRAWL_DELAY = 60.0  # a robots.txt Crawl-delay is honoured up to this many seconds


def user_agent(contact: str | None = None) -> str:
    """`vigil/<version> (+contact)`: who is asking and how to reach them."""
    return f"vigil/{__version__} (+{contact})" if contact else f"vigil/{__version__}"


@dataclass(frozen=True, kw_only=True)
class FetchOptions:
    """How politely and how long to try: every limit a fetch obeys."""

    user_agent: str = user_agent()
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_time: float = 120.0  # the whole response, so a server trickling bytes cannot hold us
    retries: int = 3  # attempts after the first, on timeouts, network errors, 429 and 5xx
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    backoff_cap: float = 60.0
    retry_after_cap: float = 120.0  # a longer Retry-After gives up instead of waiting
    host_delay: float = 1.0  # least seconds between two requests to one host
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    robots: bool = True
    trust_env: bool = True  # proxies and certificates from the environment (httpx)


@dataclass(frozen=True, kw_only=True)
class Fetched:
    """A response read whole (within the size cap), or a 304 (`not_modified`, empty body)."""

    url: str  # as asked
    final_url: str  # after redirects
    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    attempts: int
    redirects: int

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """A fetch that gave nothing usable. `kind` says why: disallowed (robots.txt), robots
    (unreachable), scheme, url (malformed), redirects, too_large, content (undecodable), status,
    timeout, network, retry_after, stopped."""

    def __init__(self, kind: str, message: str, *, attempts: int = 0, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.attempts = attempts
        self.status = status

    @property
    def permanent(self) -> bool:
        """Asking again later will not help (as opposed to a server or network failure)."""
        return self.kind in ("disallowed", "scheme", "url", "redirects", "too_large", "content") or (
            self.kind == "status" and self.status is not None and 400 <= self.status < 500
        )


@dataclass(frozen=True, kw_only=True)
class RobotsFile:
    """One origin's robots.txt as fetched: HTTP status (0 when unreachable) and text."""

    origin: str  # scheme://host[:port]
    fetched_at: datetime
    status: int
    body: str


class RobotsCache(Protocol):
    def load(self, origin: str) -> RobotsFile | None: ...

    def save(self, robots: RobotsFile) -> None: ...


class MemoryRobotsCache:
    """robots.txt files kept for this process only."""

    def __init__(self) -> None:
        self._files: dict[str, RobotsFile] = {}

    def load(self, origin: str) -> RobotsFile | None:
        return self._files.get(origin)

    def save(self, robots: RobotsFile) -> None:
        self._files[robots.origin] = robots


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), else None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(retry: int, options: FetchOptions) -> float:
    """Seconds before retry number `retry` (1, 2, ...): exponential, capped."""
    return min(options.backoff_cap, options.backoff * 2 ** (retry - 1))


class Fetcher:
    """One HTTP client with per-host pacing and robots.txt rules; not thread-safe.

    `sleep(seconds) -> bool` waits and answers False when the wait was cut short (shutdown); the
    default never is. `clock` gives monotonic seconds; both are injectable for tests."""

    def __init__(
        self,
        options: FetchOptions = FetchOptions(),
        *,
        robots: RobotsCache | None = None,
        sleep: Callable[[float], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.options = options
        self.robots_cache = robots or MemoryRobotsCache()
        self._sleep = sleep or _plain_sleep
        self._clock = clock
        self._now = now
        self._last_request: dict[str, float] = {}
        self._parsers: dict[str, tuple[datetime, urllib.robotparser.RobotFileParser | None]] = {}
        self.client = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(
                connect=options.connect_timeout,
                read=options.read_timeout,
                write=options.read_timeout,
                pool=options.connect_timeout,
            ),
            headers={"User-Agent": options.user_agent},
            trust_env=options.trust_env,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the one public call ---------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> Fetched:
        """GET `url` (conditionally, given validators), following redirects within the limit."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        return self._get(url, headers=headers, check_robots=self.options.robots, max_bytes=None)

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets vigil fetch `url`; raises FetchError when robots.txt is unreachable."""
        parser = self._robots(origin_of(url))
        if parser is None:
            raise FetchError("robots", f"robots.txt of {origin_of(url)} unreachable; not fetching")
        return parser.can_fetch(ROBOTS_AGENT, url)

    # --- internals -----------------------------------------------------------------

    def _get(self, url: str, *, headers: dict, check_robots: bool, max_bytes: int | None) -> Fetched:
        asked, redirects, attempts = url, 0, 0
        while True:
            _check_scheme(url, redirected=redirects > 0)
            if check_robots and not self.allowed(url):
                raise FetchError("disallowed", f"robots.txt disallows {url}", attempts=attempts)
            response, tries = self._attempts(url, headers, max_bytes=max_bytes)
            attempts += tries
            status, body, response_headers = response
            if status in REDIRECT_STATUSES and "location" in response_headers:
                if redirects >= self.options.max_redirects:
                    raise FetchError(
                        "redirects",
                        f"more than {self.options.max_redirects} redirects from {asked}",
                        attempts=attempts,
                    )
                redirects += 1
                try:
                    url = urljoin(url, response_headers["location"])
                except ValueError:
                    raise FetchError("url", f"malformed redirect from {url}", attempts=attempts) from None
                continue
            if status >= 400:
                raise FetchError("status", f"HTTP {status} from {url}", attempts=attempts, status=status)
            return Fetched(
                url=asked,
                final_url=url,
                status=status,
                body=body,
                content_type=response_headers.get("content-type"),
                etag=response_headers.get("etag"),
                last_modified=response_headers.get("last-modified"),
                attempts=attempts,
                redirects=redirects,
            )

    def _attempts(
        self, url: str, headers: dict, *, max_bytes: int | None
    ) -> tuple[tuple[int, bytes, httpx.Headers], int]:
        """One request with its retries: (status, body, headers) and how many attempts it took."""
        options = self.options
        for attempt in range(1, options.retries + 2):
            self._pace(url)
            wait = None
            try:
                status, body, response_headers = self._once(url, headers, max_bytes=max_bytes)
            except httpx.TimeoutException as error:
                failure = FetchError("timeout", f"timed out ({type(error).__name__}) on {url}")
            except _TooSlow:
                failure = FetchError("timeout", f"took longer than {options.max_time:g} s on {url}")
            except httpx.RemoteProtocolError as error:
                if "location header" not in str(error).lower():
                    failure = FetchError("network", f"{type(error).__name__} on {url}: {error}")
                else:  # httpx reads the Location of every redirect, even one it will not follow
                    raise FetchError(
                        "url", f"malformed redirect from {url}: {error}", attempts=attempt
                    ) from None
            except httpx.InvalidURL as error:
                raise FetchError("url", f"malformed URL {url[:200]}: {error}", attempts=attempt) from None
            except httpx.DecodingError as error:
                raise FetchError("content", f"cannot decode {url}: {error}", attempts=attempt) from None
            except httpx.TransportError as error:
                failure = FetchError("network", f"{type(error).__name__} on {url}: {error}")
            except FetchError as error:  # over the size cap: asking again will not shrink it
                error.attempts = attempt
                raise
            else:
                if status not in RETRY_STATUSES:
                    return (status, body, response_headers), attempt
                failure = FetchError("status", f"HTTP {status} from {url}", status=status)
                wait = parse_retry_after(response_headers.get("retry-after"), now=self._now())
                if wait is not None and wait > options.retry_after_cap:
                    failure = FetchError(
                        "retry_after",
                        f"HTTP {status} from {url}: Retry-After {wait:.0f} s is over the cap "
                        f"{options.retry_after_cap:g} s",
                        status=status,
                    )
                    failure.attempts = attempt
                    raise failure
            failure.attempts = attempt
            if attempt > options.retries:
                raise failure
            delay = max(backoff_delay(attempt, options), wait or 0.0)
            if not self._sleep(delay):
                raise FetchError("stopped", f"stopped while waiting to retry {url}", attempts=attempt)
        raise AssertionError("unreachable")

    def _once(self, url: str, headers: dict, *, max_bytes: int | None) -> tuple[int, bytes, httpx.Headers]:
        cap = max_bytes if max_bytes is not None else self.options.max_bytes
        started = self._clock()
        with self.client.stream("GET", url, headers=headers) as response:
            if response.status_code in REDIRECT_STATUSES or response.status_code == 304:
                return response.status_code, b"", response.headers
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise FetchError("too_large", f"{url} declares {declared} bytes, over the cap {cap}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():  # decompressed: the cap holds against gzip bombs
                size += len(chunk)
                if size > cap:
                    raise FetchError("too_large", f"{url} is larger than the cap of {cap} bytes")
                if self._clock() - started > self.options.max_time:
                    raise _TooSlow()
                chunks.append(chunk)
            return response.status_code, b"".join(chunks), response.headers

    def _pace(self, url: str) -> None:
        """Wait until the host's last request is `host_delay` (or its Crawl-delay) seconds old."""
        host = urlsplit(url).netloc.lower()
        delay = self.options.host_delay
        parsed = self._parsers.get(origin_of(url))
        if parsed and parsed[1] is not None:
            crawl_delay = parsed[1].crawl_delay(ROBOTS_AGENT)
            if crawl_delay:
                delay = max(delay, min(float(crawl_delay), MAX_CRAWL_DELAY))
        last = self._last_request.get(host)
        if last is not None:
            remaining = last + delay - self._clock()
            if remaining > 0 and not self._sleep(remaining):
                raise FetchError("stopped", f"stopped while pacing requests to {host}")
        self._last_request[host] = self._clock()

    def _robots(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        """The origin's robots.txt rules: from memory, else the cache (under a day old), else fetched."""
        now = self._now()
        known = self._parsers.get(origin)
        if known is not None:
            at, parser = known
            fresh = ROBOTS_TTL if parser is not None else ROBOTS_RETRY
            if now - at < fresh:
                return parser
        cached = self.robots_cache.load(origin)
        if cached is None or now - _aware(cached.fetched_at) >= ROBOTS_TTL:
            cached = self._fetch_robots(origin, now)
            if cached is None:
                self._parsers[origin] = (now, None)
                return None
            self.robots_cache.save(cached)
        parser = _parse_robots(cached)
        self._parsers[origin] = (_aware(cached.fetched_at), parser)
        return parser

    def _fetch_robots(self, origin: str, now: datetime) -> RobotsFile | None:
        """robots.txt fetched (RFC 9309: a 4xx means no rules; a 5xx or no answer, none for now)."""
        try:
            got = self._get(
                f"{origin}/robots.txt", headers={}, check_robots=False, max_bytes=ROBOTS_MAX_BYTES
            )
        except FetchError as error:
            if error.kind == "status" and error.status is not None and 400 <= error.status < 500:
                return RobotsFile(origin=origin, fetched_at=now, status=error.status, body="")
            return None
        body = got.body.decode("utf-8", errors="replace")
        return RobotsFile(origin=origin, fetched_at=now, status=got.status, body=body)


class _TooSlow(Exception):
    pass


def _plain_sleep(seconds: float) -> bool:
    time.sleep(max(0.0, seconds))
    return True


def interruptible_sleep(stop: threading.Event) -> Callable[[float], bool]:
    """A `sleep` for `Fetcher` that returns False as soon as `stop` is set."""
    return lambda seconds: not stop.wait(max(0.0, seconds))


def _check_scheme(url: str, *, redirected: bool) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise FetchError("url", f"malformed URL {url[:200]}") from None
    if parts.scheme.lower() not in SCHEMES or not parts.netloc:
        what = "redirect to" if redirected else "URL with"
        raise FetchError("scheme", f"{what} a scheme other than http(s): {url[:200]}")


def _parse_robots(robots: RobotsFile) -> urllib.robotparser.RobotFileParser:
    parser = urllib.robotparser.RobotFileParser(f"{robots.origin}/robots.txt")
    if 400 <= robots.status < 500:
        parser.allow_all = True
    parser.parse(robots.body.splitlines())
    return parser


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
