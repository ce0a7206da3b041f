"""Collector state (cursor and health) and the run log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pengaduan.store.ingest import insert_ignore
from pengaduan.store.schema import collector_state, runs

HEALTHY = "ok"
FAILING = "failing"
NEEDS_REAUTH = "needs_reauth"
UNKNOWN = "unknown"
# More than ordinary skew between the servers that share a database.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class CollectorState:
    collector: str
    type: str
    cursor: dict[str, Any] | None
    health: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    failures: int
    retry_at: datetime | None


def recorded_ahead(at: datetime | None, now: datetime) -> bool:
    """Whether ``at`` was recorded by a clock that has since been set back (NTP correcting a
    wrong clock, a VM restored): a time stored from it must not be waited for or trusted."""
    return at is not None and at > now + CLOCK_SKEW


def ensure_state(conn: Connection, collector: str, type_: str, now: datetime) -> None:
    insert_ignore(
        conn,
        collector_state,
        [
            {
                "collector": collector,
                "type": type_,
                "cursor": None,
                "health": UNKNOWN,
                "failures": 0,
                "updated_at": now,
            }
        ],
        ["collector"],
    )


def load_state(conn: Connection, collector: str) -> CollectorState | None:
    row = conn.execute(
        select(collector_state).where(collector_state.c.collector == collector)
    ).mappings().first()
    if row is None:
        return None
    return CollectorState(**{k: row[k] for k in CollectorState.__dataclass_fields__})


def all_states(conn: Connection) -> list[CollectorState]:
    rows = conn.execute(select(collector_state).order_by(collector_state.c.collector)).mappings()
    return [CollectorState(**{k: r[k] for k in CollectorState.__dataclass_fields__}) for r in rows]


def save_cursor(conn: Connection, collector: str, cursor: dict[str, Any], now: datetime) -> None:
    conn.execute(
        update(collector_state)
        .where(collector_state.c.collector == collector)
        .values(cursor=cursor, updated_at=now)
    )


def mark_success(conn: Connection, collector: str, now: datetime) -> None:
    conn.execute(
        update(collector_state)
        .where(collector_state.c.collector == collector)
        .values(
            health=HEALTHY,
            last_run_at=now,
            last_success_at=now,
            last_error=None,
            failures=0,
            retry_at=None,
            updated_at=now,
        )
    )


def mark_failure(
    conn: Connection,
    collector: str,
    health: str,
    message: str,
    now: datetime,
    retry_at: datetime | None,
) -> int:
    """Record a failed run; returns how many runs in a row have failed."""
    state = load_state(conn, collector)
    failures = (state.failures if state else 0) + 1
    conn.execute(
        update(collector_state)
        .where(collector_state.c.collector == collector)
        .values(
            health=health,
            last_run_at=now,
            last_error=message,
            failures=failures,
            retry_at=retry_at,
            updated_at=now,
        )
    )
    return failures


def start_run(conn: Connection, collector: str, now: datetime) -> int:
    return conn.execute(
        insert(runs)
        .values(
            collector=collector,
            started_at=now,
            outcome="running",
            fetched=0,
            new=0,
            updated=0,
            unchanged=0,
            quarantined=0,
        )
        .returning(runs.c.id)
    ).scalar_one()


def finish_run(
    conn: Connection, run_id: int, outcome: str, counts: dict[str, int], message: str | None, now: datetime
) -> None:
    conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(outcome=outcome, finished_at=now, message=message, **counts)
    )


def last_runs(conn: Connection) -> dict[str, dict[str, Any]]:
    """The most recent finished run of each collector."""
    latest = (
        select(func.max(runs.c.id)).where(runs.c.outcome != "running").group_by(runs.c.collector)
    )
    rows = conn.execute(select(runs).where(runs.c.id.in_(latest))).mappings()
    return {row["collector"]: dict(row) for row in rows}
