"""The record codec: to_dict / from_dict round-trip every record the pipeline produces."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from vigil.model import (
    DateInterval,
    Evidence,
    Mention,
    Place,
    Quantity,
    Span,
    from_dict,
    to_dict,
)

spans = st.builds(Span, doc_id=st.text(max_size=8), start=st.integers(0, 10_000), end=st.integers(0, 10_000))
intervals = st.builds(
    DateInterval,
    start=st.none() | st.dates(),
    end=st.none() | st.dates(),
    precision=st.none() | st.sampled_from([1, 2, 3]),
)
places = st.builds(
    Place,
    name=st.text(max_size=20),
    kind=st.sampled_from(["admin1", "town", "neighbourhood"]),
    country=st.text(max_size=10),
    country_code=st.text(max_size=2),
    latitude=st.none() | st.floats(-90, 90),
    longitude=st.none() | st.floats(-180, 180),
)


@given(spans, intervals, places)
def test_round_trip_through_json(span, interval, place):
    mention = Mention(
        kind="place",
        text="x",
        evidence=Evidence(field="place", span=span, rule="r@1"),
        place=place,
        date=interval,
        quantity=Quantity(count=3, qualifier="exact", noun=None),
    )
    assert from_dict(Mention, json.loads(json.dumps(to_dict(mention)))) == mention


def test_dates_become_iso_strings():
    assert to_dict(DateInterval(start=date(2025, 3, 6), end=None, precision=2)) == {
        "start": "2025-03-06",
        "end": None,
        "precision": 2,
    }


def test_span_reads_its_text():
    assert Span(doc_id="d", start=4, end=9).of("the quick fox") == "quick"
