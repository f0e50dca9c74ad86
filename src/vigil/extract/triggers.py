"""Event triggers: the words that say an event happened, typed into ACLED's 6 event types and 25
sub-event types, with ACLED's precedence when several describe one event.

A trigger is a pattern plus the (type, sub-type) it stands for; some are typed by what they hit
("opened fire on soldiers" is a clash, "on a civilian car" an attack, "on demonstrators" excessive
force) or by who acts ("took control of" is the government regaining territory when state forces
do it, a non-state actor's gain otherwise). `classify` reads those refinements; `blocked` says
when the trigger is denied, threatened, hypothetical, negated or only condemned, so not an event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VAC = "Violence against civilians"
BATTLES = "Battles"
EXPLOSIONS = "Explosions/Remote violence"
PROTESTS = "Protests"
RIOTS = "Riots"
SD = "Strategic developments"

GOV_REGAINS = "Government regains territory"
NSA_OVERTAKES = "Non-state actor overtakes territory"
CLASH = "Armed clash"
EXCESSIVE = "Excessive force against protesters"
INTERVENTION = "Protest with intervention"
PEACEFUL = "Peaceful protest"
VIOLENT_DEMO = "Violent demonstration"
MOB = "Mob violence"
CHEMICAL = "Chemical weapon"
AIR = "Air/drone strike"
SUICIDE = "Suicide bomb"
SHELLING = "Shelling/artillery/missile attack"
IED = "Remote explosive/landmine/IED"
GRENADE = "Grenade"
SEXUAL = "Sexual violence"
ATTACK = "Attack"
ABDUCTION = "Abduction/forced disappearance"
AGREEMENT = "Agreement"
ARRESTS = "Arrests"
CHANGE = "Change to group/activity"
DISRUPTED = "Disrupted weapons use"
HQ = "Headquarters or base established"
LOOTING = "Looting/property destruction"
TRANSFER = "Non-violent transfer of territory"
OTHER = "Other"

# Which sub-type wins when one event is told with several (ACLED: concurrent tactics are one event of
# the higher type; a battle with air support is a battle; an abduction ending in a killing is an attack).
RANK = {
    SUICIDE: 100,
    CHEMICAL: 99,
    GOV_REGAINS: 95,
    NSA_OVERTAKES: 95,
    CLASH: 90,
    AIR: 80,
    SHELLING: 78,
    IED: 76,
    GRENADE: 74,
    EXCESSIVE: 73,
    VIOLENT_DEMO: 72,
    INTERVENTION: 71,
    SEXUAL: 69,
    ATTACK: 68,
    ABDUCTION: 67,
    MOB: 65,
    PEACEFUL: 60,
    LOOTING: 40,
    DISRUPTED: 39,
    ARRESTS: 38,
    HQ: 37,
    AGREEMENT: 36,
    TRANSFER: 35,
    CHANGE: 34,
    OTHER: 30,
}
TYPE_OF = {
    GOV_REGAINS: BATTLES,
    NSA_OVERTAKES: BATTLES,
    CLASH: BATTLES,
    EXCESSIVE: PROTESTS,
    INTERVENTION: PROTESTS,
    PEACEFUL: PROTESTS,
    VIOLENT_DEMO: RIOTS,
    MOB: RIOTS,
    CHEMICAL: EXPLOSIONS,
    AIR: EXPLOSIONS,
    SUICIDE: EXPLOSIONS,
    SHELLING: EXPLOSIONS,
    IED: EXPLOSIONS,
    GRENADE: EXPLOSIONS,
    SEXUAL: VAC,
    ATTACK: VAC,
    ABDUCTION: VAC,
    AGREEMENT: SD,
    ARRESTS: SD,
    CHANGE: SD,
    DISRUPTED: SD,
    HQ: SD,
    LOOTING: SD,
    TRANSFER: SD,
    OTHER: SD,
}
FAMILY = {
    VAC: "violence",
    BATTLES: "violence",
    EXPLOSIONS: "violence",
    RIOTS: "unrest",
    PROTESTS: "unrest",
    SD: "other",
}


@dataclass(frozen=True, kw_only=True)
class Trigger:
    """A pattern and the sub-event type it stands for; `refine` names the reader that may retype it."""

    rule: str
    pattern: re.Pattern[str]
    sub_event_type: str
    refine: str = ""  # "" | "target" | "territory" | "protest" | "riot" | "clash" | "arrest"

    @property
    def event_type(self) -> str:
        return TYPE_OF[self.sub_event_type]


def _t(rule: str, pattern: str, sub: str, refine: str = "", flags: int = re.I) -> Trigger:
    return Trigger(rule=rule, pattern=re.compile(pattern, flags), sub_event_type=sub, refine=refine)


_N = r"(?:\w+[\s-]+){0,3}?"  # up to three words between a verb and its noun
_BUILDINGS = (
    r"(?:houses?|homes?|shops?|stores?|buildings?|propert(?:y|ies)|cars?|vehicles?|crops?|fields?|farms?|trees?|"
    r"olive\s+trees|lands?|mosques?|churche?s?|schools?|offices?|banks?|dormitor(?:y|ies)|factor(?:y|ies)|"
    r"shelters?|tents?|structures?|greenhouses?|residences?|businesses|markets?|warehouses?|hotels?|plants?)"
)

# In rank order inside each group; `events` keeps the best of overlapping matches.
TRIGGERS: tuple[Trigger, ...] = (
    # -- explosions and remote violence
    _t(
        "triggers.chemical@1",
        r"\b(?:chemical\s+(?:weapons?|attacks?|agents?|munitions?|strikes?)|sarin|chlorine\s+(?:gas|attacks?|barrels?)|"
        r"toxic\s+gas\s+attacks?|nerve\s+agents?)\b",
        CHEMICAL,
    ),
    _t(
        "triggers.suicide@1",
        r"\b(?:suicide[\s-]+(?:bomb(?:er|ers|ing|ings|s)?|attacks?|attackers?|vests?|belts?|car\s+bombs?|"
        r"truck\s+bombs?|bombers?)|blew\s+(?:himself|herself|themselves)\s+up|explosive\s+(?:vests?|belts?)|"
        r"detonated\s+(?:his|her|their)\s+(?:explosive\s+)?(?:vests?|belts?)|self-detonat\w*)\b",
        SUICIDE,
    ),
    _t(
        "triggers.air@1",
        r"\b(?:air[\s-]?strikes?|airstrikes?|air[\s-]raids?|aerial\s+(?:bombardment|attacks?|strikes?|bombing|raids?)|"
        r"drone\s+(?:strikes?|attacks?)|(?:armed|unmanned|kamikaze|suicide|combat)\s+drones?|"
        r"(?:warplanes?|war\s+planes|fighter\s+jets?|jets|(?:military\s+)?aircrafts?|helicopters?|gunships?|"
        r"air\s+force|bombers|drones?)\s+(?:\w+\s+){0,2}?(?:struck|bombed|targeted|hit|strafed|shelled|pounded|raided|"
        r"dropped|attacked|carried\s+out|launched|executed|fired)|barrel\s+bombs?|bombed\s+from\s+the\s+air|"
        r"(?:dropping|dropped)\s+(?:\w+\s+)?bombs)\b",
        AIR,
    ),
    _t(
        "triggers.shelling@1",
        r"\b(?:shell(?:ing|ed|s)|artillery|mortars?|katyushas?|projectiles?|"
        r"(?:rockets?|missiles?)\s+(?:\w+\s+){0,2}?(?:fire|fired|attacks?|strikes?|fell|landed|hit|struck|"
        r"launched|barrage|shelling|impacted|exploded)|"
        r"(?:fired|launched|lobbed)\s+(?:\w+\s+){0,5}?(?:rockets?|missiles?|shells|rounds|mortars?|projectiles?)|"
        r"(?:ballistic|guided|cruise|anti-tank|surface-to-surface)\s+missiles?|rocket\s+(?:fire|attacks?)|"
        r"bombard(?:ed|ment|ing|s)|pounded|heavy\s+(?:and\s+medium\s+)?weapons|medium\s+weapons|"
        r"(?:tank|cannon)\s+(?:fire|shells?|rounds?)|\d+(?:\.\d+)?\s*mm\b|caliber)\b",
        SHELLING,
    ),
    _t(
        "triggers.ied@1",
        r"\b(?:IEDs?|improvised\s+explosive(?:\s+devices?)?|roadside\s+(?:bombs?|explosives?)|car[\s-]bombs?|"
        r"(?:booby[\s-]?trapped|rigged)\s+(?:\w+\s+)?(?:cars?|vehicles?|motorcycles?|houses?|buildings?)|"
        r"vehicle[\s-]borne|VBIEDs?|motorcycle[\s-]bombs?|sticky\s+bombs?|magnetic\s+bombs?|land\s*mines?|"
        r"(?:a|an|the|old)\s+mine\b|mine\s+(?:explosion|blast|exploded|detonated|went\s+off)|"
        r"explosive\s+devices?|booby[\s-]?traps?|booby[\s-]?trapped|"
        r"bombs?\s+(?:\w+\s+){0,3}?(?:exploded|detonated|went\s+off)|remote(?:ly)?[\s-](?:detonated|controlled|explosive)|"
        r"planted\s+(?:a|an|the)\s+(?:\w+\s+)?(?:bomb|explosive|device)|detonat(?:ed|ing)\s+(?:a|an|the|three|two|several)\b|"
        r"(?:explosion|blast)\s+of\s+(?:a|an|the)\s+(?:\w+\s+){0,2}?(?:bomb|device|explosives?|IED|mine))\b",
        IED,
    ),
    _t(
        "triggers.grenade@1",
        r"(?<!rocket-propelled\s)(?<!rocket\spropelled\s)(?<!RPG\s)(?<!stun\s)\b(?:hand[\s-])?grenades?\b"
        r"(?!\s+launchers?)",
        GRENADE,
    ),
    # -- battles
    _t(
        "triggers.territory@1",
        r"\b(?:(?:took|take|taken|taking|seized|seize|seizing|gained|gain|gaining|regained|regain|regaining|"
        r"retook|retake|recaptured|recapture|captured|assumed|wrested|restored|imposed|establish(?:ed)?)\s+"
        r"(?:full\s+|complete\s+|total\s+)?control\s+(?:of|over)|"
        r"(?:captured|seized|recaptured|retook|overran|liberated|took\s+over)\s+(?:the\s+)?(?:(?:strategic|key|\w+)\s+)?"
        r"(?:town|towns|village|villages|city|area|areas|positions?|hills?|district|neighbou?rhoods?|checkpoints?|"
        r"bases?|posts?|sites?|outposts?|mountain|heights|HQs?|headquarters)|"
        r"made\s+(?:\w+\s+)?(?:territorial\s+)?(?:gains|advances)|advance\s+and\s+control|"
        r"under\s+(?:their|its)\s+control|fell\s+to)\b",
        NSA_OVERTAKES,
        "territory",
    ),
    _t(
        "triggers.clash@1",
        r"\b(?:clash(?:es|ed|ing)?|fighting|fought|firefights?|gunfights?|gun\s*battles?|fire\s*fights?|"
        r"exchanged?\s+(?:\w+\s+)?(?:fire|gunfire|artillery)|exchange\s+of\s+(?:\w+\s+)?(?:fire|gunfire)|"
        r"battles?|ambush(?:ed|es|ing)?|skirmish(?:es)?|armed\s+confrontations?|confrontations|"
        r"(?:thwarted|repelled|repulsed|foiled|halted|countered)\s+(?:an?\s+|the\s+)?(?:\w+[\s-]+){0,3}?"
        r"(?:attacks?|incursions?|infiltrations?|advances?|offensives?|assaults?)|"
        r"infiltration\s+(?:attempt|operation)s?|incursions?|offensive|responded\s+to\s+the\s+fire|"
        r"(?:armed\s+)?fight\s+(?:broke\s+out|ensued)|exchanging\s+fire)\b",
        CLASH,
        "clash",
    ),
    # -- violence against civilians
    _t(
        "triggers.sexual@1",
        r"\b(?:raped|rape|rapes|raping|gang-?raped|sexual(?:ly)?\s+(?:violence|assault(?:ed)?|abused?|abuse))\b",
        SEXUAL,
    ),
    _t(
        "triggers.attack_killing@1",
        r"\b(?:massacres?|massacred|pogrom|mass\s+killings?|killing\s+spree|(?:field\s+)?executions?|executed|"
        r"execution-style|shot\s+dead|gunned\s+down|murder(?:ed|s)?|assassinat(?:ed|ion|ions|e|ing)|"
        r"butchered|slaughtered|lynch(?:ed|ing)|stabb(?:ed|ing)|beaten\s+to\s+death|tortured(?:\s+to\s+death)?|"
        r"torture|burned\s+alive|liquidated|drive-by\s+shooting|sectarian\s+killings?|targeted\s+killings?|"
        r"violence\s+against\s+(?:an?\s+)?(?:\w+\s+){0,2}(?:civilians|neighbou?rhoods?|community|villages?|"
        r"Alawites|Druze|Christians|Kurds|residents))\b",
        ATTACK,
    ),
    _t(
        "triggers.abduction@1",
        r"\b(?:abduct(?:ed|ion|ions|ing|s)?|kidnapp?(?:ed|ing|ings|s)?|forcibly\s+disappear(?:ed|ing)?|"
        r"forced\s+disappearances?|(?:took|taken|taking)\s+(?:\w+\s+){0,3}?to\s+an\s+unknown\s+(?:destination|location)|"
        r"held\s+hostage|taken\s+hostage|hostage-taking)\b",
        ABDUCTION,
    ),
    _t(
        "triggers.assault@1",
        r"\b(?:assault(?:ed|ing)|beat(?:en|ing)?\s+(?:and\s+)?(?:up\s+)?(?:a|an|the|two|three|several|him|her|them|"
        r"\w+\s+(?:man|men|woman|women|boy|girl|Palestinians?))|attacked\s+(?:and\s+)?(?:\w+\s+){0,3}?"
        r"(?:civilians?|residents?|man|woman|men|women|boys?|girls?|child(?:ren)?|farmers?|shepherds?|"
        r"fishermen|worshippers|journalists?|activists?|families|family|villagers|passengers|employees|staff|"
        r"house|home|houses|homes))\b",
        ATTACK,
        "target",
    ),
    # -- fire aimed at someone: typed by the target
    _t(
        "triggers.fire_at@1",
        r"\b(?:opened\s+fire|open\s+fire|opening\s+fire|fired\s+(?:\w+\s+){0,6}?(?:at|on|upon|towards|into)|"
        r"shot\s+(?:at\s+)?(?:and\s+(?:killed|injured|wounded)\s+)?(?:a|an|the|two|three|\d+|him|her|them)\b|"
        r"shooting\s+(?:at|on)|sniper\s+(?:fire|shots?)|sniped|(?:targeted|attacked|raided|stormed)\b|"
        r"(?:armed\s+)?attack(?:s)?\s+(?:on|against|targeting))",
        ATTACK,
        "target",
    ),
    # -- riots and protests
    _t(
        "triggers.riot@1",
        r"\b(?:riot(?:s|ed|ing)?|rioters?|mobs?|molotov(?:\s+cocktails?)?|(?:hurled|threw|throwing|pelted|hurling)\s+"
        r"(?:\w+\s+){0,2}?(?:stones|rocks|bricks|firecrackers|objects|fireworks|bottles|molotov)|stone-throwing|"
        r"(?:burn(?:ed|t|ing)?|set\s+(?:fire\s+to|alight))\s+(?:\w+\s+)?(?:tires|tyres)|burning\s+(?:tires|tyres))\b",
        MOB,
        "riot",
    ),
    _t(
        "triggers.protest@1",
        r"\b(?:protest(?:s|ed|ing|ers|ors)?|demonstrat(?:ion|ions|ors|ed|ing|e|ive)|rall(?:y|ies|ied)|sit-ins?|"
        r"(?-i:march(?:ed|es|ing)?)|vigils?|took\s+to\s+the\s+streets?|strikes?\s+(?:by|of)\s+\w+\s+workers|"
        r"(?:went|go|going)\s+on\s+(?:a\s+)?(?:hunger\s+)?strike|(?:hunger|general)\s+strikes?|staged\s+a\s+strike|"
        r"gathered\s+(?:outside|in|at|near|on|to|around|in\s+front\s+of)|gathering\s+(?:outside|in\s+front\s+of)|"
        r"chant(?:ed|ing)\s+(?:\w+\s+)?slogans|(?:held|lifted|raised)\s+(?:up\s+)?(?:\w+\s+)?(?:banners|placards|signs)|"
        r"blocked\s+(?:off\s+)?(?:the\s+|a\s+|several\s+|main\s+)*(?:\w+[\s-]+){0,3}?(?:roads?|streets?|highways?|"
        r"intersections?|roundabouts?|bridges?|entrances?|junctions?|triangle)|(?:car|motorcycle)\s+(?:demonstration|"
        r"convoy|march))\b",
        PEACEFUL,
        "protest",
    ),
    # -- strategic developments
    _t(
        "triggers.looting@1",
        r"\b(?:loot(?:ed|ing|s)?|plunder(?:ed|ing)?|pillag(?:ed|ing)|ransack(?:ed|ing)|demolish(?:ed|ing|es)?|"
        r"demolitions?|razed?|razing|bulldoz(?:ed|ing)|arson|torched|vandali[sz](?:ed|ing|m)|"
        r"(?:set|sets|setting)\s+(?:fire\s+to|ablaze|on\s+fire)|set\s+(?:\w+\s+){1,4}?on\s+fire|"
        rf"(?:burn(?:ed|t|ing)?|destroy(?:ed|ing)?)\s+(?:down\s+)?(?:\w+[\s-]+){{0,3}}?{_BUILDINGS}|"
        rf"(?:confiscat(?:ed|ing|ion)|seiz(?:ed|ing|ure)\s+(?:of\s+)?)(?:\w+[\s-]+){{0,4}}?{_BUILDINGS}|"
        r"land\s+seizure|uproot(?:ed|ing)|cut\s+down\s+(?:\w+\s+){0,4}?trees)\b",
        LOOTING,
        "riot",
    ),
    _t(
        "triggers.disrupted@1",
        r"\b(?:defus(?:ed|ing|al)|dismantl(?:ed|ing)\s+(?:\w+\s+){0,3}?(?:bombs?|IEDs?|devices?|explosives?|mines?)|"
        r"intercept(?:ed|ing|ion)\s+(?:\w+[\s-]+){0,5}?(?:missiles?|drones?|rockets?|projectiles?)|"
        r"shot\s+down\s+(?:\w+[\s-]+){0,4}?(?:drones?|aircraft|planes?|helicopters?|missiles?)|"
        r"(?:seized|confiscated|found|discovered|uncovered)\s+(?:\w+[\s,.-]+){0,8}?(?:weapons|ammunition|rifles|"
        r"explosives|arms|munitions|grenades|RPGs?|rockets)|weapons?\s+(?:seizure|cache)|arms\s+(?:cache|depot)|"
        r"controlled\s+explosion|(?:foiled|thwarted)\s+(?:an?\s+)?(?:\w+\s+)?(?:bomb(?:ing)?|car\s+bomb|suicide)\s*\w*\s+"
        r"(?:attack|plot))\b",
        DISRUPTED,
    ),
    _t(
        "triggers.arrest@1",
        r"\b(?:arrest(?:ed|s|ing)?|detain(?:ed|ing|s)?|detention|rounded\s+up|taken\s+into\s+custody|"
        r"apprehended|captured\s+(?:\w+\s+){0,2}?(?:members?|fighters?|militants?|suspects?|people|men|persons))\b",
        ARRESTS,
        "arrest",
    ),
    _t(
        "triggers.base@1",
        r"\b(?:establish(?:ed|ing|es)?\s+(?:a|an|new|two|three)\s+(?:new\s+)?(?:military\s+)?(?:bases?|headquarters|HQs?|"
        r"outposts?|observation\s+posts?|military\s+posts?|posts?|camps?)|set\s+up\s+(?:a|an|new)\s+(?:new\s+)?"
        r"(?:military\s+)?(?:bases?|headquarters|outposts?)|into\s+(?:a\s+)?military\s+(?:barracks|bases?|sites?|"
        r"positions?|headquarters))\b",
        HQ,
    ),
    _t(
        "triggers.agreement@1",
        r"\b(?:(?:reached|signed|brokered|agreed|announced|declared|concluded|struck|mediated)\s+(?:\w+\s+){0,4}?"
        r"(?:agreement|deal|accord|truce|ceasefire|cease-fire)|(?:agreement|deal|truce|ceasefire|cease-fire)\s+"
        r"(?:was|has\s+been|had\s+been|were)\s+(?:reached|signed|brokered|agreed|announced)|"
        r"prisoner\s+(?:exchange|swap)|(?:truce|peace)\s+agreement)\b",
        AGREEMENT,
    ),
    _t(
        "triggers.transfer@1",
        r"\b(?:handed\s+over\s+(?:control\s+of\s+)?(?:the\s+)?(?:town|city|area|positions?|checkpoints?|base|"
        r"territory|region|neighbou?rhood)|(?:peacefully|without\s+a\s+fight)\s+(?:took\s+over|entered))\b",
        TRANSFER,
    ),
    _t(
        "triggers.change@1",
        r"\b(?:reinforcements|fortifications?|fortified|curfews?|lockdowns?|"
        r"(?:imposed|announced|declared|instituted|extended|enforc\w+|introduced)\s+(?:a|an|the)?\s*(?:\w+[\s-]+){0,4}?"
        r"(?:curfew|ban|lockdown|state\s+of\s+emergency|restrictions|closure)|security\s+measures|"
        r"(?:ban|bans|banned)\s+(?:on\s+)?(?:all\s+)?(?:forms\s+of\s+)?(?:marches|protests|demonstrations|gatherings|"
        r"entries)|defect(?:ed|ion|ions)|recruit(?:ment|ing)\s+(?:campaign|drive)|"
        r"launch(?:ed|ing|es)?\s+(?:a\s+|an\s+)?(?:new\s+)?(?:[\w-]+\s+){0,2}(?:operation|campaign)|"
        r"halted\s+(?:\w+\s+)?operations|suspended\s+(?:\w+\s+)?operations|(?:second|new|third)\s+phase\s+of|"
        r"besieged|under\s+siege|imposed\s+a\s+siege|military\s+build-?up|"
        r"set\s+up\s+(?:\w+\s+){0,2}?checkpoints?|closed\s+(?:all\s+)?(?:the\s+)?(?:\w+\s+)?(?:border|crossings?|roads))\b",
        CHANGE,
    ),
    _t(
        "triggers.remnants@2",
        r"\b(?:(?:explosive\s+)?remnants\s+of\s+(?:the\s+)?war|unexploded\s+(?:\w+\s+)?(?:ordnance|shells?|rockets?|"
        r"munitions?|bombs?|bomblets?|devices?|mines?|missiles?|projectiles?|grenades?)|old\s+(?:land\s*)?mines?|"
        r"old\s+(?:war\s+)?ordnance|(?:war|wartime)\s+ordnance|leftover\s+(?:\w+\s+)?"
        r"(?:ordnance|mines|explosives|munitions)|war\s+remnants|laid\s+during\s+the\s+(?:\w+[\s-]+){0,3}?war|"
        r"(?:left\s+over|left\s+behind)\s+(?:from|by)\s+(?:the\s+)?(?:[\w’'-]+\s+){0,2}?(?:war|conflict|fighting|"
        r"battles|reign|rule|occupation))\b",
        OTHER,
    ),
)

# ACLED notes sometimes open with the sub-type ("Property destruction: On 6 May ..."): read it as said.
NOTE_LABELS = {
    "property destruction": LOOTING,
    "looting": LOOTING,
    "land seizure": LOOTING,
    "looting/property destruction": LOOTING,
    "arrests": ARRESTS,
    "arrest": ARRESTS,
    "security measures": CHANGE,
    "change to group/activity": CHANGE,
    "defusal": DISRUPTED,
    "weapons seizure": DISRUPTED,
    "disrupted weapons use": DISRUPTED,
    "explosive remnants of war": OTHER,
    "other": OTHER,
    "headquarters or base established": HQ,
    "agreement": AGREEMENT,
    "non-violent transfer of territory": TRANSFER,
}
NOTE_LABEL = re.compile(r"^\s*([A-Z][A-Za-z /-]{3,40}):\s+(?=\S)")

# --- refinements --------------------------------------------------------------------------------

_ARMED_TARGET = re.compile(
    r"\b(?:soldiers?|troops|forces|force|army|military|checkpoints?|positions?|posts?|patrols?|convoys?|bases?|"
    r"barracks|militants?|fighters?|gunmen|members?\s+of\s+(?:the\s+)?(?:\w+\s+){0,3}?(?:forces|army|police|"
    r"brigade|militia|faction|group)|police(?:men)?|officers?|guards?|personnel|(?:military|army|police)\s+"
    r"(?:vehicles?|trucks?|camps?|sites?)|armou?red\s+vehicles?|elements|units?|brigades?|battalions?|militias?|"
    r"militiamen|rebels|insurgents|jihadists?|factions?|cells?|hideouts?|headquarters|HQs?|fronts?|frontlines?|"
    r"front\s+lines?|reconnaissance|tanks?|ISIS|IS|PKK|Houthis?|SDF|HTS|commanders?|leaders?\s+of)\b",
)
_UNREST_TARGET = re.compile(
    r"\b(?:protesters|protestors|demonstrators|demonstration|protests?|marchers|rally|sit-in)\b", re.I
)
_CIVILIAN_TARGET = re.compile(
    r"\b(?:civilians?|residents?|man|men|woman|women|boys?|girls?|child(?:ren)?|famil(?:y|ies)|farmers?|shepherds?|"
    r"fishermen|worshippers|journalists?|activists?|villagers|passengers|students?|employees|staff|workers?|"
    r"doctors?|nurses?|teachers?|citizens?|people|persons?|houses?|homes?|cars?|civilian\s+vehicles?|"
    r"(?:a|the)\s+vehicle\s+(?:carrying|of)|villages?|neighbou?rhoods?|markets?|hospitals?|schools?|mosques?|"
    r"churche?s?|camps?|shops?|stores?|banks?|offices?|Palestinians?|Alawites?|Druze|Christians?|Kurds?|"
    r"refugees|migrants|prisoners?|detainees?|driver|mayor|imam|sheikh|engineer|merchant|trader|vendor)\b",
    re.I,
)
_PROPERTY = re.compile(
    r"\b(?:houses?|homes?|cars?|shops?|stores?|banks?|offices?|markets?|buildings?|propert(?:y|ies)|businesses)\b",
    re.I,
)
_PERSON = re.compile(
    r"\b(?:civilians?|residents?|man|men|woman|women|boys?|girls?|child(?:ren)?|people|persons?|famil(?:y|ies)|"
    r"farmers?|workers?|staff|employees|worshippers|passengers)\b",
    re.I,
)


def _property_only(target: str) -> bool:
    """ "attacked Alawite shops and homes": property, nobody named as hit."""
    head = _CLAUSE_END.split(target, maxsplit=1)[0][:60]
    return bool(_PROPERTY.search(head)) and not _PERSON.search(head)


_INFRASTRUCTURE = re.compile(
    r"\b(?:(?:power|electricity|electric)\s+(?:grid|lines?|stations?|plants?|network)|grid|pipelines?|"
    r"transmission\s+(?:towers?|lines?)|water\s+(?:stations?|plants?|pipes?)|oil\s+(?:wells?|fields?)|"
    r"gas\s+(?:stations?|plants?|pipelines?)|telecommunications?\s+towers?|infrastructure)\b",
    re.I,
)
_RIOTERS = re.compile(
    r"\b(?:rioters?|mobs?|protesters|protestors|demonstrators|youths?|young\s+men|crowds?|settlers|"
    r"vendors|students|supporters|hasidim|haredi)\b",
    re.I,
)
_DEMONSTRATION = re.compile(
    r"\b(?:protest\w*|demonstrat\w*|(?-i:march(?:ed|es|ing)?)|rall(?:y|ies)|sit-ins?|took\s+to\s+the\s+streets?|"
    r"blocked\s+(?:\w+\s+){0,4}?(?:roads?|streets?|highways?|intersections?|roundabouts?|bridges?)|"
    r"cut\s+off\s+(?:the\s+)?(?:roads?|streets?))",
    re.I,
)
_EXCESSIVE_FORCE = re.compile(
    r"\b(?:shot\s+dead|live\s+(?:fire|ammunition|rounds|bullets)|killed|killing|opened\s+fire|shot|shootings?|"
    r"gunfire|lethal\s+force)\b(?!\s+(?:into|in)\s+the\s+air)",
    re.I,
)
_INTERVENTION = re.compile(
    r"\b(?:dispers(?:ed|e|ing|al)|tear[\s-]?gas|arrest(?:ed|s|ing)?|detain(?:ed|ing)?|crack(?:ing|ed)?\s+down|"
    r"crackdown|beat(?:en|ing)?|intervened|intervention|prevent(?:ed|ing)|stopped|rubber(?:[\s-]coated)?\s+bullets|"
    r"water\s+cannons?|by\s+force|suppress(?:ed|ing)|forced\s+(?:them\s+)?to\s+disperse|fired\s+(?:shots\s+)?"
    r"(?:into\s+the\s+air|in\s+the\s+air)|warning\s+shots|sound\s+bombs|stun\s+grenades|pepper\s+spray|"
    r"removed|took\s+down|did\s+not\s+allow|blocked\s+the\s+(?:march|protesters|demonstrators)|clashed\s+with)\b",
    re.I,
)
# What demonstrators do that makes a protest a riot (ACLED: violence or destruction by the demonstrators).
_VIOLENT_ACT = re.compile(
    r"\b(?:riot\w*|molotov|hurl(?:ed|ing)|threw\s+(?:stones|rocks|bricks|objects|bottles|firecrackers)|"
    r"throwing\s+(?:stones|rocks)|pelted|stone-throwing|storm(?:ed|ing)\s+(?:the|his|her|their|a|an)\b|"
    r"(?:set|sets|setting)\s+(?:\w+\s+){0,3}?(?:fire|alight|ablaze)|burn(?:ed|t|ing)\s+(?:\w+\s+)?(?:tires|tyres|"
    r"material|cars?|vehicles?|buildings?|offices?|banks?)|burning\s+(?:tires|tyres|material)|torch(?:ed|ing)|"
    r"vandali[sz]\w*|smash(?:ed|ing)|broke\s+into|attempted\s+to\s+(?:break|storm))\b",
    re.I,
)
_STATE_ACTOR = re.compile(
    r"\b(?:government|regime|army|military|security\s+forces|police|troops|soldiers|pro-Hadi|Houthi|Iraqi\s+forces|"
    r"Turkish|Israeli|Syrian\s+forces|state\s+forces|Peshmerga|PMF|Lebanese\s+army)\b",
    re.I,
)
_FIRE_EXCHANGE = re.compile(
    r"\b(?:exchang\w+\s+(?:\w+\s+)?fire|gunfire|shooting|shot|fired|weapons|rockets?|armed)\b", re.I
)


def classify(trigger: Trigger, sentence: str, start: int, end: int, actor_types: ActorTypes) -> str | None:
    """The sub-event type this trigger stands for in its sentence, or None when it is no event here."""
    refine = trigger.refine
    sub = trigger.sub_event_type
    before = sentence[max(0, start - 120) : start]
    after = sentence[end : end + 100]
    clause_after = _CLAUSE_END.split(after, maxsplit=1)[0]
    if refine == "target":
        return _by_target(trigger, sentence, start, end, clause_after, before, actor_types)
    if refine == "territory":
        return GOV_REGAINS if actor_types.state_before(start) else NSA_OVERTAKES
    if refine == "protest":
        window = sentence[max(0, start - 100) : end + 160]
        if _RIOTERS.search(window) and re.search(r"\brioters?\b", window, re.I):
            return VIOLENT_DEMO
        if _VIOLENT_ACT.search(sentence):
            return VIOLENT_DEMO
        return protest_subtype(window)
    if refine == "riot":
        window = sentence
        crowd = re.search(
            r"\b(?:rioters?|mobs?|protesters|demonstrators)\b", before + sentence[start:end], re.I
        )
        if sub == LOOTING and not crowd:
            return LOOTING
        return VIOLENT_DEMO if _DEMONSTRATION.search(window) else MOB
    if refine == "clash":
        participants = before[-100:] + clause_after
        if _RIOTERS.search(participants) and not _FIRE_EXCHANGE.search(sentence):
            return VIOLENT_DEMO if _DEMONSTRATION.search(sentence) else MOB
        return sub
    return sub


_CLAUSE_END = re.compile(
    r"[;.]|,\s+(?:and\s+|while\s+|as\s+|but\s+|after\s+|before\s+|killing|injuring|wounding)|\s+(?:and|but|while)\s+(?=\w+\s+(?:was|were|had|has)\b)"
)


def protest_subtype(window: str) -> str:
    if _EXCESSIVE_FORCE.search(window):
        return EXCESSIVE
    if _INTERVENTION.search(window):
        return INTERVENTION
    return PEACEFUL


def _by_target(
    trigger: Trigger, sentence: str, start: int, end: int, after: str, before: str, actor_types: ActorTypes
) -> str | None:
    target = after[:90]
    if _UNREST_TARGET.search(target):
        return (
            EXCESSIVE
            if re.search(r"fire|shot|shoot|sniper|killed", sentence[start:end], re.I)
            else INTERVENTION
        )
    perpetrator_riots = re.search(
        r"\b(?:rioters?|mobs?|settlers|protesters|demonstrators)\b", before[-60:], re.I
    )
    armed = _ARMED_TARGET.search(target)
    civil = _CIVILIAN_TARGET.search(target)
    if armed and (not civil or armed.start() < civil.start()):
        if perpetrator_riots:
            return MOB
        return CLASH
    if civil:
        if perpetrator_riots:
            return MOB
        word = sentence[start:end].lower()
        if word.startswith(("attack", "raided", "stormed", "targeted")) and _property_only(target):
            return LOOTING  # an attack on shops, homes or cars with nobody hurt: property destruction
        if word.startswith(("raided", "stormed")) and not re.search(
            r"\b(?:house|home|houses|homes)\b", target, re.I
        ):
            return None  # a raid on a town is told by what the forces then did
        return ATTACK
    if trigger.rule == "triggers.assault@1":
        return MOB if perpetrator_riots else ATTACK
    if _INFRASTRUCTURE.search(target):
        return LOOTING  # sabotage: attacks on the power grid, pipelines, towers
    return None


@dataclass(frozen=True, kw_only=True)
class ActorTypes:
    """Where the sentence's actors are and of which type, for the refinements that depend on who acts."""

    spans: tuple[tuple[int, int, str], ...]  # (start, end, actor type), sentence-relative

    def state_before(self, at: int) -> bool:
        """Whether the nearest armed actor before `at` (the subject, usually) is a state's forces."""
        armed = [
            s
            for s in self.spans
            if s[1] <= at and s[2] not in ("identity_group", "civilians", "organisation", "media", "person")
        ]
        if not armed:
            return False
        return max(armed, key=lambda s: s[0])[2] == "state_forces"


# --- what makes a trigger no event ----------------------------------------------------------------

_BLOCKERS = re.compile(
    r"\b(?:condemn\w*|denounc\w*|urg(?:ed|es|ing)|call(?:ed|s|ing)?\s+(?:on|for)|demand\w*|den(?:ied|ies|y|ying)|"
    r"threat(?:en|ened|ens|ening)\s+(?:\w+\s+)?to|warn(?:ed|s|ing)?|would|could|might|(?-i:may)|if|plan(?:s|ned|ning)?\s+to|"
    r"vow(?:ed|s)?\s+to|pledg\w+\s+to|intend\w*\s+to|accountable|prevent\w*|fears?\s+(?:of|that)|rumou?rs?|"
    r"alleged(?:ly)?\s+planned|pushed|ask(?:ed|s)\s+to|refus\w+\s+to|avoid\w*|without|no|not|never|nor|"
    r"unclear\s+(?:if|whether)|ban(?:s|ned)?\s+(?:on\s+)?(?:all\s+)?(?:forms\s+of\s+)?|in\s+case\s+of|"
    r"ahead\s+of|anniversary\s+of|commemorat\w+|memory\s+of|remembrance\s+of|since\s+the\s+(?:start|beginning)\s+of)\b",
    re.I,
)
# Background, not news: "recent demonstrations", "earlier clashes", "the 2011 uprising".
_BACKGROUND = re.compile(
    r"\b(?:recent|earlier|previous|past|prior|last\s+(?:year|month)'s|former|upcoming|planned|future|"
    r"weekly|daily|ongoing|renewed|such|these|those|similar)\s+(?:\w+\s+)?$",
    re.I,
)
# "to attack" is an aim, not an act; "due to attacks" is a cause that happened.
_INFINITIVE = re.compile(
    r"(?<!\bdue)(?<!\baccording)(?<!\bowing)(?<!\bthanks)(?<!\bnext)(?<!\bclose)(?<!\bprior)(?<!\baddition)"
    r"(?<!\bleading)(?<!\bsubjected)(?<!\bexposed)(?<!\bresponse)\s+to\s+$",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[,;:—–(]|\band\b|\bbut\b|\bafter\b|\bwhen\b|\bwhile\b|\bwhich\b|\bwho\b", re.I)


def blocked(sentence: str, at: int, trigger: Trigger) -> bool:
    """A denial, threat, condemnation, negation or hypothetical governs the trigger in its clause."""
    clause_start = 0
    for m in _CLAUSE_BREAK.finditer(sentence, 0, at):
        clause_start = m.end()
    head = sentence[max(clause_start, at - 70) : at]
    if (_BLOCKERS.search(head) or _INFINITIVE.search(head)) and not _blocker_is_harmless(head):
        return True
    if _BACKGROUND.search(sentence[max(0, at - 30) : at]) and trigger.sub_event_type in (
        PEACEFUL,
        MOB,
        CLASH,
    ):
        return True
    condemn = re.search(r"\b(?:condemn\w*|denounc\w*|deplor\w*)\b", sentence[:at], re.I)
    return bool(condemn)


def _blocker_is_harmless(head: str) -> bool:
    """ "no fatalities" is no negation of the event; "was killed in clashes" is no hypothetical."""
    return bool(
        re.search(
            r"\b(?:no|not|without)\s+(?:\w+\s+){0,3}(?:fatalities|casualties|injuries|deaths|reports?|damages?)\b",
            head,
            re.I,
        )
    ) and not re.search(r"\b(?:would|could|might|threat\w*|den\w+|plan\w*|condemn\w*)\b", head, re.I)
