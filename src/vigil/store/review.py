"""Human review of extracted events, and the API tokens reviewers sign with.

A review confirms, edits or rejects one event. Every review is a new version row
(who, when, why, what changed). The event's state after its latest review (its
reviewed values and its status) overlays the machine's values wherever the store
reads events, so the API and every export show what a reviewer decided. An overlaid
event carries the review as evidence: `Evidence(field="review", rule="review.edited@3")`
says "status edited, review version 3", and each reviewed field gets the same rule (with an
empty span at the start of the event's sentence: a review reads no words).

Tokens are random strings shown once at creation; only their sha256 is stored.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, delete, select, update

from vigil.model import SCOPES, DateInterval, EventMention, EventRecord, Evidence, Place, Span
from vigil.store.dialect import WRITE_OPTION
from vigil.store.schema import api_tokens, event_review_admin1, event_review_state, event_reviews

if TYPE_CHECKING:
    from vigil.store import Store

ACTIONS = ("confirm", "edit", "reject")
STATUS_OF_ACTION = {"confirm": "confirmed", "edit": "edited", "reject": "rejected"}
REVIEW_FIELD = "review"  # Evidence.field of the marker every reviewed event carries
# ACLED's six event types (as export.DISORDER_TYPES lists them; not imported, so export can import this).
EVENT_TYPES = (
    "Battles",
    "Explosions/Remote violence",
    "Violence against civilians",
    "Protests",
    "Riots",
    "Strategic developments",
)
TOKEN_PREFIX = "vigil_"
MAX_REASON = 2000
_TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_REVIEW_RULE = re.compile(r"review\.(confirmed|edited|rejected)@(\d+)")


class ReviewError(ValueError):
    """A review that cannot be recorded as asked (bad field, value or action)."""


class ReviewConflict(ReviewError):
    """The event was reviewed again since the version the reviewer saw."""


class UnknownEvent(LookupError):
    """No event with that id."""


class TokenError(ValueError):
    """A token name that is invalid or already active."""


# --- editable fields -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    """What a reviewer may set a field to."""

    kind: str  # "text" | "choice" | "int" | "float" | "bool" | "date" | "list"
    nullable: bool = True
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    max_len: int = 200


EDITABLE: dict[str, FieldSpec] = {
    "event_type": FieldSpec(kind="choice", nullable=False, choices=EVENT_TYPES),
    "sub_event_type": FieldSpec(kind="text", nullable=False, max_len=64),
    "date_start": FieldSpec(kind="date"),
    "date_end": FieldSpec(kind="date"),
    "time_precision": FieldSpec(kind="int", low=1, high=3),
    "country": FieldSpec(kind="text", max_len=100),
    "admin1": FieldSpec(kind="list", nullable=False, max_len=100),
    "location": FieldSpec(kind="text"),
    "latitude": FieldSpec(kind="float", low=-90, high=90),
    "longitude": FieldSpec(kind="float", low=-180, high=180),
    "geo_precision": FieldSpec(kind="int", low=1, high=3),
    "actor1": FieldSpec(kind="text"),
    "actor1_type": FieldSpec(kind="text", max_len=32),
    "actor2": FieldSpec(kind="text"),
    "actor2_type": FieldSpec(kind="text", max_len=32),
    "victim_group": FieldSpec(kind="text", max_len=100),
    "civilian_targeting": FieldSpec(kind="bool", nullable=False),
    "fatalities": FieldSpec(kind="int", nullable=False, low=0, high=10_000_000),
    "fatalities_low": FieldSpec(kind="int", low=0, high=10_000_000),
    "fatalities_high": FieldSpec(kind="int", low=0, high=10_000_000),
    "toll_scope": FieldSpec(kind="choice", nullable=False, choices=SCOPES),
}
_PLACE_FIELDS = frozenset({"location", "latitude", "longitude", "geo_precision", "admin1", "country"})
_MAX_ADMIN1 = 20


def validate(name: str, raw: Any) -> Any:
    """`raw` as the JSON value field `name` stores, or ReviewError saying why it cannot be."""
    spec = EDITABLE.get(name)
    if spec is None:
        raise ReviewError(f"{name!r} cannot be edited; editable fields: {', '.join(EDITABLE)}")
    if raw is None:
        if not spec.nullable:
            raise ReviewError(f"{name} cannot be empty")
        return None
    if spec.kind in ("text", "choice"):
        return _text(name, raw, spec)
    if spec.kind == "bool":
        if not isinstance(raw, bool):
            raise ReviewError(f"{name} must be true or false")
        return raw
    if spec.kind in ("int", "float"):
        ok = isinstance(raw, int) if spec.kind == "int" else isinstance(raw, (int, float))
        if isinstance(raw, bool) or not ok or not math.isfinite(raw):
            raise ReviewError(f"{name} must be {'an integer' if spec.kind == 'int' else 'a number'}")
        if (spec.low is not None and raw < spec.low) or (spec.high is not None and raw > spec.high):
            raise ReviewError(f"{name} must be between {spec.low:g} and {spec.high:g}")
        return raw
    if spec.kind == "date":
        if isinstance(raw, str):
            try:
                return date.fromisoformat(raw).isoformat()
            except ValueError:
                pass
        raise ReviewError(f"{name} must be a date as YYYY-MM-DD")
    # a list of governorates: the API canonicalises their spellings before calling
    if not isinstance(raw, list) or not raw or len(raw) > _MAX_ADMIN1:
        raise ReviewError(f"{name} must be a list of 1 to {_MAX_ADMIN1} names")
    return [_text(name, item, spec) for item in raw]


def _text(name: str, raw: Any, spec: FieldSpec) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ReviewError(f"{name} must be non-empty text")
    value = " ".join(raw.split())
    if len(value) > spec.max_len or "\x00" in value:
        raise ReviewError(f"{name} must be at most {spec.max_len} characters of text")
    if spec.choices and value not in spec.choices:
        raise ReviewError(f"{name} must be one of: {', '.join(spec.choices)}")
    return value


def current_values(event: EventMention) -> dict[str, Any]:
    """The editable fields of `event` as JSON values (dates as ISO strings)."""
    place = event.place
    return {
        "event_type": event.event_type,
        "sub_event_type": event.sub_event_type,
        "date_start": event.date.start.isoformat() if event.date.start else None,
        "date_end": event.date.end.isoformat() if event.date.end else None,
        "time_precision": event.date.precision,
        "country": event.country,
        "admin1": list(event.admin1),
        "location": event.location,
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "geo_precision": place.geo_precision if place else None,
        "actor1": event.actor1,
        "actor1_type": event.actor1_type,
        "actor2": event.actor2,
        "actor2_type": event.actor2_type,
        "victim_group": event.victim_group,
        "civilian_targeting": event.civilian_targeting,
        "fatalities": event.fatalities,
        "fatalities_low": event.fatalities_low,
        "fatalities_high": event.fatalities_high,
        "toll_scope": event.toll_scope,
    }


def apply_overrides(event: EventMention, overrides: Mapping[str, Any]) -> EventMention:
    """`event` with the reviewed values in `overrides` in place of the machine's."""
    if not overrides:
        return event
    v = {**current_values(event), **overrides}
    place = _place(event, v) if _PLACE_FIELDS & overrides.keys() else event.place
    return replace(
        event,
        event_type=v["event_type"],
        sub_event_type=v["sub_event_type"],
        date=DateInterval(
            start=_to_date(v["date_start"]), end=_to_date(v["date_end"]), precision=v["time_precision"]
        ),
        country=v["country"],
        admin1=tuple(v["admin1"]),
        place=place,
        actor1=v["actor1"],
        actor1_type=v["actor1_type"],
        actor2=v["actor2"],
        actor2_type=v["actor2_type"],
        victim_group=v["victim_group"],
        civilian_targeting=v["civilian_targeting"],
        fatalities=v["fatalities"],
        fatalities_low=v["fatalities_low"],
        fatalities_high=v["fatalities_high"],
        toll_scope=v["toll_scope"],
    )


def _to_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _place(event: EventMention, v: Mapping[str, Any]) -> Place | None:
    """The event's place rebuilt from reviewed location, coordinates and governorate."""
    base = event.place
    admin1 = v["admin1"][0] if v["admin1"] else None
    if v["location"]:
        name = v["location"]
        kind = base.kind if base and base.kind not in ("admin1", "country") else "town"
    elif admin1 or v["country"] or base:
        name = admin1 or v["country"] or (base.name if base else "")
        kind = "admin1" if admin1 else "country"
    else:
        return None
    same = base is not None and base.name == name
    return Place(
        name=name,
        kind=kind,
        country=v["country"] or (base.country if base else ""),
        country_code=base.country_code if base else "",
        admin1=admin1,
        admin1_code=base.admin1_code if base and base.admin1 == admin1 else None,
        latitude=v["latitude"],
        longitude=v["longitude"],
        geo_precision=v["geo_precision"] or (base.geo_precision if base else 3),
        geonameid=base.geonameid if same else None,
        town=base.town if same else None,
    )


def _widen_range(diff, changes, before, machine_values, overrides, machine) -> None:
    """A reviewed fatality count outside the machine's low-high range widens the range to it
    (shown as changes of their own), unless the reviewer set the bounds too."""
    if "fatalities" not in diff:
        return
    best = diff["fatalities"].after
    for name, outside in (("fatalities_low", lambda v: v > best), ("fatalities_high", lambda v: v < best)):
        value = {**machine_values, **overrides}[name]
        if name in changes or value is None or not outside(value):
            continue
        diff[name] = FieldChange(before=before[name], after=best)
        overrides[name] = best
        machine[name] = machine_values[name]


def _check_consistent(v: Mapping[str, Any]) -> None:
    if v["date_start"] and v["date_end"] and v["date_end"] < v["date_start"]:
        raise ReviewError("date_end is before date_start")
    if v["fatalities_low"] is not None and v["fatalities_low"] > v["fatalities"]:
        raise ReviewError("fatalities_low is above fatalities")
    if v["fatalities_high"] is not None and v["fatalities_high"] < v["fatalities"]:
        raise ReviewError("fatalities_high is below fatalities")
    if (v["latitude"] is None) != (v["longitude"] is None):
        raise ReviewError("latitude and longitude go together: set both or neither")


# --- records ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FieldChange:
    before: Any
    after: Any


@dataclass(frozen=True, kw_only=True)
class ReviewVersion:
    """One review of one event: a row of its history."""

    event_id: str
    version: int
    action: str
    status: str
    changes: Mapping[str, FieldChange]
    reason: str
    reviewer: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class ReviewState:
    """An event after its latest review: reviewed values and the machine values they replace."""

    event_id: str
    version: int
    status: str
    reviewer: str
    reviewed_at: datetime
    overrides: Mapping[str, Any]
    machine: Mapping[str, Any]

    @property
    def rule(self) -> str:
        return f"review.{self.status}@{self.version}"


@dataclass(frozen=True, kw_only=True)
class ReviewMark:
    """What an overlaid record says about its review (read back from its evidence)."""

    status: str
    version: int


def review_mark(record: EventRecord) -> ReviewMark | None:
    """The review status and version an overlaid record carries, or None if it was never reviewed.

    Export writers call this for a `review_version` / `review_status` column."""
    for ev in record.event.evidence:
        if ev.field == REVIEW_FIELD and (m := _REVIEW_RULE.fullmatch(ev.rule)):
            return ReviewMark(status=m.group(1), version=int(m.group(2)))
    return None


def overlay(record: EventRecord, state: ReviewState | None) -> EventRecord:
    """`record` with its reviewed values and review evidence; unchanged if never reviewed."""
    if state is None:
        return record
    event = apply_overrides(record.event, state.overrides)
    # A review reads no words: an empty span at the start of the event's sentence.
    sentence = record.event.sentence
    span = Span(doc_id=sentence.doc_id, start=sentence.start, end=sentence.start)
    marks = tuple(
        Evidence(field=name, span=span, rule=state.rule) for name in (REVIEW_FIELD, *sorted(state.overrides))
    )
    return replace(record, event=replace(event, evidence=marks + record.event.evidence))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _state(row: Mapping[str, Any]) -> ReviewState:
    return ReviewState(
        event_id=row["event_id"],
        version=row["version"],
        status=row["status"],
        reviewer=row["reviewer"],
        reviewed_at=_aware(row["reviewed_at"]),
        overrides=row["overrides"],
        machine=row["machine"],
    )


def states(conn: Connection, event_ids: Iterable[str]) -> dict[str, ReviewState]:
    """The review state of each of `event_ids` that was ever reviewed."""
    ids = list(event_ids)
    out: dict[str, ReviewState] = {}
    for i in range(0, len(ids), 500):
        query = select(event_review_state).where(event_review_state.c.event_id.in_(ids[i : i + 500]))
        for row in conn.execute(query).mappings():
            out[row["event_id"]] = _state(row)
    return out


def history(conn: Connection, event_id: str) -> list[ReviewVersion]:
    """Every review of `event_id`, oldest first."""
    query = (
        select(event_reviews).where(event_reviews.c.event_id == event_id).order_by(event_reviews.c.version)
    )
    return [
        ReviewVersion(
            event_id=r["event_id"],
            version=r["version"],
            action=r["action"],
            status=r["status"],
            changes={k: FieldChange(before=c["from"], after=c["to"]) for k, c in r["changes"].items()},
            reason=r["reason"],
            reviewer=r["reviewer"],
            created_at=_aware(r["created_at"]),
        )
        for r in conn.execute(query).mappings()
    ]


def record(
    conn: Connection,
    machine_event: EventMention,
    *,
    action: str,
    reason: str,
    reviewer: str,
    changes: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ReviewVersion:
    """Record one review of `machine_event` (its values as extracted) on `conn`, inside the
    caller's write transaction; returns the new version. `expected_version` (the version the
    reviewer saw, 0 for none) guards against overwriting a review made in between."""
    if action not in ACTIONS:
        raise ReviewError(f"action must be one of: {', '.join(ACTIONS)}")
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > MAX_REASON:
        raise ReviewError(f"a review needs a reason of 1 to {MAX_REASON} characters")
    changes = dict(changes or {})
    if action != "edit" and changes:
        raise ReviewError(f"{action} takes no changes; use the edit action to change fields")
    if action == "edit" and not changes:
        raise ReviewError("edit needs at least one field in changes")
    event_id = machine_event.id
    row = (
        conn.execute(select(event_review_state).where(event_review_state.c.event_id == event_id))
        .mappings()
        .first()
    )
    state = _state(row) if row else None
    version = state.version if state else 0
    if expected_version is not None and expected_version != version:
        raise ReviewConflict(f"event {event_id} is at review version {version}, not {expected_version}")

    machine_values = current_values(machine_event)
    overrides = dict(state.overrides) if state else {}
    machine = dict(state.machine) if state else {}
    before = {**machine_values, **overrides}
    diff: dict[str, FieldChange] = {}
    for name, raw in changes.items():
        value = validate(name, raw)
        if value == before[name]:
            continue
        diff[name] = FieldChange(before=before[name], after=value)
        if value == machine_values[name]:
            overrides.pop(name, None)
            machine.pop(name, None)
        else:
            overrides[name] = value
            machine[name] = machine_values[name]
    if action == "edit" and not diff:
        raise ReviewError("the edit changes nothing: every value given is the current one")
    _widen_range(diff, changes, before, machine_values, overrides, machine)
    after = {**machine_values, **overrides}
    _check_consistent(after)

    now = now or datetime.now(UTC)
    status = STATUS_OF_ACTION[action]
    new = ReviewVersion(
        event_id=event_id,
        version=version + 1,
        action=action,
        status=status,
        changes=diff,
        reason=reason,
        reviewer=reviewer,
        created_at=now,
    )
    conn.execute(
        event_reviews.insert(),
        {
            "event_id": event_id,
            "version": new.version,
            "action": action,
            "status": status,
            "changes": {k: {"from": c.before, "to": c.after} for k, c in diff.items()},
            "reason": reason,
            "reviewer": reviewer,
            "created_at": now,
        },
    )
    conn.execute(delete(event_review_admin1).where(event_review_admin1.c.event_id == event_id))
    conn.execute(delete(event_review_state).where(event_review_state.c.event_id == event_id))
    conn.execute(
        event_review_state.insert(),
        {
            "event_id": event_id,
            "version": new.version,
            "status": status,
            "reviewer": reviewer,
            "reviewed_at": now,
            "overrides": overrides,
            "machine": machine,
            "event_type": after["event_type"],
            "sub_event_type": after["sub_event_type"],
            "date_start": _to_date(after["date_start"]),
            "date_end": _to_date(after["date_end"]),
            "actor1": after["actor1"],
            "actor2": after["actor2"],
            "victim_group": after["victim_group"],
            "fatalities": after["fatalities"],
        },
    )
    if after["admin1"]:
        conn.execute(
            event_review_admin1.insert(),
            [{"event_id": event_id, "position": i, "admin1": a} for i, a in enumerate(after["admin1"])],
        )
    return new


# --- tokens ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TokenInfo:
    name: str
    created_at: datetime
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(store: Store, name: str) -> str:
    """A new token for reviewer `name`, returned once; only its hash is stored."""
    if not _TOKEN_NAME.fullmatch(name or ""):
        raise TokenError("a token name is 1-64 letters, digits or . _ @ - (starting with a letter or digit)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        active = conn.scalar(
            select(api_tokens.c.id).where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
        )
        if active is not None:
            raise TokenError(f"a token named {name!r} is active; revoke it first")
        conn.execute(
            api_tokens.insert(),
            {"name": name, "token_hash": token_hash(token), "created_at": datetime.now(UTC)},
        )
    return token


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token ever created (names and dates; never the tokens)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id)).mappings()
        return [
            TokenInfo(
                name=r["name"],
                created_at=_aware(r["created_at"]),
                revoked_at=_aware(r["revoked_at"]) if r["revoked_at"] else None,
            )
            for r in rows
        ]


def revoke_token(store: Store, name: str) -> int:
    """Revoke the active token named `name`; returns how many were revoked (0 or 1)."""
    with store.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        result = conn.execute(
            update(api_tokens)
            .where(and_(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None)))
            .values(revoked_at=datetime.now(UTC))
        )
        return result.rowcount


def token_owner(store: Store, token: str) -> str | None:
    """The name of the active token `token`, or None if it is unknown or revoked."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with store.engine.connect() as conn:
        return conn.scalar(
            select(api_tokens.c.name).where(
                api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None)
            )
        )
