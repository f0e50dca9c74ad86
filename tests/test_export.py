"""Exports: ACLED / UCDP / vigil CSV, GeoJSON and JSON Lines, on hand-built records."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import types
import typing
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil import export
from vigil.model import Claim, DateInterval, Document, EventMention, EventRecord, Place, Span

# A made-up report; every name in it is invented.
TEXT = (
    "Residents of Tel Qasrin said an armed group raided a bus stop on 4 March 2025.\n"
    "Seven civilians and two police officers were killed in the raid, a local medic said. "
    "Separately, a rally in the town square of Wadi Nour ended without incident. "
    "Troops and rebels fought near Kafr Zanbaq; ten died, among them two soldiers and five fighters."
)
DOC_ID = "doc-1"


def span_of(fragment: str) -> Span:
    start = TEXT.index(fragment)
    return Span(doc_id=DOC_ID, start=start, end=start + len(fragment))


def sentence_of(fragment: str) -> Span:
    """The sentence (up to its full stop) that contains `fragment`."""
    inner = span_of(fragment)
    start = max(TEXT.rfind(". ", 0, inner.start) + 2, TEXT.rfind("\n", 0, inner.start) + 1)
    return Span(doc_id=DOC_ID, start=start, end=TEXT.index(".", inner.end) + 1)


DOCUMENT = Document(
    id=DOC_ID,
    content_hash="abc123",
    text=TEXT,
    name="report-1.html",
    source="file",
    title="Raid on a bus stop",
    url="https://news.example.org/raid",
    outlet="Example News",
    published=date(2025, 3, 5),
    published_from="metadata",
)

TOWN = Place(
    name="Tel Qasrin",
    kind="town",
    country="Syria",
    country_code="SY",
    admin1="Homs",
    admin1_code="SY-HI",
    latitude=34.71,
    longitude=36.5,
    geo_precision=1,
)


def claim(cid: str, count: int, category: str, fragment: str, killed: str = "killed") -> Claim:
    return Claim(
        id=cid,
        doc_id=DOC_ID,
        claimant="a local medic",
        via=None,
        count=count,
        qualifier="exact",
        killed_or_injured=killed,
        category=category,
        victim_group=None,
        scope="incident",
        period=DateInterval(start=date(2025, 3, 4), end=date(2025, 3, 4), precision=1),
        admin1=("Homs",),
        span=span_of(fragment),
        sentence=sentence_of(fragment),
    )


RAID_CLAIMS = (
    claim("c1", 7, "civilians", "Seven civilians"),
    claim("c2", 2, "security_forces", "two police officers"),
)

RAID = EventMention(
    id="ev-raid",
    doc_id=DOC_ID,
    event_type="Violence against civilians",
    sub_event_type="Attack",
    date=DateInterval(start=date(2025, 3, 4), end=date(2025, 3, 4), precision=1),
    country="Syria",
    admin1=("Homs",),
    place=TOWN,
    actor1="Unidentified armed group (Syria)",
    actor1_type="militia",
    actor2="Civilians (Syria)",
    actor2_type="civilians",
    victim_group="bus passengers",
    civilian_targeting=True,
    fatalities=9,
    fatalities_low=None,
    fatalities_high=11,
    toll_scope="incident",
    claim_ids=("c1", "c2"),
    span=span_of("raided"),
    sentence=sentence_of("killed in the raid"),
    confidence=0.8,
)

RALLY = dataclasses.replace(
    RAID,
    id="ev-rally",
    event_type="Protests",
    sub_event_type="Peaceful protest",
    date=DateInterval(),
    admin1=("Homs", "Hama"),
    place=None,
    actor1="Protesters (Syria)",
    actor1_type="protesters",
    actor2=None,
    actor2_type=None,
    victim_group=None,
    civilian_targeting=False,
    fatalities=0,
    fatalities_high=None,
    claim_ids=(),
    span=span_of("rally"),
    sentence=sentence_of("rally"),
)

BATTLE_CLAIMS = (
    claim("c3", 10, "all", "ten died"),
    claim("c4", 2, "security_forces", "two soldiers"),
    claim("c5", 5, "fighters", "five fighters"),
    claim("c6", 12, "fighters", "five fighters"),  # a higher, competing figure: the lowest is used
    claim("c7", 3, "civilians", "ten died", killed="injured"),  # injured: not a death
)

BATTLE = dataclasses.replace(
    RAID,
    id="ev-battle",
    event_type="Battles",
    sub_event_type="Armed clash",
    date=DateInterval(start=date(2025, 3, 1), end=date(2025, 3, 4), precision=1),
    place=dataclasses.replace(TOWN, name="Kafr Zanbaq", geo_precision=3, latitude=35.0, longitude=36.0),
    actor1="Rebel group X",
    actor1_type="rebel_group",
    actor2="Military Forces of Syria",
    actor2_type="state_forces",
    victim_group=None,
    civilian_targeting=False,
    fatalities=10,
    fatalities_high=None,
    claim_ids=("c3", "c4", "c5", "c6", "c7"),
    span=span_of("fought"),
    sentence=sentence_of("fought"),
)

RECORDS = (
    EventRecord(event=RAID, claims=RAID_CLAIMS, document=DOCUMENT, incident_id="inc-1"),
    EventRecord(event=RALLY, claims=(), document=DOCUMENT),
    EventRecord(event=BATTLE, claims=BATTLE_CLAIMS, document=DOCUMENT, incident_id="inc-2"),
)


def export_text(fmt: str, records=RECORDS) -> tuple[int, str]:
    out = io.StringIO()
    count = export.write(records, fmt, out)
    return count, out.getvalue()


def csv_rows(fmt: str, records=RECORDS) -> tuple[list[str], list[dict[str, str]]]:
    count, text = export_text(fmt, records)
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    assert count == len(rows)
    return list(reader.fieldnames or []), rows


# --- ACLED ---------------------------------------------------------------------


def test_acled_columns_are_acleds_then_vigils():
    header, _ = csv_rows("acled")
    assert header == list(export.ACLED_COLUMNS)
    assert header[:5] == ["event_id_cnty", "event_date", "year", "time_precision", "disorder_type"]
    assert header[28:31] == ["fatalities", "tags", "timestamp"]
    assert header[31:] == [
        "vigil_event_id",
        "vigil_doc_id",
        "incident_id",
        "date_end",
        "fatalities_low",
        "fatalities_high",
        "confidence",
        "source_url",
        "review_status",
        "review_version",
    ]


def test_acled_columns_cover_the_older_acled_export(shared_dir):
    with open(shared_dir / "data" / "acled_me_dev.csv", encoding="utf-8", newline="") as f:
        old_header = next(csv.reader(f))
    dropped_since = {"data_id", "event_id_no_cnty", "iso3"}
    assert set(old_header) - dropped_since <= set(export.ACLED_COLUMNS)


def test_acled_values_of_a_civilian_targeting_attack():
    _, rows = csv_rows("acled")
    raid = rows[0]
    assert raid["event_id_cnty"] == "SYR-ev-raid"
    assert (raid["event_date"], raid["year"], raid["time_precision"]) == ("2025-03-04", "2025", "1")
    assert raid["disorder_type"] == "Political violence"
    assert (raid["event_type"], raid["sub_event_type"]) == ("Violence against civilians", "Attack")
    assert (raid["inter1"], raid["inter2"], raid["interaction"]) == ("3", "7", "37")
    assert raid["civilian_targeting"] == "Civilian targeting"
    assert (raid["iso"], raid["region"], raid["country"], raid["admin1"]) == (
        "760",
        "Middle East",
        "Syria",
        "Homs",
    )
    assert (raid["location"], raid["latitude"], raid["longitude"], raid["geo_precision"]) == (
        "Tel Qasrin",
        "34.71",
        "36.5",
        "1",
    )
    assert raid["source"] == "Example News"
    assert (
        raid["notes"]
        == "Seven civilians and two police officers were killed in the raid, a local medic said."
    )
    assert raid["fatalities"] == "9"
    assert raid["timestamp"] == raid["tags"] == raid["assoc_actor_1"] == raid["admin2"] == ""
    assert raid["vigil_event_id"] == "ev-raid"
    assert raid["vigil_doc_id"] == DOC_ID
    assert raid["incident_id"] == "inc-1"
    assert (raid["date_end"], raid["fatalities_low"], raid["fatalities_high"]) == ("2025-03-04", "", "11")
    assert (raid["confidence"], raid["source_url"]) == ("0.8", "https://news.example.org/raid")


def test_acled_values_of_a_protest_with_no_place_or_date():
    _, rows = csv_rows("acled")
    rally = rows[1]
    assert rally["disorder_type"] == "Demonstrations"
    assert (rally["inter1"], rally["inter2"], rally["interaction"]) == ("6", "0", "60")
    assert rally["civilian_targeting"] == ""
    assert rally["event_date"] == rally["year"] == rally["time_precision"] == ""
    assert rally["admin1"] == "Homs; Hama"
    assert rally["location"] == rally["latitude"] == rally["geo_precision"] == ""
    assert rally["incident_id"] == ""


def test_acled_battle_interaction_puts_the_smaller_code_first():
    _, rows = csv_rows("acled")
    assert (rows[2]["inter1"], rows[2]["inter2"], rows[2]["interaction"]) == ("2", "1", "12")


@pytest.mark.parametrize(
    ("type1", "type2", "expected"),
    [
        ("state_forces", "civilians", 17),
        ("civilians", "external_forces", 78),
        ("rioters", None, 50),
        ("identity_militia", "identity_group", 44),
        ("unknown", "civilians", None),
        ("state_forces", "others", None),
    ],
)
def test_interaction_codes(type1, type2, expected):
    code1 = export.inter_code("first actor", type1)
    code2 = export.inter_code("second actor" if type2 else None, type2)
    assert export.interaction(code1, code2) == expected


def test_inter_code_is_empty_for_an_actor_of_unknown_type():
    assert export.inter_code("Gunmen", "unknown") is None
    assert export.inter_code(None, None) == 0


@pytest.mark.parametrize(
    ("event_type", "sub_type", "expected"),
    [
        ("Battles", "Armed clash", "Political violence"),
        ("Explosions/Remote violence", "Air/drone strike", "Political violence"),
        ("Riots", "Violent demonstration", "Demonstrations"),
        ("Protests", "Excessive force against protesters", "Political violence; Demonstrations"),
        ("Strategic developments", "Arrests", "Strategic developments"),
    ],
)
def test_disorder_type(event_type, sub_type, expected):
    assert export.disorder_type(event_type, sub_type) == expected


@pytest.mark.parametrize(
    ("name", "alpha2", "alpha3", "iso", "region", "gw"),
    [
        ("Syria", None, "SYR", "760", "Middle East", 652),
        ("Turkey", None, "TUR", "792", "Middle East", 640),
        ("Palestinian Territory", None, "PSE", "275", "Middle East", None),
        ("Egypt", None, "EGY", "818", "Northern Africa", 651),
        (None, "LB", "LBN", "422", "Middle East", 660),
        ("France", None, "FRA", "250", None, None),
    ],
)
def test_country_info(name, alpha2, alpha3, iso, region, gw):
    info = export.country_info(name, alpha2)
    assert info is not None
    assert (info.alpha3, info.iso_numeric, info.acled_region, info.gw) == (alpha3, iso, region, gw)


def test_country_info_unknown():
    assert export.country_info("Atlantis") is None
    assert export.country_info(None) is None


# --- UCDP ----------------------------------------------------------------------


def test_ucdp_columns():
    header, _ = csv_rows("ucdp")
    assert header == list(export.UCDP_COLUMNS)
    assert header[-5:] == ["best", "high", "low", "incident_id", "vigil_event_id"]


def test_ucdp_one_sided_attack():
    _, rows = csv_rows("ucdp")
    raid = rows[0]
    assert raid["type_of_violence"] == "3"
    assert (raid["side_a"], raid["side_b"]) == ("Unidentified armed group (Syria)", "Civilians (Syria)")
    assert (raid["where_prec"], raid["date_prec"], raid["event_clarity"]) == ("1", "1", "1")
    assert raid["geom_wkt"] == "POINT (36.5 34.71)"
    assert (raid["country"], raid["country_id"], raid["region"]) == ("Syria", "652", "Middle East")
    assert raid["where_coordinates"] == "Tel Qasrin"
    assert raid["where_description"] == "Tel Qasrin, Homs, Syria"
    assert (raid["source_office"], raid["source_date"], raid["source_headline"]) == (
        "Example News",
        "2025-03-05",
        "Raid on a bus stop",
    )
    # Neither side is state forces: the police officers' deaths cannot be placed on a side.
    deaths = [raid[c] for c in ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")]
    assert deaths == ["0", "0", "7", "2"]
    assert (raid["best"], raid["low"], raid["high"]) == ("9", "9", "11")
    assert (raid["incident_id"], raid["vigil_event_id"]) == ("inc-1", "ev-raid")


def test_ucdp_state_based_battle_puts_the_government_on_side_a():
    _, rows = csv_rows("ucdp")
    battle = rows[2]
    assert battle["type_of_violence"] == "1"
    assert (battle["side_a"], battle["side_b"]) == ("Military Forces of Syria", "Rebel group X")
    deaths = [int(battle[c]) for c in ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")]
    assert deaths == [2, 5, 0, 3]
    assert sum(deaths) == int(battle["best"]) == 10
    assert battle["where_prec"] == "4"  # a governorate-level place
    assert battle["date_prec"] == "2"  # four days
    assert (battle["date_start"], battle["date_end"]) == ("2025-03-01", "2025-03-04")


def test_ucdp_protest_has_no_type_of_violence_and_country_precision():
    _, rows = csv_rows("ucdp")
    rally = rows[1]
    assert rally["type_of_violence"] == ""
    assert rally["where_prec"] == "6"
    assert rally["geom_wkt"] == rally["latitude"] == ""
    assert rally["event_clarity"] == "2"  # spread over two governorates
    assert rally["date_prec"] == rally["year"] == rally["date_end"] == ""
    assert [rally[c] for c in ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")] == ["0"] * 4


def test_type_of_violence_non_state():
    clash = dataclasses.replace(BATTLE, actor2="Militia Y", actor2_type="militia")
    assert export.type_of_violence(clash) == 2
    strike = dataclasses.replace(BATTLE, event_type="Explosions/Remote violence", civilian_targeting=True)
    assert export.type_of_violence(strike) == 3


@pytest.mark.parametrize(
    ("precision", "days", "expected"), [(1, 0, 1), (1, 20, 4), (2, 6, 3), (3, 29, 4), (3, 90, 5)]
)
def test_date_prec(precision, days, expected):
    start = date(2025, 1, 1)
    interval = DateInterval(start=start, end=date.fromordinal(start.toordinal() + days), precision=precision)
    assert export.date_prec(dataclasses.replace(RAID, date=interval)) == expected


def test_ucdp_deaths_fighters_go_to_the_one_non_state_side():
    record = EventRecord(
        event=dataclasses.replace(BATTLE, actor2="Civilians", actor2_type="civilians", fatalities=5),
        claims=(claim("f", 5, "fighters", "five fighters"),),
        document=DOCUMENT,
    )
    violence = export.type_of_violence(record.event)
    deaths = export.ucdp_deaths(record, export.ucdp_sides(record.event, violence))
    assert deaths == export.Deaths(a=5, b=0, civilians=0, unknown=0)


# --- vigil CSV and GeoJSON -----------------------------------------------------


def test_vigil_csv_columns_and_values():
    header, rows = csv_rows("csv")
    assert header == list(export.VIGIL_COLUMNS)
    raid, rally, _ = rows
    assert raid["event_id"] == "ev-raid"
    assert (raid["doc_id"], raid["doc_name"], raid["published"]) == (DOC_ID, "report-1.html", "2025-03-05")
    assert (raid["actor1_type"], raid["actor2_type"]) == ("militia", "civilians")
    assert raid["civilian_targeting"] == "true"
    assert raid["claim_ids"] == "c1; c2"
    assert raid["evidence"].startswith("Seven civilians")
    assert (raid["toll_scope"], raid["victim_group"]) == ("incident", "bus passengers")
    assert rally["admin1"] == "Homs; Hama"
    assert rally["civilian_targeting"] == "false"
    assert rally["claim_ids"] == rally["date_start"] == rally["latitude"] == ""


def test_evidence_sentence_has_its_line_break_collapsed():
    sentence = dataclasses.replace(RAID, sentence=Span(doc_id=DOC_ID, start=0, end=TEXT.index("medic")))
    _, rows = csv_rows("csv", [EventRecord(event=sentence, claims=(), document=DOCUMENT)])
    assert "\n" not in rows[0]["evidence"]
    assert "2025. Seven" in rows[0]["evidence"]


def test_geojson_features():
    count, text = export_text("geojson")
    collection = json.loads(text)
    assert count == 3
    assert collection["type"] == "FeatureCollection"
    raid, rally, battle = collection["features"]
    assert raid["type"] == "Feature"
    assert raid["geometry"] == {"type": "Point", "coordinates": [36.5, 34.71]}
    assert battle["geometry"]["coordinates"] == [36.0, 35.0]
    assert rally["geometry"] is None
    assert list(raid["properties"]) == list(export.VIGIL_COLUMNS)
    assert raid["properties"]["fatalities"] == 9
    assert raid["properties"]["civilian_targeting"] is True
    assert raid["properties"]["claim_ids"] == ["c1", "c2"]
    assert raid["properties"]["date_start"] == "2025-03-04"
    assert rally["properties"]["latitude"] is None


# --- all formats ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["acled", "ucdp", "csv"])
def test_zero_records_still_write_the_header(fmt):
    count, text = export_text(fmt, [])
    assert count == 0
    assert list(csv.reader(io.StringIO(text))) == [list(csv_rows(fmt)[0])]


def test_zero_records_geojson_is_valid():
    count, text = export_text("geojson", [])
    assert count == 0
    assert json.loads(text) == {"type": "FeatureCollection", "features": []}


def test_zero_records_jsonl_is_empty():
    assert export_text("jsonl", []) == (0, "")


def test_unknown_format():
    with pytest.raises(ValueError, match="shapefile"):
        export.write(RECORDS, "shapefile", io.StringIO())


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_rows_are_written_as_records_arrive(fmt):
    out = io.StringIO()
    seen: list[int] = []

    def records():
        yield RECORDS[0]
        seen.append(len(out.getvalue()))
        yield RECORDS[1]

    assert export.write(records(), fmt, out) == 2
    assert 0 < seen[0] < len(out.getvalue())
    assert "ev-raid" in out.getvalue()[: seen[0]]


# --- formula injection ---------------------------------------------------------


def test_formula_cells_are_defused_and_numbers_kept():
    hostile = dataclasses.replace(
        RAID,
        actor1='=HYPERLINK("http://evil.example","x")',
        actor2="@SUM(A1)",
        victim_group="-5 people",
        place=dataclasses.replace(TOWN, name="+Town", longitude=-3.5, latitude=-0.25),
    )
    doc = dataclasses.replace(DOCUMENT, outlet="\tTabbed", name="\rname")
    _, rows = csv_rows("csv", [EventRecord(event=hostile, claims=(), document=doc)])
    row = rows[0]
    assert row["actor1"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["actor2"] == "'@SUM(A1)"
    assert row["victim_group"] == "'-5 people"
    assert row["location"] == "'+Town"
    assert row["doc_name"] == "'\rname"
    assert (row["longitude"], row["latitude"]) == ("-3.5", "-0.25")
    _, acled = csv_rows("acled", [EventRecord(event=hostile, claims=(), document=doc)])
    assert acled[0]["source"] == "'\tTabbed"
    assert acled[0]["longitude"] == "-3.5"


@given(st.text())
def test_guard_cell_property(text):
    guarded = export.guard_cell(text)
    assert guarded in (text, "'" + text)
    assert not guarded.startswith(("=", "+", "-", "@", "\t", "\r")) or float(guarded) is not None


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_guard_cell_keeps_numbers(number):
    assert export.guard_cell(str(number)) == str(number)


# --- JSON Lines ----------------------------------------------------------------


def test_jsonl_round_trip_of_hand_built_records():
    odd = dataclasses.replace(
        RAID,
        id="ev-ünï",
        actor1="Ḥay’at al-Sham — “group”\u2028next",
        actor2=None,
        actor2_type=None,
        fatalities_high=None,
        admin1=("Ḥimṣ", "Ḥamāh"),
        date=DateInterval(start=date(2025, 3, 1), end=None, precision=2),
    )
    document = dataclasses.replace(DOCUMENT, metadata=(("lang", "ar"), ("tag", "مثال")), url=None)
    records = (*RECORDS, EventRecord(event=odd, claims=RAID_CLAIMS, document=document, incident_id=None))
    count, text = export_text("jsonl", records)
    assert count == len(text.splitlines()) == 4
    assert "مثال" in text  # UTF-8 kept as is, not \u-escaped
    assert tuple(export.read_jsonl(text.splitlines())) == records
    assert tuple(export.read_jsonl(io.StringIO(text + "\n\n"))) == records


def _strategy(tp):
    """Values of a model type, for round-trip properties (finite floats, short texts)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_strategy(a) for a in typing.get_args(tp)))
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_strategy(args[0]), max_size=2).map(tuple)
        return st.tuples(*(_strategy(a) for a in args))
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return st.builds(tp, **{f.name: _strategy(hints[f.name]) for f in dataclasses.fields(tp)})
    return {
        type(None): st.none(),
        str: st.text(max_size=12),
        int: st.integers(min_value=-(10**6), max_value=10**6),
        float: st.floats(allow_nan=False, allow_infinity=False),
        bool: st.booleans(),
        date: st.dates(),
    }[tp]


RECORD_STRATEGY = _strategy(EventRecord)


@settings(max_examples=60, deadline=None)
@given(st.lists(RECORD_STRATEGY, max_size=3))
def test_jsonl_round_trip_property(records):
    _, text = export_text("jsonl", records)
    assert list(export.read_jsonl(text.splitlines())) == records


@settings(max_examples=40, deadline=None)
@given(st.lists(RECORD_STRATEGY, max_size=3))
def test_every_format_writes_one_row_per_record_property(records):
    for fmt in ("acled", "ucdp", "csv"):
        _, rows = csv_rows(fmt, records)
        assert len(rows) == len(records)
        assert [r["vigil_event_id" if fmt != "csv" else "event_id"] for r in rows] == [
            export.guard_cell(r.event.id) for r in records
        ]
    count, text = export_text("geojson", records)
    assert len(json.loads(text)["features"]) == count == len(records)
