"""Prometheus figures, read from the store at scrape time (a custom collector).

Nothing is counted in memory: several ``run`` processes may share one database, and a
restarted process must not start its counters at zero. Every figure is a query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timezone
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

from pengaduan.health.check import STATES, is_quota_pause
from pengaduan.health.snapshot import Snapshot, declared_token_expiry, read_snapshot
from pengaduan.settings import Settings
from pengaduan.store.db import Store

log = logging.getLogger("pengaduan.health")

P = "pengaduan_"


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _expiry_ts(value: Any) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, date):
        return datetime.combine(value, time(), timezone.utc).timestamp()
    return None


def snapshot_metrics(snap: Snapshot, settings: Settings) -> Iterator[Metric]:
    """The metric families for one snapshot (pure: testable without a server)."""
    c = ["collector"]
    healthy = GaugeMetricFamily(P + "collector_healthy", "1 when the collector is healthy", labels=c)
    health = GaugeMetricFamily(
        P + "collector_health",
        "1 for the collector's current health state (ok, failing, quota_paused, needs_reauth, "
        "silent), 0 for the others",
        labels=["collector", "state"],
    )
    last_success = GaugeMetricFamily(
        P + "collector_last_success_timestamp_seconds", "When the last successful run ended",
        labels=c,
    )
    last_run = GaugeMetricFamily(
        P + "collector_last_run_timestamp_seconds", "When the last run ended", labels=c
    )
    lag = GaugeMetricFamily(
        P + "collector_lag_seconds", "Seconds since the last successful run", labels=c
    )
    failures = GaugeMetricFamily(
        P + "collector_consecutive_failures", "Failed runs in a row", labels=c
    )
    retry = GaugeMetricFamily(
        P + "collector_retry_at_timestamp_seconds",
        "When a failing collector is tried again (backoff, or the source's own word)", labels=c,
    )
    quota = GaugeMetricFamily(
        P + "collector_quota_paused_until_timestamp_seconds",
        "The source's quota is used up until then (YouTube quotaExceeded)", labels=c,
    )
    token = GaugeMetricFamily(
        P + "collector_token_expiry_timestamp_seconds",
        "token_expires_at as declared in the collector's settings (not read from the platform)",
        labels=c,
    )
    runs = CounterMetricFamily(P + "collector_runs", "Finished runs", labels=["collector", "outcome"])
    errors = CounterMetricFamily(P + "collector_errors", "Failed runs", labels=c)
    items = CounterMetricFamily(
        P + "collector_items",
        "Items over all runs: fetched, new, updated, quarantined", labels=["collector", "kind"],
    )

    for v in snap.verdicts:
        healthy.add_metric([v.collector], 1.0 if v.healthy else 0.0)
        for state in STATES:
            health.add_metric([v.collector, state], 1.0 if v.state == state else 0.0)
    for name, st in sorted(snap.states.items()):
        if st.last_success_at:
            last_success.add_metric([name], st.last_success_at.timestamp())
            lag.add_metric([name], max(0.0, (snap.now - st.last_success_at).total_seconds()))
        if st.last_run_at:
            last_run.add_metric([name], st.last_run_at.timestamp())
        failures.add_metric([name], float(st.failures))
        if st.retry_at and st.retry_at > snap.now and st.health != "ok":
            retry.add_metric([name], st.retry_at.timestamp())
            if is_quota_pause(st, snap.now):
                quota.add_metric([name], st.retry_at.timestamp())
    for name, t in sorted(snap.totals.items()):
        runs.add_metric([name, "failed"], float(t.failed))
        runs.add_metric([name, "other"], float(t.runs - t.failed))
        errors.add_metric([name], float(t.failed))
        for kind in ("fetched", "new", "updated", "quarantined"):
            items.add_metric([name, kind], float(getattr(t, kind)))
    for name, value in sorted(declared_token_expiry(settings).items()):
        ts = _expiry_ts(value)
        if ts is not None:
            token.add_metric([name], ts)

    quarantine = GaugeMetricFamily(
        P + "quarantine_size", "Open quarantine entries (items not yet normalised)",
    )
    quarantine.add_metric([], float(sum(snap.quarantine.values())))
    quarantine_by = GaugeMetricFamily(
        P + "quarantine_open", "Open quarantine entries per collector", labels=c
    )
    for name, n in sorted(snap.quarantine.items()):
        quarantine_by.add_metric([name], float(n))
    open_cases = GaugeMetricFamily(P + "cases_open", "Open cases", labels=["channel"])
    overdue = GaugeMetricFamily(
        P + "cases_overdue", "Open cases past their deadline (due_at)", labels=["channel"]
    )
    for channel, n in sorted(snap.open_cases.items()):
        open_cases.add_metric([channel], float(n))
        overdue.add_metric([channel], float(snap.overdue_cases.get(channel, 0)))

    yield from (healthy, health, last_success, last_run, lag, failures, retry, quota, token,
                runs, errors, items, quarantine, quarantine_by, open_cases, overdue)


class StoreCollector:
    """A prometheus_client collector that queries the store on every scrape."""

    def __init__(
        self, store: Store, settings: Settings, clock: Callable[[], datetime],
        watching_since: datetime,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.watching_since = watching_since

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(P + "store_up", "1 when the store could be read for this scrape")
        try:
            with self.store.transaction() as conn:
                snap = read_snapshot(conn, self.settings, self.clock(), self.watching_since)
            families = list(snapshot_metrics(snap, self.settings))
        except Exception as exc:  # a scrape must say the store is down, not fail with a 500
            log.warning("metrics: the store could not be read (%s)", type(exc).__name__)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield from families


def make_registry(store: Store, settings: Settings, clock: Callable[[], datetime],
                  watching_since: datetime) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, settings, clock, watching_since))
    return registry
