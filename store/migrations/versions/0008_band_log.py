"""dedup_bands → dedup_band_log: band keys as one row a linking batch

``dedup_bands`` held a row per (band key, record): 20 a record, each a random insert into
the primary key's B-tree, which at 1 000 000 records was most of linking's index cost on
both databases (bench/RESULTS.md, fourth round). Look-ups now go to an index each process
keeps in memory, in step with a log of the keys (cases/band_log.py). The rows are copied in
record order, a log row per 1 000 records; the downgrade copies them back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHUNK = 1000  # records a log row, as a batch of ingestion writes

bands = sa.table("dedup_bands", sa.column("band_key", sa.BigInteger), sa.column("record_id", sa.Integer))
log = sa.table("dedup_band_log", sa.column("seq", sa.Integer), sa.column("writer", sa.BigInteger),
               sa.column("record_ids", sa.LargeBinary), sa.column("band_keys", sa.LargeBinary))


def upgrade() -> None:
    op.create_table(
        "dedup_band_log",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("writer", sa.BigInteger(), nullable=False),
        sa.Column("record_ids", sa.LargeBinary(), nullable=False),
        sa.Column("band_keys", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_dedup_band_log")),
        sqlite_autoincrement=True,
    )
    conn = op.get_bind()
    records: list[tuple[int, list[int]]] = []

    def flush() -> None:
        # A record's keys in band order (the band's number is in the key's high bits), as
        # ``Signature.keys`` has them; a record keeps the keys it had, however many.
        by_count: dict[int, list[tuple[int, list[int]]]] = {}
        for record in records:
            by_count.setdefault(len(record[1]), []).append(record)
        for group in by_count.values():
            op.execute(log.insert().values(
                writer=0,  # no process's
                record_ids=np.array([r for r, _ in group], "<i8").tobytes(),
                band_keys=np.array([sorted(k) for _, k in group], "<i8").tobytes()))
        records.clear()

    # Streamed: a million records' 20 million rows would not fit in memory as tuples.
    rows = conn.execute(sa.select(bands.c.record_id, bands.c.band_key)
                        .order_by(bands.c.record_id, bands.c.band_key)
                        .execution_options(yield_per=20_000))
    for record_id, key in rows:
        if records and records[-1][0] == record_id:
            records[-1][1].append(key)
            continue
        if len(records) == CHUNK:
            flush()
        records.append((record_id, [key]))
    if records:
        flush()
    op.drop_table("dedup_bands")


def downgrade() -> None:
    op.create_table(
        "dedup_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "record_id", name="pk_dedup_bands"),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    for ids, keys in conn.execute(sa.select(log.c.record_ids, log.c.band_keys).order_by(log.c.seq)):
        ids = np.frombuffer(ids, "<i8")
        keys = np.frombuffer(keys, "<i8").reshape(len(ids), -1)
        pairs = {(k, r) for r, row in zip(ids.tolist(), keys.tolist()) for k in row}
        if pairs:
            conn.execute(bands.insert(), [{"band_key": k, "record_id": r} for k, r in sorted(pairs)])
    op.drop_table("dedup_band_log")
