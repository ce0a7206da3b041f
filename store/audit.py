"""The audit log: who did what to which case, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from pengaduan.store.schema import audit_log


def record_audit(
    conn: Connection,
    actor: str,
    action: str,
    now: datetime,
    case_id: int | None = None,
    record_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(audit_log).values(
            at=now, actor=actor, action=action, case_id=case_id, record_id=record_id,
            detail=detail or {},
        )
    )


def audit_of_case(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(audit_log).where(audit_log.c.case_id == case_id).order_by(audit_log.c.id)
    ).mappings()
    return [dict(r) for r in rows]
