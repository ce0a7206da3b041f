"""index records by (channel, source_id) for following threads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_records_channel_source_id", "records", ["channel", "source_id"])


def downgrade() -> None:
    op.drop_index("ix_records_channel_source_id", table_name="records")
