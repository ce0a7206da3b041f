"""Collector leases (store/leases.py): one holder at a time, expiry, fencing, keep-alive,
and how the pipeline and the command line use them; on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import ListCollector, ListConfig, make_settings
from pengaduan.cli.main import main
from pengaduan.collectors.base import Batch, Cursor
from pengaduan.errors import ConfigError, TransientError
from pengaduan.pipeline import Pipeline
from pengaduan.settings import CollectorSettings
from pengaduan.store import leases
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import records, runs

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)
ITEMS = [{"id": str(n), "body": f"Keluhan nomor {n} tentang bantuan beras."} for n in range(6)]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_one_holder_until_expiry_then_the_old_one_is_fenced_off(store: Store) -> None:
    def step(fn, *args, **kw):  # type: ignore[no-untyped-def]
        with store.transaction() as conn:
            return fn(conn, "mail", *args, **kw)

    assert step(leases.acquire, "A", 60, now=at(0))
    assert not step(leases.acquire, "B", 60, now=at(10))
    with store.transaction() as conn:
        assert leases.live_leases(conn, now=at(10))["mail"].holder == "A"
    assert step(leases.renew, "A", 60, now=at(30))  # now held until 90
    assert not step(leases.acquire, "B", 60, now=at(89))
    assert step(leases.acquire, "B", 60, now=at(90))  # A went silent: B takes over
    assert not step(leases.renew, "A", 60, now=at(91))
    with pytest.raises(leases.LeaseLost, match="no longer holds its lease"):
        step(leases.hold, "A", 60)
    assert not step(leases.release, "A", now=at(92))  # not A's to release
    assert step(leases.release, "B", now=at(93))
    with store.transaction() as conn:
        assert leases.live_leases(conn, now=at(93)) == {}
    assert step(leases.acquire, "A", 60, now=at(94))  # released: free at once


def test_min_gap_keeps_a_collector_from_running_again_too_soon(store: Store) -> None:
    with store.transaction() as conn:
        assert leases.acquire(conn, "yt", "A", 60, now=at(0))
        assert leases.release(conn, "yt", "A", now=at(5))
        assert not leases.acquire(conn, "yt", "B", 60, min_gap=30, now=at(20))
        assert leases.acquire(conn, "yt", "B", 60, min_gap=30, now=at(30))


def test_of_many_asking_at_once_exactly_one_gets_the_lease(store: Store) -> None:
    start = threading.Barrier(6)
    won: list[str] = []

    def ask(holder: str) -> None:
        start.wait()
        with store.transaction() as conn:
            if leases.acquire(conn, "lapor", holder, 60):
                won.append(holder)

    threads = [threading.Thread(target=ask, args=(f"p{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1
    with store.transaction() as conn:
        assert leases.live_leases(conn)["lapor"].holder == won[0]


def count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_run_that_lost_its_lease_commits_nothing_more(store: Store, tmp_path: Path) -> None:
    settings = make_settings(store.url, tmp_path)
    mine, theirs = Pipeline(store, settings), Pipeline(store, settings)
    collector = ListCollector("src", ListConfig(ITEMS, batch_size=2))

    def taken_over_after_one_batch(cursor: Cursor | None) -> Iterator[Batch]:
        for n, batch in enumerate(collector.fetch(cursor)):
            if n == 1:  # this process stalled past its lease; another took the collector
                with store.transaction() as conn:
                    conn.execute(leases.collector_leases.update().values(expires_at=LONG_AGO))
                    assert leases.acquire(conn, "src", theirs.holder, 60)
            yield batch

    report = mine.run(collector, fetch=taken_over_after_one_batch)
    assert report.outcome == "interrupted" and "no longer holds its lease" in (report.error or "")
    assert (report.fetched, count(store, records)) == (2, 2)  # the second batch rolled back
    with store.transaction() as conn:
        state = store_state.load_state(conn, "src")
        outcome = conn.execute(select(runs.c.outcome)).scalar_one()
    assert state is not None and state.cursor == {"offset": 2}
    assert state.last_success_at is None  # the state is the new holder's to write
    assert outcome == "interrupted"
    # The new holder carries on from the committed cursor: every item once.
    again = theirs.run(ListCollector("src", ListConfig(ITEMS, batch_size=2)))
    assert (again.outcome, again.new, count(store, records)) == ("ok", 4, 6)


def test_a_collector_another_process_runs_is_skipped_without_fetching(
    store: Store, tmp_path: Path
) -> None:
    settings = make_settings(store.url, tmp_path)
    with store.transaction() as conn:
        assert leases.acquire(conn, "src", "srv-2:4242:ab12cd", 60)
    # Were it fetched, this collector would fail the run.
    broken = ListCollector("src", ListConfig(fail_with=TransientError("fetched")))
    report = Pipeline(store, settings).run(broken)
    assert report.outcome == "skipped"
    assert report.summary() == (
        "src: not run: another process (srv-2:4242:ab12cd) is running it; try again when that "
        "run ends"
    )
    assert count(store, runs) == 0


def test_the_scheduled_path_leaves_a_collector_another_process_just_ran(
    store: Store, tmp_path: Path
) -> None:
    settings = make_settings(store.url, tmp_path)
    cs = CollectorSettings("src", "test_list", ListCollector, True, 600.0, ListConfig(ITEMS))
    assert Pipeline(store, settings).run_instance(cs).outcome == "ok"  # type: ignore[union-attr]
    other = Pipeline(store, settings)
    skipped = other.run_instance(cs)
    assert skipped is not None and skipped.outcome == "skipped"
    assert "ran it less than 300s ago" in (skipped.error or "")
    forced = other.run_instance(cs, force=True)  # by hand (collect): runs
    assert forced is not None and (forced.outcome, forced.unchanged) == ("ok", 0)


def test_a_slow_fetch_keeps_its_lease_between_batches(store: Store, tmp_path: Path) -> None:
    settings = make_settings(store.url, tmp_path, scheduler={"lease": "1s"})
    collector = ListCollector("slow", ListConfig(ITEMS[:4], batch_size=2))
    refused: list[bool] = []

    def slow(cursor: Cursor | None) -> Iterator[Batch]:
        for n, batch in enumerate(collector.fetch(cursor)):
            if n == 1:
                time.sleep(1.6)  # longer than the lease: only the keep-alive holds it
                with store.transaction() as conn:
                    refused.append(not leases.acquire(conn, "slow", "intruder", 1))
            yield batch

    report = Pipeline(store, settings).run(collector, fetch=slow)
    assert refused == [True]
    assert (report.outcome, report.new) == ("ok", 4)
    with store.transaction() as conn:
        assert leases.live_leases(conn) == {}  # released at the end


def test_lease_setting_default_and_validation(tmp_path: Path) -> None:
    assert make_settings("sqlite://", tmp_path).scheduler.lease == 60.0
    assert make_settings("sqlite://", tmp_path, scheduler={"lease": "2m"}).scheduler.lease == 120.0
    with pytest.raises(ConfigError, match=r"\[scheduler\] lease must be at least 1s"):
        make_settings("sqlite://", tmp_path, scheduler={"lease": "0.5s"})


def test_status_names_the_process_running_a_collector_and_collect_waits_its_turn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in").mkdir()
    config = tmp_path / "settings.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/p.db"\n'
        '[collectors.lapor]\ntype = "lapor_export"\nwatch_dir = "in"\n'
    )
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    store = Store(f"sqlite:///{tmp_path}/p.db")
    with store.transaction() as conn:
        assert leases.acquire(conn, "lapor", "srv-2:4242:ab12cd", 60)
    store.dispose()
    capsys.readouterr()
    main(["--config", str(config), "status"])
    assert "running on srv-2:4242" in capsys.readouterr().out
    assert main(["--config", str(config), "collect", "lapor"]) == 1
    assert "lapor: not run: another process (srv-2:4242:ab12cd) is running it" in capsys.readouterr().err


@pytest.mark.skipif(not leases.MACHINE, reason="no boot id / pid namespace to tell machines apart")
def test_a_lease_left_by_a_process_gone_from_this_machine_is_taken_at_once(store: Store) -> None:
    # A service restarted after a crash, an import run again after a kill: no wait.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    host = socket.gethostname()
    holders = {
        "crashed": f"{host}:{int(gone.stdout)}:{leases.MACHINE}.a1b2c3",
        "running": f"{host}:{os.getpid()}:{leases.MACHINE}.a1b2c3",  # alive: this test
        "elsewhere": f"other-host:{int(gone.stdout)}:{leases.MACHINE}.a1b2c3",  # cannot tell
    }
    with store.transaction() as conn:
        for name, holder in holders.items():
            assert leases.acquire(conn, name, holder, 60)
    assert leases.take(store, "crashed", "me", 60) is None
    for name in ("running", "elsewhere"):
        assert f"another process ({holders[name]}) is running it" in (leases.take(store, name, "me", 60) or "")
    with store.transaction() as conn:
        assert leases.live_leases(conn)["crashed"].holder == "me"
