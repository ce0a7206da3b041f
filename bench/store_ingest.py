#!/usr/bin/env python3
"""Benchmark: the same LAPOR import into SQLite and into PostgreSQL.

    python bench/store_ingest.py [--rows 20000] [--pg-url URL]

The CSV export lapor_import.py generates (and caches), imported as `pengaduan import lapor`
does (``lapor_import.import_once``: normalising, storing and linking every row) into a new
SQLite file and into an empty PostgreSQL database, one after the other in one process; the
CSV read floor is measured first, as in lapor_import.py. Linking is part of ingestion and no
setting turns it off, so both imports link.

PostgreSQL is a private server started with tests/services/postgres.py (initdb on a free port
on 127.0.0.1; like the test servers it runs with fsync off, where SQLite keeps its WAL with
synchronous=NORMAL: the import commits once per 1 000 rows, so that costs SQLite little), or
``--pg-url``, an empty database on a server of your own.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from common import Figure, Phase, check, machine, open_store, print_summary, print_table, timed  # noqa: E402
from lapor_import import exports, import_once, read_floor  # noqa: E402
from pengaduan.cli.main import tune_gc  # noqa: E402
from pengaduan.store.db import display_url  # noqa: E402
from services.postgres import start_postgres  # noqa: E402


def ingest(name: str, url: str, path: Path, rows: int) -> tuple[Phase, str]:
    """One import into the empty database at ``url``; and the server's version."""
    store = open_store(url)
    try:
        with store.transaction() as conn:
            version = conn.execute(text(
                "select sqlite_version()" if store.dialect == "sqlite" else "show server_version"
            )).scalar_one()
        report, wall, cpu = import_once(store, path)
        check(f"{name} import", report, report.new == rows and report.quarantined == 0)
        return Phase(f"import into {name}", rows, wall, cpu,
                     f"{report.new} new, {report.cases_opened} cases"), str(version)
    finally:
        store.dispose()


def run(rows: int = 20_000, pg_url: str | None = None) -> list[Figure]:
    path, _, generated = exports(rows, "csv")
    made = "cached" if generated is None else f"generated in {generated:.1f}s (not measured)"
    print(f"\n## SQLite vs PostgreSQL: {rows} rows of csv, {made}: {path}", flush=True)
    cells, wall, cpu = timed(lambda: read_floor(path))
    phases = [Phase("floor (csv read)", rows, wall, cpu, f"{cells} cells")]
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    server = None
    pg_dir = Path(tempfile.mkdtemp(prefix="bench-pg-")) if pg_url is None else None
    try:
        sqlite, sqlite_version = ingest("SQLite", f"sqlite:///{workdir / 'ingest.db'}", path, rows)
        if pg_dir is not None:
            server = start_postgres(pg_dir)
            pg_url = server.create_database("bench_ingest")
            where = "a private server, fsync off"
        else:
            where = display_url(pg_url)
        assert pg_url is not None
        postgres, pg_version = ingest("PostgreSQL", pg_url, path, rows)
    finally:
        if server is not None:
            server.stop()
        for folder in (workdir, pg_dir):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    phases += [sqlite, postgres]
    print(f"- SQLite {sqlite_version} (a new file, WAL); PostgreSQL {pg_version} ({where})")
    print_table(phases)
    return [Figure(
        f"ingest {rows:,} LAPOR rows: PostgreSQL vs SQLite", rows / postgres.seconds, "rows/s",
        baseline=rows / sqlite.seconds, baseline_name="SQLite", note=(
            f"CPU s: PostgreSQL {postgres.cpu:.1f}, SQLite {sqlite.cpu:.1f}; the issue sets no goal"
        ),
    )]


def main(argv: list[str] | None = None) -> int:
    tune_gc()  # as `pengaduan` does: the imports measured are its commands
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--pg-url", metavar="URL",
                        help="an empty PostgreSQL database (default: start a private server)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    for key, value in machine():
        print(f"- {key}: {value}")
    print_summary(run(args.rows, args.pg_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
