"""`vigil watch` and its fetcher, against HTTP servers on 127.0.0.1 only.

The reports served are short texts written for these tests. Backoff and retry waits are
recorded, not slept, wherever the fetcher runs in this process; no test asserts on wall time.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from vigil import __version__
from vigil import watch as watching
from vigil.cli import main
from vigil.fetch import (
    Fetcher,
    FetchError,
    FetchOptions,
    RobotsFile,
    backoff_delay,
    parse_retry_after,
    user_agent,
)
from vigil.store import Store, sqlite_url
from vigil.store import watch as stored
from vigil.store.schema import documents
from vigil.store.watch import Listed
from vigil.watch import ConfigError, ListingError, SourceConfig, WatchConfig, Watcher

# --- a local web site ----------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before anything is sent
    length: bool = True  # send Content-Length (else the body ends when the connection closes)


Route = Reply | Callable[[dict], Reply]


class Site:
    """Routes by path, and a log of every request: (path, lower-cased headers, status)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, dict, int]] = []
        self.lock = threading.Lock()
        self.base = ""

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def reply(self, path: str, headers: dict) -> Reply:
        route = self.routes.get(path.split("?")[0])
        if route is None:
            reply = Reply(status=404, body=b"not here")
        else:
            reply = route(headers) if callable(route) else route
        with self.lock:
            self.log.append((path, headers, reply.status))
        return reply

    def hits(self) -> Counter:
        with self.lock:
            return Counter(path for path, _, _ in self.log)

    def requests(self, path: str) -> list[tuple[dict, int]]:
        with self.lock:
            return [(h, s) for p, h, s in self.log if p == path]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        reply = self.server.site.reply(self.path, {k.lower(): v for k, v in self.headers.items()})
        if reply.delay:
            time.sleep(reply.delay)
        try:
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.length:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts, size cap)
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.block_on_close = False
    server.site = s
    s.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield s
    server.shutdown()
    server.server_close()


# --- reports written for these tests -------------------------------------------------------

REPORTS = {
    "1-idlib": (
        "Four villagers shot dead in Idlib countryside",
        "2025-05-05",
        "Gunmen killed 4 civilians in the village of Kafr Nabl in Idlib governorate on Monday, "
        "a monitoring group said. Residents said the attackers arrived in two pickup trucks.",
    ),
    "2-arrests": (
        "Security sweep in Deir ez-Zor",
        "2025-05-06",
        "Security forces arrested 12 men in the city of Deir ez-Zor on Tuesday, local activists said. "
        "No casualties were reported.",
    ),
    "3-daraa": (
        "Roadside bomb hits minibus near Daraa",
        "2025-05-06",
        "A roadside bomb struck a minibus near the town of Nawa in Daraa governorate on Tuesday, "
        "killing 3 civilians, a local health official said.",
    ),
    "4-hama": (
        "Farm workers killed in attack near Salamiyah",
        "2025-05-07",
        "Gunmen opened fire on a bus carrying farm workers near Salamiyah in Hama governorate on "
        "Wednesday, killing 14 civilians, the Syrian Observatory for Human Rights said.",
    ),
    "5-homs": (
        "Nine civilians shot dead east of Homs",
        "2025-05-08",
        "Unidentified attackers shot dead 9 civilians, among them three women, in a farming village "
        "east of Homs on Thursday, a war monitor said.",
    ),
}


def page(slug: str, *, extra: str = "") -> bytes:
    title, day, text = REPORTS[slug]
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title><meta property='article:published_time' content='{day}'></head>"
        f"<body><nav>Home | World</nav><article><h1>{title}</h1>{extra}<p>{text}</p></article>"
        "<footer>vigil test site</footer></body></html>"
    ).encode()


def rss(site: Site, slugs: list[str], *, summaries: dict | None = None) -> bytes:
    items = []
    for slug in slugs:
        title, day, text = REPORTS[slug]
        summary = (summaries or {}).get(slug, text)
        when = format_datetime(datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC))
        items.append(
            f"<item><title>{title}</title><link>{site.url('/a/' + slug)}</link>"
            f"<guid isPermaLink='false'>urn:vigil-test:{slug}</guid><pubDate>{when}</pubDate>"
            f"<description>{summary}</description></item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>vigil test wire</title><link>{site.url('/')}</link><description>test</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def versioned(get_body: Callable[[], bytes], content_type: str = "application/rss+xml") -> Route:
    """A resource with an ETag (its content's hash) and Last-Modified, answering 304 when unchanged."""

    def route(headers: dict) -> Reply:
        body = get_body()
        tag = f'"{abs(hash(body)):x}"'
        if headers.get("if-none-match") == tag:
            return Reply(status=304, headers={"ETag": tag})
        stamp = "Wed, 07 May 2025 10:00:00 GMT"
        return Reply(body=body, headers={"ETag": tag, "Last-Modified": stamp, "Content-Type": content_type})

    return route


def html(slug: str, **kw) -> Reply:
    return Reply(body=page(slug, **kw), headers={"Content-Type": "text/html; charset=utf-8"})


ROBOTS = b"User-agent: *\nDisallow: /private/\n"


# --- the fetcher -------------------------------------------------------------------------


class Naps:
    """A fetcher's `sleep`: records each wait instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return True


FAST = FetchOptions(
    user_agent=user_agent("mailto:watch-tests@example.org"),
    connect_timeout=5.0,
    read_timeout=5.0,
    max_time=20.0,
    retries=2,
    backoff=0.5,
    backoff_cap=4.0,
    retry_after_cap=30.0,
    host_delay=0.0,
    max_bytes=100_000,
    trust_env=False,
)


def fetcher(naps: Naps | None = None, options: FetchOptions = FAST, **kw) -> Fetcher:
    return Fetcher(options, sleep=naps or Naps(), **kw)


def test_the_user_agent_names_vigil_its_version_and_the_contact(site):
    site.add("/robots.txt", Reply(body=ROBOTS))
    site.add("/a/1-idlib", html("1-idlib"))
    with fetcher() as f:
        got = f.fetch(site.url("/a/1-idlib"))
    assert got.status == 200 and b"Kafr Nabl" in got.body
    agents = {h["user-agent"] for _, h, _ in site.log}
    assert agents == {f"vigil/{__version__} (+mailto:watch-tests@example.org)"}
    assert user_agent() == f"vigil/{__version__}"


def test_server_errors_are_retried_a_bounded_number_of_times_with_growing_waits(site):
    site.add("/robots.txt", Reply(status=404))
    site.add("/down", Reply(status=500, body=b"oops"))
    naps = Naps()
    options = FetchOptions(**{**FAST.__dict__, "retries": 4, "backoff": 1.0, "backoff_cap": 3.0})
    with fetcher(naps, options) as f, pytest.raises(FetchError) as failure:
        f.fetch(site.url("/down"))
    assert failure.value.kind == "status" and failure.value.status == 500
    assert failure.value.attempts == 5 and site.hits()["/down"] == 5
    assert naps.waits == [1.0, 2.0, 3.0, 3.0]  # doubled, then held at the cap
    assert all(backoff_delay(n, options) <= options.backoff_cap for n in range(1, 50))


def test_retry_after_is_honoured_within_its_cap(site):
    site.add("/robots.txt", Reply(status=404))
    replies = iter([Reply(status=503, headers={"Retry-After": "7"}), Reply(body=b"<p>fine</p>")])
    site.add("/busy", lambda _h: next(replies))
    site.add("/closed", Reply(status=429, headers={"Retry-After": "86400"}))
    naps = Naps()
    with fetcher(naps) as f:
        assert f.fetch(site.url("/busy")).body == b"<p>fine</p>"
        assert naps.waits == [7.0]
        with pytest.raises(FetchError) as failure:
            f.fetch(site.url("/closed"))
    assert failure.value.kind == "retry_after" and site.hits()["/closed"] == 1
    assert naps.waits == [7.0]  # gave up instead of waiting a day


def test_a_server_slower_than_the_read_timeout_fails_after_its_retries(site):
    site.add("/robots.txt", Reply(status=404))
    site.add("/slow", Reply(body=b"late", delay=3.0))
    naps = Naps()
    options = FetchOptions(**{**FAST.__dict__, "read_timeout": 0.3})
    with fetcher(naps, options) as f, pytest.raises(FetchError) as failure:
        f.fetch(site.url("/slow"))
    assert failure.value.kind == "timeout" and failure.value.attempts == 3
    assert site.hits()["/slow"] == 3 and len(naps.waits) == 2


def test_conditional_requests_send_the_validators_and_a_304_means_nothing_new(site):
    site.add("/robots.txt", Reply(status=404))
    site.add("/feed.xml", versioned(lambda: rss(site, ["1-idlib"])))
    with fetcher() as f:
        first = f.fetch(site.url("/feed.xml"))
        again = f.fetch(site.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified)
    assert first.status == 200 and first.etag and first.last_modified
    assert again.not_modified and again.body == b""
    sent = site.requests("/feed.xml")[1][0]
    assert sent["if-none-match"] == first.etag and sent["if-modified-since"] == first.last_modified


@pytest.mark.parametrize("declared", [True, False])
def test_a_page_over_the_size_cap_is_abandoned(site, declared):
    site.add("/robots.txt", Reply(status=404))
    site.add("/huge", Reply(body=b"<p>" + b"x" * 400_000 + b"</p>", length=declared))
    with fetcher() as f, pytest.raises(FetchError) as failure:
        f.fetch(site.url("/huge"))
    assert failure.value.kind == "too_large" and failure.value.permanent
    assert site.hits()["/huge"] == 1  # never retried


def test_redirects_are_followed_within_the_limit_and_never_off_http(site):
    site.add("/robots.txt", Reply(status=404))
    for n in range(8):
        site.add(f"/hop/{n}", Reply(status=302, headers={"Location": f"/hop/{n + 1}"}))
    site.add("/hop/8", html("2-arrests"))
    site.add("/to-file", Reply(status=301, headers={"Location": "file:///etc/passwd"}))
    site.add("/to-ftp", Reply(status=308, headers={"Location": "ftp://127.0.0.1/x"}))
    site.add("/to-nowhere", Reply(status=302, headers={"Location": "http://[::1"}))
    with fetcher() as f:
        got = f.fetch(site.url("/hop/3"))  # five hops: 3 → 8
        assert got.redirects == 5 and got.final_url == site.url("/hop/8") and b"Deir" in got.body
        with pytest.raises(FetchError) as too_many:
            f.fetch(site.url("/hop/2"))  # six hops
        assert too_many.value.kind == "redirects"
        for path in ("/to-file", "/to-ftp"):
            with pytest.raises(FetchError) as off_web:
                f.fetch(site.url(path))
            assert off_web.value.kind == "scheme"
        with pytest.raises(FetchError) as malformed:
            f.fetch(site.url("/to-nowhere"))
        assert malformed.value.kind == "url" and malformed.value.permanent
    assert site.hits()["/hop/8"] == 1


def test_robots_txt_is_honoured_and_fetched_once_a_day_per_origin(site, tmp_path):
    site.add("/robots.txt", Reply(body=ROBOTS))
    site.add("/private/memo", html("3-daraa"))
    site.add("/a/1-idlib", html("1-idlib"))
    clock = {"now": datetime(2025, 5, 7, 8, tzinfo=UTC)}
    with Store.open(sqlite_url(tmp_path / "robots.sqlite")) as store:
        cache = stored.StoreRobotsCache(store)
        with fetcher(robots=cache, now=lambda: clock["now"]) as f:
            with pytest.raises(FetchError) as refused:
                f.fetch(site.url("/private/memo"))
            assert refused.value.kind == "disallowed" and refused.value.permanent
            f.fetch(site.url("/a/1-idlib"))
        assert site.hits()["/robots.txt"] == 1 and site.hits()["/private/memo"] == 0
        with fetcher(robots=cache, now=lambda: clock["now"]) as f:  # a restart: robots.txt from the store
            f.fetch(site.url("/a/1-idlib"))
        assert site.hits()["/robots.txt"] == 1
        clock["now"] += timedelta(days=1, minutes=1)
        with fetcher(robots=cache, now=lambda: clock["now"]) as f:
            f.fetch(site.url("/a/1-idlib"))
        assert site.hits()["/robots.txt"] == 2


def test_robots_txt_missing_allows_all_and_unreachable_allows_nothing(site):
    site.add("/a/1-idlib", html("1-idlib"))
    with fetcher() as f:  # 404: no rules
        assert f.fetch(site.url("/a/1-idlib")).status == 200
    site.add("/robots.txt", Reply(status=503))
    with fetcher() as f, pytest.raises(FetchError) as failure:
        f.fetch(site.url("/a/1-idlib"))
    assert failure.value.kind == "robots" and not failure.value.permanent
    assert site.hits()["/a/1-idlib"] == 1


def test_pacing_waits_between_requests_to_one_host(site):
    site.add("/robots.txt", Reply(status=404))
    site.add("/a/1-idlib", html("1-idlib"))
    naps = Naps()
    options = FetchOptions(**{**FAST.__dict__, "host_delay": 5.0})
    with fetcher(naps, options) as f:
        f.fetch(site.url("/a/1-idlib"))
        f.fetch(site.url("/a/1-idlib"))
    assert len(naps.waits) == 2 and all(0 < w <= 5.0 for w in naps.waits)  # before the page, twice


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(0, 10**6).map(str)))
def test_retry_after_parses_to_a_wait_or_nothing(value):
    wait = parse_retry_after(value, now=datetime(2025, 5, 7, tzinfo=UTC))
    assert wait is None or wait >= 0
    if value.strip().isascii() and value.strip().isdigit():
        assert wait == float(value.strip())


# --- listings ------------------------------------------------------------------------------

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOURCE = SourceConfig(name="wire", url="http://127.0.0.1:9/feed.xml")


@FUZZ
@given(st.binary(max_size=500))
def test_any_bytes_as_a_sitemap_give_items_or_a_listing_error(data):
    try:
        listed, children = watching.sitemap_items(data)
    except ListingError:
        return
    assert all(x.url.startswith(("http://", "https://")) for x in listed)
    assert all(c.startswith(("http://", "https://")) for c in children)


@FUZZ
@given(st.binary(max_size=500) | st.text(max_size=300).map(lambda t: f"<rss><channel>{t}".encode()))
def test_any_bytes_as_a_feed_give_items_or_a_listing_error(data):
    try:
        listed = watching.feed_items(data, url=SOURCE.url, source=SOURCE)
    except ListingError:
        return
    assert all(x.url is None or x.url.startswith(("http://", "https://")) for x in listed)


def test_sitemaps_give_locations_with_lastmod_and_ignore_entities():
    data = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY boom "BOOM">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://news.test/a/1</loc><lastmod>2025-05-07T10:00:00+02:00</lastmod></url>
<url><loc>https://news.test/a/2</loc></url>
<url><loc>javascript:alert(1)</loc></url>
<url><loc>https://news.test/&boom;</loc></url>
</urlset>"""
    listed, children = watching.sitemap_items(data)
    assert children == []
    assert [x.url for x in listed] == ["https://news.test/a/1", "https://news.test/a/2", "https://news.test/"]
    assert listed[0].lastmod == "2025-05-07T08:00:00+00:00" and str(listed[0].published) == "2025-05-07"
    index = b"<sitemapindex><sitemap><loc>https://news.test/s1.xml</loc></sitemap></sitemapindex>"
    assert watching.sitemap_items(index) == ([], ["https://news.test/s1.xml"])


def test_sources_file_is_checked(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        "contact: mailto:desk@example.org\nfetch: {host_delay: 2, retries: 1}\n"
        "sources:\n  - {name: wire, url: 'https://news.test/feed.xml', outlet: Test Wire, language: en}\n"
        "  - {name: map, url: 'https://news.test/sitemap.xml', kind: sitemap, interval: 3600}\n",
        encoding="utf-8",
    )
    config = watching.load_config(good)
    assert [s.name for s in config.sources] == ["wire", "map"]
    assert config.sources[0].interval == 900 and config.sources[1].interval == 3600
    assert config.fetch.host_delay == 2.0 and config.fetch.retries == 1
    assert config.fetch.user_agent == f"vigil/{__version__} (+mailto:desk@example.org)"
    for bad in (
        "- {name: x, url: 'ftp://news.test/feed'}",
        "- {name: x, url: 'https://news.test/f', kind: page}",
        "- {name: x, url: 'https://news.test/f', interval: 0}",
        "- {name: x, url: 'https://news.test/f', colour: red}",
        "- {name: x, url: 'https://news.test/f'}\n- {name: x, url: 'https://news.test/g'}",
        "sources: []",
        "{sources: [{name: x, url: 'https://news.test/f'}], fetch: {speed: 3}}",
    ):
        path = tmp_path / "bad.yaml"
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(ConfigError):
            watching.load_config(path)


# --- the watcher in this process -------------------------------------------------------------


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    s = Store.open(sqlite_url(tmp_path / "watch.sqlite"))
    yield s
    s.close()


def watcher(store: Store, *sources: SourceConfig, **kw) -> Watcher:
    config = WatchConfig(sources=sources, fetch=FAST, max_attempts=2)
    f = Fetcher(FAST, robots=stored.StoreRobotsCache(store), sleep=Naps())
    return Watcher(store, config, out=io.StringIO(), fetcher=f, **kw)


def docs_by_source(store: Store) -> Counter:
    with store.engine.connect() as conn:
        return Counter(
            dict(conn.execute(select(documents.c.source, func.count()).group_by(documents.c.source)).all())
        )


def doc_texts(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(documents.c.source, documents.c.text)).all())


def test_a_changing_feed_is_fetched_conditionally_and_each_article_once(site, store):
    listed = ["1-idlib", "2-arrests"]
    site.add("/robots.txt", Reply(body=ROBOTS))
    site.add("/feed.xml", versioned(lambda: rss(site, listed)))
    for slug in REPORTS:
        site.add(f"/a/{slug}", html(slug))
    w = watcher(store, SourceConfig(name="wire", url=site.url("/feed.xml"), outlet="Test Wire"))
    first = w.round(force=True)
    assert (first.new_items, first.stored) == (2, 2)
    second = w.round(force=True)
    assert second.not_modified == 1 and second.fetched == 0
    listed.append("4-hama")
    third = w.round(force=True)
    assert (third.new_items, third.stored) == (1, 1)
    hits = site.hits()
    assert all(hits[f"/a/{slug}"] == 1 for slug in listed)
    assert docs_by_source(store) == Counter({site.url(f"/a/{slug}"): 1 for slug in listed})
    hama = next(r for r in store.events() if r.document.source == site.url("/a/4-hama"))
    assert hama.document.outlet == "Test Wire" and str(hama.document.published) == "2025-05-07"
    assert hama.event.admin1 == ("Hama",)
    [s] = watching.status(store)
    assert (s.items_total, s.items_today, s.checks, s.not_modified, s.failures) == (3, 3, 3, 1, 0)
    w.close()


def test_feed_entries_whose_page_fails_keep_their_own_text(site, store):
    site.add("/robots.txt", Reply(body=ROBOTS))
    summaries = {
        "5-homs": "Attackers killed 9 civilians in a village east of Homs on Thursday, a monitor said."
    }
    site.add("/feed.xml", versioned(lambda: rss(site, ["5-homs"], summaries=summaries)))
    site.add("/a/5-homs", Reply(status=500))
    w = watcher(store, SourceConfig(name="wire", url=site.url("/feed.xml")))
    report = w.round(force=True)
    assert (report.stored, report.fallbacks) == (1, 1)
    assert site.hits()["/a/5-homs"] == 3  # tried with its retries first
    [item] = stored.items(store, "wire")
    assert item.state == "fetched" and "feed entry's own text" in item.error
    assert doc_texts(store) == {site.url("/a/5-homs"): summaries["5-homs"]}
    w.close()


def test_hostile_oversized_disallowed_and_failing_pages(site, store):
    site.add("/robots.txt", Reply(body=ROBOTS))
    hostile = page(
        "3-daraa",
        extra="<script>document.write('INJECTED')</script><div><b><i>unclosed <p>tags <table><tr><td>",
    )
    pages = {
        "/a/hostile": Reply(body=hostile, headers={"Content-Type": "text/html"}),
        "/a/huge": Reply(body=b"<p>" + b"word " * 60_000 + b"</p>", headers={"Content-Type": "text/html"}),
        "/private/secret": html("1-idlib"),
        "/a/flaky": Reply(status=502),
        "/a/pdf": Reply(body=b"%PDF-1.4", headers={"Content-Type": "application/pdf"}),
    }
    for path, reply in pages.items():
        site.add(path, reply)
    urls = "".join(f"<url><loc>{site.url(p)}</loc></url>" for p in pages)
    site.add("/sitemap.xml", Reply(body=f"<urlset>{urls}</urlset>".encode()))
    w = watcher(store, SourceConfig(name="map", url=site.url("/sitemap.xml"), kind="sitemap"))
    report = w.round(force=True)
    assert report.stored == 1 and report.skipped_items == 3 and report.failed_items == 1
    states = {i.url.removeprefix(site.base): (i.state, i.error or "") for i in stored.items(store, "map")}
    assert states["/a/hostile"][0] == "fetched"
    assert states["/a/huge"][0] == "skipped" and "cap" in states["/a/huge"][1]
    assert states["/private/secret"][0] == "skipped" and "robots.txt" in states["/private/secret"][1]
    assert states["/a/pdf"][0] == "skipped" and "application/pdf" in states["/a/pdf"][1]
    assert states["/a/flaky"][0] == "failed"
    assert site.hits()["/private/secret"] == 0
    [text] = doc_texts(store).values()
    assert "Nawa" in text and "INJECTED" not in text and "<" not in text
    # The failed page is tried again on the next poll, up to max_attempts (2), then left alone.
    w.round(force=True)
    w.round(force=True)
    assert site.hits()["/a/flaky"] == 2 * 3
    [s] = watching.status(store)
    assert (s.items_total, s.items_skipped, s.items_failed) == (1, 3, 1)
    w.close()


def test_a_failing_source_is_counted_and_never_stops_the_others(site, store):
    site.add("/robots.txt", Reply(body=ROBOTS))
    site.add("/broken.xml", Reply(status=500))
    site.add("/feed.xml", versioned(lambda: rss(site, ["2-arrests"])))
    site.add("/a/2-arrests", html("2-arrests"))
    w = watcher(
        store,
        SourceConfig(name="broken", url=site.url("/broken.xml")),
        SourceConfig(name="wire", url=site.url("/feed.xml")),
    )
    for _ in range(2):
        report = w.round(force=True)
        assert report.failed_sources == 1
    statuses = {s.name: s for s in watching.status(store)}
    assert statuses["wire"].items_total == 1 and statuses["wire"].last_error is None
    broken = statuses["broken"]
    assert broken.failures == 2 and broken.consecutive_failures == 2 and broken.last_success is None
    assert "HTTP 500" in broken.last_error and broken.last_error_at is not None
    assert site.hits()["/broken.xml"] == 2 * 3
    w.close()


def test_a_source_that_crashes_the_parser_is_logged_and_the_others_go_on(site, store, monkeypatch):
    site.add("/robots.txt", Reply(status=404))
    site.add("/odd.xml", Reply(body=b"<rss/>"))
    site.add("/feed.xml", versioned(lambda: rss(site, ["2-arrests"])))
    site.add("/a/2-arrests", html("2-arrests"))
    real = watching.feed_items

    def fragile(data, *, url, source):
        if source.name == "odd":
            raise RuntimeError("parser bug")
        return real(data, url=url, source=source)

    monkeypatch.setattr(watching, "feed_items", fragile)
    logs = io.StringIO()
    watching.configure_logging(logs)
    w = watcher(
        store,
        SourceConfig(name="odd", url=site.url("/odd.xml")),
        SourceConfig(name="wire", url=site.url("/feed.xml")),
    )
    report = w.round(force=True)
    assert (report.failed_sources, report.stored) == (1, 1)
    statuses = {s.name: s for s in watching.status(store)}
    assert "RuntimeError: parser bug" in statuses["odd"].last_error
    [crash] = [e for e in _logs(logs.getvalue()) if e["event"] == "source.crashed"]
    assert (
        crash["source"] == "odd"
        and crash["level"] == "error"
        and "parser bug" in crash["detail"]["traceback"]
    )
    w.close()


def test_sitemap_lastmod_change_refetches_conditionally(site, store):
    site.add("/robots.txt", Reply(status=404))
    stamp = {"lastmod": "2025-05-07"}
    site.add(
        "/sitemap.xml",
        lambda _h: Reply(
            body=(
                f"<urlset><url><loc>{site.url('/a/4-hama')}</loc><lastmod>{stamp['lastmod']}</lastmod></url></urlset>"
            ).encode()
        ),
    )
    site.add("/a/4-hama", versioned(lambda: page("4-hama"), "text/html"))
    w = watcher(store, SourceConfig(name="map", url=site.url("/sitemap.xml"), kind="sitemap"))
    assert w.round(force=True).stored == 1
    assert w.round(force=True).fetched == 0
    stamp["lastmod"] = "2025-05-08T12:00:00Z"
    w.round(force=True)
    requests = site.requests("/a/4-hama")
    assert [status for _, status in requests] == [200, 304]
    assert requests[1][0]["if-none-match"]
    [item] = stored.items(store, "map")
    assert (
        item.state == "fetched" and item.doc_id is not None and item.attempts == 1
    )  # reset by the new lastmod
    w.close()


def test_an_item_caught_between_storing_and_marking_is_not_fetched_again(site, store):
    site.add("/robots.txt", Reply(status=404))
    site.add("/feed.xml", versioned(lambda: rss(site, ["1-idlib", "2-arrests"])))
    for slug in ("1-idlib", "2-arrests"):
        site.add(f"/a/{slug}", html(slug))
    w = watcher(store, SourceConfig(name="wire", url=site.url("/feed.xml")))
    w.round(force=True)
    # As a crash would leave them: one stored but still marked fetching, one fetching and not stored.
    at = datetime.now(UTC)
    for slug in ("1-idlib", "2-arrests"):
        stored.start_item(store, "wire", f"urn:vigil-test:{slug}", at=at)
    with store.engine.begin() as conn:
        conn.execute(documents.delete().where(documents.c.source == site.url("/a/2-arrests")))
    hits = site.hits()
    w.close()
    again = watcher(store, SourceConfig(name="wire", url=site.url("/feed.xml")))
    again.run(rounds=1)
    after = site.hits()
    assert after["/a/1-idlib"] == hits["/a/1-idlib"] == 1
    assert after["/a/2-arrests"] == 2
    assert {i.key: i.state for i in stored.items(store, "wire")} == {
        "urn:vigil-test:1-idlib": "fetched",
        "urn:vigil-test:2-arrests": "fetched",
    }
    assert docs_by_source(store) == Counter({site.url("/a/1-idlib"): 1, site.url("/a/2-arrests"): 1})
    again.close()


def test_alerts_are_announced_once(site, store, tmp_path):
    site.add("/robots.txt", Reply(status=404))
    site.add("/feed.xml", versioned(lambda: rss(site, ["4-hama"])))
    site.add("/a/4-hama", html("4-hama"))
    rules = tmp_path / "rules.yaml"
    rules.write_text("- {name: hama-watch, area: Hama, min_dead: 10, window: 30}\n", encoding="utf-8")
    out = tmp_path / "alerts.json"
    w = watcher(
        store, SourceConfig(name="wire", url=site.url("/feed.xml")), rules_file=rules, alerts_json=out
    )
    first = w.round(force=True)
    assert [a.rule for a in first.alerts] == ["alerts.watch_rule@1:hama-watch"]
    printed = [json.loads(line) for line in w.out.getvalue().splitlines()]
    assert [a["rule"] for a in printed] == ["alerts.watch_rule@1:hama-watch"]
    w.close()
    again = watcher(
        store, SourceConfig(name="wire", url=site.url("/feed.xml")), rules_file=rules, alerts_json=out
    )
    assert again.round(force=True).alerts == []  # a restart does not announce it again
    assert [a["rule"] for a in json.loads(out.read_text())["alerts"]] == ["alerts.watch_rule@1:hama-watch"]
    again.close()


def test_the_watch_tables_on_each_backend(database_url):
    """The store functions alone (no fetching), on SQLite and PostgreSQL."""
    at = datetime(2025, 5, 7, 10, tzinfo=UTC)
    with Store.open(database_url) as store:
        wire = SourceConfig(name="wire", url="https://news.test/feed.xml", interval=60)
        stored.register(store, [wire])
        listed = [
            Listed(key=f"k{n}", url=f"https://news.test/a/{n}", ref=f"https://news.test/a/{n}")
            for n in range(3)
        ]
        assert (
            stored.record_listing(store, "wire", at=at, etag='"v1"', last_modified=None, listed=listed) == 3
        )
        assert (
            stored.record_listing(store, "wire", at=at, etag='"v1"', last_modified=None, listed=listed) == 0
        )
        assert stored.has_pending(store, ["wire"])
        stored.start_item(store, "wire", "k0", at=at)
        stored.finish_item(store, "wire", "k0", state="fetched", at=at, doc_id="d0")
        stored.start_item(store, "wire", "k1", at=at)
        stored.finish_item(store, "wire", "k1", state="failed", at=at, error="HTTP 500")
        stored.start_item(store, "wire", "k2", at=at)
        assert stored.recover(store, at=at) == (0, 1)  # no document stored under its ref
        stored.record_not_modified(store, "wire", at=at)
        stored.record_failure(store, "wire", at=at + timedelta(minutes=1), error="HTTP 503 from x")
        waiting = stored.items_to_fetch(store, "wire", retry_failed=True, max_attempts=2, limit=10)
        assert [i.key for i in waiting] == ["k1", "k2"]
        assert [
            i.key for i in stored.items_to_fetch(store, "wire", retry_failed=False, max_attempts=2, limit=10)
        ] == ["k2"]
        [s] = watching.status(store, now=at + timedelta(hours=1))
        assert (s.items_today, s.items_total, s.items_failed, s.items_pending) == (1, 1, 1, 1)
        assert (s.checks, s.not_modified, s.failures, s.consecutive_failures) == (4, 1, 1, 1)
        assert s.last_success == at and s.last_error == "HTTP 503 from x"
        assert s.next_due == at + timedelta(minutes=1, seconds=2 * 60)  # doubled: a failure in a row
        assert [r.etag for r in stored.sources(store)] == ['"v1"']
        stored.register(store, [SourceConfig(name="wire", url="https://news.test/other.xml")])
        assert [r.etag for r in stored.sources(store)] == [None]  # a new URL forgets the validators
        cache = stored.StoreRobotsCache(store)
        cache.save(RobotsFile(origin="https://news.test", fetched_at=at, status=200, body="User-agent: *"))
        cache.save(RobotsFile(origin="https://news.test", fetched_at=at, status=404, body=""))
        assert cache.load("https://news.test").status == 404 and cache.load("https://other.test") is None
        assert stored.unannounced(store, ["a", "b"]) == {"a", "b"}
        stored.announce(store, [("a", "rule", {"x": 1})], at=at)
        stored.announce(store, [("a", "rule", {"x": 1})], at=at)
        assert stored.unannounced(store, ["a", "b"]) == {"b"}


def test_watch_once_from_the_command_line(site, tmp_path):
    site.add("/robots.txt", Reply(status=404))
    site.add("/feed.xml", versioned(lambda: rss(site, ["2-arrests"])))
    site.add("/a/2-arrests", html("2-arrests"))
    db = str(tmp_path / "once.sqlite")
    result = CliRunner().invoke(main, ["watch", str(_sources_file(tmp_path, site)), "--db", db, "--once"])
    assert result.exit_code == 0, result.output
    events = [entry["event"] for entry in _logs(result.stderr)]
    assert events[0] == "watch.started" and events[-1] == "watch.stopped" and "item.stored" in events
    with Store.open(sqlite_url(db)) as store:
        assert docs_by_source(store) == Counter({site.url("/a/2-arrests"): 1})
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {name: x, url: 'gopher://news.test/'}\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["watch", str(bad), "--db", db, "--once"]).exit_code == 2


# --- the watcher as a process ----------------------------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "vigil.cli", *args]


def _env() -> dict:
    env = dict(os.environ)
    env.pop("VIGIL_DATABASE_URL", None)
    return env


def _sources_file(tmp_path: Path, site: Site, *extra: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "contact: mailto:watch-tests@example.org\n"
        "fetch: {retries: 1, backoff: 0.05, host_delay: 0.05, read_timeout: 20, trust_env: false}\n"
        "sources:\n"
        f"  - {{name: wire, url: '{site.url('/feed.xml')}', outlet: Test Wire, interval: 1}}\n"
        + "".join(extra),
        encoding="utf-8",
    )
    return path


def _logs(stderr: str) -> list[dict]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert all(set(entry) == {"time", "level", "source", "event", "detail"} for entry in lines)
    return lines


@pytest.mark.slow
def test_a_watcher_killed_mid_round_and_restarted_stores_every_article_once(site, tmp_path):
    listed = ["1-idlib", "2-arrests", "3-daraa"]
    slow_asked = threading.Event()

    def slow(_headers) -> Reply:
        if not slow_asked.is_set():
            slow_asked.set()
            return Reply(body=page("3-daraa"), headers={"Content-Type": "text/html"}, delay=30)
        return html("3-daraa")

    site.add("/robots.txt", Reply(body=ROBOTS))
    site.add("/feed.xml", versioned(lambda: rss(site, listed)))
    site.add("/broken.xml", Reply(status=500))
    for slug in REPORTS:
        site.add(f"/a/{slug}", html(slug))
    site.add("/a/3-daraa", slow)
    sources = _sources_file(
        tmp_path, site, f"  - {{name: broken, url: '{site.url('/broken.xml')}', interval: 1}}\n"
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text("- {name: hama-watch, area: Hama, min_dead: 10, window: 30}\n", encoding="utf-8")
    db, alerts = str(tmp_path / "watch.sqlite"), tmp_path / "alerts.json"
    watch = _cli(
        "watch", str(sources), "--db", db, "--alerts-rules", str(rules), "--alerts-json", str(alerts)
    )

    first = subprocess.Popen(watch, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert slow_asked.wait(120), "the watcher never reached the third article"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    with Store.open(sqlite_url(db)) as store:
        before = docs_by_source(store)
    assert before == Counter({site.url("/a/1-idlib"): 1, site.url("/a/2-arrests"): 1})

    listed += ["4-hama", "5-homs"]  # the feed changes while the watcher is down
    second = subprocess.run(
        [*watch, "--rounds", "2"], env=_env(), capture_output=True, text=True, timeout=180
    )
    assert second.returncode == 0, second.stderr[-3000:]

    hits = site.hits()
    assert {slug: hits[f"/a/{slug}"] for slug in REPORTS} == {
        "1-idlib": 1,
        "2-arrests": 1,
        "3-daraa": 2,  # the one in flight when the watcher was killed
        "4-hama": 1,
        "5-homs": 1,
    }
    assert hits["/robots.txt"] == 1  # kept in the store across the restart
    feed_requests = site.requests("/feed.xml")
    assert feed_requests[1][0].get("if-none-match") and 304 in [status for _, status in feed_requests]
    with Store.open(sqlite_url(db)) as store:
        assert docs_by_source(store) == Counter({site.url(f"/a/{slug}"): 1 for slug in REPORTS})
        statuses = {s.name: s for s in watching.status(store)}
    assert statuses["wire"].items_total == 5 and statuses["wire"].failures == 0
    assert statuses["broken"].failures >= 1 and "HTTP 500" in statuses["broken"].last_error

    incidents = CliRunner().invoke(main, ["incidents", "--db", db, "--format", "jsonl"])
    assert incidents.exit_code == 0
    members = {}
    for line in incidents.output.splitlines():
        incident = json.loads(line)
        for m in incident["members"]:
            members[m["source"]] = incident["id"]
    assert site.url("/a/4-hama") in members and site.url("/a/1-idlib") in members

    [raised] = [json.loads(line) for line in second.stdout.splitlines()]
    assert raised["rule"] == "alerts.watch_rule@1:hama-watch"
    assert members[site.url("/a/4-hama")] in {b["incident_id"] for b in raised["behind"]}
    saved = json.loads(alerts.read_text())["alerts"]
    assert "alerts.watch_rule@1:hama-watch" in [a["rule"] for a in saved]

    events = {entry["event"] for entry in _logs(second.stderr)}
    assert {"recovered", "source.failed", "source.not_modified", "item.stored", "alert.raised"} <= events

    status = CliRunner().invoke(main, ["watch", str(sources), "--db", db, "--status"])
    assert status.exit_code == 0
    assert "wire" in status.stdout and "broken" in status.stdout and "HTTP 500" in status.stdout
    assert status.stdout.count("never") == 1  # the broken source's last success


@pytest.mark.slow
def test_sigterm_finishes_the_current_item_and_exits_cleanly(site, tmp_path):
    asked = threading.Event()

    def slow(_headers) -> Reply:
        asked.set()
        return Reply(body=page("1-idlib"), headers={"Content-Type": "text/html"}, delay=1.5)

    site.add("/robots.txt", Reply(status=404))
    site.add("/feed.xml", versioned(lambda: rss(site, ["1-idlib", "5-homs"])))
    site.add("/a/1-idlib", slow)
    site.add("/a/5-homs", html("5-homs"))
    db = str(tmp_path / "watch.sqlite")
    proc = subprocess.Popen(
        _cli("watch", str(_sources_file(tmp_path, site)), "--db", db),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert asked.wait(120), "the watcher never asked for the article"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-3000:]
    events = [entry["event"] for entry in _logs(stderr)]
    assert events.index("watch.stopping") < events.index("item.stored") < events.index("watch.stopped")
    with Store.open(sqlite_url(db)) as store:
        items = {i.key: i.state for i in stored.items(store, "wire")}
        assert docs_by_source(store) == Counter({site.url("/a/1-idlib"): 1})
    assert items == {"urn:vigil-test:1-idlib": "fetched", "urn:vigil-test:5-homs": "pending"}
    assert site.hits()["/a/5-homs"] == 0
