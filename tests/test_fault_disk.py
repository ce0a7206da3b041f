"""A full disk under the attachment store: a clear error, the batch not half-written, and the
run after space frees stores everything.

Attachments are stored once by sha256 in the database (store/blobs.py), in the batch's
transaction. The disk is a real one that fills up: a small tmpfs mounted for the test (root
only). SQLite keeps its whole database there; PostgreSQL keeps the attachment table there, in
a tablespace, the rest where the server keeps it.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import tempfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from faults import count, no_tracebacks, unavailable  # noqa: F401  (no_tracebacks: a fixture)
from helpers import make_settings
from pengaduan.collectors.mail_archive import MailArchiveCollector, MailArchiveConfig
from pengaduan.pipeline import Pipeline
from pengaduan.store.db import Store
from pengaduan.store.schema import blobs, raw_items, records

pytestmark = pytest.mark.usefixtures("no_tracebacks")

MAILS = 8
# Free space for about one batch of two mails: on SQLite each batch adds its raw mails and
# attachments (~230 kB) to the write-ahead log; on PostgreSQL only the attachments (~100 kB)
# go to the small tablespace.
ROOM_FOR_ONE_BATCH = {"sqlite": 400_000, "postgresql": 160_000}


def mail_with_attachment(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Warga {n} <warga{n}@example.id>"
    message["To"] = "dinsos@example.id"
    message["Subject"] = f"Pengaduan PKH {n}, scan KTP terlampir"
    message["Date"] = "Mon, 02 Nov 2026 09:15:00 +0800"
    message["Message-ID"] = f"<lampiran{n}@example.id>"
    message.set_content(f"Bantuan PKH saya belum cair ({n}); scan KTP saya lampirkan.")
    scan = random.Random(n).randbytes(48_000)  # incompressible, like a scan
    message.add_attachment(scan, maintype="application", subtype="pdf", filename=f"ktp-{n}.pdf")
    return message.as_bytes()


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    (folder / "new").mkdir(parents=True)
    (folder / "cur").mkdir()
    for n in range(MAILS):
        (folder / "cur" / f"{n:03d}.eml").write_bytes(mail_with_attachment(n))
    return folder


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 3 MiB tmpfs, mounted for this test and unmounted after it."""
    where = Path(tempfile.mkdtemp(prefix="pengaduan-disk-"))
    os.chmod(where, 0o755)  # the PostgreSQL server's user must reach it
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0777", "tmpfs", str(where)],
        capture_output=True, text=True,
    )
    if mounted.returncode != 0:
        where.rmdir()
        unavailable(f"cannot mount a small tmpfs to fill up: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        where.rmdir()


def fill(disk: Path, leave: int) -> Path:
    """A file that takes all the free space of ``disk`` but ``leave`` bytes."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    with open(filler, "ab") as out:
        out.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def store(request: pytest.FixtureRequest, small_disk: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{small_disk}/pengaduan.db")
        opened.ensure_schema()
        yield opened
        opened.dispose()
        return
    server: Any = request.getfixturevalue("postgres_server")
    if not server.can_restart:
        unavailable("PENGADUAN_TEST_PG_URL names a server whose disks this session cannot reach")
    if server.run_as is not None:
        os.chown(small_disk, server.run_as.pw_uid, server.run_as.pw_gid)
    space = f"small_{os.getpid()}_{random.randrange(10**6)}"
    server.execute(f"CREATE TABLESPACE {space} LOCATION '{small_disk}'")
    opened = Store(server.create_database(f"d_{space}"))
    try:
        opened.ensure_schema()
        with opened.transaction() as conn:
            conn.execute(text(f"ALTER TABLE blobs SET TABLESPACE {space}"))
        yield opened
    finally:
        opened.dispose()
        server.drop_database(f"d_{space}")
        server.execute(f"DROP TABLESPACE {space}")


def archive(maildir: Path) -> MailArchiveCollector:
    return MailArchiveCollector("arsip", MailArchiveConfig(paths=[maildir], batch_size=2))


def test_a_full_disk_fails_the_batch_whole_and_the_run_after_space_frees_completes(
    store: Store, small_disk: Path, maildir: Path, tmp_path: Path
) -> None:
    pipeline = Pipeline(store, make_settings(store.url, tmp_path))
    filler = fill(small_disk, leave=ROOM_FOR_ONE_BATCH[store.dialect])
    report = pipeline.run(archive(maildir))
    assert report.outcome == "failed", report.summary()
    assert report.error and "is full" in report.error and "free space" in report.error
    stored = count(store, records)
    assert 0 < stored < MAILS and stored % 2 == 0  # whole batches, the earlier ones kept
    assert_attachments_whole(store)

    filler.unlink()
    again = pipeline.run(archive(maildir))
    assert (again.outcome, again.new) == ("ok", MAILS - stored), again.summary()
    assert [count(store, t) for t in (raw_items, records, blobs)] == [MAILS] * 3
    assert_attachments_whole(store)


def assert_attachments_whole(store: Store) -> None:
    """Every attachment a stored record lists is stored, whole; no blob without its record."""
    with store.transaction() as conn:
        listed = {a["sha256"]: a["size"]
                  for content in conn.execute(select(records.c.content)).scalars()
                  for a in content["attachments"]}
        kept = {row.sha256: row.content for row in conn.execute(select(blobs.c.sha256, blobs.c.content))}
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    assert set(kept) == set(listed)
    for digest, content in kept.items():
        assert len(content) == listed[digest] and hashlib.sha256(content).hexdigest() == digest
