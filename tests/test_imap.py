"""The imap collector against a real Dovecot (tests/services/dovecot.py)."""

from __future__ import annotations

import imaplib
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import make_settings
from pengaduan.collectors.base import Collector
from pengaduan.collectors.imap import ImapCollector, ImapConfig
from pengaduan.collectors.testing import CollectorContract, items_of, run_all
from pengaduan.errors import AuthError
from pengaduan.pipeline import Pipeline
from pengaduan.settings import Secret
from pengaduan.store import quarantine as store_quarantine
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, cases, records
from services.dovecot import ImapAccount

SENT = datetime(2026, 11, 2, 1, 15, tzinfo=timezone.utc)


def mail(n: int, subject: str = "PKH belum cair", body: str = "", **headers: str) -> bytes:
    """A small complaint mail from an invented citizen."""
    lines = [
        f"From: Warga {n} <warga{n}@example.id>",
        "To: dinsos@example.id",
        f"Subject: {subject} {n}",
        f"Date: {format_datetime(SENT)}",
        f"Message-ID: <m{n}@example.id>",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
        "Content-Type: text/plain; charset=utf-8",
        "",
        body or f"Selamat pagi, bantuan PKH saya nomor {n} belum cair sejak Agustus. Mohon dibantu.",
    ]
    return "\r\n".join(lines).encode()


def collector(account: ImapAccount, name: str = "mail", **kw) -> ImapCollector:  # type: ignore[no-untyped-def]
    config = ImapConfig(
        host=account.host, port=account.port, ssl=False, username=account.username,
        password=Secret(account.password, "test"), **kw,
    )
    return ImapCollector(name, config)


class TestImapContract(CollectorContract):
    @pytest.fixture
    def populated(self, imap_account: ImapAccount) -> Collector:
        for n in range(5):
            imap_account.append("INBOX", mail(n))
        return collector(imap_account, batch_size=2)

    @pytest.fixture
    def empty(self, imap_account: ImapAccount) -> Collector:
        return collector(imap_account)


def count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def pipeline(store: Store, tmp_path: Path) -> Pipeline:
    return Pipeline(store, make_settings(store.url, tmp_path))


def test_ingest_rerun_and_new_mail(store: Store, tmp_path: Path, imap_account: ImapAccount) -> None:
    for n in range(3):
        imap_account.append("INBOX", mail(n))
    imap_account.append("INBOX", mail(10, subject="Out of Office", Auto_Submitted="auto-replied"))
    imap_account.append("INBOX", mail(11, subject="Re: PKH belum cair", In_Reply_To="<m0@example.id>"))
    first = pipeline(store, tmp_path).run(collector(imap_account))
    assert (first.outcome, first.fetched, first.new, first.quarantined) == ("ok", 5, 5, 0)
    assert first.cases_opened == 3  # three complaints; the auto-reply none; the reply joins m0
    with store.transaction() as conn:
        links = dict(
            conn.execute(
                select(records.c.source_id, case_links.c.case_id).join(
                    case_links, case_links.c.record_id == records.c.id
                )
            ).all()
        )
    assert links["m11@example.id"] == links["m0@example.id"]
    assert "m10@example.id" not in links

    again = pipeline(store, tmp_path).run(collector(imap_account))
    assert (again.fetched, again.new) == (0, 0)

    imap_account.append("INBOX", mail(20))
    later = pipeline(store, tmp_path).run(collector(imap_account))
    assert (later.fetched, later.new, later.cases_opened) == (1, 1, 1)
    assert count(store, records) == 6 and count(store, cases) == 4


def record_wire(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every byte the IMAP client sends from now on, in order."""
    wire: list[bytes] = []
    send = imaplib.IMAP4.send

    def record(self: imaplib.IMAP4, data: bytes) -> None:
        wire.append(data)
        send(self, data)

    monkeypatch.setattr(imaplib.IMAP4, "send", record)
    return wire


def commands(wire: list[bytes]) -> list[str]:
    """The command names in ``wire``: the word after each tag (two for UID commands)."""
    lines = [line.split() for line in b"".join(wire).split(b"\r\n") if line]
    return [b" ".join(w[1:3] if w[1] == b"UID" else w[1:2]).decode() for w in lines]


def test_an_idle_poll_costs_one_examine_per_folder(
    store: Store, tmp_path: Path, imap_account: ImapAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    imap_account.append("INBOX", mail(1))
    imap_account.append("Arsip", mail(2))
    folders = ["INBOX", "Arsip", "Kosong"]
    client = imap_account.connect()
    client.create_folder("Kosong")
    client.logout()
    first = pipeline(store, tmp_path).run(collector(imap_account, folders=folders))
    assert (first.outcome, first.new) == ("ok", 2)

    wire = record_wire(monkeypatch)
    idle = pipeline(store, tmp_path).run(collector(imap_account, folders=folders))
    assert (idle.outcome, idle.fetched) == ("ok", 0)
    session = ["CAPABILITY", "LOGIN"]
    assert commands(wire) == [*session, "EXAMINE", "EXAMINE", "EXAMINE", "LOGOUT"]

    # UIDNEXT moved in one folder: only that folder is searched, and the mail is read.
    imap_account.append("Arsip", mail(3))
    wire.clear()
    later = pipeline(store, tmp_path).run(collector(imap_account, folders=folders))
    assert (later.fetched, later.new) == (1, 1)
    # (imapclient asks for CAPABILITY again before its first UID command: not ours to save.)
    assert [c for c in commands(wire) if c != "CAPABILITY"] == [
        "LOGIN", "EXAMINE", "EXAMINE", "UID SEARCH", "UID FETCH", "EXAMINE", "LOGOUT"
    ]


def test_the_mailbox_is_left_unread_and_unchanged(store: Store, tmp_path: Path, imap_account: ImapAccount) -> None:
    imap_account.append("INBOX", mail(1))
    pipeline(store, tmp_path).run(collector(imap_account))
    client = imap_account.connect()
    client.select_folder("INBOX", readonly=True)
    flags = client.get_flags(client.search("ALL"))
    client.logout()
    assert len(flags) == 1 and all(b"\\Seen" not in f for f in flags.values())


def test_processed_mail_is_moved_only_when_asked(store: Store, tmp_path: Path, imap_account: ImapAccount) -> None:
    for n in range(3):
        imap_account.append("INBOX", mail(n))
    client = imap_account.connect()
    client.create_folder("Diproses")
    client.logout()
    report = pipeline(store, tmp_path).run(collector(imap_account, move_processed_to="Diproses", batch_size=2))
    assert report.new == 3
    client = imap_account.connect()
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    assert client.select_folder("Diproses")[b"EXISTS"] == 3
    client.logout()


def test_a_changed_uidvalidity_rescans_and_stores_nothing_twice(
    store: Store, tmp_path: Path, imap_account: ImapAccount
) -> None:
    for n in range(3):
        imap_account.append("INBOX", mail(n))
    pipeline(store, tmp_path).run(collector(imap_account))
    imap_account.server.reset_uidvalidity(imap_account.username, "INBOX")
    imap_account.append("INBOX", mail(3))
    report = pipeline(store, tmp_path).run(collector(imap_account))
    assert report.fetched == 4 and report.new == 1 and report.unchanged == 3
    assert any("UIDVALIDITY changed" in note for note in report.notes)
    assert count(store, records) == 4


def test_the_same_message_in_two_folders_is_one_record(
    store: Store, tmp_path: Path, imap_account: ImapAccount
) -> None:
    imap_account.append("INBOX", mail(1))
    imap_account.append("Arsip", mail(1))
    report = pipeline(store, tmp_path).run(collector(imap_account, folders=["INBOX", "Arsip"]))
    assert report.fetched == 2 and report.new == 1
    assert count(store, records) == 1


def test_a_poison_message_is_quarantined_between_good_ones(
    store: Store, tmp_path: Path, imap_account: ImapAccount
) -> None:
    imap_account.append("INBOX", mail(1))
    imap_account.append("INBOX", b"\x00\x01\x02 not a mail at all\r\n")
    imap_account.append("INBOX", mail(2))
    report = pipeline(store, tmp_path).run(collector(imap_account))
    assert (report.new, report.quarantined, report.outcome) == (2, 1, "ok")
    with store.transaction() as conn:
        [entry] = store_quarantine.list_entries(conn)
        state = store_state.load_state(conn, "mail")
    assert entry["source_id"].startswith("sha256:") and entry["channel"] == "email"
    assert state.cursor["folders"]["INBOX"]["last_uid"] == 3  # the folder is not blocked
    assert pipeline(store, tmp_path).run(collector(imap_account)).fetched == 0


def test_wrong_password_marks_the_collector_and_others_still_run(
    store: Store, tmp_path: Path, imap_account: ImapAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pengaduan.cli.main import main

    imap_account.append("INBOX", mail(1))
    monkeypatch.setenv("PENGADUAN_TEST_IMAP_PASSWORD", "wrong")
    monkeypatch.setenv("PENGADUAN_TEST_IMAP_PASSWORD_OK", imap_account.password)
    config = tmp_path / "settings.toml"
    section = (
        'type = "imap"\nhost = "{h}"\nport = {p}\nssl = false\nusername = "{u}"\n'
        .format(h=imap_account.host, p=imap_account.port, u=imap_account.username)
    )
    config.write_text(
        f'[store]\nurl = "{store.url}"\n'
        f'[collectors.bad]\n{section}password = {{ env = "PENGADUAN_TEST_IMAP_PASSWORD" }}\n'
        f'[collectors.good]\n{section}password = {{ env = "PENGADUAN_TEST_IMAP_PASSWORD_OK" }}\n'
    )
    assert main(["--config", str(config), "run", "--once"]) == 1
    with store.transaction() as conn:
        states = {s.collector: s for s in store_state.all_states(conn)}
    assert states["bad"].health == "needs_reauth"
    assert states["bad"].last_error == (
        f"collector bad: {imap_account.host}:{imap_account.port}: the server refused the login for "
        f"{imap_account.username}; check the password (environment variable "
        "PENGADUAN_TEST_IMAP_PASSWORD) and that IMAP access is enabled"
    )
    assert "wrong" not in states["bad"].last_error
    assert states["good"].health == "ok" and count(store, records) == 1


def test_tls_with_the_office_certificate_authority(imap_account: ImapAccount) -> None:
    from pengaduan.errors import SourceError

    server = imap_account.server
    imap_account.append("INBOX", mail(1))
    config = dict(host="127.0.0.1", port=server.tls_port, ssl=True, username=imap_account.username,
                  password=Secret(imap_account.password, "test"))
    trusted = ImapCollector("tls", ImapConfig(**config, tls_ca_file=server.cert_path))
    assert [i.source_id for i in items_of(run_all(trusted))] == ["m1@example.id"]
    untrusted = ImapCollector("tls", ImapConfig(**config))
    with pytest.raises(SourceError, match="TLS failed"):
        run_all(untrusted)


def test_auth_error_is_raised_before_any_item(imap_account: ImapAccount) -> None:
    bad = ImapCollector("x", ImapConfig(host=imap_account.host, port=imap_account.port, ssl=False,
                                        username=imap_account.username, password=Secret("nope", "t")))
    with pytest.raises(AuthError):
        run_all(bad)


def test_server_restarted_mid_fetch_reconnects_and_loses_nothing(imap_account: ImapAccount) -> None:
    for n in range(6):
        imap_account.append("INBOX", mail(n))
    c = collector(imap_account, batch_size=2)
    stream = c.fetch(None)
    first = next(stream)
    imap_account.server.restart()
    rest = list(stream)
    c.close()
    ids = [i.source_id for i in first.items] + [i.source_id for i in items_of(rest)]
    assert sorted(ids) == sorted(f"m{n}@example.id" for n in range(6))


def test_a_missing_folder_fails_clearly_after_the_others(imap_account: ImapAccount) -> None:
    from pengaduan.errors import SourceError

    imap_account.append("INBOX", mail(1))
    c = collector(imap_account, folders=["INBOX", "Tidak Ada"])
    got = []
    with pytest.raises(SourceError, match=r"folder\(s\) Tidak Ada do not exist"):
        for batch in c.fetch(None):
            got.extend(batch.items)
    assert [i.source_id for i in got] == ["m1@example.id"]


def test_idle_mode_ingests_new_mail_within_seconds(
    store: Store, tmp_path: Path, imap_account: ImapAccount
) -> None:
    imap_account.append("INBOX", mail(1))
    result = {}

    def run() -> None:
        result["report"] = pipeline(store, tmp_path).run(
            collector(imap_account, idle=True, idle_seconds=6)
        )

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 20
    while count(store, records) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    imap_account.append("INBOX", mail(2))  # arrives while the run waits in IDLE
    thread.join(timeout=30)
    # Both mails came in through the one run: the second was announced by IDLE, not polled.
    assert (result["report"].outcome, result["report"].fetched, result["report"].new) == ("ok", 2, 2)
