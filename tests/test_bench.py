"""bench/run.py, the one benchmark command, in its smallest mode: it runs every benchmark and
prints a line of the summary for each. Speed is not asserted here: it is measured in bench/
(`python bench/run.py`, results in bench/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROWS = [
    "LAPOR import, xlsx, 200 rows",
    "mail import, mbox, 100 messages",
    "dedup index insert, ours-memory, 500 records",
    "dedup index insert, ours-sqlite, 500 records",
    "idle poll: imap",
    "idle poll: facebook_page",
    "idle poll: instagram",
    "idle poll: youtube",
    "idle poll: lapor_export",
    "ingest 200 LAPOR rows: PostgreSQL vs SQLite",
]


@pytest.mark.usefixtures("dovecot_server")  # the idle-poll bench starts a Dovecot of its own
def test_the_benchmark_command_runs_and_prints_every_row(pg_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--pg-url", pg_url],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = done.stdout.split("\n# summary\n", 1)[1]
    assert "| bench | figure | unit | baseline | ratio | goal | met? |" in summary
    lines = {line.split(" | ")[0].removeprefix("| "): line for line in summary.splitlines()
             if line.startswith("| ") and not line.startswith("| bench ")}
    assert sorted(lines) == sorted(ROWS), done.stdout[-3000:]
    for name, line in lines.items():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        assert len(cells) == 7, line
        assert cells[1] != "—", f"{name}: no figure measured"
