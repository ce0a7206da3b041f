"""import email: .eml, mbox and Maildir backfills; one record per message across doors;
attachments stored once; threads and case numbers; quarantine replay."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import make_settings
from pengaduan.cli.main import main
from pengaduan.collectors.mail_archive import MailArchiveCollector, MailArchiveConfig, read_archive
from pengaduan.collectors.testing import CollectorContract
from pengaduan.pipeline import Pipeline
from pengaduan.store.db import Store
from pengaduan.store.schema import blobs, case_links, cases, raw_items, records
from test_imap import collector as imap_collector
from test_imap import mail


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path)
    for raw in messages:
        box.add(raw)
    box.flush()
    box.close()
    return path


def write_maildir(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(path, create=True)
    for raw in messages:
        box.add(raw)
    return path


def count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


class TestMailArchiveContract(CollectorContract):
    @pytest.fixture
    def populated(self, tmp_path: Path) -> MailArchiveCollector:
        box = write_mbox(tmp_path / "arsip.mbox", [mail(n) for n in range(5)])
        eml = tmp_path / "satu.eml"
        eml.write_bytes(mail(9))
        return MailArchiveCollector("arsip", MailArchiveConfig(paths=[box, eml], batch_size=2))

    @pytest.fixture
    def empty(self, tmp_path: Path) -> MailArchiveCollector:
        return MailArchiveCollector("arsip", MailArchiveConfig(paths=[]))


def test_every_archive_form_reads_the_same_messages(tmp_path: Path) -> None:
    messages = [mail(n) for n in range(4)]
    box = write_mbox(tmp_path / "a.mbox", messages)
    maildir = write_maildir(tmp_path / "Maildir", messages)
    eml = tmp_path / "x.eml"
    eml.write_bytes(messages[0])
    from_mbox = [m.raw for m in read_archive(box)]
    # mbox stores LF line ends and ends every message with one: the same mail, as mbox keeps it.
    assert [r.replace(b"\r\n", b"\n").rstrip(b"\n") for r in from_mbox] == [
        m.replace(b"\r\n", b"\n") for m in messages
    ]
    assert sorted(m.raw for m in read_archive(maildir)) == sorted(messages)
    assert [m.raw for m in read_archive(eml)] == [messages[0]]
    assert all(m.received is not None for m in read_archive(box))


def cli(config: Path, *args: str) -> int:
    return main(["--config", str(config), "--log-format", "json", *args])


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(f'[store]\nurl = "{store_url}"\n')
    return path


def test_import_email_backfill_then_rerun_adds_nothing(
    config: Path, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = write_mbox(tmp_path / "2025.mbox", [mail(n) for n in range(3)])
    maildir = write_maildir(tmp_path / "Maildir", [mail(n) for n in range(2, 6)])
    assert cli(config, "import", "email", str(box), str(maildir)) == 0
    assert "7 fetched, 6 new" in capsys.readouterr().out  # m2 is in both archives
    assert cli(config, "import", "email", str(box), str(maildir)) == 0
    assert "0 fetched" in capsys.readouterr().out
    assert count(store, records) == 6 and count(store, cases) == 6
    assert cli(config, "import", "email", str(tmp_path / "nope")) == 2
    # New mail delivered into the Maildir (its new/ changes, the folder itself does not).
    mailbox.Maildir(maildir, create=False).add(mail(7))
    assert cli(config, "import", "email", str(box), str(maildir)) == 0
    assert "5 fetched, 1 new" in capsys.readouterr().out
    assert count(store, records) == 7


def test_a_mail_seen_in_the_archive_and_the_live_mailbox_is_one_record(
    store: Store, tmp_path: Path, imap_account
) -> None:  # type: ignore[no-untyped-def]
    eml = tmp_path / "m1.eml"
    eml.write_bytes(mail(1))
    pipeline = Pipeline(store, make_settings(store.url, tmp_path))
    archive = MailArchiveCollector("mail-import", MailArchiveConfig(paths=[eml]))
    assert pipeline.run(archive).new == 1
    imap_account.append("INBOX", mail(1))
    live = pipeline.run(imap_collector(imap_account))
    assert (live.fetched, live.new, live.unchanged) == (1, 0, 1)
    assert count(store, records) == 1 and count(store, raw_items) == 2  # each door kept raw


ATTACHED = (
    b"From: Ni Kadek Ayu <ayu@example.id>\r\n"
    b"To: dinsos@example.id\r\n"
    b"Subject: Berkas KK untuk PKH\r\n"
    b"Date: Mon, 2 Nov 2026 09:15:00 +0800\r\n"
    b"Message-ID: <att-%d@example.id>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTerlampir KK saya.\r\n"
    b"--b1\r\nContent-Type: application/pdf\r\n"
    b'Content-Disposition: attachment; filename="kk.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    b"JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n"
    b"--b1--\r\n"
)


def test_attachments_are_stored_once_and_an_oversized_one_is_only_listed(
    store: Store, tmp_path: Path
) -> None:
    files = []
    for n in range(2):  # two mails carrying the same PDF
        path = tmp_path / f"a{n}.eml"
        path.write_bytes(ATTACHED % n)
        files.append(path)
    archive = MailArchiveCollector("mail-import", MailArchiveConfig(paths=files))
    Pipeline(store, make_settings(store.url, tmp_path)).run(archive)
    assert count(store, blobs) == 1
    with store.transaction() as conn:
        attachments = [r.content["attachments"] for r in conn.execute(select(records))]
    assert [a[0]["filename"] for a in attachments] == ["kk.pdf", "kk.pdf"]
    assert all(a[0]["note"] is None for a in attachments)

    big = tmp_path / "big.eml"
    big.write_bytes(ATTACHED % 7)
    small_limit = make_settings(store.url, tmp_path, store={"url": store.url, "attachment_max_bytes": 10})
    Pipeline(store, small_limit).run(MailArchiveCollector("other", MailArchiveConfig(paths=[big])))
    with store.transaction() as conn:
        record = conn.execute(select(records).where(records.c.source_id == "att-7@example.id")).one()
    [attachment] = record.content["attachments"]
    assert attachment["note"].startswith("not stored: 0.0 MB is over the 0.0 MB limit")
    assert count(store, blobs) == 1


def test_a_reply_quoting_our_case_number_joins_that_case(store: Store, tmp_path: Path) -> None:
    first = tmp_path / "1.eml"
    first.write_bytes(mail(1))
    pipeline = Pipeline(store, make_settings(store.url, tmp_path))
    pipeline.run(MailArchiveCollector("a", MailArchiveConfig(paths=[first])))
    with store.transaction() as conn:
        case_id = conn.execute(select(cases.c.id)).scalar_one()
    quoting = tmp_path / "2.eml"
    quoting.write_bytes(mail(2, subject=f"Tanya kabar [PGD-2026-{case_id:06d}]"))
    threaded = tmp_path / "3.eml"
    threaded.write_bytes(mail(3, subject="Re: PKH", References="<zzz@x> <m1@example.id>"))
    report = pipeline.run(MailArchiveCollector("b", MailArchiveConfig(paths=[quoting, threaded])))
    assert report.cases_opened == 0
    with store.transaction() as conn:
        links = conn.execute(select(case_links.c.case_id, case_links.c.method, case_links.c.evidence)).all()
    assert {(c, m) for c, m, _ in links} == {(case_id, "new_case"), (case_id, "follow_up")}
    evidence = [e for _, m, e in links if m == "follow_up"]
    assert {"case_number": f"PGD-2026-{case_id:06d}"} in evidence
    assert {"references": "m1@example.id"} in evidence


def test_a_file_that_could_not_be_read_is_replayed_once_it_can_be(
    config: Path, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Maildir message file and an mbox the OS would not read (EIO, even for root: a link
    to /proc/self/mem) are quarantined with the reason; once readable, a replay imports them."""
    maildir = write_maildir(tmp_path / "Maildir", [mail(1)])
    broken = maildir / "cur" / "1700000000.M1P2.host:2,S"
    broken.symlink_to("/proc/self/mem")
    box = tmp_path / "2024.mbox"
    box.symlink_to("/proc/self/mem")
    assert cli(config, "import", "email", str(maildir), str(box)) == 0
    out = capsys.readouterr().out
    assert "3 fetched, 1 new" in out and "2 quarantined" in out, out
    assert cli(config, "quarantine", "replay") == 1  # still unreadable: still failing
    assert capsys.readouterr().out.count("could not be read (Input/output error)") == 2
    broken.unlink()
    broken.write_bytes(mail(2))
    box.unlink()
    write_mbox(box, [mail(3), mail(4), mail(1)])  # m1 is the Maildir's: one record
    assert cli(config, "quarantine", "replay") == 0
    out = capsys.readouterr().out
    assert "still failing" not in out and "skipped" not in out, out
    assert count(store, records) == 4 and count(store, cases) == 4
    assert cli(config, "quarantine", "list") == 0
    assert "could not be read" not in capsys.readouterr().out
