"""The store's tables (SQLAlchemy Core, portable across SQLite and PostgreSQL).

Query fields are columns; nested value objects (a resolved place, a mention's
payload) are JSON. Migrations in `migrations/versions` create exactly these
tables; a test checks the two never drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("title", Text),
    Column("url", Text),
    Column("outlet", Text),
    Column("published", Date),
    Column("published_from", String(16)),
    Column("language", String(16), nullable=False),
    Column("doc_metadata", JSON, nullable=False),
    Column("text", Text, nullable=False),
    Column("extractor", String(64), nullable=False),
)

mentions = Table(
    "mentions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("doc_id", String(32), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("rule", String(64), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("method", String(32), nullable=False),
    Column("score", Float, nullable=False),
    Column("value", JSON, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("doc_id", String(32), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("claimant", Text, nullable=False),
    Column("via", Text),
    Column("count", Integer, nullable=False),
    Column("qualifier", String(16), nullable=False),
    Column("killed_or_injured", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("victim_group", Text),
    Column("scope", String(16), nullable=False),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("period_precision", Integer),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("sentence_start", Integer, nullable=False),
    Column("sentence_end", Integer, nullable=False),
    Column("confidence", Float, nullable=False),
)

claim_admin1 = Table(
    "claim_admin1",
    metadata,
    Column("claim_id", String(64), ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("admin1", Text, nullable=False, index=True),
)

events = Table(
    "events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("doc_id", String(32), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("event_type", String(64), nullable=False, index=True),
    Column("sub_event_type", String(64), nullable=False),
    Column("date_start", Date, index=True),
    Column("date_end", Date),
    Column("time_precision", Integer),
    Column("country", Text),
    Column("place", JSON),
    Column("location", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("geo_precision", Integer),
    Column("actor1", Text),
    Column("actor1_type", String(32)),
    Column("actor2", Text),
    Column("actor2_type", String(32)),
    Column("victim_group", Text),
    Column("civilian_targeting", Boolean, nullable=False),
    Column("fatalities", Integer, nullable=False, index=True),
    Column("fatalities_low", Integer),
    Column("fatalities_high", Integer),
    Column("toll_scope", String(16), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("sentence_start", Integer, nullable=False),
    Column("sentence_end", Integer, nullable=False),
    Column("confidence", Float, nullable=False),
)

event_admin1 = Table(
    "event_admin1",
    metadata,
    Column("event_id", String(64), ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("admin1", Text, nullable=False, index=True),
)

event_claims = Table(
    "event_claims",
    metadata,
    Column("event_id", String(64), ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("claim_id", String(64), ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("owner_id", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("owner_kind", String(16), nullable=False),
    Column("doc_id", String(32), ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("field", String(32), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("rule", String(64), nullable=False),
    Column("confidence", Float, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("date_start", Date),
    Column("date_end", Date),
    Column("time_precision", Integer),
    Column("admin1", JSON, nullable=False),
    Column("parent_id", String(64), ForeignKey("incidents.id", ondelete="SET NULL")),
    Column("tolls", JSON, nullable=False),
    Column("record", JSON),  # the whole Incident (migration 0003)
)

incident_events = Table(
    "incident_events",
    metadata,
    Column("incident_id", String(64), ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", String(64), ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
)

Index("ix_events_date_type", events.c.date_start, events.c.event_type)


# --- reviews and API tokens (migration 0002) --------------------------------------

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, index=True),
    Column(
        "token_hash", String(64), nullable=False, unique=True
    ),  # sha256 hex; the token itself is never stored
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# One row per review of an event: who (token name), when, why and what changed ({field: {from, to}}).
event_reviews = Table(
    "event_reviews",
    metadata,
    Column("event_id", String(64), ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("action", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("changes", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("reviewer", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# An event's state after its latest review: the reviewed values that overlay the machine's, and the
# effective values of the filtered fields (so queries filter and sort on what readers see).
event_review_state = Table(
    "event_review_state",
    metadata,
    Column("event_id", String(64), ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("reviewer", String(64), nullable=False),
    Column("reviewed_at", DateTime(timezone=True), nullable=False),
    Column("overrides", JSON, nullable=False),  # field -> reviewed value
    Column("machine", JSON, nullable=False),  # field -> machine value, for the fields in overrides
    Column("event_type", String(64), nullable=False),
    Column("sub_event_type", String(64), nullable=False),
    Column("date_start", Date),
    Column("date_end", Date),
    Column("actor1", Text),
    Column("actor2", Text),
    Column("victim_group", Text),
    Column("fatalities", Integer, nullable=False),
)

event_review_admin1 = Table(
    "event_review_admin1",
    metadata,
    Column(
        "event_id",
        String(64),
        ForeignKey("event_review_state.event_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("admin1", Text, nullable=False, index=True),
)


# --- incident history (migration 0003) --------------------------------------------

# Every change to an incident, with the documents that caused it; kept when the incident merges away.
incident_versions = Table(
    "incident_versions",
    metadata,
    Column("incident_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column(
        "kinds", JSON, nullable=False
    ),  # created, new_source, new_toll, merged, split, re-nested, dissolved
    Column("doc_ids", JSON, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("snapshot", JSON),
)

# Documents whose events have been reconciled into incidents.
reconciled_documents = Table(
    "reconciled_documents",
    metadata,
    Column("doc_id", String(32), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
)


# --- watch (migration 0004) --------------------------------------------------------

# Each watched feed or sitemap: its settings, HTTP validators and health counters.
watch_sources = Table(
    "watch_sources",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("url", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # feed or sitemap
    Column("outlet", Text),
    Column("language", String(16)),
    Column("interval", Integer, nullable=False),  # seconds between polls
    Column("etag", Text),
    Column("last_modified", Text),
    Column("checks", Integer, nullable=False),
    Column("not_modified", Integer, nullable=False),  # polls answered 304
    Column("failures", Integer, nullable=False),
    Column("consecutive_failures", Integer, nullable=False),
    Column("last_checked_at", DateTime(timezone=True)),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_error_at", DateTime(timezone=True)),
    Column("last_error", Text),
)

# Every item a source listed, by feed GUID or URL: pending, fetching, fetched, failed or skipped.
watch_items = Table(
    "watch_items",
    metadata,
    Column("source", String(128), ForeignKey("watch_sources.name", ondelete="CASCADE"), primary_key=True),
    Column("key", String(2048), primary_key=True),
    Column("url", Text),  # the page to fetch; none for a feed entry without a usable link
    Column("ref", Text, nullable=False),  # the stored document's `source`, to find it after a crash
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("published", Date),  # from the feed entry or the sitemap's lastmod
    Column("lastmod", String(64)),
    Column("fallback", JSON),  # a feed entry's own text as a Document, used when its page fails
    Column("etag", Text),
    Column("last_modified", Text),
    Column("doc_id", String(32)),
    Column("error", Text),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("fetched_at", DateTime(timezone=True)),
)

Index("ix_watch_items_state", watch_items.c.source, watch_items.c.state)
Index("ix_watch_items_fetched_at", watch_items.c.fetched_at)

# robots.txt per origin (scheme://host:port), fetched at most once a day.
watch_robots = Table(
    "watch_robots",
    metadata,
    Column("origin", String(512), primary_key=True),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

# Alerts already announced (printed, posted), so a restarted watcher does not announce them again.
watch_alerts = Table(
    "watch_alerts",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("rule", Text, nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("alert", JSON, nullable=False),
)


# --- merge reviews (migration 0005) -----------------------------------------------

# A reviewer's decision about a merge: confirm incident `incident_id` (its members `event_ids` belong
# together) or reject its member `event_id` (not the incident the others are). `version` numbers the
# decisions in the order they were made; the latest decision on a pair of events wins.
incident_reviews = Table(
    "incident_reviews",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(64), nullable=False, index=True),  # no key: incidents come and go
    Column("action", String(16), nullable=False),  # confirm or reject
    Column("event_id", String(64)),  # the rejected member
    Column("event_ids", JSON, nullable=False),  # the incident's members when the decision was made
    Column("reason", Text, nullable=False),
    Column("reviewer", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
