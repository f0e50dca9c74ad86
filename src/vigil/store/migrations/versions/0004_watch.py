"""Watch: sources with their HTTP validators and health, the items they listed, robots.txt files
and the alerts already announced.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_sources",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("outlet", sa.Text),
        sa.Column("language", sa.String(16)),
        sa.Column("interval", sa.Integer, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("checks", sa.Integer, nullable=False),
        sa.Column("not_modified", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True)),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_error_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "watch_items",
        sa.Column(
            "source",
            sa.String(128),
            sa.ForeignKey("watch_sources.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(2048), primary_key=True),
        sa.Column("url", sa.Text),
        sa.Column("ref", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("published", sa.Date),
        sa.Column("lastmod", sa.String(64)),
        sa.Column("fallback", sa.JSON),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("doc_id", sa.String(32)),
        sa.Column("error", sa.Text),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_watch_items_state", "watch_items", ["source", "state"])
    op.create_index("ix_watch_items_fetched_at", "watch_items", ["fetched_at"])
    op.create_table(
        "watch_robots",
        sa.Column("origin", sa.String(512), primary_key=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "watch_alerts",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alert", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watch_alerts")
    op.drop_table("watch_robots")
    op.drop_index("ix_watch_items_fetched_at", table_name="watch_items")
    op.drop_index("ix_watch_items_state", table_name="watch_items")
    op.drop_table("watch_items")
    op.drop_table("watch_sources")
