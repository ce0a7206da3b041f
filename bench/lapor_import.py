#!/usr/bin/env python3
"""Benchmark: `pengaduan import lapor` on a generated export, against merely reading the file.

    python bench/lapor_import.py [--rows 100000] [--format xlsx|csv|both]
                                 [--store URL] [--keep DIR] [--repeat N] [--no-in-process]
                                 [--profile]

Phases, in this order, in one process:
  floor          openpyxl read-only over every cell (csv: csv.reader over the decoded text),
                 the yardstick issue 7 names: the import is judged by its ratio to it, which
                 moves far less between machines than its rows/s do. (The import reads .xlsx
                 with python-calamine, ~15x faster than this floor's reader.)
  import, reader in process, and overlap-import, reader in process
                 (SQLite only, unless --no-in-process) the import and the overlap-import below
                 with the file parsed in the importing process, as before the reader worker,
                 into a new store of their own: the single-process figures to compare with
  import         the real path of `pengaduan import lapor` into an empty store (with
                 --repeat N, N times, alternating with the floor's reads; SQLite); a file of
                 WORKER_MIN_BYTES or more is parsed in a worker process (its CPU time is given
                 in the result column: the cpu column is the importing process's only)
  re-import      the same file again: must be skipped by its content hash, i.e. ~free
  overlap-import the same rows in a different file (other title rows): read again, all unchanged

--profile instead imports the file once under cProfile (a new SQLite store) and prints the
share of the importing process's time spent inside cases/dedup.py (linking, with all it calls)
and the functions that took the most. The reader worker is not profiled: its time is its own.

The export is generated once per (rows, format, generator version) and cached in the temp dir.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import gc
import hashlib
import io
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Literal, cast

import openpyxl

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "samples" / "generate_lapor.py"
VOCABULARY = GENERATOR.parent / "lapor_vocabulary.py"  # its words: part of what it makes
sys.path.insert(0, str(GENERATOR.parent))

from generate_lapor import DEFAULT_TITLE_ROWS, Row, fake_rows, write_export  # noqa: E402

from pengaduan.collectors import lapor_reader_process  # noqa: E402
from pengaduan.collectors.lapor_export import (  # noqa: E402
    LaporExportCollector,
    LaporExportConfig,
)
from pengaduan.cases import dedup  # noqa: E402
from pengaduan.cli.main import tune_gc  # noqa: E402
from pengaduan.pipeline import Pipeline, RunReport  # noqa: E402
from pengaduan.settings import parse_settings  # noqa: E402
from common import Phase, check, machine, open_store, print_table, timed  # noqa: E402
from pengaduan.store.db import Store, display_url  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "pengaduan-bench"
# Disjoint Tracking IDs per format, so `--format both` never turns one format's rows into
# updates of the other's, whatever store they land in.
START_ID = {"xlsx": 9_300_000, "csv": 9_600_000}
# The overlap file differs from the first only in its title rows: new bytes, same rows.
OVERLAP_TITLES = (*DEFAULT_TITLE_ROWS[:2], "Tanggal Generate : 30 Nov 2026 16:05", "")
Format = Literal["xlsx", "csv"]


# --- the export files ------------------------------------------------------------------------


def exports(rows: int, fmt: Format) -> tuple[Path, Path, float | None]:
    """The export and its overlap twin, from the cache when present; and generation seconds
    (None when cached). The generator's source is in the key so a changed generator re-generates."""
    version = hashlib.sha256(GENERATOR.read_bytes() + VOCABULARY.read_bytes()).hexdigest()[:10]
    first = CACHE / f"lapor-{rows}-{version}.{fmt}"
    twin = CACHE / f"lapor-{rows}-{version}-overlap.{fmt}"
    if first.exists() and twin.exists():
        return first, twin, None
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = fake_rows(rows, start_id=START_ID[fmt])
    for path, titles in ((first, DEFAULT_TITLE_ROWS), (twin, OVERLAP_TITLES)):
        _write_atomically(path, data, fmt, titles)
    return first, twin, time.perf_counter() - started


def _write_atomically(path: Path, data: list[Row], fmt: Format, titles: tuple[str, ...]) -> None:
    # An interrupted generation must not leave a half file that later runs take as cached.
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    write_export(partial, data, fmt, title_rows=titles)
    partial.replace(path)


# --- the floor -------------------------------------------------------------------------------


def read_floor(path: Path) -> int:
    """Read every cell the cheapest sensible way; returns the non-empty cell count."""
    filled = 0
    if path.suffix == ".xlsx":
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.active
        sheet.reset_dimensions()  # the importer does this too; same cells, same work
        for values in sheet.iter_rows(values_only=True):
            filled += sum(v is not None for v in values)
        workbook.close()
    else:
        text = path.read_bytes().decode("utf-8-sig")
        for cells in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
            filled += sum(c != "" for c in cells)
    return filled


# --- the import ------------------------------------------------------------------------------


def import_once(store: Store, path: Path) -> tuple[RunReport, float, float]:
    """What `pengaduan import lapor PATH` does, timed from the run's start to its report
    (settings parsing, which loads the holiday calendars, is start-up and left out)."""
    return timed(prepared_import(store, path))


def prepared_import(store: Store, path: Path) -> Callable[[], RunReport]:
    settings = parse_settings({"store": {"url": store.url}}, ROOT)
    collector = LaporExportCollector("lapor", LaporExportConfig(batch_size=1000))
    pipeline = Pipeline(store, settings)
    return lambda: pipeline.run(
        collector, fetch=lambda cursor: collector.fetch_files([path], cursor))


def import_with_worker(store: Store, path: Path) -> tuple[RunReport, float, float, float]:
    """``import_once``, and the CPU seconds of its reader worker if one ran (a worker's time
    counts once it is reaped, which the collector does before the run ends)."""
    before = _children_cpu()
    report, wall, cpu = import_once(store, path)
    return report, wall, cpu, _children_cpu() - before


def _first_import(store: Store, path: Path, rows: int) -> tuple[RunReport, float, float, float]:
    """The import into an empty store, checked: every row new, none quarantined."""
    result = import_with_worker(store, path)
    check("import", result[0], result[0].new == rows and result[0].quarantined == 0)
    return result


def forget_imports() -> None:
    """What an import leaves in this process, cleared: each import starts as in a new
    process, and a floor read after one does not walk its 100 000 cached fingerprints in every
    full collection."""
    dedup.forget()
    gc.collect()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def reader_in_process() -> Iterator[None]:
    """The reader as it was before the worker: in the importing process, whatever the size."""
    saved = dict(lapor_reader_process.WORKER_MIN_BYTES)
    lapor_reader_process.WORKER_MIN_BYTES.clear()
    try:
        yield
    finally:
        lapor_reader_process.WORKER_MIN_BYTES.update(saved)


def _worker_note(worker_cpu: float) -> str:
    return f"; reader worker {worker_cpu:.1f} cpu s" if worker_cpu else "; reader in process"


def run_format(
    fmt: Format, rows: int, url: str, repeat: int, in_process_url: str | None = None,
    scratch: Path | None = None,
) -> list[Phase]:
    """The phases of one format; with ``in_process_url`` (a second empty store) the import is
    also measured with the reader in process, the single-process figure to compare with.
    ``repeat``: the floor read and the import alternately, ``repeat`` times each, and their
    medians compared (this VM's speed drifts by ±10 % within minutes, for both); each import
    but the last (into ``url``) into a new SQLite file in ``scratch``, deleted after it."""
    first, twin, generated = exports(rows, fmt)
    size = first.stat().st_size / 1e6
    made = "cached" if generated is None else f"generated in {generated:.1f}s (not measured)"
    print(f"\n## {fmt}: {rows} rows, {size:.1f} MB, {made}: {first}", flush=True)

    floors: list[tuple[int, float, float]] = []
    imports: list[tuple[RunReport, float, float, float]] = []
    for n in range(repeat):
        floors.append(timed(lambda: read_floor(first)))
        if n < repeat - 1 and scratch is not None:
            db = scratch / f"scratch-{fmt}.db"
            store = open_store(f"sqlite:///{db}")
            try:
                imports.append(_first_import(store, first, rows))
            finally:
                store.dispose()
                forget_imports()
                for leftover in scratch.glob(f"{db.name}*"):  # with its -wal and -shm
                    leftover.unlink()
    floors.sort(key=lambda f: f[1])
    cells, wall, cpu = floors[len(floors) // 2]
    phases = [Phase(f"floor ({'median of ' + str(repeat) if repeat > 1 else 'read only'})",
                    rows, wall, cpu, f"{cells} cells")]

    if in_process_url is not None:
        store = open_store(in_process_url)
        try:
            with reader_in_process():
                report, wall, cpu = import_once(store, first)
                check("import, reader in process", report, report.new == rows)
                phases.append(Phase("import, reader in process", rows, wall, cpu,
                                    f"{report.new} new, {report.cases_opened} cases"))
                report, wall, cpu = import_once(store, twin)
                check("overlap-import, reader in process", report, report.unchanged == rows)
                phases.append(Phase("overlap-import, reader in process", rows, wall, cpu,
                                    f"{report.unchanged} unchanged"))
        finally:
            store.dispose()
            forget_imports()

    store = open_store(url)
    try:
        imports.append(_first_import(store, first, rows))
        report = imports[-1][0]
        _, wall, cpu, worker = sorted(imports, key=lambda i: i[1])[len(imports) // 2]
        phases.append(Phase("import" + (f" (median of {len(imports)})" if len(imports) > 1 else ""),
                            rows, wall, cpu, f"{report.new} new, {report.cases_opened} cases"
                            + _worker_note(worker)))

        report, wall, cpu = import_once(store, first)
        check("re-import", report, report.fetched == 0)
        phases.append(Phase("re-import (same file)", rows, wall, cpu, "skipped by file hash"))

        report, wall, cpu, worker = import_with_worker(store, twin)
        check("overlap-import", report, report.unchanged == rows and report.fetched == rows)
        phases.append(Phase("overlap-import (other file)", rows, wall, cpu,
                            f"{report.unchanged} unchanged" + _worker_note(worker)))
    finally:
        store.dispose()
        forget_imports()  # bench/run.py measures the mail import next, in this process
    if repeat > 1:
        print("floor runs: " + ", ".join(f"{wall:.2f}s" for _, wall, _ in floors))
    if len(imports) > 1:
        print("import runs: " + ", ".join(f"{wall:.2f}s" for _, wall, _, _ in imports))
    return phases


def profile_import(fmt: Format, rows: int, url: str) -> None:
    first, _, _ = exports(rows, fmt)
    store = open_store(url)
    profiler = cProfile.Profile()
    try:
        report = profiler.runcall(prepared_import(store, first))
    finally:
        store.dispose()
    check("import", report, report.new == rows)
    stats = pstats.Stats(profiler)
    entries: dict[str, float] = {}
    for func, (_, _, _, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func[0].endswith("cases/dedup.py"):
            # Time entering dedup.py from outside it, callees included, counted once (a
            # builtin such as sorted() calling back into dedup.py is inside it: file "~").
            entries[func[2]] = sum(edge[3] for caller, edge in callers.items()
                                   if not caller[0].endswith(("cases/dedup.py", "~")))
    total = stats.total_tt  # type: ignore[attr-defined]
    linking = sum(entries.values())
    print(f"\n## profile: {fmt}, {rows} rows, {total:.1f} s in the importing process "
          "(profiled, so slower than the table's)")
    shown = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in entries.items()
                      if seconds >= 0.05)
    print(f"- inside cases/dedup.py (with all it calls): {linking:.1f} s, "
          f"{linking / total:.0%} of the import; entered by {shown}")
    stats.sort_stats("cumulative").print_stats(15)


# --- output ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    tune_gc()  # as `pengaduan` does: the imports measured are its commands
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("xlsx", "csv", "both"), default="xlsx")
    parser.add_argument("--store", default="sqlite", metavar="sqlite|URL",
                        help="'sqlite' (a new file per format) or an empty database's URL")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="put the SQLite databases in DIR and keep them (default: temp dir)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="read the floor and (SQLite) import N times each, alternately, "
                             "and compare their medians")
    parser.add_argument("--no-in-process", action="store_true",
                        help="skip the comparison import with the reader in process")
    parser.add_argument("--profile", action="store_true",
                        help="only profile one import (SQLite) and print where it spends time")
    args = parser.parse_args(argv)
    both: list[Format] = ["xlsx", "csv"]
    formats = both if args.format == "both" else [cast(Format, args.format)]
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    if args.store != "sqlite" and len(formats) > 1:
        parser.error("with a database URL, benchmark one format per (empty) database")

    workdir = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    facts = machine(("openpyxl (floor)", openpyxl.__version__),
                    ("python-calamine (reader)", version("python-calamine")))
    facts.append(("store", "SQLite, a new file per format" if args.store == "sqlite"
                  else display_url(args.store)))
    facts.append(("reader worker from", ", ".join(
        f"{suffix} {size / 2**20:g} MB" for suffix, size in
        lapor_reader_process.WORKER_MIN_BYTES.items())))
    for key, value in facts:
        print(f"- {key}: {value}")
    try:
        for fmt in formats:
            db = workdir / f"bench-{fmt}.db"
            url = f"sqlite:///{db}" if args.store == "sqlite" else args.store
            if args.profile:
                profile_import(fmt, args.rows, f"sqlite:///{workdir / f'profile-{fmt}.db'}")
                continue
            single = (None if args.store != "sqlite" or args.no_in_process
                      else f"sqlite:///{workdir / f'bench-{fmt}-in-process.db'}")
            scratch = workdir if args.store == "sqlite" else None
            print_table(run_format(fmt, args.rows, url, args.repeat, single, scratch))
            print("- goal (issue 7): import rows/s >= 0.25x the floor's, i.e. time vs floor "
                  "<= 4.00x")
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
