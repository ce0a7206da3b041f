"""What the health endpoint, the metrics and the alerts read from the store, in one go."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from pengaduan.cases.status import OPEN
from pengaduan.settings import Settings
from pengaduan.store import quarantine as store_quarantine
from pengaduan.store import state as store_state
from pengaduan.store.schema import cases, runs
from pengaduan.store.state import CollectorState

from pengaduan.health.check import Verdict, Watched, judge_all


@dataclass
class RunTotals:
    runs: int = 0
    failed: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    quarantined: int = 0


@dataclass
class Snapshot:
    now: datetime
    states: dict[str, CollectorState]
    totals: dict[str, RunTotals]
    quarantine: dict[str, int]  # open entries per collector
    open_cases: dict[str, int]  # per channel
    overdue_cases: dict[str, int]  # per channel
    verdicts: list[Verdict] = field(default_factory=list)


def watched(settings: Settings) -> list[Watched]:
    return [Watched(cs.name, cs.interval) for cs in settings.collectors.values() if cs.enabled]


def run_totals(conn: Connection) -> dict[str, RunTotals]:
    failed = func.sum(case((runs.c.outcome == "failed", 1), else_=0))
    rows = conn.execute(
        select(
            runs.c.collector, func.count(), failed, func.sum(runs.c.fetched),
            func.sum(runs.c.new), func.sum(runs.c.updated), func.sum(runs.c.quarantined),
        )
        .where(runs.c.outcome != "running")
        .group_by(runs.c.collector)
    )
    return {
        name: RunTotals(*(int(v or 0) for v in values)) for name, *values in rows
    }


def case_counts(conn: Connection, now: datetime) -> tuple[dict[str, int], dict[str, int]]:
    """Open cases and overdue ones (deadline passed, still open), per channel."""
    overdue = func.sum(case((cases.c.due_at < now, 1), else_=0))
    rows = conn.execute(
        select(cases.c.channel, func.count(), overdue)
        .where(cases.c.status.in_([str(s) for s in OPEN]))
        .group_by(cases.c.channel)
    )
    open_: dict[str, int] = {}
    late: dict[str, int] = {}
    for channel, n, n_late in rows:
        open_[channel] = int(n)
        late[channel] = int(n_late or 0)
    return open_, late


def read_snapshot(
    conn: Connection, settings: Settings, now: datetime, watching_since: datetime
) -> Snapshot:
    states = {s.collector: s for s in store_state.all_states(conn)}
    open_, late = case_counts(conn, now)
    snap = Snapshot(
        now=now,
        states=states,
        totals=run_totals(conn),
        quarantine=store_quarantine.count_open(conn),
        open_cases=open_,
        overdue_cases=late,
    )
    snap.verdicts = judge_all(
        watched(settings), states, now, settings.health.silent_after_intervals, watching_since
    )
    return snap


def declared_token_expiry(settings: Settings) -> dict[str, Any]:
    """``token_expires_at`` where an admin declared it in a collector's settings (Instagram).

    Only what the settings say: no platform reports a token's expiry to us on every run, and
    a refused token shows as ``needs_reauth`` whatever this says.
    """
    found = {}
    for cs in settings.collectors.values():
        value = getattr(cs.config, "token_expires_at", None)
        if value is not None:
            found[cs.name] = value
    return found
