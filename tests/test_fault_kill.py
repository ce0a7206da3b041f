"""SIGKILL at random moments of a mixed ingestion, then exactly once (DESIGN.md §2, 1 and 2).

A child ``pengaduan run --once`` reads three collectors at once: LAPOR! exports in a watch
folder (a CSV and an XLSX that updates five of its reports), a real Dovecot mailbox, and a
Facebook Page served on loopback (tests/services/graph_fixture_server.py). The parent kills
it with SIGKILL at a random moment after its first run began (the seed and each delay are
printed), runs the pipeline again to completion, and compares the database with an
uninterrupted run of the same sources: the same raw item versions, records, revisions,
quarantine entries, cases (record for record), cursors and health; and a further run adds
nothing.

CI runs 10 trials on SQLite and 3 on PostgreSQL. The long run (docs/operations.md)::

    PENGADUAN_KILL_TRIALS=50 bin/test tests/test_fault_kill.py

``PENGADUAN_KILL_SEED=N`` replays the trials of a printed seed.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from helpers import ROOT  # noqa: I001  (puts samples/ on sys.path)
from generate_lapor import fake_rows, write_export
from pengaduan.pipeline import Pipeline
from pengaduan.settings import load_settings
from pengaduan.store.db import Store
from pengaduan.store.schema import (
    case_links,
    collector_state,
    quarantine,
    raw_items,
    record_revisions,
    records,
    runs,
)
from services.dovecot import ImapAccount
from services.graph_fixture_server import GraphPage, sample_page
from test_crash import stored
from test_facebook import TOKEN
from test_imap import mail

CI_TRIALS = {"sqlite": 10, "postgresql": 3}
MAILS = 30
LAPOR_CSV, LAPOR_XLSX, LAPOR_UPDATED = 100, 50, 5
POSTS, COMMENTS = 4, 10
ENV = {"PENGADUAN_TEST_FB_TOKEN": TOKEN}


def trial_count(dialect: str) -> int:
    wanted = os.environ.get("PENGADUAN_KILL_TRIALS")
    return int(wanted) if wanted else CI_TRIALS[dialect]


# --- the sources --------------------------------------------------------------------------


@dataclass
class Sources:
    """Everything the child reads, and what must end up stored."""

    folder: Path
    account: ImapAccount
    page: GraphPage
    expected: dict[str, set[str]]  # records.collector (key space) -> source ids

    def settings_file(self, url: str) -> Path:
        path = self.folder / f"settings-{uuid.uuid4().hex[:8]}.toml"
        path.write_text(
            f'[store]\nurl = "{url}"\n\n'
            '[collectors.lapor]\ntype = "lapor_export"\nwatch_dir = "lapor"\n'
            "settle_seconds = 0\nbatch_size = 20\n\n"
            f'[collectors.mail]\ntype = "imap"\nhost = "{self.account.host}"\n'
            f"port = {self.account.port}\nssl = false\n"
            f'username = "{self.account.username}"\n'
            'password = { env = "PENGADUAN_TEST_IMAP_PASSWORD" }\nbatch_size = 5\n\n'
            f'[collectors.fb]\ntype = "facebook_page"\npage_id = "{self.page.page_id}"\n'
            'access_token = { env = "PENGADUAN_TEST_FB_TOKEN" }\n'
            f'api_base = "{self.page.api_base}"\npage_size = 5\n'
        )
        return path

    @property
    def env(self) -> dict[str, str]:
        return {**ENV, "PENGADUAN_TEST_IMAP_PASSWORD": self.account.password}


@pytest.fixture
def sources(tmp_path: Path, imap_account: ImapAccount) -> Iterator[Sources]:
    lapor = tmp_path / "lapor"
    lapor.mkdir()
    first = fake_rows(LAPOR_CSV, seed=11)
    later = fake_rows(LAPOR_XLSX, start_id=9_400_000, seed=12)
    closed = {"Status Laporan": "Ditutup oleh Sistem"}
    updated = [dict(row, **closed) for row in first if row["Status Laporan"] != closed["Status Laporan"]]
    updated = updated[:LAPOR_UPDATED]
    write_export(lapor / "export-oktober.csv", first, "csv")
    write_export(lapor / "export-november.xlsx", later + updated, "xlsx")
    os.utime(lapor / "export-oktober.csv", (time.time() - 60, time.time() - 60))  # read first
    for n in range(MAILS):
        imap_account.append("INBOX", mail(n))
    page = sample_page(datetime.now(timezone.utc), POSTS, COMMENTS)
    expected = {
        "lapor": {str(row["Tracking ID"]) for row in first + later},
        "email": {f"m{n}@example.id" for n in range(MAILS)},
        "fb": {c["id"] for thread in page.comments.values() for c in thread},
    }
    with page.serving():
        yield Sources(tmp_path, imap_account, page, expected)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes an empty database per call (a SQLite file, or a PostgreSQL database dropped at
    the end); ``.dialect`` says which."""
    made: list[str] = []
    server = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None

    def make() -> str:
        name = f"k_{uuid.uuid4().hex[:12]}"
        made.append(name)
        return server.create_database(name) if server else f"sqlite:///{tmp_path}/{name}.db"

    make.dialect = request.param  # type: ignore[attr-defined]
    yield make
    for name in made if server else ():
        server.drop_database(name)


# --- the child and the database -----------------------------------------------------------


def start_run(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pengaduan.cli.main", "--config", str(config),
             "--log-format", "json", "run", "--once"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env},
        )


def count(url: str, table: Any) -> int:
    """Rows in ``table``; 0 while the child has not created the schema yet."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()
    except Exception:
        return 0
    finally:
        engine.dispose()


def wait_for_first_run(proc: subprocess.Popen, url: str, log: Path) -> float:
    """Block until the child has begun its first collector run; returns that moment."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if count(url, runs):
            return time.monotonic()
        if proc.poll() is not None:
            pytest.fail(f"the run exited ({proc.returncode}) before starting: {log.read_text()[-2000:]}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("the child started no run within 60 s")


def snapshot(url: str) -> dict[str, Any]:
    """What exactly-once is judged on: keys and content digests, no times or row ids."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            raw = [tuple(r) for r in conn.execute(
                select(raw_items.c.collector, raw_items.c.source_id, raw_items.c.sha256))]
            rec = {(r.collector, r.source_id): (r.revision, r.content_sha256) for r in conn.execute(
                select(records.c.collector, records.c.source_id, records.c.revision,
                       records.c.content_sha256))}
            key = {r.id: (r.collector, r.source_id) for r in conn.execute(
                select(records.c.id, records.c.collector, records.c.source_id))}
            links = [(key[r.record_id], r.case_id) for r in conn.execute(
                select(case_links.c.record_id, case_links.c.case_id))]
            grouped: dict[int, set] = {}
            for record, case_id in links:
                grouped.setdefault(case_id, set()).add(record)
            states = {r.collector: (r.health, _stable(r.cursor)) for r in conn.execute(
                select(collector_state.c.collector, collector_state.c.health, collector_state.c.cursor))}
            revisions = conn.execute(select(func.count()).select_from(record_revisions)).scalar_one()
            parked = sorted(tuple(r) for r in conn.execute(
                select(quarantine.c.collector, quarantine.c.source_id)))
    finally:
        engine.dispose()
    assert len(raw) == len(set(raw)), "a raw item version was stored twice"
    assert len(links) == len({record for record, _ in links}), "a record is on two cases"
    return {
        "raw_items": sorted(raw), "records": rec, "revisions": revisions, "quarantine": parked,
        "cases": sorted(sorted(group) for group in grouped.values()), "states": states,
    }


def _stable(cursor: dict | None) -> Any:
    """The cursor without the run's own start time (the Facebook watermark), which is only
    checked to be set: the page was read to its end."""
    if cursor and "watermark" in cursor:
        assert cursor["watermark"] is not None, "the page listing was not completed"
        return {k: v for k, v in cursor.items() if k != "watermark"}
    return cursor


def complete(config: Path) -> list:
    """Restart: every collector once more, in this process, as ``run --once`` does. The
    killed process's leases are taken over at once (it died on this machine)."""
    settings = load_settings(config)
    store = Store(settings.store_url)
    try:
        store.ensure_schema()
        pipeline = Pipeline(store, settings)
        return [pipeline.run(cs.build()) for cs in settings.collectors.values()]
    finally:
        store.dispose()


# --- the trials ----------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_at_random_moments_of_a_mixed_ingestion_loses_and_doubles_nothing(
    sources: Sources, new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
    figures: Callable[[str], None],
) -> None:
    for name, value in sources.env.items():
        monkeypatch.setenv(name, value)
    dialect = new_database.dialect  # type: ignore[attr-defined]
    seed = int(os.environ.get("PENGADUAN_KILL_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    log = sources.folder / "children.log"

    # The uninterrupted run: what every trial must end with, and how long a run lasts.
    url = new_database()
    child = start_run(sources.settings_file(url), sources.env, log)
    began = wait_for_first_run(child, url, log)
    assert child.wait(120) == 0, log.read_text()[-3000:]
    span = time.monotonic() - began
    reference = snapshot(url)
    stored_ids: dict[str, set[str]] = {}
    for collector, source_id in reference["records"]:
        stored_ids.setdefault(collector, set()).add(source_id)
    assert stored_ids == sources.expected
    assert reference["quarantine"] == [] and reference["revisions"] == LAPOR_UPDATED
    assert {h for h, _ in reference["states"].values()} == {"ok"}

    trials = trial_count(dialect)
    at_kill: list[int] = []
    after_exit = 0
    for trial in range(trials):
        url = new_database()
        config = sources.settings_file(url)
        delay = rng.uniform(0, span)
        where = f"{dialect} trial {trial + 1}/{trials}, seed {seed}, kill {delay:.3f}s into the run"
        child = start_run(config, sources.env, log)
        wait_for_first_run(child, url, log)
        time.sleep(delay)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            child.wait()
            at_kill.append(stored(url))
        else:
            assert child.returncode == 0, f"{where}: {log.read_text()[-3000:]}"
            after_exit += 1
        reports = complete(config)
        assert [r.outcome for r in reports] == ["ok"] * 3, f"{where}: {[r.summary() for r in reports]}"
        assert snapshot(url) == reference, where
        again = complete(config)
        assert [(r.new, r.updated, r.quarantined) for r in again] == [(0, 0, 0)] * 3, where

    figures(
        f"SIGKILL trials ({dialect}, seed {seed}): {trials} trials, {len(at_kill)} killed "
        f"mid-run, {after_exit} after the run had ended; records committed at the kill: "
        + (f"min {min(at_kill)}, median {statistics.median(at_kill):.0f}, max {max(at_kill)} "
           f"of {len(reference['records'])}" if at_kill else "-")
        + "; after each restart: 0 lost, 0 doubled"
    )
    assert len(at_kill) >= trials // 2, "most kills should land while the run is working"
