"""Reading and resolving quarantine entries (items that could not be normalised)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from pengaduan.store.schema import quarantine as entries
from pengaduan.store.schema import raw_items


def list_entries(conn: Connection, include_resolved: bool = False) -> list[dict[str, Any]]:
    query = select(entries).order_by(entries.c.id)
    if not include_resolved:
        query = query.where(entries.c.resolved_at.is_(None))
    return [dict(r) for r in conn.execute(query).mappings()]


def count_open(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(entries.c.collector, func.count())
        .where(entries.c.resolved_at.is_(None))
        .group_by(entries.c.collector)
    )
    return {collector: n for collector, n in rows}


def raw_item_of(conn: Connection, entry_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        select(raw_items).join(entries, entries.c.raw_item_id == raw_items.c.id).where(
            entries.c.id == entry_id
        )
    ).mappings().first()
    return dict(row) if row else None


def resolve(conn: Connection, entry_id: int, now: datetime) -> None:
    conn.execute(update(entries).where(entries.c.id == entry_id).values(resolved_at=now))


def record_attempt(conn: Connection, entry_id: int, reason: str) -> None:
    conn.execute(
        update(entries)
        .where(entries.c.id == entry_id)
        .values(attempts=entries.c.attempts + 1, reason=reason)
    )
