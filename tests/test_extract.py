"""The first extractor: claims, events and their evidence, on our own sentences and on the seed articles."""

from __future__ import annotations

from datetime import date

import pytest

from vigil.extract import extract
from vigil.extract.output import gold_shape
from vigil.extract.segment import sentences
from vigil.ingest import make_document, read_inputs


def _run(text: str, published: date | None = date(2025, 3, 12)):
    return extract(make_document(text, name="t.txt", source="t.txt", published=published))


def test_sentences_carry_exact_offsets():
    text = "First line without a stop\nA second one. And a third!\n\n  Indented fourth."
    got = [s.span.of(text) for s in sentences(text, doc_id="d")]
    assert got == ["First line without a stop", "A second one.", "And a third!", "Indented fourth."]


def test_a_claim_reads_count_qualifier_claimant_and_area():
    x = _run(
        "Gunmen killed at least 12 civilians in Hama on Monday, the Syrian Network for Human Rights said."
    )
    [c] = x.claims
    assert (c.count, c.qualifier, c.killed_or_injured, c.category) == (12, "at_least", "killed", "civilians")
    assert c.claimant == "SNHR"
    assert c.admin1 == ("Hama",)
    assert c.scope == "incident"
    assert c.period.start == date(2025, 3, 10)
    assert x.document.text[c.span.start : c.span.end] == "at least 12 civilians"


def test_injured_figures_are_told_apart_from_the_dead():
    x = _run("The blast in Homs killed 4 people and wounded 17 others, the Health Ministry said on Tuesday.")
    kinds = {(c.count, c.killed_or_injured) for c in x.claims}
    assert kinds == {(4, "killed"), (17, "injured")}
    [event] = x.events
    assert event.fatalities == 4


def test_a_running_total_is_cumulative():
    x = _run("The death toll from a week of raids in Idlib has risen to 230 people, according to SOHR.")
    [c] = x.claims
    assert c.scope == "cumulative" and c.claimant == "SOHR"


def test_a_denial_or_a_threat_is_not_an_event():
    x = _run(
        "The ministry denied that its troops massacred villagers in Hama. "
        "A militia leader threatened to attack protesters in Homs."
    )
    assert x.events == ()


def test_a_protest_met_with_gunfire_is_excessive_force():
    x = _run("Security forces opened fire on demonstrators in Latakia on Sunday, witnesses said.")
    [event] = x.events
    assert (event.event_type, event.sub_event_type) == ("Protests", "Excessive force against protesters")
    assert event.admin1 == ("Lattakia",)
    assert event.date.start == date(2025, 3, 9)


def test_a_suicide_bombing_outranks_the_shooting_in_the_same_clause():
    x = _run(
        "A suicide bomber opened fire and blew himself up inside a church in Damascus on Sunday, killing 9 people."
    )
    [event] = x.events
    assert event.sub_event_type == "Suicide bomb"
    assert event.fatalities == 9


def test_every_event_field_names_its_rule_and_span():
    x = _run("Unidentified gunmen killed 3 civilians in the village of Qardaha in Lattakia on Friday.")
    [event] = x.events
    fields = {ev.field for ev in event.evidence}
    assert {"event_type", "admin1", "fatalities", "sentence"} <= fields
    for ev in event.evidence:
        assert "@" in ev.rule
        assert 0 <= ev.span.start < ev.span.end <= len(x.document.text)


def test_no_publication_date_means_no_invented_dates():
    x = _run("Gunmen killed 5 civilians in Homs on Tuesday.", published=None)
    [event] = x.events
    assert event.date.start is None and event.date.end is None


def test_gold_shape_has_the_answer_key_fields():
    out = gold_shape(_run("Gunmen killed 5 civilians in Homs on Tuesday."))
    assert set(out) >= {"doc", "published", "events", "claims"}
    event = out["events"][0]
    for key in (
        "event_type",
        "sub_event_type",
        "date_start",
        "date_end",
        "time_precision",
        "country",
        "admin1",
        "location",
        "actor1",
        "actor2",
        "victim_group",
        "civilian_targeting",
        "fatalities",
        "toll_scope",
        "evidence",
        "latitude",
        "longitude",
        "geo_precision",
        "fatalities_low",
        "fatalities_high",
        "confidence",
    ):
        assert key in event
    claim = out["claims"][0]
    for key in (
        "claimant",
        "via",
        "count",
        "qualifier",
        "killed_or_injured",
        "category",
        "victim_group",
        "scope",
        "period_start",
        "period_end",
        "admin1",
        "evidence",
        "span",
    ):
        assert key in claim


# --- the two seed articles (../shared/seeds) ------------------------------------------------


def _seed(shared_dir, name: str):
    [doc] = list(read_inputs([shared_dir / "seeds" / name]))
    return extract(doc)


def test_seed_002_sohr_claim_via_the_independent(shared_dir):
    x = _seed(shared_dir, "002_98cedf641a602074.txt")
    assert x.document.published == date(2025, 3, 22)
    by_count = {c.count: c for c in x.claims}
    big = by_count[1200]
    assert (big.claimant, big.via, big.category, big.qualifier) == (
        "SOHR",
        "The Independent",
        "civilians",
        "at_least",
    )
    assert big.scope == "cumulative" and big.victim_group == "Alawite"
    assert set(big.admin1) == {"Lattakia", "Tartous", "Hama", "Homs"}
    day = by_count[132]
    assert (day.claimant, day.category, day.scope) == ("SOHR", "civilians", "incident")
    governorates = {g for e in x.events for g in e.admin1}
    assert governorates == {"Lattakia", "Tartous", "Hama", "Homs"}
    # Only figures the text gives: no claim or event outside these two counts.
    assert set(by_count) == {1200, 132}
    assert sorted(e.fatalities for e in x.events) == [132, 1200]


def test_seed_002_tatous_is_tartous_by_fuzzy_match(shared_dir):
    x = _seed(shared_dir, "002_98cedf641a602074.txt")
    tatous = [m for m in x.mentions if m.kind == "place" and m.text == "Tatous"]
    assert tatous and all(m.place.admin1 == "Tartous" and m.method == "fuzzy" for m in tatous)


def test_seed_000_claim_places_and_null_dates(shared_dir):
    x = _seed(shared_dir, "000_f065b7eeaf34ec63.txt")
    assert x.document.published is None
    [claim] = x.claims
    assert (claim.count, claim.qualifier, claim.victim_group) == (1300, "more_than", "Alawite")
    raml = [e for e in x.events if e.place and "Raml" in e.place.name]
    assert raml, "the Al-Raml Al-Shamali attack is an event"
    assert raml[0].admin1 == ("Lattakia",) and raml[0].place.geo_precision == 2
    assert all(e.date.start is None and e.date.end is None for e in x.events)
    massacre = next(e for e in x.events if e.fatalities == 1300)
    assert massacre.date.precision == 3  # "in March", no year


@pytest.mark.parametrize("name", ["000_f065b7eeaf34ec63.txt", "002_98cedf641a602074.txt"])
def test_seed_evidence_spans_point_into_the_article(shared_dir, name):
    x = _seed(shared_dir, name)
    text = x.document.text
    for record in (*x.claims, *x.events):
        for ev in record.evidence:
            assert text[ev.span.start : ev.span.end].strip()


# --- ACLED's taxonomy on short reports in the style of its notes (our own sentences) -------------


@pytest.mark.parametrize(
    ("text", "event_type", "sub_event_type"),
    [
        (
            "On 3 June 2020, protesters gathered outside the town hall in Zahle, demanding unpaid wages.",
            "Protests",
            "Peaceful protest",
        ),
        (
            "On 3 June 2020, police dispersed a sit-in in Kirkuk and detained 4 protesters.",
            "Protests",
            "Protest with intervention",
        ),
        (
            "On 3 June 2020, rioters blocked the main road in Halba with burning tyres.",
            "Riots",
            "Violent demonstration",
        ),
        (
            "On 3 June 2020, warplanes struck a camp near Marib.",
            "Explosions/Remote violence",
            "Air/drone strike",
        ),
        (
            "On 3 June 2020, an IED exploded near an army patrol in Diyala province, wounding 2 soldiers.",
            "Explosions/Remote violence",
            "Remote explosive/landmine/IED",
        ),
        (
            "On 3 June 2020, soldiers defused a roadside bomb in Anbar province.",
            "Strategic developments",
            "Disrupted weapons use",
        ),
        (
            "Property destruction: On 3 June 2020, settlers uprooted olive trees near Nablus.",
            "Strategic developments",
            "Looting/property destruction",
        ),
        (
            "On 3 June 2020, Houthi forces took control of several positions in Al Bayda governorate.",
            "Battles",
            "Government regains territory",
        ),
        (
            "On 3 June 2020, gunmen kidnapped two aid workers in Taizz.",
            "Violence against civilians",
            "Abduction/forced disappearance",
        ),
        (
            "On 3 June 2020, reinforcements arrived in Sirwah district (Marib).",
            "Strategic developments",
            "Change to group/activity",
        ),
    ],
)
def test_short_reports_are_typed_by_acled_sub_event_type(text, event_type, sub_event_type):
    x = _run(text, published=date(2020, 6, 3))
    assert [(e.event_type, e.sub_event_type) for e in x.events] == [(event_type, sub_event_type)]
    assert all("@" in ev.rule for e in x.events for ev in e.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "The army denied shelling the village of Kafr Nabl in Idlib.",
        "No clashes were reported in Hama on Monday.",
        "Rebel leaders threatened to attack Homs if talks failed.",
        "The foreign ministry condemned the massacre of civilians in Hama.",
    ],
)
def test_denials_threats_negations_and_condemnations_are_no_events(text):
    assert _run(text).events == ()


def test_a_coders_stated_fatalities_are_shared_between_its_locations():
    x = _run(
        "On 4 June 2020, clashes erupted on the fronts of Sirwah (Marib). "
        "Unknown fatalities coded as 10 and spread between 2 locations.",
        published=date(2020, 6, 4),
    )
    [event] = x.events
    assert event.fatalities == 5
    assert any(ev.rule.startswith("events.coded_fatalities") for ev in event.evidence)


def test_one_person_killed_is_one_fatality():
    x = _run("Gunmen shot dead a shepherd near Daraa on Monday.")
    [event] = x.events
    assert (event.event_type, event.fatalities, event.admin1) == ("Violence against civilians", 1, ("Dar'a",))


def test_an_organisation_the_lexicon_lacks_is_an_unknown_actor():
    x = _run("Fighters of the Northern Falcons Brigade clashed with the army in Homs on Monday.")
    unknown = [m for m in x.mentions if m.kind == "actor" and m.actor.type == "unknown"]
    assert unknown and all(m.evidence.rule.startswith("actors.ner@") for m in unknown)
    assert any("Falcons" in m.actor.name for m in unknown)


def test_a_running_total_carries_the_period_of_the_sentence_before():
    x = _run(
        "Since early June 2019, monitors have recorded 850 attacks in Daraa. "
        "These attacks claimed the lives of 560 people.",
        published=date(2021, 1, 18),
    )
    [c] = [c for c in x.claims if c.count == 560]
    assert c.scope == "cumulative"
    assert (c.period.start, c.period.end) == (date(2019, 6, 1), date(2021, 1, 18))


@pytest.mark.parametrize(
    "text",
    [
        "A boy was killed when an old landmine exploded near a farm outside Homs on Monday.",
        "Two herders died in the explosion of an unexploded shell in a field near Hama on Sunday.",
        "A farmer was killed on Monday by a landmine left over from the war, near a village in Idlib.",
    ],
)
def test_a_remnant_of_war_is_other_and_its_dead_are_no_conflict_fatalities(text):
    x = _run(text)
    [event] = x.events
    assert (event.event_type, event.sub_event_type) == ("Strategic developments", "Other")
    assert event.fatalities == 0 and event.fatalities_low == 0
    assert event.fatalities_high == max(c.count for c in x.claims if c.killed_or_injured == "killed")
    assert any(ev.rule.startswith("triggers.remnants@2") for ev in event.evidence)


def test_a_fresh_landmine_is_still_an_explosion():
    x = _run("A landmine planted by the militants killed three soldiers near Homs on Monday.")
    [event] = x.events
    assert event.sub_event_type == "Remote explosive/landmine/IED" and event.fatalities == 3


def test_a_tally_of_a_long_period_is_no_event_of_its_own():
    x = _run(
        "Gunmen shot dead a trader in Daraa on Monday. "
        "Since early June 2019, monitors have recorded more than 850 bombings and shootings in the province.",
        published=date(2021, 1, 18),
    )
    [event] = x.events
    assert event.fatalities == 1 and event.date.start == date(2021, 1, 18)


def test_a_violent_event_told_without_its_dead_joins_the_sentence_that_gives_them():
    x = _run(
        "Monitors reported a new assassination in Daraa on Monday. "
        "A roadside bomb exploded under his car and killed a former rebel commander."
    )
    [event] = x.events
    assert (event.sub_event_type, event.fatalities) == ("Remote explosive/landmine/IED", 1)
    assert any(ev.rule.startswith("events.told_with@") for ev in event.evidence)


def test_the_same_number_for_other_people_or_a_long_period_is_its_own_claim():
    x = _run(
        "Monitors said four soldiers were killed in an ambush near Palmyra on Monday. "
        "Since March 2019, the monitors have recorded the killing of four civilians in the area."
    )
    fours = sorted((c.category, c.scope) for c in x.claims if c.count == 4)
    assert fours == [("civilians", "cumulative"), ("security_forces", "incident")]


def test_the_same_number_said_twice_is_one_claim():
    x = _run(
        "Gunmen killed five villagers in Hama on Monday, SOHR said. "
        "SOHR said the five villagers were shot at a checkpoint."
    )
    assert [c.count for c in x.claims if c.count == 5] == [5]


@pytest.mark.parametrize(
    "text, claimant",
    [
        (
            "The Syrian Observatory for Human Rights, which has sources across the country, said 14 people were killed "
            "in Homs on Monday.",
            "SOHR",
        ),
        ("SOHR on Monday said 14 people were killed in Homs.", "SOHR"),
    ],
)
def test_a_source_speaks_across_a_clause_or_a_day(text, claimant):
    [c] = _run(text).claims
    assert c.claimant == claimant
    assert any(ev.field == "claimant" and ev.rule.startswith("claims.attribution@2") for ev in c.evidence)


def test_a_source_described_again_is_the_one_named_before():
    x = _run(
        "SANA said clashes broke out in Latakia on Sunday. "
        "The news agency later reported that gunmen killed two members of the security forces in Jableh."
    )
    [c] = [c for c in x.claims if c.count == 2]
    assert c.claimant == "SANA"
    assert any(ev.rule.startswith("claims.described_source@") for ev in c.evidence)


def test_an_unnamed_source_is_kept_as_described_and_joint_sources_together():
    x = _run(
        "A regional broadcaster reported that six farmers were killed in Idlib on Monday. "
        "Al Jazeera and Reuters report that more than 40 people died in the week's fighting in Idlib."
    )
    by_count = {c.count: c.claimant for c in x.claims}
    assert by_count[6] == "A regional broadcaster"
    assert by_count[40] == "Al Jazeera and Reuters"


def test_a_side_that_lost_members_counts_its_dead():
    x = _run(
        "Fierce clashes broke out near Palmyra in Homs on Monday, and monitors documented the death of 9 members "
        "of the Syrian army. ISIS also lost 6 members."
    )
    cats = {c.count: c.category for c in x.claims}
    assert cats == {9: "security_forces", 6: "fighters"}
    assert all(c.killed_or_injured == "killed" for c in x.claims)
    [event] = [e for e in x.events if e.fatalities]
    assert (event.event_type, event.fatalities) == ("Battles", 15)


def test_a_toll_of_the_past_few_hours_is_one_incident():
    x = _run("In the past few hours, four fighters were killed in clashes in Idlib.")
    [c] = x.claims
    assert c.scope == "incident"


def test_an_opening_bracket_starts_the_next_sentence():
    text = "On 3 May 2020, nurses held a protest in Homs against unpaid wages. [size=no report]"
    assert [s.span.of(text) for s in sentences(text, doc_id="d")] == [
        "On 3 May 2020, nurses held a protest in Homs against unpaid wages.",
        "[size=no report]",
    ]
    [event] = _run(text, published=date(2020, 5, 3)).events
    assert event.sub_event_type == "Peaceful protest"


def test_a_coders_split_toll_is_shared_between_its_events():
    x = _run(
        "On 2 May 2020, clashes broke out between rival forces near Hama, killing more than 12 fighters. "
        "12 fatalities split up between 3 events.",
        published=date(2020, 5, 2),
    )
    [event] = x.events
    assert event.fatalities == 4
    assert any(ev.rule.startswith("events.coded_fatalities@2") for ev in event.evidence)


def test_a_figures_own_verb_says_whether_it_counts_dead_or_wounded():
    x = _run(
        "Four guards were killed and two others were injured in a rocket attack on a post in Hama on Monday."
    )
    assert {(c.count, c.killed_or_injured) for c in x.claims} == {(4, "killed"), (2, "injured")}
    x = _run(
        "Monitors documented the death of two teachers, as well as the injury of three others, in Homs on Monday."
    )
    assert {(c.count, c.killed_or_injured) for c in x.claims} == {(2, "killed"), (3, "injured")}


def test_figures_listed_together_are_one_toll():
    x = _run(
        "A colonel and four soldiers were killed when a roadside bomb hit their vehicle in Daraa on Monday."
    )
    [event] = x.events
    assert (event.fatalities, event.fatalities_low, event.fatalities_high) == (5, 5, 5)
    assert any(c.count == 1 for c in x.claims) and any(c.count == 4 for c in x.claims)


def test_a_title_under_a_stray_crawler_line_is_a_headline():
    x = _run(
        "3fa9\nLong title | Ten soldiers killed and wounded in an ambush in the desert near Palmyra in Homs today\n"
        "An ambush in the Homs desert killed four soldiers on Monday and wounded six others."
    )
    assert {c.count for c in x.claims if c.killed_or_injured == "killed"} == {4}


def test_a_long_period_tally_does_not_date_the_event_before_it():
    x = _run(
        "A roadside bomb killed two soldiers in Daraa on Monday.\n"
        "Since early June 2019, monitors have recorded more than 900 bombings in Daraa.",
        published=date(2021, 8, 19),
    )
    [event] = x.events
    assert event.date.start == event.date.end == date(2021, 8, 16)


@pytest.mark.parametrize(
    "text",
    [
        "On 4 May 2020, 5 rebels were killed, injured or captured during an army sweep near Homs.",
        "On 4 May 2020, troops killed or wounded a total of 6 rebels in clashes near Homs.",
        "On 4 May 2020, eight soldiers were killed and wounded in an ambush near Homs.",
    ],
)
def test_one_figure_for_dead_and_wounded_is_at_most_that_many_dead(text):
    x = _run(text, published=date(2020, 5, 4))
    [c] = x.claims
    assert (c.killed_or_injured, c.qualifier) == ("killed", "at_most")
    assert any(ev.rule.startswith("claims.mixed_figure@") for ev in c.evidence)
    [event] = x.events
    assert (event.fatalities, event.fatalities_low, event.fatalities_high) == (0, 0, c.count)


def test_strikes_told_just_before_a_battle_are_its_air_support():
    x = _run(
        "Warplanes struck rebel positions near Palmyra in Homs on Monday.\n"
        "Clashes continued there between the army and the rebels, and 7 members of the Syrian army were "
        "killed, while 5 members of ISIS were killed."
    )
    [event] = [e for e in x.events if e.fatalities]
    assert (event.event_type, event.fatalities) == ("Battles", 12)
    assert not [e for e in x.events if e.event_type == "Explosions/Remote violence"]
    assert any(ev.rule.startswith("events.air_support@") for ev in event.evidence)


def test_a_body_found_is_a_death():
    x = _run("Residents found the body of a young shepherd with gunshot wounds near Homs on Monday.")
    [c] = x.claims
    assert (c.count, c.killed_or_injured) == (1, "killed")


def test_one_person_on_another_day_is_another_claim():
    x = _run(
        "A farmer was killed by gunmen near Hama.\nOn Monday, monitors documented the death of a farmer in Homs.",
        published=date(2025, 3, 12),
    )
    assert len([c for c in x.claims if c.count == 1]) == 2


def test_a_person_and_a_relative_are_two():
    x = _run("The blast killed a shepherd and his son near Hama on Monday.")
    [c] = x.claims
    assert c.count == 2


def test_a_repeated_figure_keeps_the_scope_of_its_first_saying():
    x = _run(
        "Monitors documented the death of six gunmen in a raid near Raqqa on Monday.\n"
        "During the security campaign, clashes broke out, which resulted in the death of the six gunmen."
    )
    [c] = [c for c in x.claims if c.count == 6]
    assert c.scope == "incident"


def test_a_misspelt_injury_is_still_an_injury():
    x = _run("Three civilians were killed while 11 others were injuried in shelling on Hama on Monday.")
    assert {(c.count, c.killed_or_injured) for c in x.claims} == {(3, "killed"), (11, "injured")}


def test_an_old_mine_that_kills_soldiers_on_patrol_is_this_wars_weapon():
    x = _run(
        "An old landmine exploded under a patrol of regime soldiers near Palmyra in Homs on Monday. "
        "The explosion killed three regime soldiers."
    )
    [event] = [e for e in x.events if e.fatalities]
    assert (event.sub_event_type, event.fatalities) == ("Remote explosive/landmine/IED", 3)
    assert any(ev.rule.startswith("events.armed_remnant@") for ev in event.evidence)


def test_a_person_of_some_group_who_died_of_wounds_is_a_death():
    x = _run("A former member of the local council died of his wounds in Hama on Monday.")
    [c] = x.claims
    assert (c.count, c.killed_or_injured) == (1, "killed")


def test_the_same_figure_on_days_that_do_not_meet_is_two_events():
    x = _run(
        "Gunmen shot dead a refugee in the camp in Hasakah.\n"
        "On March 1, guards found the body of a refugee in the same camp in Hasakah.",
        published=date(2025, 3, 12),
    )
    assert sorted(e.date.start for e in x.events if e.fatalities == 1) == [date(2025, 3, 1), date(2025, 3, 6)]


@pytest.mark.parametrize(
    ("sentence", "sent_to_model"),
    [
        ("Shelling killed two people near Jabal on Monday, a monitor said.", False),  # a lone unknown word
        ("Russian-backed forces shelled the village, killing two Syrian farmers.", False),  # people words
        ("Fighters of the Northern Falcons Brigade attacked the village.", True),  # a name of several words
        ("Clashes broke out between the army and the Lions of Unity.", True),  # "of" inside a name
    ],
)
def test_the_model_reads_only_sentences_it_can_add_to(sentence, sent_to_model):
    from vigil.extract import ner
    from vigil.model import Sentence, Span

    s = Sentence(index=0, span=Span(doc_id="d", start=0, end=len(sentence)))
    assert ner._unexplained_name(sentence, s, [], ()) is sent_to_model
