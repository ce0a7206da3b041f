"""Read a large LAPOR! export in a worker process, so parsing overlaps with storing.

Reading a big workbook (the sheet's XML, then each row's cell texts and payload JSON) is
CPU work the import's other half (normalising, linking, storing) need not wait for: with the
read in a second process, both cores work. The worker runs ``read_export`` itself, so its rows, row numbers and errors
are the in-process reader's; it streams rows in chunks over a pipe to the collector.

Process start method: 'spawn'. ``pengaduan serve`` runs APScheduler's worker threads, the
health server and the lease keep-alive thread, and holds pooled database sockets; a fork
copies locks another thread may hold (logging, the pool) and those sockets into the child.
'forkserver' would start later workers faster, but keeps a server process and its preloads
as global state for the whole program; one spawn per large file costs ~0.5 s, little next
to the seconds such a file takes to parse (see WORKER_MIN_BYTES).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import time
import traceback
import weakref
from collections.abc import Iterator, Mapping
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import PurePath
from typing import Any

from pengaduan.collectors.lapor_reader import ExportFileError, ExportRow, ExportSheet, read_export
from pengaduan.errors import PengaduanError, TransientError

log = logging.getLogger("pengaduan.lapor")

# From which size a file is read in a worker. Measured on the 2-core bench VM (bench/RESULTS.md,
# `lapor_import.py`): the worker's first rows come ~1-2 s after the import starts (spawning it
# and sending it the file while the collector has nothing else to do), and it saves the
# collector ~45 us a row of python-calamine's ~85 us (the cell texts and payload JSON; the
# sheet's XML is read whole before the first row either way). A 20 000-row export (3.4 MB)
# imported 3 s faster in process; from ~100 000 rows the saving outgrows the start. (With
# openpyxl, ~0.65 ms a row, it paid from ~1 000 rows.) CSV parsing is cheap too (~42 us a row
# in process, of which the collector still pays ~10 us unpickling the row): the same ~16 MB.
# Smaller files stay in process. Tests and the benchmark change this mapping.
WORKER_MIN_BYTES: dict[str, int] = {".xlsx": 16 << 20, ".csv": 16 << 20}
# Rows per message when the collector does not say: the worker runs one message ahead.
CHUNK_ROWS = 1000
# The worker sends a chunk every chunk's parse (well under a second); its longest silence is
# before the first message, while the whole sheet is read (3-5 s for 100 000 generated
# rows here).
# Nothing for this long while it lives means stuck, not slow.
STALL_SECONDS = 600.0
_POLL_SECONDS = 1.0
# Niceness of the worker: it only has to stay one chunk ahead of the collector, which does the
# heavier work (storing, linking) and should not share its core with it when both are busy.
NICE = 10
_JOIN_SECONDS = 10.0


def open_export(
    data: bytes,
    filename: str,
    column_map: Mapping[str, str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ExportSheet:
    """``read_export``, in a worker process when the file is large enough to gain from it."""
    threshold = WORKER_MIN_BYTES.get(PurePath(filename).suffix.lower())
    if threshold is None or len(data) < threshold:
        return read_export(data, filename, column_map)
    try:
        return read_export_in_worker(data, filename, column_map, chunk_rows)
    except _NoWorker as exc:
        # A machine that cannot start one more process (a process limit, no /dev/shm) still
        # imports, on one core: better slow than every large export stuck.
        log.warning("LAPOR export %s read in process: no worker process (%s)", filename, exc)
        return read_export(data, filename, column_map)


class _NoWorker(Exception):
    """The worker process could not be started."""


def read_export_in_worker(
    data: bytes,
    filename: str,
    column_map: Mapping[str, str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ExportSheet:
    """``read_export`` run in a worker: the same layout, rows and errors, raised at the same
    points. A worker that dies or hangs is an ExportFileError naming the file (a TransientError
    when it was stopped with SIGTERM); closing the sheet (or its rows) stops the worker at once.

    The worker sends ``chunk_rows`` rows a message and reads one message ahead, so a chunk
    as large as the collector's batch keeps it parsing the next batch while one is stored.
    """
    worker = _Worker(data, filename, dict(column_map or {}), max(1, chunk_rows))
    try:
        message = worker.receive()
        if message[0] == "error":
            raise worker.error(message)
        _, title_rows, header_row, columns, unknown_headers = message
    except BaseException:
        worker.stop()
        raise
    return ExportSheet(
        title_rows=title_rows,
        header_row=header_row,
        columns=columns,
        unknown_headers=unknown_headers,
        rows=_rows(worker),
        _release=worker.stop,
    )


def _rows(worker: _Worker) -> Iterator[ExportRow]:
    try:
        while True:
            message = worker.receive()
            if message[0] == "end":
                return
            if message[0] == "error":
                raise worker.error(message)
            for number, fields, extra, payload in message[1]:
                yield ExportRow(number, fields, extra, payload)
    finally:
        worker.stop()


class _Worker:
    """The worker process and the reading end of its pipe, stopped once whatever happens."""

    def __init__(
        self, data: bytes, filename: str, column_map: dict[str, str], chunk_rows: int
    ) -> None:
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        self.filename = filename
        self.process = context.Process(
            target=_work,
            args=(sender, data, filename, column_map, chunk_rows),
            name="pengaduan-lapor-reader",
            daemon=True,  # ended by multiprocessing when the collector's process exits
        )
        try:
            self.process.start()
        except OSError as exc:
            receiver.close()
            raise _NoWorker(exc.strerror or str(exc)) from None
        finally:
            # The worker's copy is then the only writing end: its death is an EOF here, and
            # the collector's death a broken pipe there.
            sender.close()
        self.conn = receiver
        # A sheet dropped unread (its rows generator never started) still stops the worker.
        self._stop = weakref.finalize(self, _stop, self.process, receiver)

    def receive(self) -> tuple[Any, ...]:
        deadline = time.monotonic() + STALL_SECONDS
        try:
            while not self.conn.poll(_POLL_SECONDS):
                if time.monotonic() > deadline:
                    self.stop()
                    raise ExportFileError(
                        f"{self.filename} could not be read: the process reading it sent "
                        f"nothing for {STALL_SECONDS:.0f} s; the file is kept in quarantine "
                        "and can be replayed"
                    )
            message: tuple[Any, ...] = self.conn.recv()
            return message
        except (EOFError, OSError):  # OSError: the pipe ended inside a message
            raise self._died() from None

    def _died(self) -> PengaduanError:
        self.process.join(_JOIN_SECONDS)
        code = self.process.exitcode
        self.stop()
        if code == -signal.SIGTERM:
            # Stopped from outside (systemd stops the whole service with SIGTERM): the file is
            # not at fault; the cursor keeps the rows stored so far and the next run resumes.
            return TransientError(
                f"reading {self.filename} was interrupted: the process reading it was stopped "
                "(SIGTERM); the next run resumes after the rows already stored"
            )
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return ExportFileError(
            f"{self.filename} could not be read: the process reading it ended unexpectedly "
            f"({how}), as when a huge or crafted file exhausts the memory; the file is kept "
            "in quarantine and can be replayed"
        )

    def error(self, message: tuple[Any, ...]) -> BaseException:
        """The worker's exception, as raised in it, with its traceback text as the cause."""
        _, pickled, summary, trace = message
        self.stop()
        try:
            exc: BaseException = pickle.loads(pickled)
        except Exception:  # an exception class that cannot be rebuilt from its arguments
            exc = RuntimeError(summary)
        exc.__cause__ = _WorkerTraceback(trace)
        return exc

    def stop(self) -> None:
        self._stop()


class _WorkerTraceback(Exception):
    """Where the worker raised; shown as the cause when a worker's error is logged."""


def _stop(process: BaseProcess, conn: Connection) -> None:
    conn.close()
    if process.exitcode is None:
        # A worker that sent its last message is leaving: let it; else it is killed, as the
        # row stream is abandoned and nothing it holds needs a clean end.
        process.join(0.5)
        if process.exitcode is None:
            process.kill()
            process.join(_JOIN_SECONDS)
    if process.exitcode is not None:
        process.close()


# --- in the worker ---------------------------------------------------------------------------


def _work(
    conn: Connection, data: bytes, filename: str, column_map: dict[str, str], chunk_rows: int
) -> None:
    # Ctrl-C reaches the whole process group: the collector handles it and stops this worker,
    # which would otherwise print a KeyboardInterrupt traceback of its own. SIGTERM keeps its
    # default: multiprocessing ends its children with it when the collector's process exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICE)  # a helper: when the cores are busy, the process it feeds goes first
    try:
        for message in _messages(data, filename, column_map, chunk_rows):
            conn.send(message)
    except OSError:  # the collector is gone or stopped reading: nobody to tell
        pass
    finally:
        conn.close()


def _messages(
    data: bytes, filename: str, column_map: dict[str, str], chunk_rows: int
) -> Iterator[tuple[Any, ...]]:
    chunk: list[tuple[int, dict[str, str], dict[str, str], bytes]] = []
    try:
        with read_export(data, filename, column_map) as sheet:
            yield ("layout", sheet.title_rows, sheet.header_row, sheet.columns,
                   sheet.unknown_headers)
            for row in sheet.rows:
                chunk.append((row.number, row.fields, row.extra, row.payload))
                if len(chunk) >= chunk_rows:
                    yield ("rows", chunk)
                    chunk = []
    except Exception as exc:
        # The rows read before a damaged part reach the collector first, as in process.
        if chunk:
            yield ("rows", chunk)
        yield ("error", _pickled(exc), f"{type(exc).__name__}: {exc}", traceback.format_exc())
        return
    if chunk:
        yield ("rows", chunk)
    yield ("end",)


def _pickled(exc: Exception) -> bytes:
    try:
        return pickle.dumps(exc)
    except Exception:  # a cause or attribute that does not pickle: keep the text
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
