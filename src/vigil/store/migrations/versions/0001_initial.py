"""The first schema: documents, mentions, claims, events, incidents and their links.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("outlet", sa.Text),
        sa.Column("published", sa.Date),
        sa.Column("published_from", sa.String(16)),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("doc_metadata", sa.JSON, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("extractor", sa.String(64), nullable=False),
    )
    op.create_table(
        "mentions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("doc_id", sa.String(32), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("value", sa.JSON, nullable=False),
    )
    op.create_index("ix_mentions_doc_id", "mentions", ["doc_id"])
    op.create_table(
        "claims",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("doc_id", sa.String(32), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("claimant", sa.Text, nullable=False),
        sa.Column("via", sa.Text),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("qualifier", sa.String(16), nullable=False),
        sa.Column("killed_or_injured", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("victim_group", sa.Text),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date),
        sa.Column("period_end", sa.Date),
        sa.Column("period_precision", sa.Integer),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("sentence_start", sa.Integer, nullable=False),
        sa.Column("sentence_end", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
    )
    op.create_index("ix_claims_doc_id", "claims", ["doc_id"])
    op.create_table(
        "claim_admin1",
        sa.Column(
            "claim_id", sa.String(64), sa.ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("admin1", sa.Text, nullable=False),
    )
    op.create_index("ix_claim_admin1_admin1", "claim_admin1", ["admin1"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("doc_id", sa.String(32), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("sub_event_type", sa.String(64), nullable=False),
        sa.Column("date_start", sa.Date),
        sa.Column("date_end", sa.Date),
        sa.Column("time_precision", sa.Integer),
        sa.Column("country", sa.Text),
        sa.Column("place", sa.JSON),
        sa.Column("location", sa.Text),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("geo_precision", sa.Integer),
        sa.Column("actor1", sa.Text),
        sa.Column("actor1_type", sa.String(32)),
        sa.Column("actor2", sa.Text),
        sa.Column("actor2_type", sa.String(32)),
        sa.Column("victim_group", sa.Text),
        sa.Column("civilian_targeting", sa.Boolean, nullable=False),
        sa.Column("fatalities", sa.Integer, nullable=False),
        sa.Column("fatalities_low", sa.Integer),
        sa.Column("fatalities_high", sa.Integer),
        sa.Column("toll_scope", sa.String(16), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("sentence_start", sa.Integer, nullable=False),
        sa.Column("sentence_end", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
    )
    op.create_index("ix_events_doc_id", "events", ["doc_id"])
    op.create_index("ix_events_event_type", "events", ["event_type"])
    op.create_index("ix_events_date_start", "events", ["date_start"])
    op.create_index("ix_events_fatalities", "events", ["fatalities"])
    op.create_index("ix_events_date_type", "events", ["date_start", "event_type"])
    op.create_table(
        "event_admin1",
        sa.Column(
            "event_id", sa.String(64), sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("admin1", sa.Text, nullable=False),
    )
    op.create_index("ix_event_admin1_admin1", "event_admin1", ["admin1"])
    op.create_table(
        "event_claims",
        sa.Column(
            "event_id", sa.String(64), sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "claim_id", sa.String(64), sa.ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "evidence",
        sa.Column("owner_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("doc_id", sa.String(32), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
    )
    op.create_index("ix_evidence_doc_id", "evidence", ["doc_id"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("date_start", sa.Date),
        sa.Column("date_end", sa.Date),
        sa.Column("time_precision", sa.Integer),
        sa.Column("admin1", sa.JSON, nullable=False),
        sa.Column("parent_id", sa.String(64), sa.ForeignKey("incidents.id", ondelete="SET NULL")),
        sa.Column("tolls", sa.JSON, nullable=False),
    )
    op.create_table(
        "incident_events",
        sa.Column(
            "incident_id", sa.String(64), sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "event_id", sa.String(64), sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
        ),
    )


def downgrade() -> None:
    for table in (
        "incident_events",
        "incidents",
        "evidence",
        "event_claims",
        "event_admin1",
        "events",
        "claim_admin1",
        "claims",
        "mentions",
        "documents",
    ):
        op.drop_table(table)
