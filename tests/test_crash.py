"""The transaction rule, proven with real processes: SIGKILL an import at several points,
restart it, and find every report exactly once (DESIGN.md §2, invariants 1 and 2)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from helpers import ROOT  # noqa: I001  (puts samples/ on sys.path)
from generate_lapor import fake_rows, write_export
from pengaduan.store.schema import case_links, cases, quarantine, raw_items, records

ROWS = 6000


def start_import(config: Path, export: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pengaduan.cli.main", "--config", str(config),
         "--log-format", "json", "import", "lapor", str(export)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def stored(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            try:
                return conn.execute(select(func.count()).select_from(records)).scalar_one()
            except Exception:  # the schema may not exist yet when the kill comes early
                return 0
    finally:
        engine.dispose()


def kill_when(proc: subprocess.Popen, url: str, at_least: int, timeout: float = 120) -> int:
    """SIGKILL the import once ``at_least`` records are committed; returns the count seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"import ended before the kill point ({at_least}): {proc.stderr.read()!r}")
        seen = stored(url) if at_least else 0
        if seen >= at_least:
            # A random extra moment so the kill lands anywhere in the next batch's work,
            # inside a transaction as often as between two.
            time.sleep(random.uniform(0, 0.3))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return seen
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"no {at_least} records within {timeout}s")


@pytest.mark.slow
def test_sigkill_at_several_points_then_every_report_exactly_once(
    store_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    rows = fake_rows(ROWS, seed=7)
    write_export(export, rows, "csv")
    config = tmp_path / "settings.toml"
    config.write_text(
        f'[store]\nurl = "{store_url}"\n'
        '[collectors.lapor]\ntype = "lapor_export"\nwatch_dir = "in"\nbatch_size = 250\n'
    )
    # Kill before the first commit, then at three points through the file.
    points = [0, ROWS // 5, ROWS // 2, (ROWS * 4) // 5]
    progress = []
    for point in points:
        progress.append(kill_when(start_import(config, export), store_url, point))
    final = start_import(config, export)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    assert progress == sorted(progress) and progress[-1] < ROWS  # each kill came mid-import

    engine = create_engine(store_url)
    with engine.connect() as conn:
        def count(table) -> int:  # type: ignore[no-untyped-def]
            return conn.execute(select(func.count()).select_from(table)).scalar_one()

        ids = [r[0] for r in conn.execute(select(records.c.source_id))]
        assert sorted(ids) == sorted(str(r["Tracking ID"]) for r in rows)
        assert count(records) == ROWS and count(raw_items) == ROWS
        # Every report is in the queue exactly once; a few generated reports may share a case
        # when duplicate linking judges them one complaint, never more cases than reports.
        assert count(case_links) == ROWS and count(cases) <= ROWS
        assert count(quarantine) == 0
        state = conn.execute(text("select cursor from collector_state")).scalar_one()
    engine.dispose()
    assert state is not None

    again = start_import(config, export)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0
    assert b"nothing new" in err
