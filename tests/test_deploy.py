"""The systemd unit and the operations guide: the unit validates, and the guide's install
steps (deploy/install.sh) work from scratch in a temporary directory."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, SAMPLES

sys.path.insert(0, str(ROOT / "deploy"))
import unit_check  # noqa: E402

UNIT = ROOT / "deploy/pengaduan.service"


def test_the_unit_file_validates() -> None:
    done = subprocess.run(["bash", str(ROOT / "deploy/check-unit.sh")], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert unit_check.problems_of(UNIT.read_text()) == []


def test_the_unit_check_catches_a_missing_hardening_key_and_a_wrong_restart() -> None:
    text = UNIT.read_text().replace("Restart=on-failure", "Restart=always")
    text = text.replace("NoNewPrivileges=yes\n", "")
    found = unit_check.problems_of(text)
    assert any("Restart" in p for p in found) and any("NoNewPrivileges" in p for p in found)


def test_the_guide_documents_what_the_unit_uses() -> None:
    guide = (ROOT / "docs/operations.md").read_text()
    for needle in ("/etc/pengaduan/env", "db upgrade", ".backup", "VACUUM INTO", "pg_dump",
                   "pg_restore", "journald", "/healthz", "/metrics", "needs_reauth", "silent",
                   "quota_paused", "0600"):
        assert needle in guide, needle


@pytest.mark.slow
def test_install_steps_from_scratch_then_db_upgrade_and_run_once(tmp_path: Path) -> None:
    """deploy/install.sh with its paths moved under tmp_path: a new venv with pip install,
    directories, the example settings and a 0600 env file, db upgrade; then run --once."""
    env = {
        **os.environ,
        "PREFIX": str(tmp_path / "opt"),
        "CONFIG_DIR": str(tmp_path / "etc"),
        "DATA_DIR": str(tmp_path / "data"),
        "PYTHON": sys.executable,
    }
    etc = tmp_path / "etc"
    etc.mkdir()
    # The example settings, pointed at the temp data dir and the bundled sample exports.
    drop = tmp_path / "incoming"
    shutil.copytree(SAMPLES / "lapor", drop)
    example = (ROOT / "deploy/settings.example.toml").read_text()
    settings = (
        example.replace("/var/lib/pengaduan", str(tmp_path / "data"))
        .replace("/srv/pengaduan/incoming/lapor", str(drop))
        .replace('listen = "127.0.0.1:9108"', "# listen: not in a test")
    )
    assert settings != example
    (etc / "settings.toml").write_text(settings + "settle_seconds = 0\n")
    done = subprocess.run(
        ["bash", str(ROOT / "deploy/install.sh"), "--no-user", "--no-systemd"],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "schema upgraded from empty" in done.stdout
    assert stat.S_IMODE((etc / "env").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o750
    exe = tmp_path / "opt/venv/bin/pengaduan"
    run = subprocess.run(
        [str(exe), "--config", str(etc / "settings.toml"), "--log-format", "json", "run", "--once"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"event": "collector_run"' in run.stderr
    database = tmp_path / "data/pengaduan.db"
    # The guide's online backup while nothing else is running, and its integrity check.
    backup = tmp_path / "backup.db"
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(database), f".backup '{backup}'"], check=True)
    else:  # the same online backup API, without the Debian sqlite3 package
        with sqlite3.connect(database) as src, sqlite3.connect(backup) as dst:
            src.backup(dst)
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] > 0
    # Installing again (an upgrade) keeps settings and data.
    again = subprocess.run(
        ["bash", str(ROOT / "deploy/install.sh"), "--no-user", "--no-systemd"],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert again.returncode == 0, again.stderr
    assert "schema already at" in again.stdout
    assert (etc / "settings.toml").read_text().endswith("settle_seconds = 0\n")
