"""Incident history: each incident's full record, its versions, and which documents are reconciled.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("record", sa.JSON))
    op.create_table(
        "incident_versions",
        sa.Column("incident_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("kinds", sa.JSON, nullable=False),
        sa.Column("doc_ids", sa.JSON, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("snapshot", sa.JSON),
    )
    op.create_table(
        "reconciled_documents",
        sa.Column(
            "doc_id", sa.String(32), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
        ),
    )


def downgrade() -> None:
    op.drop_table("reconciled_documents")
    op.drop_table("incident_versions")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("record")
