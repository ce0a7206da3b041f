"""Servers that go away mid-run: the IMAP server restarted or stopped, the database stopped or
restarted (under one run, a command, and the scheduler).

Each fault ends the same way: the run completes, or fails with one sentence saying what
happened (never a traceback in the logs); what was committed before the fault stays, and the
next run stores the rest exactly once.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from faults import count, no_tracebacks, pipeline, sqlite_store, state_of, unavailable  # noqa: F401
from helpers import ROOT, ListCollector, ListConfig, make_settings
from pengaduan.pipeline import Pipeline, RunReport, serve
from pengaduan.settings import CollectorSettings
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, raw_items, records
from services.dovecot import ImapAccount
from test_imap import collector as imap_collector
from test_imap import mail

pytestmark = pytest.mark.usefixtures("no_tracebacks")

MAILS = 12


class Beside(threading.Thread):
    """``work`` in a thread of its own; ``join()`` returns its result or re-raises its error.

    The pipeline runs here while the test's own thread stops and starts the server: a test
    server dies with the thread that started it (PR_SET_PDEATHSIG, tests/services).
    """

    def __init__(self, work: Callable[[], Any]):
        super().__init__(daemon=True)
        self.work, self.result, self.error = work, None, None
        self.start()

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as exc:  # handed to join()
            self.error = exc

    def join(self, timeout: float | None = 120) -> Any:  # type: ignore[override]
        super().join(timeout)
        assert not self.is_alive(), "the run did not end"
        if self.error is not None:
            raise self.error
        return self.result


def restart_beside_first_batch(
    run: Callable[[Callable[[int], None]], RunReport], server: Any, pace: float
) -> RunReport:
    """``run(progress)`` in a thread; here, once its first batch is committed, the server is
    stopped and started again while the run goes on. Each batch takes ``pace`` seconds more
    so the run is still going when the stop begins; where in the run the stop lands (a FETCH,
    a commit, between two) varies."""
    committed = threading.Event()

    def progress(_items: int) -> None:
        committed.set()
        time.sleep(pace)

    running = Beside(lambda: run(progress))
    assert committed.wait(60), "the run committed no batch"
    assert running.is_alive(), "the run ended before the server was stopped"
    server.shutdown()
    server.start()
    return running.join()


def after_batch(n: int, action: Callable[[], None]) -> Callable[[int], None]:
    """A progress callback that runs ``action`` once, after the ``n``-th committed batch."""
    seen: list[int] = []

    def progress(items: int) -> None:
        seen.append(items)
        if len(seen) == n:
            action()

    return progress


def exactly_once(store: Store, n: int, *tables: Any) -> None:
    assert [count(store, t) for t in (raw_items, records, *tables)] == [n] * (2 + len(tables))


# --- IMAP -----------------------------------------------------------------------------------


@pytest.fixture
def mailbox(imap_account: ImapAccount) -> Iterator[ImapAccount]:
    for n in range(MAILS):
        imap_account.append("INBOX", mail(n))
    yield imap_account
    imap_account.server.start()  # whatever the test did to it, the session's server runs on


def test_imap_server_restarted_between_batches_the_run_reconnects_and_completes(
    mailbox: ImapAccount, pipeline: Pipeline
) -> None:
    report = pipeline.run(imap_collector(mailbox, batch_size=3),
                          progress=after_batch(1, mailbox.server.restart))
    assert (report.outcome, report.new) == ("ok", MAILS), report.summary()
    exactly_once(pipeline.store, MAILS)


def test_imap_server_stopped_mid_run_fails_transiently_and_the_next_run_resumes(
    mailbox: ImapAccount, pipeline: Pipeline
) -> None:
    report = pipeline.run(imap_collector(mailbox, batch_size=3),
                          progress=after_batch(2, mailbox.server.shutdown))
    assert (report.outcome, report.new) == ("failed", 6)
    assert report.error and "cannot connect" in report.error and "will retry" in report.error
    state = state_of(pipeline.store, "mail")
    assert state.health == store_state.FAILING and state.retry_at is not None
    assert state.cursor["folders"]["INBOX"]["last_uid"] == 6  # what was committed stays

    mailbox.server.start()
    again = pipeline.run(imap_collector(mailbox, batch_size=3))
    assert (again.outcome, again.fetched, again.new) == ("ok", MAILS - 6, MAILS - 6)
    exactly_once(pipeline.store, MAILS)


def test_imap_server_restarted_at_a_random_moment_loses_and_doubles_nothing(
    mailbox: ImapAccount, pipeline: Pipeline
) -> None:
    report = restart_beside_first_batch(
        lambda progress: pipeline.run(imap_collector(mailbox, batch_size=2), progress=progress),
        mailbox.server, pace=0.3,
    )
    # Reconnected (the collector tries once per operation), or failed to be retried.
    assert report.outcome == "ok" or "will retry" in (report.error or ""), report.summary()
    again = pipeline.run(imap_collector(mailbox, batch_size=2))
    assert again.outcome == "ok" and report.new + again.new == MAILS
    exactly_once(pipeline.store, MAILS)


# --- the database ---------------------------------------------------------------------------


@dataclass
class Database:
    server: Any  # tests/services/postgres.py PostgresServer
    store: Store
    pipeline: Pipeline


@pytest.fixture
def database(postgres_server: Any, pg_url: str, tmp_path: Path) -> Iterator[Database]:
    """A PostgreSQL store whose server the test may stop; started again after the test."""
    if not postgres_server.can_restart:
        unavailable("PENGADUAN_TEST_PG_URL names a server this session cannot stop")
    store = Store(pg_url)
    store.ensure_schema()
    yield Database(postgres_server, store, Pipeline(store, make_settings(pg_url, tmp_path)))
    postgres_server.start()  # a no-op unless the test left it stopped
    store.dispose()


def complaints(n: int, prefix: str = "c", start: int = 0) -> list[dict]:
    return [{"id": f"{prefix}{i}", "body": f"Bantuan PKH keluarga {prefix}{i} belum cair"}
            for i in range(start, n)]


def list_collector(items: list[dict]) -> ListCollector:
    return ListCollector("list", ListConfig(items=items, batch_size=2))


def test_database_stopped_mid_run_fails_in_one_sentence_and_the_next_run_resumes(
    database: Database,
) -> None:
    items = complaints(10)
    try:
        report = database.pipeline.run(list_collector(items),
                                       progress=after_batch(2, database.server.shutdown))
    finally:
        database.server.start()
    assert report.outcome == "failed"
    assert report.error and report.error.startswith("cannot reach the database at postgresql")
    assert "check [store] url" in report.error
    again = database.pipeline.run(list_collector(items))
    assert (again.outcome, again.new) == ("ok", 6), again.summary()
    exactly_once(database.store, 10, case_links)


def test_database_restarted_at_a_random_moment_of_a_run_loses_and_doubles_nothing(
    database: Database,
) -> None:
    items = complaints(40)
    report = restart_beside_first_batch(
        lambda progress: database.pipeline.run(list_collector(items), progress=progress),
        database.server, pace=0.1,
    )
    assert report.outcome == "ok" or (report.error or "").startswith("cannot reach the database")
    again = database.pipeline.run(list_collector(items))
    assert again.outcome == "ok" and report.new + again.new == 40
    exactly_once(database.store, 40, case_links)


def test_a_command_run_while_the_database_is_down_says_so_in_one_line(
    database: Database, tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    config = tmp_path / "settings.toml"
    config.write_text(f'[store]\nurl = "{database.store.url}"\n'
                      '[collectors.lapor]\ntype = "lapor_export"\nwatch_dir = "in"\n')
    database.server.shutdown()
    done = subprocess.run(
        [sys.executable, "-m", "pengaduan.cli.main", "--config", str(config), "run", "--once"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pengaduan: cannot reach the database"), done.stderr


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:  # the database may still be coming back
            pass
        time.sleep(0.1)
    return False


def test_the_scheduler_keeps_going_while_the_database_is_down_and_catches_up(
    database: Database, tmp_path: Path
) -> None:
    store = database.store
    settings = make_settings(store.url, tmp_path, scheduler={"retry_initial": "1s"})
    sources = {name: complaints(4, name) for name in ("a", "b")}
    for name, items in sources.items():
        settings.collectors[name] = CollectorSettings(
            name, ListCollector.type, ListCollector, True, 0.2, ListConfig(items=items, batch_size=2))
    pipeline = Pipeline(store, settings)
    scheduler = threading.Thread(target=serve, args=(pipeline, 0.05))
    scheduler.start()
    try:
        assert wait_for(lambda: count(store, records) == 8, 30), "the first runs did not finish"
        database.server.shutdown()
        time.sleep(1.5)  # several scheduled runs meet the stopped database
        database.server.start()
        for name, items in sources.items():
            items.extend(complaints(6, name, start=4))  # new items while it was down
        caught_up = wait_for(lambda: count(store, records) == 12, 30)
        assert scheduler.is_alive()
    finally:
        pipeline.stop.set()
        scheduler.join(30)
    assert caught_up, "the scheduler did not pick the new items up after the database came back"
    exactly_once(store, 12, case_links)
