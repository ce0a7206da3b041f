"""Collector verdicts: from stored state and settings to healthy or not, and why. Pure.

A collector is unhealthy when it has had no successful run for ``silent_after_intervals`` of
its intervals (counted from its last success, or from when the process started watching when
it never succeeded), or at once when its credentials were refused (a person must act). A
failing collector still inside that window is ``failing`` but healthy: backoff may mend it.
A source that said when to come back (YouTube's daily quota) is ``quota_paused`` and healthy
until that time plus the same window. Disabled collectors are not judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pengaduan.store.state import FAILING, NEEDS_REAUTH, CollectorState, recorded_ahead

OK = "ok"
FAILING_STATE = "failing"
QUOTA_PAUSED = "quota_paused"
NEEDS_REAUTH_STATE = "needs_reauth"
SILENT = "silent"
STATES = (OK, FAILING_STATE, QUOTA_PAUSED, NEEDS_REAUTH_STATE, SILENT)
UNHEALTHY_STATES = frozenset({NEEDS_REAUTH_STATE, SILENT})

# What each state means and what to do: shown in /healthz, the alert mail and docs/operations.md.
ADVICE = {
    OK: "nothing to do",
    FAILING_STATE: "the last run failed; it is retried with backoff (see last error)",
    QUOTA_PAUSED: "the source's quota is used up; polling resumes by itself at retry_at",
    NEEDS_REAUTH_STATE: "credentials were refused: renew them as the last error says, then restart",
    SILENT: "no successful run for too long: read the last error and 'pengaduan status'",
}


@dataclass(frozen=True)
class Watched:
    """An enabled collector instance as configured: its name and polling interval (seconds)."""

    name: str
    interval: float


@dataclass(frozen=True)
class Verdict:
    collector: str
    state: str
    healthy: bool
    reason: str
    last_success_at: datetime | None
    retry_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "collector": self.collector,
            "state": self.state,
            "healthy": self.healthy,
            "reason": self.reason,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
        }


def is_quota_pause(state: CollectorState | None, now: datetime) -> bool:
    """The source said its quota is used up and when it resets (TransientError.retry_at)."""
    return bool(
        state
        and state.health == FAILING
        and state.retry_at is not None
        and state.retry_at > now
        and "quota" in (state.last_error or "").lower()
    )


def judge(
    watched: Watched,
    state: CollectorState | None,
    now: datetime,
    silent_after_intervals: int,
    watching_since: datetime,
) -> Verdict:
    window = timedelta(seconds=watched.interval * silent_after_intervals)
    last_success = state.last_success_at if state else None
    retry_at = state.retry_at if state else None

    def verdict(name: str, reason: str) -> Verdict:
        return Verdict(
            watched.name, name, name not in UNHEALTHY_STATES,
            reason, last_success, retry_at,
        )

    if state is not None and state.health == NEEDS_REAUTH:
        return verdict(NEEDS_REAUTH_STATE, ADVICE[NEEDS_REAUTH_STATE])
    # From the last success, even across a restart (a process that was down for a day does not
    # make its collectors fresh); from the start of watching only when none ever succeeded, or
    # when the success is dated ahead of now (it would keep a dead collector looking fresh for
    # as long as the clock was wrong).
    since = watching_since
    if last_success is not None and not recorded_ahead(last_success, now):
        since = last_success
    deadline = since + window
    paused = is_quota_pause(state, now)
    if paused and retry_at is not None:
        deadline = max(deadline, retry_at + window)
    if now > deadline:
        silent_for = now - since
        what = "no successful run" if last_success else "never a successful run"
        return verdict(
            SILENT,
            f"{what} for {_human(silent_for)} (more than {silent_after_intervals} intervals "
            f"of {_human(timedelta(seconds=watched.interval))})",
        )
    if paused:
        return verdict(QUOTA_PAUSED, ADVICE[QUOTA_PAUSED])
    if state is not None and state.health == FAILING:
        return verdict(FAILING_STATE, ADVICE[FAILING_STATE])
    return verdict(OK, ADVICE[OK])


def judge_all(
    watched: Iterable[Watched],
    states: Mapping[str, CollectorState],
    now: datetime,
    silent_after_intervals: int,
    watching_since: datetime,
) -> list[Verdict]:
    return [
        judge(w, states.get(w.name), now, silent_after_intervals, watching_since)
        for w in sorted(watched, key=lambda w: w.name)
    ]


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
