"""Date expressions in news text, turned into day intervals anchored on the publication date.

Each rule is a regular expression plus a reader that turns its match into a
`DateInterval` (ACLED time_precision: 1 a day, 2 within a week, 3 within a
month). Relative expressions ("yesterday", "since Thursday") and yearless dates
need the publication date; without it their dates stay None and only the
precision is kept. Nothing here reads the clock.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from text_to_num import text2num

from vigil.model import DateInterval, Evidence, Mention, Span

RULE_ISO = "timeparse.iso@1"
RULE_DAY = "timeparse.day@1"
RULE_RANGE = "timeparse.range@1"
RULE_SINCE = "timeparse.since@2"  # also "since the start of the unrest in early June 2019"
RULE_UNTIL_NOW = "timeparse.until_now@1"  # "from late March 2019 until today"
RULE_MONTH_PART = "timeparse.month_part@1"
RULE_MONTH = "timeparse.month@1"
RULE_WEEKDAY = "timeparse.weekday@1"
RULE_DEICTIC = "timeparse.deictic@1"
RULE_AGO = "timeparse.ago@1"
RULE_WEEK = "timeparse.week@1"
RULE_WEEKEND = "timeparse.weekend@1"
RULE_RELATIVE_MONTH = "timeparse.relative_month@1"
RULE_PAST_PERIOD = "timeparse.past_period@1"
RULE_DATEPARSER = "timeparse.dateparser@1"

# A yearless date further than this past the publication date is last year's.
FUTURE_SLACK = timedelta(days=7)

# fmt: off
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"]
# fmt: on
_MONTH_FULL = r"\b(?:" + "|".join(_MONTH_NAMES) + r")\b"
# Abbreviations only next to a day number: "Mar" alone is also "Mar Elias".
_MONTH_ANY = (
    r"\b(?:" + "|".join(_MONTH_NAMES) + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?)"
)
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_WD = r"\b(?:" + "|".join(_WEEKDAYS) + r")\b"
_D = r"(?<![\d,.])(?:3[01]|[12]\d|0?[1-9])(?!\d)"
_ORD = r"(?:st|nd|rd|th)?\b"
_YEAR = r"(?<!\d)(?:19|20)\d{2}(?!\d)"
_YEAR_OPT = rf"(?:,?\s+{_YEAR})?"
_THE = r"(?:(?i:the)\s+)?"
_DMY = rf"{_THE}{_D}{_ORD}(?:\s+(?i:of))?\s+{_MONTH_ANY}{_YEAR_OPT}"
_MDY = rf"{_MONTH_ANY}\s+{_THE}{_D}{_ORD}{_YEAR_OPT}"
_DAY = rf"(?:{_WD},?\s+)?(?:{_DMY}|{_MDY})"
_BARE_DAY = rf"{_THE}{_D}{_ORD}"

# fmt: off
_UNITS_1_9 = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# fmt: on
_WORD_COUNT = (
    rf"(?:(?:{'|'.join(_TENS)})(?:[-\s](?:{'|'.join(_UNITS_1_9)}))?"
    rf"|{'|'.join(sorted(_UNITS_1_9 + _TEENS, key=len, reverse=True))})\b"
)
_COUNT = rf"(?:\d{{1,4}}|a\s+couple\s+of|a\s+few|few|several|{_WORD_COUNT}|an?)"

_WEEKDAY_CORE = (
    rf"(?:(?P<mod>(?i:on\s+the\s+night\s+of|this\s+past|early\s+on|late\s+on|on|last|this|early|late|overnight))\s+)?"
    rf"(?P<wd>{_WD})(?:\s+(?i:morning|afternoon|evening|night))?"
)
_PART_CORE = (
    r"(?P<part>(?i:early|mid|late|(?:the\s+)?(?:beginning|start|middle|end)\s+of))"
    rf"[-\s]+(?P<m>{_MONTH_FULL}){_YEAR_OPT}"
)
_PARTS_OF_MONTH = {
    "early": (1, 10),
    "beginning": (1, 10),
    "start": (1, 10),
    "mid": (11, 20),
    "middle": (11, 20),
}


@dataclass(frozen=True, kw_only=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    read: Callable[[re.Match[str], date | None], DateInterval | None]
    # Case-folded words of which the pattern cannot match without one: a text holding none of
    # them skips the pattern (a substring test costs far less than a regex scan of an article).
    needs: tuple[str, ...] = ()


_MONTHS_LOWER = tuple(m.lower() for m in _MONTH_NAMES)
_MONTH_STEMS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True, kw_only=True)
class _DayParts:
    day: int | None
    month: int | None
    year: int | None


_PART_TOKENS = re.compile(rf"(?P<y>{_YEAR})|(?P<m>{_MONTH_ANY})|(?P<d>{_D})")


def _parts(text: str) -> _DayParts:
    """Day, month and year of one written date ("Sunday, June 22", "6th of March 2025", "10")."""
    found: dict[str, int] = {}
    for m in _PART_TOKENS.finditer(text):
        key = m.lastgroup or ""
        value = _month_number(m.group()) if key == "m" else int(m.group())
        found.setdefault(key, value)
    return _DayParts(day=found.get("d"), month=found.get("m"), year=found.get("y"))


def _month_number(token: str) -> int:
    return [n.lower()[:3] for n in _MONTH_NAMES].index(token.rstrip(".").lower()[:3]) + 1


def _precision(start: date, end: date) -> int:
    days = (end - start).days + 1
    return 1 if days <= 1 else 2 if days <= 7 else 3


def _one_day(d: date | None) -> DateInterval:
    return DateInterval(start=d, end=d, precision=1)


def _span(start: date, end: date) -> DateInterval:
    return DateInterval(start=start, end=end, precision=_precision(start, end))


def _resolve(day: int, month: int, year: int | None, pub: date | None) -> date | None:
    """The date of "6 March" (year given or inferred from `pub`); None when nothing anchors it."""
    if year is not None:
        return date(year, month, day)
    date(2000, month, day)  # raises for 31 April; 2000 is a leap year, so 29 February passes
    if pub is None:
        return None
    for y in range(pub.year, pub.year - 8, -1):
        try:
            d = date(y, month, day)
        except ValueError:  # 29 February in a common year
            continue
        if d - pub <= FUTURE_SLACK:
            return d
    raise ValueError(f"no year fits {day}/{month} before {pub}")


def _month_year(month: int, year: int | None, pub: date | None, first_day: int = 1) -> int | None:
    if year is not None or pub is None:
        return year
    return pub.year if date(pub.year, month, first_day) - pub <= FUTURE_SLACK else pub.year - 1


def _month_days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _count(text: str) -> int | None:
    """A small written count ("48", "two", "a"); None for vague ones ("a few", "several")."""
    t = " ".join(text.lower().split())
    if t in ("a", "an"):
        return 1
    if t == "a couple of":
        return 2
    if t in ("a few", "few", "several"):
        return None
    if t.isdigit():
        return int(t)
    return text2num(t.replace(" ", "-"), "en")


# --- readers -----------------------------------------------------------------------------------------


def _read_iso(m: re.Match[str], pub: date | None) -> DateInterval:
    return _one_day(date(int(m["y"]), int(m["m"]), int(m["d"])))


def _read_day(m: re.Match[str], pub: date | None) -> DateInterval | None:
    p = _parts(m["x"])
    if p.day is None or p.month is None:
        return None
    return _one_day(_resolve(p.day, p.month, p.year, pub))


def _read_range(m: re.Match[str], pub: date | None) -> DateInterval | None:
    """ "between 6 and 10 March", "March 6-10", "from 6 to 10 March": both ends, month shared."""
    a, b = _parts(m["a"]), _parts(m["b"])
    if m["sep"].lower() == "and" and (m["kw"] or "").lower() != "between":
        return None  # "6 March and 10 March" lists two days
    if a.day is None or b.day is None or (a.month is None and b.month is None):
        return None
    a_month, b_month = a.month or b.month, b.month or a.month
    assert a_month is not None and b_month is not None
    end_year = b.year or a.year
    end = _resolve(b.day, b_month, end_year, pub)
    if end is None:  # no year and no publication date: only the length is known
        start, end = date(2000, a_month, a.day), date(2000, b_month, b.day)
        if start > end:
            end = date(2001, b_month, min(b.day, _month_days(2001, b_month)))
        return DateInterval(precision=_precision(start, end))
    start = date(a.year or end.year, a_month, a.day)
    if start > end and a.year is None:
        start = date(end.year - 1, a_month, a.day)
    return _span(start, end) if start <= end else None


def _read_since(m: re.Match[str], pub: date | None) -> DateInterval | None:
    """ "since 6 March": from that day to the publication date."""
    inner = _whole(m["x"], pub, skip=RULE_SINCE)
    if inner is None:
        return None
    if pub is None or inner.start is None:
        return DateInterval(start=inner.start, precision=3)
    if inner.start > pub:
        return None
    return _span(inner.start, pub)


def _read_month_part(m: re.Match[str], pub: date | None) -> DateInterval | None:
    """ "early March" 1-10, "mid-March" 11-20, "late March" 21 to the month's end."""
    word = m["part"].lower().split()
    word_key = word[1] if word[0] == "the" else word[0]
    first, last = _PARTS_OF_MONTH.get(word_key, (21, 31))
    p = _parts(m.group())
    assert p.month is not None
    year = _month_year(p.month, p.year, pub, first)
    if year is None:
        return DateInterval(precision=3)
    return _span(date(year, p.month, first), date(year, p.month, min(last, _month_days(year, p.month))))


def _read_month(m: re.Match[str], pub: date | None) -> DateInterval | None:
    """ "in March", "March 2025", "last March": the whole month."""
    p = _parts(m.group())
    assert p.month is not None
    if (m["prep"] or "").lower() == "last" and p.year is None:
        year = None if pub is None else pub.year if p.month < pub.month else pub.year - 1
    else:
        year = _month_year(p.month, p.year, pub)
    if year is None:
        return DateInterval(precision=3)
    return _span(date(year, p.month, 1), date(year, p.month, _month_days(year, p.month)))


def _read_weekday(m: re.Match[str], pub: date | None) -> DateInterval:
    """ "on Tuesday": the latest Tuesday on or before publication ("last Tuesday": before it)."""
    if pub is None:
        return DateInterval(precision=1)
    back = (pub.weekday() - _WEEKDAYS.index(m["wd"])) % 7
    if back == 0 and (m["mod"] or "").lower() == "last":
        back = 7
    return _one_day(pub - timedelta(days=back))


def _read_deictic(m: re.Match[str], pub: date | None) -> DateInterval:
    words = m.group().lower()
    back = 2 if "before" in words else 1 if ("yesterday" in words or "last" in words) else 0
    return _one_day(None if pub is None else pub - timedelta(days=back))


def _read_ago(m: re.Match[str], pub: date | None) -> DateInterval | None:
    n, unit = _count(m["n"]), m["u"].lower().rstrip("s")
    if unit == "day":
        if n is None:  # "a few days ago"
            return DateInterval(precision=2) if pub is None else _span(pub - timedelta(7), pub - timedelta(2))
        return _one_day(None if pub is None else pub - timedelta(days=n))
    if unit == "week":
        if pub is None:
            return DateInterval(precision=2 if n is not None else 3)
        if n is None:
            return _span(pub - timedelta(days=28), pub - timedelta(days=14))
        centre = pub - timedelta(weeks=n)
        return _span(centre - timedelta(days=3), min(centre + timedelta(days=3), pub))
    if n is None:
        return None
    if pub is None:
        return DateInterval(precision=3)
    index = pub.year * 12 + pub.month - 1 - n
    year, month = divmod(index, 12)
    return _span(date(year, month + 1, 1), date(year, month + 1, _month_days(year, month + 1)))


def _this_monday(pub: date) -> date:
    return pub - timedelta(days=pub.weekday())


def _read_week(m: re.Match[str], pub: date | None) -> DateInterval:
    if pub is None:
        return DateInterval(precision=2)
    monday = _this_monday(pub)
    if "this" in m.group().lower():
        return _span(monday, pub)
    return _span(monday - timedelta(days=7), monday - timedelta(days=1))


def _read_weekend(m: re.Match[str], pub: date | None) -> DateInterval:
    """The latest Saturday-Sunday begun by publication; "last weekend": the one before if it is still on."""
    if pub is None:
        return DateInterval(precision=2)
    saturday = pub - timedelta(days=(pub.weekday() - 5) % 7)
    if (m["which"] or "").lower() == "last" and pub.weekday() >= 5:
        saturday -= timedelta(days=7)
    return DateInterval(start=saturday, end=min(saturday + timedelta(days=1), pub), precision=2)


def _read_relative_month(m: re.Match[str], pub: date | None) -> DateInterval:
    if pub is None:
        return DateInterval(precision=3)
    first = pub.replace(day=1)
    if "this" in m.group().lower() or "the month" in m.group().lower():
        return DateInterval(start=first, end=pub, precision=3)
    before = first - timedelta(days=1)
    return DateInterval(start=before.replace(day=1), end=before, precision=3)


def _read_past_period(m: re.Match[str], pub: date | None) -> DateInterval | None:
    """ "within 48 hours", "in the past three days", "in recent days": a span ending on publication."""
    rel = (m["rel"] or "").lower()
    anchored = (m["the"] and rel in ("past", "last", "previous")) or rel == "recent"
    if not anchored and not ((m["prep"] or "").lower() == "within" and m["n"]):
        return None
    n = _count(m["n"]) if m["n"] else (None if rel == "recent" else 1)
    if n == 0:
        return None
    unit = m["u"].lower().rstrip("s")
    vague = {"hour": 1, "day": 7, "week": 21, "month": 90}
    if n is None:
        days = vague[unit]
    elif unit == "hour":
        days = math.ceil(n / 24) + 1
    else:
        days = n * {"day": 1, "week": 7, "month": 30}[unit]
    if pub is None:
        return DateInterval(precision=1 if days <= 1 else 2 if days <= 7 else 3)
    return _span(pub - timedelta(days=days - 1), pub)


_SINCE_POINT = (
    rf"(?:{_DAY}|{_PART_CORE}|(?:(?i:early|late|last)\s+)?{_MONTH_FULL}{_YEAR_OPT}|"
    rf"(?:(?i:on|last|early|late)\s+)?{_WD}(?:\s+(?i:morning|afternoon|evening|night))?|"
    r"(?i:(?:the\s+day\s+before\s+)?yesterday|last\s+(?:night|week|weekend|month)|the\s+weekend))"
)

_RULES: tuple[_Rule, ...] = (
    _Rule(
        name=RULE_ISO,
        pattern=re.compile(r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)(?!\d)"),
        read=_read_iso,
        needs=("-",),
    ),
    _Rule(
        name=RULE_RANGE,
        pattern=re.compile(
            rf"(?:(?P<kw>(?i:between|from))\s+)?(?P<a>{_DAY}|{_BARE_DAY})"
            rf"\s*(?P<sep>[-–—]|(?i:and|to|until|till|through)\b)\s*(?P<b>{_DAY}|{_BARE_DAY})"
        ),
        read=_read_range,
    ),
    _Rule(
        name=RULE_SINCE,
        pattern=re.compile(
            rf"\b(?i:ever\s+since|since)\s+(?:(?i:the\s+(?:beginning|start|outbreak|onset|launch)\s+of)\s+"
            rf"[^.;:\n]{{0,80}}?\s+(?i:in|on)\s+)?(?P<x>{_SINCE_POINT})"
        ),
        read=_read_since,
        needs=("since",),
    ),
    _Rule(
        name=RULE_UNTIL_NOW,
        pattern=re.compile(
            rf"\b(?i:from|between)\s+(?P<x>{_SINCE_POINT})\s+(?i:until|till|to|and|up\s+to)\s+"
            r"(?i:today|now|the\s+present|this\s+day|date)\b"
        ),
        read=_read_since,
        needs=("from", "between"),
    ),
    _Rule(
        name=RULE_DAY,
        pattern=re.compile(rf"(?:\b(?i:on|in|of)\s+)?(?P<x>{_DAY})"),
        read=_read_day,
        needs=_MONTH_STEMS,
    ),
    _Rule(
        name=RULE_MONTH_PART,
        pattern=re.compile(rf"(?:\b(?i:in|during)\s+)?{_PART_CORE}"),
        read=_read_month_part,
        needs=_MONTHS_LOWER,
    ),
    _Rule(
        name=RULE_MONTH,
        pattern=re.compile(
            rf"(?:\b(?P<prep>(?i:in|during|of|throughout|last))\s+(?:(?i:the\s+month\s+of)\s+)?{_MONTH_FULL}"
            rf"|{_MONTH_FULL}(?=,?\s+{_YEAR}))"
            rf"(?:,?\s+{_YEAR}|(?!,?\s+{_THE}\d{{1,2}}(?:st|nd|rd|th)?\b))"
        ),
        read=_read_month,
        needs=_MONTHS_LOWER,
    ),
    _Rule(
        name=RULE_AGO,
        pattern=re.compile(rf"\b(?i:(?P<n>{_COUNT})\s+(?P<u>days?|weeks?|months?)\s+ago)\b"),
        read=_read_ago,
        needs=("ago",),
    ),
    _Rule(
        name=RULE_PAST_PERIOD,
        pattern=re.compile(
            r"\b(?i:(?:(?P<prep>within|in|over|during|for|throughout)\s+)?(?:(?:just|only)\s+)?(?:(?P<the>the)\s+)?"
            rf"(?:(?P<rel>past|last|previous|recent)\s+)?(?:(?:just|only)\s+)?(?:(?P<n>{_COUNT})\s+)?"
            r"(?P<u>hours?|days?|weeks?|months?))\b"
        ),
        read=_read_past_period,
        needs=("hour", "day", "week", "month"),
    ),
    _Rule(
        name=RULE_WEEKEND,
        pattern=re.compile(
            r"\b(?i:(?:(?:over|at|during|on)\s+)?(?:(?P<which>the|this|last|past)\s+)?weekend)\b"
        ),
        read=_read_weekend,
        needs=("weekend",),
    ),
    _Rule(
        name=RULE_WEEK,
        pattern=re.compile(r"\b(?i:(?:earlier\s+|later\s+)?this\s+week|last\s+week|the\s+previous\s+week)\b"),
        read=_read_week,
        needs=("week",),
    ),
    _Rule(
        name=RULE_RELATIVE_MONTH,
        pattern=re.compile(
            r"\b(?i:last\s+month|the\s+previous\s+month|(?:earlier\s+)?this\s+month|earlier\s+in\s+the\s+month)\b"
        ),
        read=_read_relative_month,
        needs=("month",),
    ),
    _Rule(
        name=RULE_DEICTIC,
        pattern=re.compile(
            r"\b(?i:today|tonight|this\s+(?:morning|afternoon|evening)|last\s+night|"
            r"(?:the\s+day\s+before\s+)?yesterday(?:\s+(?:morning|afternoon|evening|night))?)\b"
        ),
        read=_read_deictic,
        needs=("today", "tonight", "this", "last", "yesterday"),
    ),
    _Rule(
        name=RULE_WEEKDAY,
        pattern=re.compile(_WEEKDAY_CORE),
        read=_read_weekday,
        needs=tuple(d.lower() for d in _WEEKDAYS),
    ),
)


def _apply(rule: _Rule, m: re.Match[str], pub: date | None) -> DateInterval | None:
    try:
        return rule.read(m, pub)
    except (ValueError, OverflowError):  # impossible dates (31 April) and dates beyond the calendar
        return None


def _whole(expr: str, pub: date | None, *, skip: str = "") -> DateInterval | None:
    for rule in _RULES:
        if rule.name != skip and (m := rule.pattern.fullmatch(expr)):
            interval = _apply(rule, m, pub)
            if interval is not None:
                return interval
    return None


def parse_expression(expr: str, published: date | None) -> DateInterval | None:
    """The interval one date expression names, or None when `expr` is not a date expression."""
    text = " ".join(expr.split()).strip(" .,;:")
    return _whole(text, published) or _dateparser_day(text)


_HAS_YEAR = re.compile(_YEAR)


def _dateparser_day(text: str) -> DateInterval | None:
    """Last resort for full dates the rules do not spell ("12/03/2025"): dateparser, day-month-year order,
    only when a year is written, so that nothing is filled in from the clock."""
    year = _HAS_YEAR.search(text)
    if year is None or len(text) > 60:
        return None
    import dateparser  # slow to import; rarely needed

    settings = {
        "RELATIVE_BASE": datetime(int(year.group()), 1, 1),
        "REQUIRE_PARTS": ["day", "month", "year"],
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
    }
    try:
        found = dateparser.parse(text, languages=["en"], settings=settings)
    except Exception:  # a third-party parser on arbitrary text: any failure means "not a date"
        return None
    return None if found is None else _one_day(found.date())


def find_dates(text: str, *, doc_id: str, published: date | None, offset: int = 0) -> list[Mention]:
    """Every date expression in `text`, longest first and non-overlapping, in text order."""
    found: list[tuple[int, int, int, _Rule, DateInterval]] = []
    lower = text.casefold()
    for order, rule in enumerate(_RULES):
        if rule.needs and not any(word in lower for word in rule.needs):
            continue
        for m in rule.pattern.finditer(text):
            if m.end() > m.start() and (interval := _apply(rule, m, published)) is not None:
                found.append((m.start(), m.end(), order, rule, interval))
    found.sort(key=lambda f: (f[0] - f[1], f[0], f[2]))
    kept: list[tuple[int, int, int, _Rule, DateInterval]] = []
    for f in found:
        if all(f[1] <= k[0] or f[0] >= k[1] for k in kept):
            kept.append(f)
    kept.sort(key=lambda f: f[0])
    return [
        Mention(
            kind="date",
            text=text[start:end],
            date=interval,
            evidence=Evidence(
                field="date", span=Span(doc_id=doc_id, start=offset + start, end=offset + end), rule=rule.name
            ),
        )
        for start, end, _, rule, interval in kept
    ]
