"""``mail_archive``: years of saved mail (.eml files, mbox files, Maildir folders), backfilled.

Same normaliser and same key space as ``imap``: a message imported from an archive and seen
again in the live mailbox is one record. The cursor remembers each finished archive (by path,
size and modification time) and the position inside the one being read, so an interrupted
backfill resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from pengaduan.collectors.base import Batch, Cursor, RawItem
from pengaduan.collectors.mail import MEDIA_TYPE, MailCollector
from pengaduan.errors import SourceError
from pengaduan.normalizer.email import message_key



@dataclass(frozen=True)
class MailArchiveConfig:
    paths: list[Path] = field(default_factory=list)
    batch_size: int = 200


@dataclass(frozen=True)
class _Message:
    raw: bytes
    received: datetime | None
    position: int  # index inside its archive, for resuming
    error: str | None = None  # why the file could not be read (raw is then empty)
    file: Path | None = None  # the file that could not be read


class MailArchiveCollector(MailCollector):
    type = "mail_archive"
    Config = MailArchiveConfig
    default_interval = "1h"
    ahead = True  # files: the next batch never waits for new data

    config: MailArchiveConfig

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        return self.fetch_paths(self.config.paths, cursor)

    def expand(self, item: RawItem) -> list[RawItem] | None:
        """A file that could not be read (quarantined with the OS's reason) is read again:
        its message, or an mbox's messages, as they would have been imported."""
        if item.error is None or "file" not in item.meta:
            return None
        archive, file = Path(item.meta["archive"]), Path(item.meta["file"])
        if archive.is_dir():  # one message file of a Maildir
            messages: Iterable[_Message] = [_read_file(file, item.meta.get("position", 0))]
        else:
            messages = read_archive(file)
        try:
            return [_item(archive, message) for message in messages]
        except OSError as exc:  # an mbox that went away between its first bytes and the rest
            error = _unreadable(file, exc)
        except SourceError as exc:  # a folder now, and not a Maildir
            error = str(exc)
        return [_item(archive, _Message(b"", None, 0, error, file))]

    def fetch_paths(self, paths: Iterable[Path], cursor: Cursor | None) -> Iterator[Batch]:
        done: dict[str, bool] = dict((cursor or {}).get("done", {}))
        partial: dict | None = (cursor or {}).get("partial")
        for path in paths:
            key = archive_key(path)
            if key in done:
                continue
            start = partial["next"] if partial and partial.get("key") == key else 0
            batch: list[RawItem] = []
            for message in read_archive(path, start):
                batch.append(_item(path, message))
                if len(batch) >= self.config.batch_size:
                    partial = {"key": key, "next": message.position + 1}
                    yield Batch(batch, {"done": dict(done), "partial": partial})
                    batch = []
            done[key] = True
            partial = None
            yield Batch(batch, {"done": dict(done), "partial": None})


def archive_key(path: Path) -> str:
    """Which archive this is: a changed file (new mail appended) is read again, and so is a
    Maildir whose new/ or cur/ changed (its own mtime stays when mail lands there or moves
    between them; a changed listing also restarts a half-read one from its first file, so no
    position points at a different file). What was stored is recognised on the second read."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{int(stat.st_mtime)}"
    if path.is_dir():
        key += "".join(f"|{sub}:{(path / sub).stat().st_mtime_ns}"
                       for sub in ("new", "cur") if (path / sub).is_dir())
    return key


def read_archive(path: Path, start: int = 0) -> Iterator[_Message]:
    """Messages of a Maildir folder, an mbox file or one .eml file, from position ``start``."""
    if path.is_dir():
        if not any((path / sub).is_dir() for sub in ("cur", "new")):
            raise SourceError(f"{path} is a folder but not a Maildir (no cur/ or new/ inside)")
        yield from _maildir(path, start)
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(5)
    except OSError:
        head = b""  # not an mbox that can be read: _read_file says why
    if head == b"From ":
        yield from _mbox(path, start)
    elif start == 0:
        yield _read_file(path, 0)


def _maildir(path: Path, start: int) -> Iterator[_Message]:
    files = sorted(
        entry.path
        for sub in ("new", "cur")
        if (path / sub).is_dir()
        for entry in os.scandir(path / sub)
        if entry.is_file() and not entry.name.startswith(".")
    )
    for position, name in enumerate(files):
        if position >= start:
            yield _read_file(Path(name), position)


def _read_file(file: Path, position: int) -> _Message:
    """One message file; one that cannot be read (EIO, permissions) becomes an error, so
    the rest of its archive is still read."""
    try:
        return _Message(file.read_bytes(), _mtime(file), position)
    except OSError as exc:
        return _Message(b"", None, position, _unreadable(file, exc), file)


def _unreadable(file: Path, exc: OSError) -> str:
    return f"{_shown(file)} could not be read ({exc.strerror or exc})"


def _mbox(path: Path, start: int) -> Iterator[_Message]:
    """Stream an mbox: a message starts at a "From " line at the top or after a blank line."""
    position = -1
    lines: list[bytes] = []
    received: datetime | None = None
    previous_blank = True
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(b"From ") and previous_blank:
                if position >= start and position >= 0:
                    yield _Message(_mbox_body(lines), received, position)
                position += 1
                lines = []
                received = _from_line_date(line) if position >= start else None
            elif position >= start:
                lines.append(line)
            previous_blank = line in (b"\n", b"\r\n")
    if position >= start and position >= 0:
        yield _Message(_mbox_body(lines), received, position)


def _mbox_body(lines: list[bytes]) -> bytes:
    # The blank line before the next "From " belongs to the mbox format, not the message.
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def _from_line_date(line: bytes) -> datetime | None:
    """'From sender@example.id Mon Nov  2 09:15:00 2026' -> the date, in UTC (asctime form)."""
    parts = line.decode("ascii", "replace").split()
    if len(parts) < 7:
        return None
    try:
        parsed = parsedate_to_datetime(" ".join([parts[2] + ",", parts[4], parts[3], parts[6], parts[5]]))
    except (TypeError, ValueError, IndexError, OverflowError):  # a year of 20 digits
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)


def _shown(path: Path) -> str:
    """The path as text the store can keep: a non-UTF-8 byte of a file name as ``\\xff``."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _item(path: Path, message: _Message) -> RawItem:
    meta: dict = {"archive": _shown(path), "position": message.position}
    if message.received is not None:
        meta["received"] = message.received.isoformat()
    if message.error is not None:
        if message.file is not None:  # to read it again on a replay (``expand``)
            meta["file"] = _shown(message.file)
        key = "unreadable:" + hashlib.sha256(message.error.encode()).hexdigest()[:32]
        return RawItem(key, b"", MEDIA_TYPE, meta, error=message.error)
    return RawItem(message_key(message.raw), message.raw, MEDIA_TYPE, meta)
