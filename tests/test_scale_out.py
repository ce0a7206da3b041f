"""Several processes on one PostgreSQL (DESIGN.md §8, issue 7).

Two kinds of proof. In-process, made deterministic by a lock the test holds: two transactions
saving the same new items (the constraint path) and two linking near-identical complaints at
once (the linking lock). Then real OS processes: three ``pengaduan run`` on one database, one
frozen mid-run until its collectors are taken over, then SIGKILLed; and two ``pengaduan
collect`` racing on the same messages.
"""

from __future__ import annotations

import dataclasses
import json
import mailbox
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from helpers import ROOT, ListCollector, ListConfig, make_settings  # noqa: I001  (samples/ on sys.path)
from generate_lapor import fake_rows, write_export
from pengaduan.pipeline import Pipeline, RunReport
from pengaduan.prepare import normalize_item
from pengaduan.settings import load_settings
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import (
    case_links, collector_state, raw_items, record_revisions, records, runs,
)


class SharedKeys(ListCollector):
    """Instances share one key space, as two mailboxes do: one item, one record."""

    type = "test_shared"
    key_space = "shared"


class Mailbox(ListCollector):
    """A channel of its own, so linking compares its records with another channel's."""

    type = "test_mailbox"
    channel = "email"

    @classmethod
    def normalize(cls, item):  # type: ignore[no-untyped-def]
        return dataclasses.replace(ListCollector.normalize(item), channel=cls.channel)


class Lapor(Mailbox):
    type = "test_lapor"
    channel = "lapor"


def waiting_locks(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one()
    finally:
        engine.dispose()


def wait_until(check: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def in_thread(run: Callable[[], RunReport]) -> tuple[threading.Thread, list[RunReport]]:
    out: list[RunReport] = []
    thread = threading.Thread(target=lambda: out.append(run()))
    thread.start()
    return thread, out


def run_held_up(store: Store, first: Callable[[], RunReport], first_name: str,
                second: Callable[[], RunReport]) -> tuple[RunReport, RunReport, bool]:
    """Run ``first`` until it waits to save its cursor (its batch stored and linked, not
    committed), start ``second`` and let it run into ``first``; then let both finish.
    Returns both reports and whether ``second`` was seen waiting on ``first``."""
    with store.transaction() as conn:
        store_state.ensure_state(conn, first_name, "test", datetime.now(timezone.utc))
    blocker = store.engine.connect()
    tx = blocker.begin()
    blocker.execute(select(collector_state).where(collector_state.c.collector == first_name)
                    .with_for_update())
    t1, out1 = in_thread(first)
    assert wait_until(lambda: waiting_locks(store.url) >= 1), "the first run never reached its cursor"
    t2, out2 = in_thread(second)
    second_waited = wait_until(lambda: waiting_locks(store.url) >= 2, timeout=5)
    tx.commit()
    blocker.close()
    t1.join(30)
    t2.join(30)
    return out1[0], out2[0], second_waited


def count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


ITEMS = [{"id": f"m{n}", "body": f"Bantuan sembako nomor {n} untuk banjar {n * 7} belum diterima."}
         for n in range(6)]


def test_two_writers_saving_the_same_new_items_store_each_once(pg_url: str, tmp_path: Path) -> None:
    store = Store(pg_url)
    store.ensure_schema()
    settings = make_settings(pg_url, tmp_path)
    changed = [dict(ITEMS[0], body=ITEMS[0]["body"] + " Mohon segera."), *ITEMS[1:]]
    first, second, waited = run_held_up(
        store,
        lambda: Pipeline(store, settings).run(SharedKeys("box_a", ListConfig(ITEMS, batch_size=50))),
        "box_a",
        lambda: Pipeline(store, settings).run(SharedKeys("box_b", ListConfig(changed, batch_size=50))),
    )
    assert waited, "the second run never waited on the first's uncommitted records"
    assert (first.outcome, first.new) == ("ok", 6)
    # The second found the first's records once they were committed: one changed, five not.
    assert (second.outcome, second.error) == ("ok", None)
    assert (second.new, second.updated, second.unchanged) == (0, 1, 5)
    assert count(store, records) == 6
    assert count(store, raw_items) == 12  # each mailbox keeps what it fetched
    assert count(store, record_revisions) == 1
    assert count(store, case_links) == 6
    store.dispose()


COMPLAINT = (
    "Om swastiastu, saya Ni Kadek Wartini dari Banjar Dinas Bukit Tabuan, Desa Ababi, Abang. "
    "Kursi roda untuk ibu saya yang lumpuh sejak stroke dijanjikan lewat program ATENSI bulan "
    "Juli, tetapi sampai hari ini belum datang dan petugas desa tidak bisa memberi kepastian."
)


def test_two_writers_linking_one_complaint_at_once_make_one_case(
    pg_url: str, tmp_path: Path
) -> None:
    store = Store(pg_url)
    store.ensure_schema()
    settings = make_settings(pg_url, tmp_path)
    mail = [{"id": "m1", "body": COMPLAINT, "name": "Ni Kadek Wartini"}]
    report = [{"id": "9301187", "body": COMPLAINT, "name": "Kadek Wartini"}]
    first, second, waited = run_held_up(
        store,
        lambda: Pipeline(store, settings).run(Mailbox("mail", ListConfig(mail))),
        "mail",
        lambda: Pipeline(store, settings).run(Lapor("lapor", ListConfig(report))),
    )
    # The second linked only once the first had committed, so it saw the first's case.
    assert waited, "the second run's linking did not wait for the first's"
    assert (first.outcome, first.cases_opened, second.outcome, second.cases_opened) == ("ok", 1, "ok", 0)
    with store.transaction() as conn:
        links = conn.execute(select(case_links.c.case_id, case_links.c.method)
                             .order_by(case_links.c.id)).all()
    assert [m for _, m in links][1:] == ["duplicate"] and len({c for c, _ in links}) == 1
    store.dispose()


# --- real processes ---------------------------------------------------------------------------


def write_maildir(path: Path, messages: list[tuple[str, str, str]]) -> None:
    """(message id, sender name, text) each as one message file."""
    box = mailbox.Maildir(path, create=True)
    for n, (message_id, name, body) in enumerate(messages):
        msg = EmailMessage()
        msg["From"] = f"{name} <warga{n}@example.id>"
        msg["To"] = "dinsos@example.id"
        msg["Subject"] = f"Pengaduan bantuan sosial {message_id.split('@')[0]}"
        msg["Date"] = format_datetime(datetime(2026, 11, 2, 1, n % 60, tzinfo=timezone.utc))
        msg["Message-ID"] = f"<{message_id}>"
        msg.set_content(body)
        box.add(msg)


def mail_texts(prefix: str, n: int, seed: int) -> list[tuple[str, str, str]]:
    rows = fake_rows(n, seed=seed)
    return [(f"{prefix}{i}@warga.example.id", row["Nama Pelapor"] or "Warga",
             row["Isi Laporan Awal"] or f"Bantuan {prefix} {i} belum diterima.")
            for i, row in enumerate(rows)]


@dataclass
class Expected:
    """What every item of every configured collector must end as, worked out here without a
    database: the items each collector fetches, the (key space, source id) of each record,
    the (collector, source id) of each parked item."""

    fetched: dict[str, set[str]] = field(default_factory=dict)
    stored: set[tuple[str, str]] = field(default_factory=set)
    parked: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def of(cls, settings) -> Expected:  # type: ignore[no-untyped-def]
        found = cls()
        for cs in settings.collectors.values():
            collector = cs.build()
            found.fetched[cs.name] = set()
            for batch in collector.fetch(None):
                for item in batch.items:
                    found.fetched[cs.name].add(item.source_id)
                    outcome = normalize_item(type(collector), item)
                    if outcome.record is None:
                        found.parked.add((cs.name, item.source_id))
                    else:
                        found.stored.add((collector.key_space or cs.name, item.source_id))
        return found


def start(config: Path, log: Path, *command: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pengaduan.cli.main", "--config", str(config),
         "--log-format", "json", *command],
        cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )


def db_rows(url: str, query: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query))]
    except Exception:  # the schema may not be there yet
        return []
    finally:
        engine.dispose()


def run_events(log: Path) -> list[dict]:
    events = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "collector_run":
            events.append(event)
    return events


def test_three_processes_one_frozen_then_killed_every_item_once_and_its_work_taken_over(
    pg_url: str, tmp_path: Path, figures
) -> None:  # type: ignore[no-untyped-def]
    sections = []
    for n, name in enumerate(["lapor_a", "lapor_b", "lapor_c"]):
        folder = tmp_path / name
        folder.mkdir()
        rows = fake_rows(100, start_id=9_400_000 + n * 1000, seed=n + 3)
        write_export(folder / "export.csv", rows, "csv")
        sections.append(f'[collectors.{name}]\ntype = "lapor_export"\nwatch_dir = "{name}"\n'
                        'settle_seconds = 0\nbatch_size = 10\ninterval = "1s"\n')
    shared = mail_texts("shared", 10, seed=10)  # in two mailboxes: one record, two raw items
    for name, own in [("mail_a", mail_texts("a", 30, seed=11) + shared),
                      ("mail_b", shared + mail_texts("b", 30, seed=12)),
                      ("mail_c", mail_texts("c", 30, seed=13))]:
        write_maildir(tmp_path / f"{name}_box", own)
        sections.append(f'[collectors.{name}]\ntype = "mail_archive"\npaths = ["{name}_box"]\n'
                        'batch_size = 5\ninterval = "1s"\n')
    config = tmp_path / "settings.toml"
    config.write_text(f'[store]\nurl = "{pg_url}"\n[scheduler]\nlease = "2s"\n' + "".join(sections))
    expected = Expected.of(load_settings(config))
    Store(pg_url).upgrade()

    logs = [tmp_path / f"p{n}.log" for n in range(3)]
    procs = [start(config, log, "run") for log in logs]
    began = time.monotonic()
    try:
        # Freeze a process while it runs collectors whose items are not all in, its batches in
        # hand uncommitted: to the others it is as a crashed server is, silent. Its leases run
        # out and they take its collectors over while it is still alive (so not because they
        # see its pid gone: a process on another server cannot be seen). Then kill it.
        victim, cut, taken = None, set(), set()
        deadline = time.monotonic() + 90  # three interpreters starting on two busy cores
        while victim is None and time.monotonic() < deadline:
            fetched = dict(db_rows(pg_url, "SELECT collector, count(*) FROM raw_items GROUP BY collector"))
            leases = db_rows(pg_url, "SELECT collector, holder FROM collector_leases "
                                     "WHERE holder IS NOT NULL AND expires_at > now()")
            unfinished = [(c, h) for c, h in leases if fetched.get(c, 0) < len(expected.fetched[c])]
            if sum(fetched.values()) >= 40 and unfinished:
                pid = int(unfinished[0][1].split(":")[1])
                victim = next(p for p in procs if p.pid == pid)
                victim.send_signal(signal.SIGSTOP)
                frozen_at = time.monotonic()
                time.sleep(0.5)  # a commit already on its way lands
                fetched = dict(db_rows(pg_url, "SELECT collector, count(*) FROM raw_items "
                                               "GROUP BY collector"))
                cut = {c for c, h in leases if int(h.split(":")[1]) == pid
                       and fetched.get(c, 0) < len(expected.fetched[c])}
                at_freeze = sum(fetched.values())
            time.sleep(0.1)
        assert victim is not None, "no process was seen running a collector"

        def seen_taken() -> bool:
            holders = db_rows(pg_url, "SELECT collector, holder FROM collector_leases "
                                      "WHERE holder IS NOT NULL")
            taken.update(c for c, h in holders if c in cut and int(h.split(":")[1]) != victim.pid)
            return bool(taken)

        wait_until(seen_taken, timeout=20)
        taken_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        victim.wait()

        def finished() -> bool:
            counts = db_rows(pg_url, "SELECT (SELECT count(*) FROM records),"
                                     " (SELECT count(*) FROM quarantine)")
            return counts == [(len(expected.stored), len(expected.parked))]

        assert wait_until(finished, timeout=90), "the survivors did not finish the work"
        done_at = time.monotonic()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(30) for proc in procs]
    assert [c for p, c in zip(procs, codes) if p is not victim] == [0, 0], \
        [log.read_text()[-2000:] for log in logs]

    assert set(db_rows(pg_url, "SELECT collector, source_id FROM records")) == expected.stored
    assert set(db_rows(pg_url, "SELECT collector, source_id FROM quarantine")) == expected.parked
    # Every item once per collector that fetched it (a shared mail: once per mailbox).
    raw = db_rows(pg_url, "SELECT collector, source_id FROM raw_items")
    assert len(raw) == len(set(raw))
    assert set(raw) == {(c, s) for c, ids in expected.fetched.items() for s in ids}
    # Every complaint in exactly one case (case_links.record_id is unique); no empty case.
    unlinked = db_rows(pg_url, "SELECT count(*) FROM records r LEFT JOIN case_links l "
                               "ON l.record_id = r.id WHERE l.id IS NULL AND r.kind <> 'not_complaint'")
    empty = db_rows(pg_url, "SELECT count(*) FROM cases c WHERE NOT EXISTS "
                            "(SELECT 1 FROM case_links l WHERE l.case_id = c.id)")
    assert unlinked == [(0,)] and empty == [(0,)]
    # What the dead process was running mid-way, the survivors finished: their own logs say so.
    # (A survivor's last run may end "interrupted" by the SIGTERM that ends this test.)
    taken_over = {e["collector"] for p, log in zip(procs, logs) if p is not victim
                  for e in run_events(log) if e["new"] > 0}
    assert cut and cut <= taken_over
    assert taken, "no collector of the frozen process was taken over when its lease ran out"
    new_by = [sum(e.get("new", 0) for e in run_events(log)) for log in logs]
    figures(
        f"scale-out: 3 `pengaduan run` on PostgreSQL, lease 2s, {len(expected.stored)} records "
        f"from 6 collectors; process {procs.index(victim)} frozen after {frozen_at - began:.1f}s "
        f"({at_freeze} items in) mid-way through {sorted(cut)}; first taken over "
        f"{taken_at - frozen_at:.1f}s later, while it was frozen: {sorted(taken)}; then "
        f"SIGKILLed; all done {done_at - frozen_at:.1f}s after the freeze; new records "
        f"committed per process: {new_by}"
    )


def test_two_processes_collecting_the_same_mails_at_once_store_each_once(
    store_url: str, tmp_path: Path, figures
) -> None:  # type: ignore[no-untyped-def]
    # Two mailboxes that received the same 60 messages: e-mail shares one key space.
    write_maildir(tmp_path / "box", mail_texts("same", 60, seed=21))
    config = tmp_path / "settings.toml"
    config.write_text(f'[store]\nurl = "{store_url}"\n' + "".join(
        f'[collectors.{name}]\ntype = "mail_archive"\npaths = ["box"]\nbatch_size = 5\n'
        for name in ("box_a", "box_b")))
    expected = Expected.of(load_settings(config))
    Store(store_url).upgrade()
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [start(config, log, "collect", name) for log, name in zip(logs, ["box_a", "box_b"])]
    codes = [proc.wait(120) for proc in procs]
    assert codes == [0, 0], [log.read_text()[-2000:] for log in logs]
    assert set(db_rows(store_url, "SELECT collector, source_id FROM records")) == expected.stored
    assert len(db_rows(store_url, "SELECT id FROM raw_items")) == 120  # each mailbox's own copy
    linked = db_rows(store_url, "SELECT count(DISTINCT record_id), count(*) FROM case_links")
    assert linked[0][0] == linked[0][1] == len(expected.stored) - len(
        db_rows(store_url, "SELECT id FROM records WHERE kind = 'not_complaint'"))
    new = [sum(e.get("new", 0) for e in run_events(log)) for log in logs]
    assert sum(new) == len(expected.stored)
    store = Store(store_url)
    with store.transaction() as conn:
        spans = conn.execute(select(runs.c.started_at, runs.c.finished_at)).all()
    store.dispose()
    overlap = min(s[1] for s in spans) - max(s[0] for s in spans)
    figures(f"two `collect` processes on the same 60 mails ({store_url.split(':')[0]}): new "
            f"records per process {new}; their runs overlapped {overlap.total_seconds():.1f}s")
