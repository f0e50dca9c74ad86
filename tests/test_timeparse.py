"""Date expressions become intervals anchored on the publication date, never on the clock."""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil import timeparse
from vigil.model import DateInterval
from vigil.timeparse import RULE_SINCE, RULE_UNTIL_NOW, find_dates, parse_expression

PUB = date(2025, 3, 12)  # a Wednesday


def d(month: int, day: int, year: int = 2025) -> date:
    return date(year, month, day)


@pytest.mark.parametrize(
    ("expr", "start", "end", "precision"),
    [
        ("2025-03-12", d(3, 12), d(3, 12), 1),
        ("12 March 2025", d(3, 12), d(3, 12), 1),
        ("March 12, 2025", d(3, 12), d(3, 12), 1),
        ("the 4th of March", d(3, 4), d(3, 4), 1),
        ("6 March", d(3, 6), d(3, 6), 1),
        ("March 6", d(3, 6), d(3, 6), 1),
        ("on Tuesday", d(3, 11), d(3, 11), 1),
        ("Tuesday", d(3, 11), d(3, 11), 1),
        ("on Wednesday", d(3, 12), d(3, 12), 1),
        ("last Wednesday", d(3, 5), d(3, 5), 1),
        ("Friday evening", d(3, 7), d(3, 7), 1),
        ("today", d(3, 12), d(3, 12), 1),
        ("yesterday", d(3, 11), d(3, 11), 1),
        ("last night", d(3, 11), d(3, 11), 1),
        ("two days ago", d(3, 10), d(3, 10), 1),
        ("this week", d(3, 10), d(3, 12), 2),
        ("last week", d(3, 3), d(3, 9), 2),
        ("last weekend", d(3, 8), d(3, 9), 2),
        ("the weekend", d(3, 8), d(3, 9), 2),
        ("since 6 March", d(3, 6), d(3, 12), 2),
        ("since 1 March", d(3, 1), d(3, 12), 3),
        ("since Thursday", d(3, 6), d(3, 12), 2),
        ("between 6 and 10 March", d(3, 6), d(3, 10), 2),
        ("March 6-10", d(3, 6), d(3, 10), 2),
        ("6-10 March", d(3, 6), d(3, 10), 2),
        ("from 6 to 10 March", d(3, 6), d(3, 10), 2),
        ("between March 1 and March 10", d(3, 1), d(3, 10), 3),
        ("27 February to 2 March", d(2, 27), d(3, 2), 2),
        ("early March", d(3, 1), d(3, 10), 3),
        ("mid-March", d(3, 11), d(3, 20), 3),
        ("late February", d(2, 21), d(2, 28), 3),
        ("in March", d(3, 1), d(3, 31), 3),
        ("in February", d(2, 1), d(2, 28), 3),
        ("March 2025", d(3, 1), d(3, 31), 3),
        ("last month", d(2, 1), d(2, 28), 3),
        ("earlier this month", d(3, 1), d(3, 12), 3),
        ("within 48 hours", d(3, 10), d(3, 12), 2),
        ("in the past three days", d(3, 10), d(3, 12), 2),
        ("over the past two days", d(3, 11), d(3, 12), 2),
        ("on Sunday, June 22", d(6, 22, 2024), d(6, 22, 2024), 1),
        ("June 22, 2025", d(6, 22), d(6, 22), 1),
        ("22 June", d(6, 22, 2024), d(6, 22, 2024), 1),
        ("in December", d(12, 1, 2024), d(12, 31, 2024), 3),
    ],
)
def test_expressions_anchor_on_the_publication_date(expr, start, end, precision):
    assert parse_expression(expr, PUB) == DateInterval(start=start, end=end, precision=precision)


@pytest.mark.parametrize(
    ("expr", "precision"),
    [
        ("in March", 3),
        ("on Tuesday", 1),
        ("this week", 2),
        ("6 March", 1),
        ("yesterday", 1),
        ("early March", 3),
    ],
)
def test_without_year_or_publication_date_only_the_precision_is_known(expr, precision):
    assert parse_expression(expr, None) == DateInterval(start=None, end=None, precision=precision)


def test_a_written_year_needs_no_publication_date():
    assert parse_expression("8 March 2025", None) == DateInterval(start=d(3, 8), end=d(3, 8), precision=1)


@pytest.mark.parametrize(
    ("expr", "published", "expected"),
    [
        ("20 December", d(1, 5), d(12, 20, 2024)),  # would be eleven months ahead: last year's
        ("15 March", d(3, 12), d(3, 15)),  # a few days ahead stays this year
        ("30 March", d(3, 12), d(3, 30, 2024)),
        ("29 February", d(3, 12), d(2, 29, 2024)),  # 2025 has none
    ],
)
def test_year_inference(expr, published, expected):
    assert parse_expression(expr, published) == DateInterval(start=expected, end=expected, precision=1)


@pytest.mark.parametrize(
    "expr",
    ["March", "may", "the march", "hello", "31 April", "2025", "10 March 6", "in two days", "two days"],
)
def test_not_date_expressions(expr):
    assert parse_expression(expr, PUB) is None


@pytest.mark.parametrize(
    "sentence",
    [
        "Thousands will march through the old city.",
        "The march ended peacefully near the stadium.",
        "May the talks succeed, the envoy said.",
        "Gunmen opened fire inside Mar Elias church.",
    ],
)
def test_march_and_may_as_words_are_not_dates(sentence):
    assert find_dates(sentence, doc_id="x", published=PUB) == []


def test_find_dates_takes_the_longest_expression_with_its_span_and_rule():
    text = "Fighting raged between 6 and 10 March, and since Thursday the town has been calm."
    found = find_dates(text, doc_id="doc", published=PUB, offset=100)
    assert [m.text for m in found] == ["between 6 and 10 March", "since Thursday"]
    first, second = found
    assert first.kind == "date" and first.evidence.field == "date"
    assert first.evidence.rule == timeparse.RULE_RANGE
    assert second.evidence.rule == timeparse.RULE_SINCE
    assert first.evidence.span.doc_id == "doc"
    assert first.evidence.span.start == 100 + text.index("between")
    assert first.evidence.span.end == 100 + text.index(",")
    assert second.date == DateInterval(start=d(3, 6), end=PUB, precision=2)


def test_find_dates_in_a_paragraph():
    text = (
        "The monitor said on Monday that the toll had risen since 1 March. Two days ago a car bomb hit "
        "the market; last weekend, shelling hit the port, and in early March the roads were closed."
    )
    found = {m.text: m.date for m in find_dates(text, doc_id="p", published=PUB)}
    assert found == {
        "on Monday": DateInterval(start=d(3, 10), end=d(3, 10), precision=1),
        "since 1 March": DateInterval(start=d(3, 1), end=PUB, precision=3),
        "Two days ago": DateInterval(start=d(3, 10), end=d(3, 10), precision=1),
        "last weekend": DateInterval(start=d(3, 8), end=d(3, 9), precision=2),
        "in early March": DateInterval(start=d(3, 1), end=d(3, 10), precision=3),
    }


def test_the_module_never_reads_the_clock():
    source = inspect.getsource(timeparse)
    assert "today()" not in source and "now()" not in source


def test_real_articles(shared_dir):
    """Dates as the gold answer keys have them, read from the articles at run time."""
    text = (shared_dir / "corpus" / "03_tehrantimes_2025-03-09_coastal_over_1000.txt").read_text()
    spans = find_dates(text, doc_id="03", published=d(3, 9))
    assert DateInterval(start=d(3, 7), end=d(3, 9), precision=2) in [m.date for m in spans]
    text = (shared_dir / "corpus" / "15_mia_dpa_2025-04-30_sahnaya_22_killed.txt").read_text()
    dates = [m.date for m in find_dates(text, doc_id="15", published=d(4, 30))]
    assert DateInterval(start=d(4, 29), end=d(4, 30), precision=2) in dates  # since late Tuesday
    seed = next((shared_dir / "seeds").glob("000_*.txt")).read_text()
    undated = [m.date for m in find_dates(seed, doc_id="s", published=None)]
    assert undated and all(i.start is None and i.end is None and i.precision for i in undated)


# --- properties ----------------------------------------------------------------------------------------

RELATIVE = [
    "today", "yesterday", "last night", "on Tuesday", "Sunday", "last Friday", "two days ago", "a few days ago",
    "three weeks ago", "two months ago", "this week", "last week", "last weekend", "the weekend", "weekend",
    "last month", "earlier this month", "within 48 hours", "in the past three days", "over the past two days",
    "the past week", "in recent days", "since Thursday", "since yesterday", "since last week",
]  # fmt: skip
FRAGMENTS = [
    *RELATIVE, "6 March", "March 6", "between", "and", "to", "-", "since", "in", "early", "mid-", "late",
    "March", "May", "2025", "12", "31", "on", "of", "the", "June 22, 2025", "1,200", "killed", "Mar", ",",
]  # fmt: skip
PUB_DATES = st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31))
TEXTS = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(" ".join))


@settings(deadline=None)
@given(expr=st.sampled_from(RELATIVE), published=PUB_DATES)
def test_relative_expressions_never_land_after_publication(expr, published):
    interval = parse_expression(expr, published)
    assert interval is not None and interval.start is not None and interval.end is not None
    assert interval.start <= interval.end <= published


@settings(deadline=None)
@given(day=st.dates(), published=st.none() | PUB_DATES)
def test_iso_dates_round_trip(day, published):
    assert parse_expression(day.isoformat(), published) == DateInterval(start=day, end=day, precision=1)


@settings(deadline=None)
@given(text=TEXTS, published=st.none() | st.dates())
def test_parse_expression_never_raises_and_keeps_order(text, published):
    interval = parse_expression(text, published)
    if interval is not None and interval.start and interval.end:
        assert interval.start <= interval.end
    if interval is not None:
        assert interval.precision in (1, 2, 3)


@settings(deadline=None)
@given(text=TEXTS, published=st.none() | st.dates(), offset=st.integers(0, 1000))
def test_find_dates_spans_are_in_bounds_and_disjoint(text, published, offset):
    found = find_dates(text, doc_id="h", published=published, offset=offset)
    previous_end = offset
    for m in found:
        span = m.evidence.span
        assert previous_end <= span.start < span.end <= offset + len(text)
        assert text[span.start - offset : span.end - offset] == m.text
        assert m.date is not None
        if m.date.start and m.date.end:
            assert m.date.start <= m.date.end
        previous_end = span.end


def test_since_a_day_after_publication_is_not_an_interval():
    assert parse_expression("since 20 March 2025", PUB) is None
    assert parse_expression("since 6 March", PUB - timedelta(days=30)) == DateInterval(
        start=d(3, 6, 2024), end=PUB - timedelta(days=30), precision=3
    )


def test_since_the_start_of_something_in_a_month():
    [m] = find_dates(
        "Since the start of the unrest in early June 2019, monitors counted",
        doc_id="d",
        published=date(2021, 1, 18),
    )
    assert (m.date.start, m.date.end, m.evidence.rule) == (date(2019, 6, 1), date(2021, 1, 18), RULE_SINCE)


def test_from_a_date_until_today():
    [m] = find_dates(
        "in the same period, from late March 2019 until today.", doc_id="d", published=date(2021, 2, 5)
    )
    assert (m.date.start, m.date.end, m.date.precision) == (date(2019, 3, 21), date(2021, 2, 5), 3)
    assert m.evidence.rule == RULE_UNTIL_NOW


def _ungated(monkeypatch) -> None:
    rules = tuple(replace(rule, needs=()) for rule in timeparse._RULES)
    monkeypatch.setattr(timeparse, "_RULES", rules)


GATE_TEXTS = st.one_of(
    TEXTS,
    st.lists(
        st.sampled_from([*FRAGMENTS, "ſince", "wee\u212a", "MONDAY", "ago", "Tonight", "İ"]), max_size=12
    ).map(" ".join),
)


@settings(deadline=None)
@given(text=GATE_TEXTS, published=st.none() | PUB_DATES)
def test_skipping_rules_whose_words_are_absent_changes_no_answer(text, published):
    gated = find_dates(text, doc_id="h", published=published)
    with pytest.MonkeyPatch.context() as patch:
        _ungated(patch)
        assert find_dates(text, doc_id="h", published=published) == gated


def test_skipping_rules_changes_no_answer_on_real_articles(shared_dir, monkeypatch):
    texts = [p.read_text(encoding="utf-8") for p in sorted((shared_dir / "corpus").glob("*.txt"))]
    gated = [find_dates(t, doc_id="c", published=date(2025, 3, 9)) for t in texts]
    _ungated(monkeypatch)
    assert [find_dates(t, doc_id="c", published=date(2025, 3, 9)) for t in texts] == gated
