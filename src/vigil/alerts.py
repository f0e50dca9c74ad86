"""Escalation alerts: an area's violence against civilians rising above its own recent baseline.

The statistical rule (written here so it can be checked): for each governorate, and
for each victim group within it, count the incidents of violence against civilians
whose date falls in the last `window` days (7 by default) and in the `baseline_weeks`
weeks before (8 by default). With lambda = the baseline's mean count per window
(never below `MIN_RATE`, so a quiet area does not alert on one incident), the window
alerts when the Poisson tail P(X >= observed | lambda) is below `alpha` (0.01) and at
least `floor` incidents (3) happened. Only incidents of a few days count: a summary
toll spread over weeks is not a day's violence, so it is left to its children.

Watch rules (a YAML list) add plain thresholds: an area (governorate, or "*"), an
optional victim group, a minimum number of dead in the window, and the window length.
Every alert lists the incidents behind it.
"""

from __future__ import annotations

import json
import math
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

from vigil.model import Incident, to_dict

RULE_POISSON = "alerts.poisson_tail@1"
RULE_WATCH = "alerts.watch_rule@1"
ALPHA = 0.01
FLOOR = 3
MIN_RATE = 0.25
CIVILIAN_TYPES = {"Violence against civilians"}


@dataclass(frozen=True, kw_only=True)
class WatchRule:
    name: str
    area: str = "*"
    victim_group: str | None = None
    min_dead: int = 1
    window: int = 7


@dataclass(frozen=True, kw_only=True)
class Behind:
    """One incident behind an alert."""

    incident_id: str
    date: date
    admin1: tuple[str, ...]
    dead: int
    victim_groups: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Alert:
    rule: str  # RULE_POISSON or RULE_WATCH:<name>
    area: str
    victim_group: str | None
    window_start: date
    window_end: date
    incidents: int
    dead: int
    baseline_rate: float | None  # mean incidents per window over the baseline weeks
    p_value: float | None
    explanation: str
    behind: tuple[Behind, ...]


def load_rules(path: Path) -> list[WatchRule]:
    """Watch rules from YAML: a list of {name, area, victim_group, min_dead, window}."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    if isinstance(data, dict):
        data = data.get("rules", [])
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of rules")
    rules = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"{path}: rule {i + 1} is not a mapping")
        unknown = set(item) - {"name", "area", "victim_group", "min_dead", "window"}
        if unknown:
            raise ValueError(f"{path}: rule {i + 1} has unknown keys {sorted(unknown)}")
        rules.append(
            WatchRule(
                name=str(item.get("name") or f"rule{i + 1}"),
                area=str(item.get("area", "*")),
                victim_group=item.get("victim_group"),
                min_dead=int(item.get("min_dead", 1)),
                window=int(item.get("window", 7)),
            )
        )
    return rules


def poisson_tail(k: int, rate: float) -> float:
    """P(X >= k) for X ~ Poisson(rate)."""
    if k <= 0:
        return 1.0
    term = math.exp(-rate)
    below = term
    for i in range(1, k):
        term *= rate / i
        below += term
    return max(0.0, 1.0 - below)


def _behind(
    incidents: Iterable[Incident], deaths: dict[str, int], groups: dict[str, tuple[str, ...]]
) -> list[Behind]:
    out = []
    for inc in incidents:
        if inc.event_type not in CIVILIAN_TYPES or inc.date.start is None:
            continue
        if ((inc.date.end or inc.date.start) - inc.date.start).days > 6:
            continue
        out.append(
            Behind(
                incident_id=inc.id,
                date=inc.date.start,
                admin1=inc.admin1,
                dead=deaths.get(inc.id, 0),
                victim_groups=groups.get(inc.id, ()),
            )
        )
    return out


def evaluate(
    incidents: Sequence[Incident],
    *,
    as_of: date | None = None,
    rules: Sequence[WatchRule] = (),
    victim_groups: dict[str, tuple[str, ...]] | None = None,
    window: int = 7,
    baseline_weeks: int = 8,
    alpha: float = ALPHA,
    floor: int = FLOOR,
) -> list[Alert]:
    """Alerts as of `as_of` (default: the latest incident date), statistical and rule-based."""
    deaths = {i.id: _best(i) for i in incidents}
    rows = _behind(incidents, deaths, victim_groups or {})
    if not rows:
        return []
    as_of = as_of or max(r.date for r in rows)
    alerts: list[Alert] = []
    start = as_of - timedelta(days=window - 1)
    base_start = start - timedelta(days=7 * baseline_weeks)
    keys: dict[tuple[str, str | None], list[Behind]] = defaultdict(list)
    for r in rows:
        for area in r.admin1 or ("(unknown)",):
            keys[(area, None)].append(r)
            for g in r.victim_groups:
                keys[(area, g)].append(r)
    for (area, group), items in sorted(keys.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        now = [r for r in items if start <= r.date <= as_of]
        before = [r for r in items if base_start <= r.date < start]
        rate = max(len(before) * window / (7 * baseline_weeks), MIN_RATE)
        p = poisson_tail(len(now), rate)
        if len(now) >= floor and p < alpha:
            alerts.append(
                Alert(
                    rule=RULE_POISSON,
                    area=area,
                    victim_group=group,
                    window_start=start,
                    window_end=as_of,
                    incidents=len(now),
                    dead=sum(r.dead for r in now),
                    baseline_rate=round(rate, 3),
                    p_value=p,
                    explanation=(
                        f"{len(now)} incidents of violence against civilians in {area}"
                        + (f" against {group}" if group else "")
                        + f" in the {window} days to {as_of}, against {len(before)} in the {baseline_weeks} weeks"
                        f" before (expected {rate:.2f} per window); P(X >= {len(now)}) = {p:.2g} < {alpha}"
                    ),
                    behind=tuple(sorted(now, key=lambda r: (r.date, r.incident_id))),
                )
            )
    for rule in rules:
        rule_start = as_of - timedelta(days=rule.window - 1)
        now = [
            r
            for r in rows
            if rule_start <= r.date <= as_of
            and (rule.area == "*" or rule.area in r.admin1)
            and (rule.victim_group is None or rule.victim_group in r.victim_groups)
        ]
        dead = sum(r.dead for r in now)
        if now and dead >= rule.min_dead:
            alerts.append(
                Alert(
                    rule=f"{RULE_WATCH}:{rule.name}",
                    area=rule.area,
                    victim_group=rule.victim_group,
                    window_start=rule_start,
                    window_end=as_of,
                    incidents=len(now),
                    dead=dead,
                    baseline_rate=None,
                    p_value=None,
                    explanation=(
                        f"watch rule {rule.name!r}: {dead} dead in {len(now)} incidents in {rule.area}"
                        + (f" against {rule.victim_group}" if rule.victim_group else "")
                        + f" in the {rule.window} days to {as_of} (threshold {rule.min_dead})"
                    ),
                    behind=tuple(sorted(now, key=lambda r: (r.date, r.incident_id))),
                )
            )
    return alerts


def _best(inc: Incident) -> int:
    total = next((t for t in inc.tolls if t.category == "total"), None)
    return (total.best or 0) if total else 0


def as_json(alerts: Sequence[Alert]) -> str:
    return json.dumps({"alerts": [to_dict(a) for a in alerts]}, ensure_ascii=False, indent=1)


def post(alerts: Sequence[Alert], url: str, *, timeout: float = 10.0) -> int:
    """POST the alerts as JSON to a webhook; returns the HTTP status."""
    request = urllib.request.Request(
        url, data=as_json(alerts).encode("utf-8"), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status
