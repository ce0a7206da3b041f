"""The export read in a worker process: the same rows and errors as in process, and no
worker left behind however the reading ends (real files, real spawned processes)."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from helpers import SAMPLES  # noqa: I001  (puts samples/ on sys.path)
from generate_lapor import fake_rows, write_export
from pengaduan.collectors import lapor_reader_process
from pengaduan.collectors.lapor_export import LaporExportCollector, LaporExportConfig
from pengaduan.collectors.lapor_reader import ExportFileError, ExportSheet, read_export
from pengaduan.collectors.lapor_reader_process import open_export, read_export_in_worker
from pengaduan.collectors.testing import run_all
from pengaduan.errors import ConfigError, TransientError

SHEET = "xl/worksheets/sheet1.xml"


def export(tmp_path: Path, rows: int, fmt: str) -> bytes:
    path = tmp_path / f"export.{fmt}"
    write_export(path, fake_rows(rows), fmt)
    return path.read_bytes()


def layout(sheet: ExportSheet) -> tuple:
    return sheet.title_rows, sheet.header_row, sheet.columns, sheet.unknown_headers


def the_worker() -> multiprocessing.process.BaseProcess:
    (worker,) = multiprocessing.active_children()
    return worker


def reaped(pid: int) -> bool:
    """True when the process is gone and not a zombie of ours."""
    try:
        os.waitpid(pid, os.WNOHANG)  # (0, 0) while it runs; reaps it here if a zombie
    except ChildProcessError:
        return True
    return False


def cut_mid_sheet(rows: int) -> bytes:
    """A workbook whose sheet's XML stops in the middle (a valid zip around bad XML)."""
    workbook = Workbook()
    workbook.active.append(["Tracking ID", "Judul Laporan", "Isi Laporan Akhir"])
    for number in range(rows):
        workbook.active.append([5_000_000 + number, "Bantuan PKH", "Belum cair"])
    whole = io.BytesIO()
    workbook.save(whole)
    out = io.BytesIO()
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == SHEET:
                content = content[: len(content) // 2]
            target.writestr(info, content)
    return out.getvalue()


def read_all(sheet: ExportSheet) -> tuple[list, Exception | None]:
    rows = []
    try:
        with sheet:
            for row in sheet.rows:
                rows.append(row)
    except Exception as exc:  # compared with the in-process reader's below
        return rows, exc
    return rows, None


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_worker_gives_the_in_process_layout_and_rows(tmp_path: Path, fmt: str) -> None:
    data = export(tmp_path, 25, fmt)
    column_map = {"Judul Laporan": "kategori"}  # Kategori comes first: Judul goes to extras
    here = read_export(data, f"x.{fmt}", column_map)
    there = read_export_in_worker(data, f"x.{fmt}", column_map, chunk_rows=4)
    assert layout(there) == layout(here)
    assert "Judul Laporan" in there.unknown_headers
    rows = list(there.rows)
    assert len(rows) == 25 and rows == list(here.rows)
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("data", "name", "kind", "start"),
    [
        (b"", "kosong.xlsx", ExportFileError, "kosong.xlsx is empty (0 bytes)"),
        (b"\x00not a zip" * 50, "rusak.xlsx", ExportFileError,
         "rusak.xlsx cannot be read as an Excel workbook ("),
        (b"Nama;Alamat\r\nKetut;Kubu", "data.csv", ExportFileError,
         "data.csv is not a LAPOR! export"),
        (b"Tracking ID;Judul\r\n1;PKH", "lama.xls", ExportFileError,
         "lama.xls is in the old Excel .xls format"),
    ],
    ids=["empty", "not-a-workbook", "no-header", "xls"],
)
def test_an_unreadable_file_raises_the_in_process_error(
    data: bytes, name: str, kind: type[Exception], start: str
) -> None:
    with pytest.raises(kind) as here:
        read_export(data, name)
    with pytest.raises(kind) as there:
        read_export_in_worker(data, name)
    assert str(there.value) == str(here.value) and str(there.value).startswith(start)
    assert multiprocessing.active_children() == []


def test_a_wrong_column_map_is_the_same_config_error(tmp_path: Path) -> None:
    data = export(tmp_path, 2, "csv")
    with pytest.raises(ConfigError) as error:
        read_export_in_worker(data, "x.csv", {"Judul": "judul", "Isi": "isi"})
    assert len(error.value.problems) == 2 and "'Isi' -> 'isi'" in str(error.value)


def test_a_sheet_cut_mid_file_is_the_same_error_in_the_worker() -> None:
    """The sheet is read whole before its first row: damaged XML anywhere in it parks the
    whole file (replayable once a good copy is dropped in), with no rows imported."""
    data = cut_mid_sheet(60)
    with pytest.raises(ExportFileError) as here:
        read_export(data, "rusak.xlsx")
    with pytest.raises(ExportFileError) as there:
        read_export_in_worker(data, "rusak.xlsx")
    assert str(there.value) == str(here.value)
    assert str(there.value).startswith("rusak.xlsx cannot be read as an Excel workbook (")
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    ("how", "kind", "says"),
    [
        (signal.SIGKILL, ExportFileError, "ended unexpectedly (killed by signal 9)"),
        (signal.SIGTERM, TransientError, "was interrupted"),
    ],
    ids=["killed", "terminated"],
)
def test_a_worker_that_dies_mid_file_is_a_clear_error(
    tmp_path: Path, how: signal.Signals, kind: type[Exception], says: str
) -> None:
    data = export(tmp_path, 200, "xlsx")
    sheet = read_export_in_worker(data, "besar.xlsx", chunk_rows=10)
    rows = iter(sheet.rows)
    assert next(rows).number > 0
    worker = the_worker()
    pid = worker.pid
    assert pid is not None
    os.kill(pid, how)
    with pytest.raises(kind) as error:
        list(rows)  # the chunks already sent come first, then the death is noticed
    assert str(error.value).startswith("besar.xlsx" if kind is ExportFileError else "reading")
    assert says in str(error.value) and "\n" not in str(error.value)
    assert reaped(pid)


def test_closing_the_rows_early_stops_and_reaps_the_worker(tmp_path: Path) -> None:
    data = export(tmp_path, 200, "xlsx")
    sheet = read_export_in_worker(data, "besar.xlsx", chunk_rows=10)
    rows = iter(sheet.rows)
    next(rows)
    pid = the_worker().pid
    assert pid is not None
    rows.close()  # what the pipeline does with a fetch it stops early
    assert reaped(pid)
    sheet.close()  # and then the sheet, as `with` does: nothing left to stop, no error
    assert list(sheet.rows) == []


def test_a_sheet_dropped_unread_stops_its_worker(tmp_path: Path) -> None:
    sheet = read_export_in_worker(export(tmp_path, 200, "xlsx"), "besar.xlsx", chunk_rows=10)
    pid = the_worker().pid
    assert pid is not None
    del sheet  # its rows generator never started, so only the finaliser can stop the worker
    assert reaped(pid)


PARENT = """
import sys
from pengaduan.collectors.lapor_reader_process import read_export_in_worker
import multiprocessing
if __name__ == "__main__":
    data = open(sys.argv[1], "rb").read()
    rows = read_export_in_worker(data, "besar.xlsx", chunk_rows=10).rows
    next(rows)
    print(multiprocessing.active_children()[0].pid, flush=True)
    sys.stdin.read()  # until killed
"""


def test_the_worker_ends_when_the_collector_process_is_killed(tmp_path: Path) -> None:
    (tmp_path / "besar.xlsx").write_bytes(export(tmp_path, 2000, "xlsx"))
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path / "besar.xlsx")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert alive(pid)
    finally:
        parent.kill()
        parent.wait()
    # Orphaned, the worker finds the pipe broken at its next chunk and exits; a liveness
    # deadline, not a timing: the test fails only if it never ends.
    deadline = time.monotonic() + 60
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid)


def alive(pid: int) -> bool:
    """Running, neither gone nor a zombie waiting for its new parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_small_files_stay_in_process_and_large_ones_go_to_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = export(tmp_path, 30, "xlsx")
    assert len(data) < lapor_reader_process.WORKER_MIN_BYTES[".xlsx"]
    with open_export(data, "kecil.xlsx") as sheet:
        next(sheet.rows)
        assert multiprocessing.active_children() == []
    monkeypatch.setitem(lapor_reader_process.WORKER_MIN_BYTES, ".xlsx", len(data))
    with open_export(data, "kecil.xlsx") as sheet:
        next(sheet.rows)
        assert len(multiprocessing.active_children()) == 1
    assert multiprocessing.active_children() == []


def test_the_collector_gives_the_same_batches_and_cursors_through_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_export(tmp_path / "a.csv", fake_rows(12, start_id=9_400_000), "csv")
    write_export(tmp_path / "b.xlsx", fake_rows(30), "xlsx")
    (tmp_path / "c.xlsx").write_bytes(cut_mid_sheet(40))  # the whole file parked
    for age, name in enumerate(("c.xlsx", "b.xlsx", "a.csv")):
        os.utime(tmp_path / name, (time.time() - 60 - age, time.time() - 60 - age))

    def batches(cursor: dict | None = None) -> list[tuple[list[tuple], dict]]:
        collector = LaporExportCollector(
            "lapor", LaporExportConfig(watch_dir=tmp_path, settle_seconds=0, batch_size=7))
        return [([(i.source_id, i.payload, i.meta, i.error) for i in b.items], b.cursor)
                for b in run_all(collector, cursor)]

    here = batches()
    started = []
    real = lapor_reader_process.read_export_in_worker

    def counted(*args):  # type: ignore[no-untyped-def]
        started.append(args[1])
        return real(*args)

    monkeypatch.setattr(lapor_reader_process, "read_export_in_worker", counted)
    monkeypatch.setattr(lapor_reader_process, "WORKER_MIN_BYTES", {".xlsx": 0, ".csv": 0})
    there = batches()
    assert started == ["a.csv", "b.xlsx", "c.xlsx"]
    assert there == here
    errors = [error for items, _ in there for *_, error in items if error]
    assert len(errors) == 1 and errors[0].startswith("c.xlsx cannot be read as an Excel workbook")
    # Resuming inside b.xlsx from a worker reads on from the cursor's row, like in process.
    partial = next(c for _, c in there if (c["partial"] or {}).get("file") == "b.xlsx")
    cut = next(i for i, (_, cursor) in enumerate(here) if cursor == partial)
    assert batches(partial) == here[cut + 1:]
    assert multiprocessing.active_children() == []


def test_a_worker_that_cannot_start_leaves_the_import_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No process can be started (a process limit): a large file is read in process, same rows."""
    data = export(tmp_path, 30, "xlsx")
    monkeypatch.setitem(lapor_reader_process.WORKER_MIN_BYTES, ".xlsx", 0)

    def refuse(self: multiprocessing.process.BaseProcess) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("spawn").Process, "start", refuse)
    rows, error = read_all(open_export(data, "besar.xlsx"))
    expected, _ = read_all(read_export(data, "besar.xlsx"))
    assert error is None and rows == expected and len(rows) == 30
    assert "no worker process (Resource temporarily unavailable)" in caplog.text
    assert not multiprocessing.active_children()
