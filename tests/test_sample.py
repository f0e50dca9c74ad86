"""The bundled sample reports: their formats and headers, that their numbers are the reported ones, and
that their prose is our own (no eight-word run shared with the third-party articles they draw on)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path

import feedparser
import lxml.html
import pytest
from text_to_num import alpha2digit

SAMPLE_DIR = Path(str(resources.files("vigil") / "data" / "sample"))
SAMPLE_OUTLET = "vigil sample (written for the project)"
FEED_LINK_PREFIX = "https://example.org/vigil-sample/"
WINDOW = 8

# Which reference articles (under ../shared) each sample report takes its facts from; SAMPLE.md beside the folder says the same.
SOURCES: dict[str, tuple[str, ...]] = {
    "01_coast_toll_340.txt": (
        "corpus/04_syriadirect_2025-03-08_blood_on_the_coast.txt",
        "corpus/06_lbcgroup_2025-03-08_over_340_dead.txt",
    ),
    "02_coast_toll_1018.txt": (
        "corpus/03_tehrantimes_2025-03-09_coastal_over_1000.txt",
        "corpus/05_nzherald_2025-03-09_alawite_civilians_750.txt",
        "corpus/16_aljazeera_2025-03-09_sharaa_calls_for_peace_fulltext.txt",
    ),
    "03_coast_toll_1383.txt": ("corpus/01_shafaq_2025-03-12_coastal_death_toll_1383.txt",),
    "04_latakia_protest_gunfire.txt": ("seeds/000_f065b7eeaf34ec63.txt",),
    "05_latakia_raml_shamali_attack.txt": ("seeds/000_f065b7eeaf34ec63.txt",),
    "06_damascus_church_bombing.html": (
        "corpus/10_anews_2025-06-22_mar_elias_church_attack.txt",
        "corpus/11_trtworld_2025-06-22_mar_elias_church_attack.txt",
        "corpus/12_thehansindia_2025-06-23_damascus_church_20_killed.txt",
    ),
    "07_feed.xml#1": ("corpus/13_bssnews_afp_2025-04-29_jaramana_druze_clashes.txt",),
    "07_feed.xml#2": (
        "corpus/14_middleeastmonitor_2025-04-30_sahnaya_clashes.txt",
        "corpus/15_mia_dpa_2025-04-30_sahnaya_22_killed.txt",
    ),
}


@dataclass(frozen=True, kw_only=True)
class SampleReport:
    """One sample report as a reader of its format sees it; feed items are named `file#n`."""

    name: str
    title: str
    published: date
    text: str


def _text_report(path: Path) -> SampleReport:
    head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    fields = dict(line.split(": ", 1) for line in head.splitlines())
    assert fields.get("outlet") == SAMPLE_OUTLET, path.name
    return SampleReport(
        name=path.name, title=fields["title"], published=date.fromisoformat(fields["date"]), text=body.strip()
    )


def _html_report(path: Path) -> SampleReport:
    page = lxml.html.fromstring(path.read_bytes())
    (published,) = page.xpath('//meta[@property="article:published_time"]/@content')
    paragraphs = [p.text_content().strip() for p in page.xpath("//article/p")]
    return SampleReport(
        name=path.name,
        title=page.findtext(".//title").strip(),
        published=date.fromisoformat(published[:10]),
        text="\n\n".join(paragraphs),
    )


def _feed_reports(path: Path) -> list[SampleReport]:
    feed = feedparser.parse(path.read_bytes())
    assert feed.version == "rss20" and not feed.bozo, path.name
    return [
        SampleReport(
            name=f"{path.name}#{n}",
            title=entry.title,
            published=parsedate_to_datetime(entry.published).date(),
            text=entry.description,
        )
        for n, entry in enumerate(feed.entries, start=1)
    ]


def sample_reports() -> list[SampleReport]:
    """Every report in the sample folder, in file order."""
    reports: list[SampleReport] = []
    for path in sorted(SAMPLE_DIR.iterdir()):
        if path.suffix == ".txt":
            reports.append(_text_report(path))
        elif path.suffix == ".html":
            reports.append(_html_report(path))
        elif path.suffix == ".xml":
            reports.extend(_feed_reports(path))
    return reports


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _windows(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


def _numbers(text: str) -> set[int]:
    """The numbers a text states, in digits or words ("sixteen"), as integers."""
    return {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*\d|\d", alpha2digit(text, "en"))}


def _reference_texts(shared: Path) -> dict[str, str]:
    texts = {
        str(path.relative_to(shared)): path.read_text(encoding="utf-8")
        for folder in ("corpus", "seeds")
        for path in sorted((shared / folder).iterdir())
        if path.is_file()
    }
    acled = shared / "data" / "acled_me_dev.csv"
    if acled.is_file():
        with acled.open(encoding="utf-8", newline="") as rows:
            texts[str(acled.relative_to(shared))] = "\n".join(row["notes"] for row in csv.DictReader(rows))
    return texts


def test_sample_holds_six_to_ten_reports_in_several_formats():
    reports = sample_reports()
    assert 6 <= len(reports) <= 10
    suffixes = [path.suffix for path in SAMPLE_DIR.iterdir()]
    assert suffixes.count(".txt") >= 5 and ".html" in suffixes and ".xml" in suffixes
    assert {r.name for r in reports} == set(SOURCES)


def test_every_text_file_has_title_and_date_header():
    for path in sorted(SAMPLE_DIR.glob("*.txt")):
        head = path.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines()
        assert re.fullmatch(r"title: \S.*", head[0]), path.name
        assert re.fullmatch(r"date: \d{4}-\d{2}-\d{2}", head[1]), path.name


def test_reports_are_short_titled_and_dated_in_2025():
    for report in sample_reports():
        assert report.title, report.name
        assert report.published.year == 2025, report.name
        assert 80 <= len(_words(report.text)) <= 200, report.name


def test_feed_items_link_to_the_sample_site_with_rfc822_dates():
    feed = feedparser.parse((SAMPLE_DIR / "07_feed.xml").read_bytes())
    assert len(feed.entries) == 2
    for entry in feed.entries:
        assert entry.link.startswith(FEED_LINK_PREFIX)
        assert parsedate_to_datetime(entry.published).tzinfo is not None


def test_coastal_reports_give_a_rising_running_toll_on_successive_days():
    by_name = {r.name: r for r in sample_reports()}
    coast = [
        by_name[n] for n in ("01_coast_toll_340.txt", "02_coast_toll_1018.txt", "03_coast_toll_1383.txt")
    ]
    assert [r.published for r in coast] == sorted({r.published for r in coast})
    assert [max(_numbers(r.title)) for r in coast] == [340, 1018, 1383]


def test_governorate_figures_add_up_to_the_stated_totals():
    text = next(r.text for r in sample_reports() if r.name == "03_coast_toll_1383.txt")
    day, running = (
        [int(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*) in (?:Hama|Tartous|Latakia|Homs)\b", part)]
        for part in text.split("Its running count")
    )
    assert sum(day) == 158 and "158 civilians were killed on Wednesday" in text
    assert sum(running) == 1383 and "1,383" in text


def test_readme_describes_every_sample_file_and_says_the_prose_is_ours():
    readme = (SAMPLE_DIR.parent / "SAMPLE.md").read_text(encoding="utf-8")
    assert "The prose is ours" in readme
    for path in SAMPLE_DIR.iterdir():
        if path.name != "README.md":
            assert f"`{path.name}" in readme, path.name


@pytest.mark.shared
def test_numbers_stated_appear_in_the_cited_sources(shared_dir):
    for report in sample_reports():
        sources = "\n".join((shared_dir / rel).read_text(encoding="utf-8") for rel in SOURCES[report.name])
        unsourced = _numbers(f"{report.title}\n{report.text}") - _numbers(sources)
        assert not unsourced, f"{report.name} states numbers its sources do not: {sorted(unsourced)}"


@pytest.mark.shared
def test_no_eight_word_run_is_copied_from_the_reference_texts(shared_dir):
    ours = {r.name: _windows(f"{r.title}\n{r.text}") for r in sample_reports()}
    ours["README.md"] = _windows((SAMPLE_DIR.parent / "SAMPLE.md").read_text(encoding="utf-8"))
    for source, text in _reference_texts(shared_dir).items():
        theirs = _windows(text)
        for name, windows in ours.items():
            copied = windows & theirs
            assert not copied, f"{name} repeats {source}: {' '.join(sorted(copied)[0])!r}"


def test_window_check_catches_a_copied_run():
    copied = "the quick brown fox jumps over the lazy dog"
    assert _windows(f"Someone wrote: {copied}.") & _windows(f"{copied.upper()}!")
    assert not _windows("one two three four five six seven eight") & _windows("one two three four five six")
