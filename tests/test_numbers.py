"""Counts with their qualifier and noun; numbers that are not counts are left alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.extract import numbers
from vigil.extract.numbers import QuantityMatch, find_quantities, parse_number
from vigil.model import QUALIFIERS


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,383", 1383),
        ("1383", 1383),
        ("22", 22),
        ("twenty-two", 22),
        ("Twenty two", 22),
        ("two", 2),
        ("one hundred and five", 105),
        ("a hundred", 100),
        ("a dozen", 12),
        ("two dozen", 24),
        ("half a dozen", 6),
        ("2.5 million", 2_500_000),
        ("hundreds", 100),
        ("dozens", 12),
        ("scores", 20),
        ("several", 3),
        ("a few", 3),
        ("few", 3),
        ("many", 10),
        ("thousands", 1000),
        ("several hundred", 300),
        ("first", None),
        ("3rd", None),
        ("twelve apostles", None),
        ("", None),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


def only(text: str) -> QuantityMatch:
    found = find_quantities(text)
    assert len(found) == 1, [(text[q.start : q.end], q.quantity) for q in found]
    return found[0]


@pytest.mark.parametrize(
    ("text", "count", "qualifier", "noun"),
    [
        ("Raiders killed at least 1,200 civilians near the river.", 1200, "at_least", "civilians"),
        ("Shelling killed in excess of 1,300 Alawites that month.", 1300, "more_than", "alawites"),
        ("Over 340 dead were buried in one day.", 340, "more_than", "dead"),
        ("The blast wounded more than 20, medics said.", 20, "more_than", None),
        ("Nearly 100 villagers fled the hills.", 100, "about", "villagers"),
        ("Almost 40 homes burned overnight.", 40, "about", "homes"),
        ("About 50 soldiers deserted.", 50, "about", "soldiers"),
        ("Around 70 prisoners were freed.", 70, "about", "prisoners"),
        ("Approximately 300 families moved away.", 300, "about", "families"),
        ("Some 50 shepherds lost their flocks.", 50, "about", "shepherds"),
        ("Up to 30 passengers may have drowned.", 30, "up_to", "passengers"),
        ("The toll could reach 45 people, a doctor warned.", 45, "up_to", "people"),
        ("No more than 12 guards were on duty.", 12, "at_most", "guards"),
        ("At most 9 cars passed.", 9, "at_most", "cars"),
        ("A minimum of 16 miners were trapped.", 16, "at_least", "miners"),
        ("The raid left 132 civilians dead.", 132, "exact", "civilians"),
        ("Snipers shot two women at the checkpoint.", 2, "exact", "women"),
        ("The mob beat five Christians.", 5, "exact", "christians"),
        ("Twenty-two people drowned off the coast.", 22, "exact", "people"),
        ("The monitor recorded 49 deaths on the road.", 49, "exact", "deaths"),
        ("Another 25 in Hama were never found.", 25, "exact", None),
        ("Dozens of people waited at the border.", 12, "vague", "people"),
        ("The quake left hundreds dead.", 100, "vague", "dead"),
        ("Scores of students marched.", 20, "vague", "students"),
        ("Several houses collapsed.", 3, "vague", "houses"),
        ("A few journalists stayed behind.", 3, "vague", "journalists"),
        ("Many farmers lost their crops.", 10, "vague", "farmers"),
        ("The militia shot 121 members of the town council.", 121, "exact", "members"),
        ("Clashes killed 172 government forces.", 172, "exact", "government forces"),
        ("At least four Druze fighters died.", 4, "at_least", "fighters"),
        ("Gunmen killed two of his cousins.", 2, "exact", "cousins"),
        ("The ambush killed one member of the patrol.", 1, "exact", "member"),
        ("The strike killed 20 and injured 52 more.", 20, "exact", None),
        ("Witnesses counted between 2,300 and 2,400 bodies.", 2300, "at_least", "bodies"),
        ("Police found 20-30 casings.", 20, "at_least", "casings"),
        ("Two or three children were missing.", 2, "at_least", "children"),
        ("Nearly 1.5 million refugees crossed.", 1_500_000, "about", "refugees"),
        ("They pitched 100+ tents.", 100, "more_than", "tents"),
        ("They counted 50 or more boats.", 50, "at_least", "boats"),
        ("Two dozen pilgrims prayed.", 24, "exact", "pilgrims"),
    ],
)
def test_quantities(text, count, qualifier, noun):
    q = find_quantities(text)[0]
    assert (q.quantity.count, q.quantity.qualifier, q.quantity.noun) == (count, qualifier, noun)
    assert q.quantity.qualifier in QUALIFIERS


def test_spans_cover_qualifier_number_and_noun():
    text = "Officials said at least 1,200 civilians died."
    q = only(text)
    assert text[q.start : q.end] == "at least 1,200 civilians"
    assert text[q.number_start : q.number_end] == "1,200"
    assert q.noun_start is not None and q.noun_end is not None
    assert text[q.noun_start : q.noun_end] == "civilians"
    assert q.rule == numbers.RULE_DIGITS


def test_compound_noun_span():
    text = "It killed 14 security forces and 3 aid workers."
    first, second = find_quantities(text)
    assert first.quantity.noun == "security forces"
    assert text[first.noun_start : first.noun_end] == "security forces"
    assert second.quantity.noun == "aid workers"


def test_elided_noun_after_more():
    text = "The strike killed 20 people and injured 52 more."
    q = find_quantities(text)[1]
    assert (q.quantity.count, q.quantity.noun) == (52, "more")


def test_rules_are_named():
    rules = {q.rule for q in find_quantities("Dozens fled, 40 stayed, two hid and 5-9 vanished.")}
    assert rules == {numbers.RULE_VAGUE, numbers.RULE_DIGITS, numbers.RULE_WORDS, numbers.RULE_RANGE}


@pytest.mark.parametrize(
    "text",
    [
        "The war began in 2011 and the report came out in 2025.",
        "The attack came on 6 March, and again on March 9.",
        "The post went up at 21:21 and again at 9 pm.",
        "Rami Khalil, 67, spoke to reporters.",
        "A 45-year-old man was hurt.",
        "Prices rose 35% and then 12 percent.",
        "The fine was $500 or 300 dollars.",
        "Talks lasted 48 hours; the siege, two days; his sentence, 14 years.",
        "The team was ranked No. 1 and the motion was Resolution 2254.",
        "Call 0944-123-456 for details.",
        "See https://example.com/news/510724/story or www.example.org/2024/05/item.",
        "The 3rd brigade took the 2nd hill.",
        "The F-16 and the Mi-8 flew over.",
        "No one was hurt and the two met later.",
        "It was one of the worst nights of the war.",
        "A new era had begun with a vote.",
        "Many have died.",
        "Over 5.5 kilometres of road were closed.",
        "The convoy drove 30 km.",
        "It happened two days ago and within 72 hours.",
        "They waited several years and a few days more.",
    ],
)
def test_numbers_that_are_not_counts(text):
    assert find_quantities(text) == []


def test_from_one_figure_to_another_is_not_a_range():
    found = find_quantities("The toll rose from 1,200 to 1,383 people.")
    assert [(q.quantity.count, q.quantity.qualifier) for q in found] == [(1200, "exact"), (1383, "exact")]


def test_how_many_and_as_many_as():
    found = find_quantities("Nobody knows how many died; as many as 60 guards fled.")
    assert [(q.quantity.count, q.quantity.qualifier, q.quantity.noun) for q in found] == [
        (60, "up_to", "guards")
    ]


def _counts(path) -> set[tuple[int, str]]:
    return {(q.quantity.count, q.quantity.qualifier) for q in find_quantities(path.read_text())}


def test_golden_counts_in_real_articles(shared_dir):
    """Figures visible in the articles (read at run time; their text is not copied here)."""
    seeds = set().union(*(_counts(p) for p in sorted((shared_dir / "seeds").glob("*.txt"))))
    assert {(1200, "at_least"), (132, "exact"), (1300, "more_than")} <= seeds
    corpus = {p.name[:2]: _counts(p) for p in sorted((shared_dir / "corpus").glob("*.txt"))}
    assert {(1383, "exact"), (158, "exact"), (49, "exact"), (25, "exact"), (5, "exact")} <= corpus["01"]
    assert {(1018, "more_than"), (745, "at_least"), (2300, "at_least"), (4000, "more_than")} <= corpus["03"]
    assert {(200, "at_least"), (164, "at_least"), (121, "exact"), (803, "at_least")} <= corpus["04"]
    assert {(340, "more_than")} <= corpus["06"]
    assert {(20, "at_least"), (15, "at_least"), (30, "up_to"), (12, "vague")} <= corpus["12"]
    assert {(22, "exact"), (16, "exact"), (6, "exact"), (11, "exact")} <= corpus["15"]
    assert {(125, "about"), (148, "exact"), (1018, "exact")} <= corpus["16"]
    everything = set().union(seeds, *corpus.values())
    # years, ages, durations, clock times and ids in those texts are not counts
    assert not {c for c, _ in everything} & {2025, 2011, 67, 48, 21, 510724, 842274}


def test_golden_nouns(shared_dir):
    text = (shared_dir / "corpus" / "01_shafaq_2025-03-12_coastal_death_toll_1383.txt").read_text()
    nouns = {q.quantity.count: q.quantity.noun for q in find_quantities(text)}
    assert (nouns[1383], nouns[158], nouns[49], nouns[5], nouns[25]) == (
        "civilians",
        "civilians",
        "deaths",
        "christians",
        None,
    )


# --- properties ----------------------------------------------------------------------------------------

FRAGMENTS = [
    "at least", "more than", "over", "about", "up to", "no more than", "between", "and", "or", "to", "-", ",",
    "1,200", "132", "2025", "two", "twenty-two", "one", "a dozen", "dozens of", "hundreds", "several", "many",
    "people", "civilians", "members of the", "security forces", "killed", "6 March", "21:21", "%", "$", "No.",
    "more", "of", "the", "48 hours", "http://x.com/12", "Samir,", "67", "(", ")", "“", "”", "\n",
]  # fmt: skip
TEXTS = st.one_of(st.text(max_size=120), st.lists(st.sampled_from(FRAGMENTS), max_size=16).map(" ".join))


@given(st.integers(min_value=0, max_value=10**15))
def test_parse_number_reads_grouped_digits(n):
    assert parse_number(f"{n:,}") == n


@settings(deadline=None)
@given(TEXTS)
def test_parse_number_never_raises(text):
    value = parse_number(text)
    assert value is None or value >= 0


@settings(deadline=None)
@given(TEXTS)
def test_find_quantities_never_raises_and_spans_are_in_bounds(text):
    previous = 0
    for q in find_quantities(text):
        assert previous <= q.start <= q.number_start < q.number_end <= q.end <= len(text)
        assert q.quantity.qualifier in QUALIFIERS and q.quantity.count >= 0
        if q.noun_start is not None:
            assert q.noun_end is not None and q.number_end <= q.noun_start < q.noun_end <= q.end
            assert q.quantity.noun == " ".join(text[q.noun_start : q.noun_end].split()).lower().replace(
                "’", "'"
            )
        else:
            assert q.quantity.noun is None
        previous = q.number_end


@pytest.mark.parametrize(
    ("text", "noun"),
    [
        ("A child was hurt.", "child"),
        ("Gunmen shot dead a former police officer.", "officer"),
        ("The body of an elderly shepherd was found.", "shepherd"),
    ],
)
def test_a_single_person_is_a_count_of_one(text, noun):
    [q] = find_quantities(text)
    assert (q.quantity.count, q.quantity.qualifier, q.quantity.noun.split()[-1]) == (1, "exact", noun)
    assert q.rule == "numbers.singular@2"


def test_a_killed_pronoun_is_one_person():
    [q] = find_quantities("The gunmen opened fire on a car, killing him instantly.")
    assert (q.quantity.count, q.rule) == (1, "numbers.pronoun@2")


def test_known_date_spans_are_not_counted():
    text = "On 9 May 12 protesters gathered."
    assert [q.quantity.count for q in find_quantities(text, dates=[(3, 8)])] == [12]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("He said two of his cousins and his uncle were shot.", 3),
        ("The shell killed three children and their mother.", 4),
        ("The shell killed three children and a goat.", 3),
    ],
)
def test_one_more_relative_joined_to_a_count_is_counted(text, count):
    [q] = find_quantities(text)
    assert q.quantity.count == count
    assert (q.rule == "numbers.and_one_more@1") == ("goat" not in text)


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("Troops killed 12 ABC militants near the border.", [12]),
        ("Gunmen fired shells at houses on Street 40 in the old city.", []),
        ("The convoy was hit near Kilo 9, killing two drivers.", [2]),
    ],
)
def test_initials_before_a_noun_and_street_numbers(text, counts):
    assert [q.quantity.count for q in find_quantities(text)] == counts


@pytest.mark.parametrize(
    ("text", "noun"),
    [
        ("Gunmen shot the mayor, causing his immediate death.", "him"),
        ("The shelling led to her death.", "her"),
    ],
)
def test_his_or_her_death_is_one_person(text, noun):
    [q] = find_quantities(text)
    assert (q.quantity.count, q.quantity.noun, q.rule) == (1, noun, "numbers.pronoun@2")


def test_a_quoted_person_word_is_still_one_person():
    [q] = find_quantities("Monitors documented the death of a “collaborator” near the town.")
    assert (q.quantity.count, q.quantity.noun) == (1, "collaborator")
