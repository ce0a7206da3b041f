"""linking: MinHash-LSH bands, identity keys, term counts, suggestions, case relations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedup_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "record_id", name="pk_dedup_bands"),
    )
    op.create_table(
        "dedup_identities",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "record_id", name="pk_dedup_identities"),
    )
    op.create_table(
        "dedup_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_dedup_terms")),
    )
    op.create_table(
        "link_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("matched_record_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_link_suggestions_case_id_cases")),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=op.f("fk_link_suggestions_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_suggestions")),
        sa.UniqueConstraint("record_id", "case_id", name="uq_link_suggestions_pair"),
    )
    op.create_index(op.f("ix_link_suggestions_case_id"), "link_suggestions", ["case_id"])
    op.create_table(
        "case_relations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("related_case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_relations_case_id_cases")),
        sa.ForeignKeyConstraint(["related_case_id"], ["cases.id"], name=op.f("fk_case_relations_related_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_relations")),
    )
    op.create_index(op.f("ix_case_relations_case_id"), "case_relations", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_relations_case_id"), table_name="case_relations")
    op.drop_table("case_relations")
    op.drop_index(op.f("ix_link_suggestions_case_id"), table_name="link_suggestions")
    op.drop_table("link_suggestions")
    op.drop_table("dedup_terms")
    op.drop_table("dedup_identities")
    op.drop_table("dedup_bands")
