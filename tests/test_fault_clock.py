"""The clock jumps: NTP correcting a clock that ran a day ahead, a VM restored from a snapshot.

Times the pipeline stores (last run, last success, retry_at) and the Graph collectors'
watermark come from the clock of the moment. After a jump, nothing may be fetched twice or
skipped, a backoff decided by the wrong clock must not hold a collector for as long as the
jump, and a success dated ahead must not keep a dead collector looking fresh to the health
check. The pipeline and the collectors take their clock as a parameter; these tests move it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from faults import count, sqlite_store, state_of  # noqa: F401  (sqlite_store: a fixture)
from helpers import ListCollector, ListConfig, make_settings
from pengaduan.collectors.facebook_page import FacebookPageCollector, FacebookPageConfig
from pengaduan.errors import TransientError
from pengaduan.health.check import OK, SILENT, Watched, judge
from pengaduan.health.server import healthz
from pengaduan.pipeline import Pipeline
from pengaduan.settings import CollectorSettings, Secret
from pengaduan.store import leases
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, raw_items, records
from services.graph_fixture_server import GraphPage, sample_page
from test_facebook import TOKEN, comment

NOW = datetime.now(timezone.utc).replace(microsecond=0)  # the true time of these tests
DAY = timedelta(days=1)
INTERVAL = 60.0


class Clock:
    """A clock the test sets: ``clock.now = …`` is the jump."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


def instance(items: list[dict], failing: bool = False) -> CollectorSettings:
    config = ListConfig(items=items, fail_with=TransientError("the server said 503") if failing else None)
    # Polled every second: a scheduled run is refused within half an interval of the last
    # one (by the real clock, store/leases.py), which these tests do not wait for.
    return CollectorSettings("list", ListCollector.type, ListCollector, True, 1.0, config)


def complaints(n: int) -> list[dict]:
    return [{"id": f"c{i}", "body": f"Bantuan PKH keluarga {i} belum cair"} for i in range(n)]


def test_a_run_whose_clock_jumps_back_and_forth_stores_everything_once(
    store: Store, tmp_path: Path
) -> None:
    clock = Clock(NOW)
    settings = make_settings(store.url, tmp_path)
    settings.collectors["list"] = instance(complaints(10))
    pipeline = Pipeline(store, settings, clock=clock)
    jumps = iter([NOW - DAY, NOW + 2 * DAY, NOW - timedelta(hours=1)])

    def jump(_items: int) -> None:
        clock.now = next(jumps, clock.now)

    report = pipeline.run(settings.collectors["list"].build(), progress=jump)
    assert (report.outcome, report.new) == ("ok", 10)
    assert [count(store, t) for t in (raw_items, records, case_links)] == [10, 10, 10]
    clock.now = NOW
    again = pipeline.run(settings.collectors["list"].build())
    assert (again.outcome, again.new, again.fetched) == ("ok", 0, 0)
    # The run log's times go back and forth; the health endpoint reads them without harm.
    assert healthz(store, settings, NOW, NOW - DAY) == (
        200, {"status": "ok", "store": "ok", "checked_at": NOW.isoformat(),
              "collectors": {"list": OK}, "unhealthy": []})


def test_a_backoff_decided_while_the_clock_ran_ahead_does_not_hold_the_collector_after(
    store: Store, tmp_path: Path
) -> None:
    clock = Clock(NOW + DAY)  # a clock a day ahead, not yet corrected
    pipeline = Pipeline(store, make_settings(store.url, tmp_path), clock=clock)
    failed = pipeline.run_instance(instance(complaints(4), failing=True))
    assert failed is not None and failed.outcome == "failed"
    assert state_of(store, "list").retry_at == NOW + DAY + timedelta(seconds=60)  # the first backoff
    assert pipeline.run_instance(instance(complaints(4))) is None  # backing off, as it should

    clock.now = NOW + DAY - timedelta(minutes=1)  # ordinary skew: the backoff still holds
    assert pipeline.run_instance(instance(complaints(4))) is None
    clock.now = NOW  # corrected: without the rule it would wait a day
    time.sleep(0.6)
    report = pipeline.run_instance(instance(complaints(4)))
    assert report is not None and (report.outcome, report.new) == ("ok", 4)
    state = state_of(store, "list")
    assert (state.last_success_at, state.retry_at) == (NOW, None)


def test_a_success_dated_ahead_does_not_keep_a_dead_collector_looking_fresh(
    store: Store, tmp_path: Path
) -> None:
    clock = Clock(NOW + DAY)
    pipeline = Pipeline(store, make_settings(store.url, tmp_path), clock=clock)
    assert pipeline.run(ListCollector("list", ListConfig(items=complaints(2)))).outcome == "ok"
    clock.now = NOW  # corrected; from now on the source is down
    for minutes in range(0, 40, 10):
        clock.now = NOW + timedelta(minutes=minutes)
        pipeline.run(instance(complaints(2), failing=True).build())
    state = state_of(store, "list")
    assert state.last_success_at == NOW + DAY and state.health == store_state.FAILING
    watched = Watched("list", INTERVAL)
    later = NOW + timedelta(minutes=40)
    verdict = judge(watched, state, later, silent_after_intervals=3, watching_since=NOW)
    assert verdict.state == SILENT and "no successful run for 40 min" in verdict.reason
    # A success dated a little ahead (another server's clock) is trusted as it is.
    near = judge(watched, state, NOW + DAY - timedelta(minutes=2), 3, NOW)
    assert near.state != SILENT
    fresh = judge(watched, state, NOW + DAY + timedelta(minutes=1), 3, NOW)
    assert fresh.state in (OK, "failing")


def test_a_lease_dated_by_a_clock_since_set_back_does_not_hold_the_collector(store: Store) -> None:
    """A process whose clock ran a day ahead took the lease and died (or released it): by the
    corrected clock its lease would look held, or just taken, for a day."""
    minute = timedelta(minutes=1)
    with store.transaction() as conn:
        assert leases.acquire(conn, "fb", "A", 60, now=NOW + DAY)
        assert not leases.acquire(conn, "fb", "B", 60, now=NOW + DAY + minute / 2)  # held
        assert not leases.acquire(conn, "fb", "B", 60, now=NOW + DAY - minute)  # ordinary skew
        assert leases.acquire(conn, "fb", "B", 60, now=NOW)  # corrected: not held for a day
        # The same for the gap between two runs of a collector polled by several processes.
        assert leases.acquire(conn, "yt", "C", 60, now=NOW + DAY)
        assert leases.release(conn, "yt", "C", now=NOW + DAY + minute / 6)
        assert not leases.acquire(conn, "yt", "D", 60, min_gap=30, now=NOW + DAY + minute / 3)
        assert leases.acquire(conn, "yt", "D", 60, min_gap=30, now=NOW)


# --- the Graph watermark -------------------------------------------------------------------


@pytest.fixture
def page() -> Iterator[GraphPage]:
    with sample_page(NOW, posts=3, comments_per_post=4).serving() as served:
        yield served


@pytest.mark.parametrize("wrong", [2 * DAY, -4 * DAY], ids=["ahead", "behind"])
def test_a_page_read_by_a_wrong_clock_then_a_right_one_loses_and_doubles_nothing(
    page: GraphPage, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    wrong: timedelta,
) -> None:
    """Ahead, the watermark is set in the future; behind, the newest post is not listed yet
    (``until`` is the wrong now). Either way the next runs by the right clock find the post
    and the new comment, and read nothing twice."""
    clock = Clock(NOW + wrong)
    monkeypatch.setattr(FacebookPageCollector, "clock", staticmethod(clock))
    pipeline = Pipeline(store, make_settings(store.url, tmp_path), clock=clock)
    token = Secret(TOKEN, "environment variable PENGADUAN_FB_TOKEN")

    def run():  # type: ignore[no-untyped-def]
        return pipeline.run(FacebookPageCollector(
            "fb", FacebookPageConfig(page_id=page.page_id, access_token=token, api_base=page.api_base)))

    first = run()
    assert first.outcome == "ok"

    clock.now = NOW + timedelta(minutes=30)  # corrected; meanwhile a new comment on the oldest post
    oldest = sorted(page.comments)[0]
    stamp = (NOW + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    object_id = oldest.split("_")[1]
    page.comments[oldest].append(comment(f"{object_id}_77770001", "Sampai sekarang belum cair juga",
                                         stamp, ("19999", "Wayan Sukra")))
    next(p for p in page.posts if p["id"] == oldest)["updated_time"] = stamp
    second = run()
    assert second.outcome == "ok" and first.new + second.new == 3 * 4 + 1
    clock.now = NOW + timedelta(hours=2)
    third = run()
    assert (third.outcome, third.new, third.updated) == ("ok", 0, 0)
    assert count(store, raw_items) == count(store, records) == 3 * 4 + 1
