"""``lapor_export``: SP4N-LAPOR! export files dropped into a watch folder, or imported by hand.

Each report row becomes one raw item keyed by its Tracking ID, so the same report in next
week's overlapping export is an update, never a second complaint. The cursor remembers every
file finished (by content hash, so a renamed copy is skipped and a changed file is re-read)
and, inside a file, the next row to read, so an interrupted import resumes where it stopped.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem, source_id_problem
from pengaduan.collectors.lapor_reader import ExportFileError, ExportRow
from pengaduan.collectors.lapor_reader_process import open_export
from pengaduan.errors import SourceError
from pengaduan.normalizer.lapor import normalize_lapor_row

MEDIA_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
}
ROW_MEDIA_TYPE = "application/vnd.pengaduan.lapor-row+json"
# Names that copy tools and office programs use while a file is still being written.
PARTIAL_MARKERS = (".part", ".tmp", ".crdownload", ".partial", ".filepart", ".download")


@dataclass(frozen=True)
class LaporExportConfig:
    watch_dir: Path | None = None
    patterns: list[str] = field(default_factory=lambda: ["*.xlsx", "*.csv"])
    # A file modified less than this long ago may still be copying in; it waits a poll.
    settle_seconds: float = 10.0
    batch_size: int = 500
    # Header text -> canonical column, for exports whose headers we do not know yet.
    column_map: dict[str, str] = field(default_factory=dict)


class LaporExportCollector(Collector):
    type = "lapor_export"
    channel = "lapor"
    Config = LaporExportConfig
    default_interval = "1m"
    ahead = True  # files: the next batch never waits for new data
    normalize = staticmethod(normalize_lapor_row)

    config: LaporExportConfig

    # --- the watch folder ----------------------------------------------------------------

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        paths, waiting = self._ready_files()
        return self.fetch_files(paths, cursor, notes=waiting)

    def _ready_files(self) -> tuple[list[Path], list[str]]:
        """Files complete enough to read, oldest first, and notes on those that are not."""
        folder = self.config.watch_dir
        waiting: list[str] = []
        if folder is None:
            raise SourceError(
                f"collector {self.name}: watch_dir is not set; add watch_dir = \"PATH\" to "
                f"[collectors.{self.name}]"
            )
        if not folder.exists():
            raise SourceError(
                f"collector {self.name}: watch folder {folder} does not exist; create it or fix "
                f"watch_dir in [collectors.{self.name}]"
            )
        if not folder.is_dir():
            raise SourceError(
                f"collector {self.name}: watch_dir {folder} is a file, not a folder; fix "
                f"watch_dir in [collectors.{self.name}]"
            )
        # os.scandir, not Path.glob: glob silently yields nothing from an unreadable folder.
        try:
            with os.scandir(folder) as entries:
                names = [e.name for e in entries if e.is_file()]
        except OSError as exc:
            raise SourceError(
                f"collector {self.name}: watch folder {folder} cannot be read ({exc.strerror}); "
                "check its permissions"
            ) from None
        ready: list[tuple[float, str, Path]] = []
        now = time.time()
        patterns = [pattern.lower() for pattern in self.config.patterns]
        for name in names:
            if not any(fnmatch.fnmatchcase(name.lower(), pattern) for pattern in patterns):
                continue
            path = folder / name
            if name.startswith((".", "~$")) or name.lower().endswith(PARTIAL_MARKERS):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue  # vanished between listing and stat: next poll
            age = now - stat.st_mtime
            if age < self.config.settle_seconds:
                waiting.append(
                    f"{name} was modified {age:.0f}s ago and may still be copying in; "
                    "it will be read on the next poll"
                )
                continue
            ready.append((stat.st_mtime, name, path))
        # Oldest first, so when two overlapping exports arrive together the newer statuses win.
        return [path for _, _, path in sorted(ready)], waiting

    # --- files, from the watch folder or the command line --------------------------------

    def fetch_files(
        self, paths: Iterable[Path], cursor: Cursor | None, notes: list[str] | None = None
    ) -> Iterator[Batch]:
        state = _State.load(cursor)
        pending_notes = list(notes or [])
        for path in paths:
            try:
                data = path.read_bytes()
            except OSError as exc:
                pending_notes.append(f"{path} cannot be read ({exc.strerror}); skipped")
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest in state.done:
                continue
            start_row = state.partial_row(digest)
            for items, last_row in self._file_batches(path.name, data, digest, start_row):
                if last_row is None:
                    state.finish(digest, path.name)
                else:
                    state.advance(digest, path.name, last_row + 1)
                yield Batch(items, state.dump(), notes=pending_notes)
                pending_notes = []
        if pending_notes:
            yield Batch([], state.dump(), notes=pending_notes)

    def _file_batches(
        self, name: str, data: bytes, digest: str, start_row: int
    ) -> Iterator[tuple[list[RawItem], int | None]]:
        """Batches of one file's items with the last row each covers (None: file finished)."""
        batch: list[RawItem] = []
        last_row = 0
        try:
            for item, row_number in self._file_items(name, data, digest, start_row):
                batch.append(item)
                last_row = row_number
                if len(batch) >= self.config.batch_size:
                    yield batch, last_row
                    batch = []
        except ExportFileError as exc:
            batch.append(_file_item(name, data, digest, str(exc)))
        yield batch, None

    def _file_items(
        self, name: str, data: bytes, digest: str, start_row: int = 0
    ) -> Iterator[tuple[RawItem, int]]:
        # A large file is parsed in a worker process while the pipeline stores the batch
        # before; a chunk of one batch keeps the worker a whole batch ahead.
        with open_export(data, name, self.config.column_map, self.config.batch_size) as sheet:
            first_seen: dict[str, tuple[int, bytes]] = {}
            for row in sheet.rows:
                if row.number < start_row:
                    continue
                item = _row_item(row, name, digest, first_seen)
                if item is not None:
                    yield item, row.number

    def expand(self, item: RawItem) -> list[RawItem] | None:
        """A quarantined whole file is read again with today's code and column map."""
        if item.media_type not in MEDIA_TYPES.values():
            return None
        name = item.meta.get("file", item.source_id)
        digest = hashlib.sha256(item.payload).hexdigest()
        try:
            return [i for i, _ in self._file_items(name, item.payload, digest)]
        except ExportFileError as exc:
            return [_file_item(name, item.payload, digest, str(exc))]


def _row_item(
    row: ExportRow, name: str, digest: str, first_seen: dict[str, tuple[int, bytes]]
) -> RawItem | None:
    payload = row.payload
    meta = {"file": name, "file_sha256": digest, "row": row.number}
    raw_id = row.fields.get("tracking_id", "").strip().lstrip("#").strip()
    problem = None
    if not raw_id:
        problem = f"row {row.number} of {name} has no Tracking ID"
    elif not raw_id.isdigit():
        shown = raw_id if len(raw_id) <= 40 else raw_id[:40] + "…"
        problem = f"row {row.number} of {name} has Tracking ID {shown!r}, which is not a number"
    elif source_id_problem(raw_id):  # a run of digits too long to be a Tracking ID, or to key
        problem = f"row {row.number} of {name} has a Tracking ID of {len(raw_id)} digits"
    if problem is not None:
        return RawItem(
            f"file:{digest[:16]}:row:{row.number}", payload, ROW_MEDIA_TYPE, meta,
            error=problem + "; fix the export and drop it in again",
        )
    seen = first_seen.get(raw_id)
    if seen is None:
        first_seen[raw_id] = (row.number, payload)
        return RawItem(raw_id, payload, ROW_MEDIA_TYPE, meta)
    if seen[1] == payload:
        return None  # the very same row twice: nothing to keep
    return RawItem(
        f"{raw_id}:dup:{digest[:16]}:row:{row.number}", payload, ROW_MEDIA_TYPE, meta,
        error=(
            f"Tracking ID {raw_id} appears twice in {name} (rows {seen[0]} and {row.number}) "
            "with different content; the first row was kept and this one is parked for review"
        ),
    )


def _file_item(name: str, data: bytes, digest: str, error: str) -> RawItem:
    suffix = Path(name).suffix.lower()
    return RawItem(
        f"file:{digest[:16]}",
        data,
        MEDIA_TYPES.get(suffix, "application/octet-stream"),
        {"file": name, "file_sha256": digest},
        error=error,
    )


@dataclass
class _State:
    """The cursor: finished files by content hash, and the file being read, if any."""

    done: dict[str, dict[str, Any]]
    partial: dict[str, Any] | None

    @classmethod
    def load(cls, cursor: Cursor | None) -> _State:
        cursor = cursor or {}
        return cls(dict(cursor.get("done", {})), cursor.get("partial"))

    def partial_row(self, digest: str) -> int:
        if self.partial and self.partial.get("sha256") == digest:
            return int(self.partial["next_row"])
        return 0

    def advance(self, digest: str, name: str, next_row: int) -> None:
        self.partial = {"sha256": digest, "file": name, "next_row": next_row}

    def finish(self, digest: str, name: str) -> None:
        self.done[digest] = {"file": name}
        self.partial = None

    def dump(self) -> Cursor:
        return {"done": dict(self.done), "partial": dict(self.partial) if self.partial else None}
