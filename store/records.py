"""Staff decisions on single records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from pengaduan.normalizer.record import STAFF_DECISION, Kind
from pengaduan.store.ingest import content_digest
from pengaduan.store.schema import records


def get_record(conn: Connection, record_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(records).where(records.c.id == record_id)).mappings().first()
    return dict(row) if row else None


def set_kind(conn: Connection, record_id: int, kind: Kind, now: datetime) -> dict[str, Any]:
    """Override the normaliser's kind; returns the record as it was before."""
    before = get_record(conn, record_id)
    if before is None:
        raise KeyError(record_id)
    content = {**before["content"], "kind": str(kind), "kind_reason": STAFF_DECISION}
    conn.execute(
        update(records)
        .where(records.c.id == record_id)
        .values(
            kind=str(kind),
            kind_override=str(kind),
            content=content,
            content_sha256=content_digest(content),
            updated_at=now,
        )
    )
    return before
