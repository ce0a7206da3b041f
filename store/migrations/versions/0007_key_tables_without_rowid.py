"""dedup_bands, dedup_identities: WITHOUT ROWID on SQLite

A key table is read and written only by its primary key (key, record_id). As an ordinary
SQLite table every row was stored twice, in the table and in the primary key's index, and
each insert wrote both: a 100 000-row LAPOR import spent 15.0 s adding key rows and 17.6 s
in its commits; without the rowid table 12.1 s and 12.2 s (one run each, bench/RESULTS.md).
PostgreSQL has no such option: nothing changes there. The rows are copied in key order:
3.4 s for the 2 M band rows of a 100 000-record store.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = {
    "dedup_bands": ("band_key", sa.BigInteger()),
    "dedup_identities": ("key", sa.String(length=32)),
}


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, (key, key_type) in TABLES.items():
        op.create_table(
            f"{name}_rebuilt",
            sa.Column(key, key_type, nullable=False),
            sa.Column("record_id", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint(key, "record_id", name=f"pk_{name}"),
            sqlite_with_rowid=with_rowid,
        )
        op.execute(f"INSERT INTO {name}_rebuilt ({key}, record_id) "
                   f"SELECT {key}, record_id FROM {name} ORDER BY {key}, record_id")
        op.drop_table(name)
        op.rename_table(f"{name}_rebuilt", name)


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
