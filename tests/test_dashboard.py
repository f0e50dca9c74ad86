"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright (never a
browser download). Over a store of ../shared/seeds plus the bundled sample, served by
`vigil serve` on 127.0.0.1: markers sit in their governorates, a governorate filter narrows
everything, an event's field shows its words in the article, the timeline brush filters the
table, and an article full of markup is shown as text. Screenshots go to test-artifacts/."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from vigil import pipeline, web
from vigil.store import Store, sqlite_url
from vigil.store import review as reviews

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "src" / "vigil" / "data" / "sample"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PWNED = "window.__vigilPwned"
# An article written for this test whose title and body carry markup and scripts.
HOSTILE_TITLE = '<script>window.__vigilPwned = 1</script><b onmouseover="x()">Bold</b> raid on Jableh'
HOSTILE_TEXT = (
    "Gunmen killed three civilians in Jableh on 5 March 2025, residents said. "
    "<script>window.__vigilPwned = 3</script> The attackers drove off towards the hills. "
    '<img src="x" onerror="window.__vigilPwned = 2"> Neighbours called it the marmaladekite raid.'
)

pytestmark = pytest.mark.slow


def _test_cache(tmp_path_factory) -> str:
    """The gazetteer cache conftest gives each test (session fixtures run before it applies)."""
    return os.environ.get("VIGIL_TEST_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "vigil-cache"))


@pytest.fixture(scope="session")
def chromium() -> Path:
    """/usr/bin/chromium, installed from Debian's packages if missing; skips saying why if it cannot be."""
    if not CHROMIUM.exists() and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "install", "-y", "-q", "chromium"], ["apt-get", "update", "-q"]):
            try:
                subprocess.run(command, env=env, capture_output=True, timeout=900, check=False)
            except (OSError, subprocess.SubprocessError):
                break
            if CHROMIUM.exists():
                break
        if not CHROMIUM.exists():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    ["apt-get", "install", "-y", "-q", "chromium"], env=env, capture_output=True, timeout=900
                )
    if not CHROMIUM.exists():
        pytest.skip(
            "browser test skipped: /usr/bin/chromium is missing and `apt-get install chromium` failed"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def built() -> None:
    """The dashboard's npm build (Leaflet, boundaries); runs it when missing, else skips saying why."""
    if not web.built():
        try:
            web.ensure_built()
        except (web.BuildError, OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"browser test skipped: the dashboard build could not run ({exc})")


@pytest.fixture(scope="session")
def store_path(request, tmp_path_factory) -> Path:
    """../shared/seeds (when present) and the bundled sample, ingested and reconciled."""
    inputs = [str(SAMPLE)]
    with contextlib.suppress(pytest.skip.Exception):  # without ../shared the sample still has Lattakia
        inputs.append(str(request.getfixturevalue("shared_dir") / "seeds"))
    path = tmp_path_factory.mktemp("dashboard") / "store.sqlite"
    with pytest.MonkeyPatch.context() as env, Store.open(sqlite_url(path)) as store:
        env.setenv("VIGIL_CACHE_DIR", _test_cache(tmp_path_factory))
        report = pipeline.ingest(inputs, store=store)
        pipeline.reconcile(store)
    assert report.stored >= 8
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body else "GET")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="session")
def server(store_path, built, tmp_path_factory):
    """`vigil serve` on 127.0.0.1 and a free port; the hostile article is posted through the API."""
    with Store.open(sqlite_url(store_path)) as store:
        token = reviews.create_token(store, "browser-test")
    port = _free_port()
    env = {**os.environ, "VIGIL_CACHE_DIR": _test_cache(tmp_path_factory)}
    log = (tmp_path_factory.getbasetemp() / "serve.log").open("w")
    command = [sys.executable, "-m", "vigil.cli", "serve", "--db", str(store_path), "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                _get(f"{base}/health")
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"vigil serve exited: see {log.name}")
                time.sleep(0.2)
        posted = _get(f"{base}/documents", token, {"text": HOSTILE_TEXT, "title": HOSTILE_TITLE})
        assert posted["documents"][0]["events"], "the hostile article must yield an event to click"
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def page(chromium, server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh profile
            executable_path=str(chromium),
            headless=True,
            args=FLAGS,
            viewport={"width": 1500, "height": 1100},
        )
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.problems = problems
        page.goto(server + "/")
        # (selectors, not wait_for_function: the page's CSP forbids the eval Playwright would use)
        page.wait_for_selector("body[data-loads]:not([data-loading])", state="attached", timeout=60_000)
        yield page
        context.close()


def _wait_reload(page, action) -> None:
    before = page.get_attribute("body", "data-loads")
    action()
    page.wait_for_selector(
        f'body:not([data-loads="{before}"]):not([data-loading])', state="attached", timeout=60_000
    )


def _inside(point: tuple[float, float], geometry: dict) -> bool:
    """Even-odd ray casting over every ring: inside the outer ring and not in a hole."""
    x, y = point
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for polygon in polygons:
        crossings = 0
        for ring in polygon:
            for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
                if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                    crossings += 1
        if crossings % 2:
            return True
    return False


def _distance(point: tuple[float, float], geometry: dict) -> float:
    x, y = point
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    best = float("inf")
    for ring in (r for poly in polygons for r in poly):
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            dx, dy = x2 - x1, y2 - y1
            t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy or 1)))
            best = min(best, ((x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2) ** 0.5)
    return best


def _governorate_at(point: tuple[float, float], boundaries: dict) -> str:
    """The governorate whose polygon holds the point; else the nearest (coarse coastlines)."""
    features = boundaries["features"]
    for f in features:
        if _inside(point, f["geometry"]):
            return f["properties"]["admin1"]
    return min(features, key=lambda f: _distance(point, f["geometry"]))["properties"]["admin1"]


def test_markers_sit_in_their_governorates(page, server):
    boundaries = _get(f"{server}/boundaries")
    assert "Lattakia" in {f["properties"]["admin1"] for f in boundaries["features"]}
    assert page.locator(".governorate").count() >= 14
    page.uncheck("#cluster")  # every marker in the DOM
    markers = page.locator(".ev-marker[data-governorate='Lattakia']")
    assert markers.count() > 0
    placed = 0
    for i in range(markers.count()):
        marker = markers.nth(i)
        assert "Lattakia" in marker.get_attribute("data-admin1").split("; ")
        point = (float(marker.get_attribute("data-lon")), float(marker.get_attribute("data-lat")))
        assert _governorate_at(point, boundaries) == "Lattakia"
        placed += marker.get_attribute("data-approx") == ""  # from the event's own coordinates
    assert placed > 0
    assert page.problems == []


def test_governorate_filter_narrows_map_table_and_count(page, server):
    expected = _get(f"{server}/events?governorate=Lattakia&limit=5000")
    _wait_reload(page, lambda: page.select_option("#f-governorate", "Lattakia"))
    page.uncheck("#cluster")
    rows = page.locator("#events tbody tr")
    assert rows.count() == min(25, expected["total"])
    for i in range(rows.count()):
        assert "Lattakia" in rows.nth(i).locator("td").nth(2).inner_text()
    assert page.inner_text("#status").startswith(f"{expected['total']} events")
    admin1 = page.eval_on_selector_all(".ev-marker", "els => els.map(e => e.dataset.admin1)")
    assert admin1 and all("Lattakia" in a.split("; ") for a in admin1)

    # the evidence panel: pick the first event, then its fatalities (or first field with evidence)
    rows.first.click()
    page.wait_for_selector("#evidence:not([hidden])")
    event_id = rows.first.get_attribute("data-event-id")
    detail = _get(f"{server}/events/{event_id}")
    with_evidence = page.eval_on_selector_all(
        "#ev-fields button.has-evidence", "els => els.map(e => e.dataset.field)"
    )
    field = "fatalities" if "fatalities" in with_evidence else with_evidence[0]
    page.click(f"#ev-fields button[data-field='{field}']")
    marks = page.locator("#article-text mark").all_inner_texts()
    wanted = [
        e["text"] for e in detail["evidence"] if e["field"] == field and not e["rule"].startswith("review.")
    ]
    assert marks and set(marks) <= set(wanted)
    text = page.inner_text("#article-text")
    assert " ".join(detail["sentences"][0]["text"].split()) in " ".join(text.split())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
    assert page.problems == []


def test_timeline_brush_filters_the_table(page):
    everything = page.evaluate("window.vigil.state.total")
    box = page.locator("#timeline").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.03, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, y, steps=5)
    _wait_reload(page, page.mouse.up)
    brush = page.evaluate("window.vigil.state.brush")
    assert brush and brush["from"] <= brush["to"]
    spans = page.evaluate("window.vigil.state.items.map(i => [i.date_start, i.date_end || i.date_start])")
    assert 0 < len(spans) < everything
    assert all(start <= brush["to"] and end >= brush["from"] for start, end in spans)
    assert page.locator(".timeline .bar.in").count() > 0 and page.is_visible("#brush-label")
    _wait_reload(page, lambda: page.click("#brush-clear"))
    assert page.evaluate("window.vigil.state.brush") is None
    assert page.evaluate("window.vigil.state.total") == everything
    assert page.problems == []


def test_untrusted_text_is_shown_as_text(page):
    _wait_reload(page, lambda: (page.fill("#f-q", "marmaladekite"), page.press("#f-q", "Enter")))
    rows = page.locator("#events tbody tr")
    assert rows.count() >= 1
    assert HOSTILE_TITLE in rows.first.inner_text()
    rows.first.click()
    page.wait_for_selector("#evidence:not([hidden])")
    assert page.inner_text("#article-title") == HOSTILE_TITLE
    shown = page.inner_text("#article-text")
    assert "<script>window.__vigilPwned = 3</script>" in shown and '<img src="x"' in shown
    assert page.locator("#article-text script, #article-text img, #article-title b, #events b").count() == 0
    assert page.evaluate(f"typeof {PWNED}") == "undefined"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-untrusted.png"))
    assert page.problems == []


def test_incident_view_plots_each_claimants_toll_with_its_band(page, server):
    incidents = _get(f"{server}/incidents?limit=500")["items"]
    chosen = None
    for inc in incidents:
        toll = next((t for t in inc["tolls"] if t["category"] == "civilians"), None)
        dated = [
            p
            for c in (toll or {}).get("claimants", [])
            for p in c["history"]
            if p["date"] and p["status"] != "partial"
        ]
        if toll and len(dated) >= 2 and inc["members"]:
            chosen = (inc, toll, dated)
            break
    assert chosen, "the seeds and the sample give at least one incident with a running toll"
    inc, toll, dated = chosen
    page.evaluate("id => window.vigil.selectEvent(id)", inc["members"][0]["event_id"])
    page.wait_for_selector("#incident:not([hidden])")
    assert page.get_attribute("#incident", "data-incident-id") == inc["id"]
    rows = page.locator("#inc-tolls tbody tr").all_inner_texts()
    assert any(r.split()[0] == "civilians" and str(toll["best"]) in r for r in rows)
    assert page.locator("#inc-chart circle").count() == len(dated)
    assert page.locator("#inc-chart polyline").count() >= 1
    assert page.locator("#inc-chart rect.toll-band").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-incident.png"))
    assert page.problems == []


def test_an_analyst_edits_an_event_from_the_evidence_panel(page, server, store_path):
    with Store.open(sqlite_url(store_path)) as store:
        token = reviews.create_token(store, "analyst")
    page.locator("#events tbody tr").first.click()
    page.wait_for_selector("#evidence:not([hidden])")
    event_id = page.evaluate("window.vigil.state.selected")
    before = _get(f"{server}/events/{event_id}")["row"]
    page.click("#review-box summary")
    page.check("#review-form input[name=action][value=edit]")
    page.fill("#review-form input[name=fatalities]", str(before["fatalities"] + 7))
    page.fill("#rv-reason", "a later paragraph gives a higher count")
    page.fill("#rv-token", token)
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("#rv-result:has-text('Saved')", timeout=60_000)
    after = _get(f"{server}/events/{event_id}")
    assert after["row"]["fatalities"] == before["fatalities"] + 7
    assert after["row"]["review_status"] == "edited" and after["review"]["reviewer"] == "analyst"
    assert after["review"]["history"][-1]["reason"] == "a later paragraph gives a higher count"
    assert "edited" in page.inner_text("#ev-review")
    assert f"{before['fatalities'] + 7}" in page.inner_text("#ev-fields")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-review.png"))
    assert page.problems == []
    # A wrong token is refused, and the form says so.
    page.check("#review-form input[name=action][value=confirm]")
    page.fill("#rv-reason", "looks right")
    page.fill("#rv-token", "not-a-token")
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("#rv-result:has-text('Not saved (401)')", timeout=60_000)
    assert _get(f"{server}/events/{event_id}")["review"]["version"] == after["review"]["version"]


def test_an_analyst_takes_an_event_out_of_its_incident(page, server, store_path):
    with Store.open(sqlite_url(store_path)) as store:
        token = reviews.create_token(store, "merge-analyst")
    grouped = [i for i in _get(f"{server}/incidents?limit=500")["items"] if len(i["members"]) >= 2]
    assert grouped, "the seeds and the sample give incidents with several reports"
    incident = grouped[0]
    event_id = incident["members"][-1]["event_id"]
    page.evaluate("id => window.vigil.selectEvent(id)", event_id)
    page.wait_for_selector(f"#incident[data-incident-id='{incident['id']}']:not([hidden])")
    page.click("#merge-box summary")
    page.check("#merge-form input[name=action][value=reject]")
    page.fill("#mg-reason", "a different attack on the same day")
    page.fill("#mg-token", token)
    page.click("#merge-form button[type=submit]")
    page.wait_for_selector("#mg-result:has-text('Saved')", timeout=60_000)
    now = _get(f"{server}/events/{event_id}")["row"]["incident_id"]
    assert now != incident["id"]
    assert page.get_attribute("#incident", "data-incident-id") == now
    assert "a different attack on the same day" in page.inner_text("#inc-reviews")
    kept = _get(f"{server}/incidents/{incident['id']}")  # the anchor's incident keeps its id
    assert event_id not in {m["event_id"] for m in kept["incident"]["members"]}
    reviewed = [v for v in kept["history"] if "reviewed" in v["kinds"]]
    assert reviewed and reviewed[-1]["detail"]["review"]["reviewer"] == "merge-analyst"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-merge-review.png"))
    assert page.problems == []
