"""The test infrastructure itself: both store backends are reachable and the PostgreSQL server
can be restarted under a test's feet; the Dovecot IMAP server logs users in, stores what is
appended, refuses wrong passwords, survives restarts and can change a folder's UIDVALIDITY."""

from __future__ import annotations

import imaplib
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from sqlalchemy import exc


def test_store_url_round_trip(store_url: str) -> None:
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
            conn.execute(
                sa.text("INSERT INTO probe (id, body) VALUES (:id, :body)"),
                [{"id": 1, "body": "jalan rusak"}, {"id": 2, "body": "bantuan sosial"}],
            )
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, body FROM probe ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "jalan rusak"), (2, "bantuan sosial")]
        assert engine.dialect.name == store_url.split(":", 1)[0].split("+", 1)[0]
    finally:
        engine.dispose()


def test_store_url_databases_are_fresh(store_url: str) -> None:
    """The previous test's table is gone: every test gets its own empty database."""
    engine = sa.create_engine(store_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_postgres_restart_breaks_connections_and_keeps_data(postgres_server, pg_url: str) -> None:
    if not postgres_server.can_restart:
        pytest.skip("PENGADUAN_TEST_PG_URL points at a server this session cannot restart")
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (42)"))
        held = engine.connect()
        assert held.execute(sa.text("SELECT 1")).scalar() == 1

        postgres_server.restart()

        with pytest.raises(exc.DBAPIError) as raised:
            held.execute(sa.text("SELECT 1"))
        assert raised.value.connection_invalidated
        held.close()
        # The pool noticed; the next connection reaches the restarted server, data intact.
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id FROM probe")).scalar() == 42
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- Dovecot (IMAP)

WIB = timezone(timedelta(hours=7))


def _message(subject: str, body: str = "Jalan di Desa Bugbug rusak parah.") -> bytes:
    return (
        "From: Warga <warga@example.org>\r\n"
        "To: pengaduan@example.org\r\n"
        f"Subject: {subject}\r\n"
        "Date: Mon, 04 Nov 2024 09:15:00 +0800\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{body}\r\n"
    ).encode()


def test_imap_login_works(imap_account) -> None:
    assert imap_account.host == "127.0.0.1"
    assert imap_account.port not in (143, 993)  # never the system service's ports
    with IMAPClient(imap_account.host, port=imap_account.port, ssl=False, timeout=10) as client:
        assert b"IMAP4REV1" in client.capabilities()
        client.login(imap_account.username, imap_account.password)
        assert [name for _flags, _sep, name in client.list_folders()] == ["INBOX"]
        assert client.select_folder("INBOX")[b"EXISTS"] == 0  # a fresh, empty mailbox


def test_imap_tls_listener_with_self_signed_certificate(dovecot_server, imap_account) -> None:
    assert dovecot_server.tls_port not in (None, dovecot_server.port, 993)
    with imap_account.connect(tls=True) as client:
        assert client.folder_exists("INBOX")


def test_imap_append_select_search_finds_the_message(imap_account) -> None:
    received = datetime(2024, 11, 4, 10, 30, tzinfo=WIB)
    uid = imap_account.append("INBOX", _message("Laporan jalan rusak"),
                              flags=[br"\Seen"], internal_date=received)
    imap_account.append("Pengaduan/2024", _message("Bantuan sosial belum cair"))

    with imap_account.connect() as client:
        assert client.folder_exists("Pengaduan/2024")  # append created the folder
        client.select_folder("INBOX", readonly=True)
        found = client.search(["SUBJECT", "jalan rusak"])
        assert found == [uid] == [1]
        data = client.fetch(found, ["FLAGS", "INTERNALDATE", "BODY.PEEK[]"])[uid]
        assert br"\Seen" in data[b"FLAGS"]
        assert data[b"INTERNALDATE"].replace(tzinfo=None) == received.astimezone().replace(
            tzinfo=None
        )  # imapclient returns the server's date in local time
        assert b"Desa Bugbug" in data[b"BODY[]"]
        assert client.search(["SUBJECT", "Bantuan"]) == []

        client.select_folder("Pengaduan/2024", readonly=True)
        assert len(client.search(["SUBJECT", "Bantuan sosial"])) == 1


def test_imap_accounts_are_separate_mailboxes(dovecot_server, imap_account) -> None:
    from services.dovecot import new_account

    other = new_account(dovecot_server)
    assert other.username != imap_account.username
    imap_account.append("INBOX", _message("Hanya untuk akun pertama"))
    with other.connect() as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


def test_imap_wrong_password_is_refused(imap_account) -> None:
    with IMAPClient(imap_account.host, port=imap_account.port, ssl=False, timeout=10) as client:
        with pytest.raises(LoginError):
            client.login(imap_account.username, imap_account.password + "x")
    with IMAPClient(imap_account.host, port=imap_account.port, ssl=False, timeout=10) as client:
        with pytest.raises(LoginError):
            client.login("nobody-" + imap_account.username, imap_account.password)
    with imap_account.connect() as client:  # the right password still works afterwards
        assert client.folder_exists("INBOX")


def test_imap_restart_keeps_messages_and_port(dovecot_server, imap_account) -> None:
    uid = imap_account.append("INBOX", _message("Sebelum restart"))
    port, uidvalidity = dovecot_server.port, dovecot_server.uidvalidity(
        imap_account.username, "INBOX"
    )
    held = imap_account.connect()
    held.select_folder("INBOX")

    dovecot_server.restart()

    with pytest.raises((imaplib.IMAP4.abort, OSError)):  # the session died with the server
        held.noop()
    assert dovecot_server.port == imap_account.port == port
    with imap_account.connect() as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["SUBJECT", "Sebelum restart"]) == [uid]
    assert dovecot_server.uidvalidity(imap_account.username, "INBOX") == uidvalidity


def test_imap_kill_connections_keeps_the_server(dovecot_server, imap_account) -> None:
    held = imap_account.connect()
    held.select_folder("INBOX")
    dovecot_server.kill_connections()
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        held.noop()
    with imap_account.connect() as client:
        assert client.folder_exists("INBOX")


def test_imap_reset_uidvalidity_keeps_the_messages(dovecot_server, imap_account) -> None:
    for subject in ("Pertama", "Kedua"):
        imap_account.append("Arsip", _message(subject))
    with imap_account.connect() as client:
        before = client.folder_status("Arsip", [b"UIDVALIDITY", b"MESSAGES"])
        inbox_before = client.folder_status("INBOX", [b"UIDVALIDITY"])[b"UIDVALIDITY"]

    new = dovecot_server.reset_uidvalidity(imap_account.username, "Arsip")

    with imap_account.connect() as client:
        after = client.folder_status("Arsip", [b"UIDVALIDITY", b"MESSAGES"])
        assert after[b"UIDVALIDITY"] == new != before[b"UIDVALIDITY"]
        assert after[b"MESSAGES"] == before[b"MESSAGES"] == 2
        assert client.select_folder("Arsip", readonly=True)[b"UIDVALIDITY"] == new
        subjects = {
            data[b"ENVELOPE"].subject
            for data in client.fetch(client.search("ALL"), ["ENVELOPE"]).values()
        }
        assert subjects == {b"Pertama", b"Kedua"}
    # Other folders are untouched.
    assert dovecot_server.uidvalidity(imap_account.username, "INBOX") == inbox_before
