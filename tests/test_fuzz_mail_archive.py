"""Fuzzing the mail archive collector: generated mbox files and Maildir trees, read for real.

Archives are written to disk as a backfill finds them: mbox files with odd From_ lines,
">From " quoting, unquoted "From " lines inside a paragraph (which must not split a message),
CRLF/LF mixes, NUL bytes, a huge header, a truncated last message, files that do not start
with a From_ line, empty files; Maildir trees with odd file names (flags, spaces, non-UTF-8
bytes), empty files, an entry the OS refuses to read (EIO), dot files, directories and broken
links inside ``cur/``, a Maildir++ subfolder. Messages come from tests/test_fuzz_mail.py.

Property: the real collector reads every message the archive holds (the count is known from
how it was written) as an item that becomes a record or a quarantine entry with its reason,
never an exception; reading again from the last cursor yields nothing. End to end through
``Pipeline.run`` into SQLite and PostgreSQL: the run succeeds, every item is counted as new,
updated, unchanged or quarantined (none parked by a normaliser crash) and a second run
fetches nothing. Run size: tests/fuzzing.py.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from fuzzing import RUNS, fuzz_settings, normalize_or_quarantine, report
from helpers import make_settings
from pengaduan.collectors.base import Cursor, RawItem
from pengaduan.collectors.mail_archive import MailArchiveCollector, MailArchiveConfig
from pengaduan.pipeline import Pipeline
from pengaduan.store.db import Store
from pengaduan.store.schema import raw_items
from test_fuzz_mail import raw_mails

FROM_LINES = st.sampled_from([
    b"From wayan@example.id Mon Nov  2 09:15:00 2026", b"From MAILER-DAEMON Thu Jan  1 00:00:00 1970",
    b"From - Mon Nov 02 09:15:00 2026", b"From ", b"From a b c d e f g h",
    b"From a Mon Nov 2 99:99:99 99999999999999999999", b"From \xff\xfe Mon Nov  2 09:15:00 2026",
    b"From a Mon Feb 30 09:15:00 2026", b"From a Xyz Nov  2 09:15:00 -1", b"From \x00 \x00 \x00 \x00 \x00 \x00",
])
SIMPLE = st.builds(
    lambda n, body: b"From: w@example.id\nDate: Mon, 2 Nov 2026 09:15:00 +0800\nMessage-ID: <%d@x.id>\n"
                    b"Subject: PKH\n\n" % n + body,
    st.integers(0, 30), st.sampled_from([b"PKH belum cair\n", b"", b"baris\n\n>From kutipan\n", b"x"]),
)
EOLS = st.sampled_from([b"\n", b"\r\n"])


@st.composite
def messages(draw) -> bytes:
    """One message as an mbox writer stores it: every "From " line quoted (mboxo)."""
    raw = draw(st.one_of(SIMPLE, SIMPLE, raw_mails()))
    damage = draw(st.sampled_from(["none", "none", "nul", "huge header", "crlf"]))
    if damage == "nul":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + b"\x00" * draw(st.integers(1, 3)) + raw[at:]
    elif damage == "huge header":
        raw = b"X-Huge: " + b"a" * draw(st.sampled_from([2_000, 70_000])) + b"\n" + raw
    elif damage == "crlf":
        raw = raw.replace(b"\n", b"\r\n")
    raw = raw.replace(b"\nFrom ", b"\n>From ")
    if draw(st.booleans()):  # a "From " line inside a paragraph is not a separator
        raw += b"\nbaris\nFrom sini tetap satu pesan\n"
    return raw


@st.composite
def mbox_files(draw) -> tuple[str, bytes | None, int]:
    """(file name, bytes or None for a file the OS will not read, messages in it)."""
    name = draw(st.sampled_from(["arsip.mbox", "surat ✉ 2025", "Inbox", "x.eml"]))
    shape = draw(st.sampled_from(["mbox", "mbox", "mbox", "empty", "no From_ line", "one eml", "unreadable"]))
    if shape == "empty":
        return name, b"", 1  # an empty file is one (empty) message, quarantined
    if shape == "unreadable":
        return name, None, 1  # one item, quarantined with the OS's reason
    if shape in ("no From_ line", "one eml"):
        raw = draw(messages())
        lead = b"\n" if shape == "no From_ line" else b""
        return name, lead + raw, 1
    mails = draw(st.lists(messages(), min_size=1, max_size=4))
    data = b""
    for n, raw in enumerate(mails):
        eol = draw(EOLS)
        chunk = draw(FROM_LINES) + eol + raw
        if n == len(mails) - 1 and draw(st.booleans()):  # the last message cut short
            chunk = chunk[: draw(st.integers(len(chunk) - len(raw), len(chunk)))]
        else:
            chunk += (b"" if chunk.endswith(b"\n") else eol) + draw(EOLS)
        data += chunk
    return name, data, len(mails)


MAILDIR_NAMES = st.sampled_from([
    b"1700000000.M1P2.host:2,S", b"1700000000.M1P2.host:2,", b"1700000001.M3P4.host",
    b"surat \xe2\x9c\x89", b"\xff\xfe nama", b"a b:2,RS", b"-", b"x" * 200,
])


MAILDIR_KINDS = st.sampled_from(["message", "message", "message", "empty", "unreadable", "dot file",
                                  "directory", "broken link", "tmp"])


@st.composite
def maildir_entries(draw) -> list[tuple[str, bytes, bytes]]:
    """(kind, file name, bytes) of each entry of a Maildir tree."""
    entries = []
    for n in range(draw(st.integers(0, 5))):
        kind = draw(MAILDIR_KINDS)
        data = draw(messages()) if kind == "message" else b""
        entries.append((kind, b"%d." % n + draw(MAILDIR_NAMES), data))
    return entries


def write_maildir(path: Path, entries: list[tuple[str, bytes, bytes]], subs: list[str]) -> int:
    """Write the tree; the messages in it (what the collector must read)."""
    for sub in ("cur", "new", "tmp", ".Sent/cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    expected = 0
    for (kind, name, data), sub in zip(entries, itertools.cycle(subs)):
        sub = "tmp" if kind == "tmp" else sub  # being delivered: not a message yet
        folder = os.fsencode(path / sub)
        file = os.path.join(folder, b"." + name if kind == "dot file" else name)
        if kind == "directory":
            os.mkdir(file)
            os.mkdir(os.path.join(file, b"cur"))
        elif kind == "broken link":
            os.symlink(b"/nonexistent/" + name, file)
        elif kind == "unreadable":  # a regular file whose read fails (EIO), even for root
            os.symlink(b"/proc/self/mem", file)
        else:
            with open(file, "wb") as handle:
                handle.write(data)
        expected += kind in ("message", "empty", "unreadable") and sub in ("cur", "new")
    # A Maildir++ subfolder is a folder of its own, named in paths when wanted.
    (path / ".Sent" / "cur" / "1.host:2,S").write_bytes(b"Subject: sent\n\nnot this folder\n")
    return expected


@st.composite
def archives(draw) -> list[tuple[str, object]]:
    """What one backfill is given: mbox/.eml files and Maildir trees, to be written."""
    return draw(st.lists(
        st.one_of(
            st.tuples(st.just("file"), mbox_files()),
            st.tuples(st.just("maildir"), st.tuples(
                maildir_entries(), st.lists(st.sampled_from(["cur", "new"]), min_size=1, max_size=2))),
        ),
        min_size=1, max_size=3,
    ))


def write_archives(root: Path, drawn: list[tuple[str, object]]) -> tuple[list[Path], int]:
    paths, expected = [], 0
    for n, (form, spec) in enumerate(drawn):
        if form == "file":
            name, data, count = spec  # type: ignore[misc]
            path = root / f"{n}-{name}"
            if data is not None:
                path.write_bytes(data)
            else:
                # Two links to one file are one archive, read once.
                count *= not any(p.is_symlink() for p in paths)
                path.symlink_to("/proc/self/mem")
        else:
            entries, subs = spec  # type: ignore[misc]
            path = root / f"{n}-Maildir"
            count = write_maildir(path, entries, subs)
        paths.append(path)
        expected += count
    return paths, expected


def fetch_all(
    collector: MailArchiveCollector, cursor: Cursor | None
) -> tuple[list[RawItem], Cursor | None]:
    items: list[RawItem] = []
    for batch in collector.fetch(cursor):
        items.extend(batch.items)
        cursor = batch.cursor
    return items, cursor


# Crashes the fuzzer found, kept as regressions: each stopped the backfill with a traceback.
@example(drawn=[("maildir", ([("unreadable", b"0.1:2,S", b""), ("message", b"1.1:2,S", b"Subject: x\n\nx\n")],
                             ["cur"]))], batch_size=1)  # OSError: EIO
@example(drawn=[("file", ("arsip.mbox", b"From a Mon Nov 2 99:99:99 99999999999999999999\n"
                                        b"Subject: x\n\nx\n", 1))], batch_size=1)  # OverflowError
@fuzz_settings(ci_examples=150)
@given(drawn=archives(), batch_size=st.integers(1, 4))
def fuzz_archives(drawn: list[tuple[str, object]], batch_size: int) -> None:
    RUNS["mail archives"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        paths, expected = write_archives(Path(tmp), drawn)
        collector = MailArchiveCollector("arsip", MailArchiveConfig(paths=paths, batch_size=batch_size))
        items, cursor = fetch_all(collector, None)
        assert len(items) == expected, (len(items), expected)
        for item in items:
            normalize_or_quarantine(MailArchiveCollector, item, "email")
        assert fetch_all(collector, cursor)[0] == []  # a re-run reads nothing again


def test_generated_archives_give_every_message_as_an_item(figures) -> None:  # type: ignore[no-untyped-def]
    fuzz_archives()
    report(figures, "mail archives")


NAMES = itertools.count()


def stored(store: Store, name: str) -> int:
    with store.transaction() as conn:
        query = select(func.count()).select_from(raw_items).where(raw_items.c.collector == name)
        return conn.execute(query).scalar_one()


def test_generated_archives_end_as_records_or_quarantine(  # type: ignore[no-untyped-def]
    store_url: str, tmp_path: Path, figures
) -> None:
    store = Store(store_url)
    store.ensure_schema()
    pipeline = Pipeline(store, make_settings(store_url, tmp_path))
    name = f"mail archives into {store_url.split(':', 1)[0].split('+', 1)[0]}"

    @fuzz_settings(ci_examples=30, nightly_examples=1_000)
    @given(drawn=archives(), batch_size=st.integers(1, 4))
    def fuzz_backfill(drawn: list[tuple[str, object]], batch_size: int) -> None:
        RUNS[name] += 1
        with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
            paths, expected = write_archives(Path(tmp), drawn)
            config = MailArchiveConfig(paths=paths, batch_size=batch_size)
            collector = MailArchiveCollector(f"arsip{next(NAMES)}", config)
            run = pipeline.run(collector)
            assert run.outcome == "ok", run.error
            assert run.fetched == expected
            assert run.new + run.updated + run.unchanged + run.quarantined == run.fetched, run.summary()
            assert not [p for p in run.parked if "normaliser failed" in p], run.parked
            assert all(p.split(": ", 1)[1].strip() for p in run.parked), run.parked  # each says why
            kept = stored(store, collector.name)
            again = pipeline.run(collector)
            assert (again.outcome, again.fetched) == ("ok", 0), again.summary()
            assert stored(store, collector.name) == kept

    try:
        fuzz_backfill()
    finally:
        store.dispose()
    report(figures, name)
