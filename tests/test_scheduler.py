"""The scheduler: one job per instance, never overlapping, failures isolated, clean stop."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers import ROOT, SAMPLES, ListCollector, make_settings
from pengaduan.collectors.base import Batch, Cursor
from pengaduan.errors import TransientError
from pengaduan.pipeline import Pipeline, serve
from pengaduan.settings import CollectorSettings
from pengaduan.store import state as store_state
from pengaduan.store.db import Store


@dataclass(frozen=True)
class SlowConfig:
    seconds: float = 0.3


class SlowCollector(ListCollector):
    """Takes longer than its interval; counts how many of its runs overlap."""

    type = "test_slow"
    Config = SlowConfig  # type: ignore[assignment]
    running = 0
    most = 0
    runs = 0
    lock = threading.Lock()

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        cls = type(self)
        with cls.lock:
            cls.running += 1
            cls.runs += 1
            cls.most = max(cls.most, cls.running)
        try:
            time.sleep(self.config.seconds)
            yield from ()
        finally:
            with cls.lock:
                cls.running -= 1


class BrokenCollector(ListCollector):
    type = "test_broken"

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        raise TransientError("server said 503")


def test_runs_never_overlap_and_a_failing_collector_stops_no_other(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/p.db")
    store.ensure_schema()
    settings = make_settings(store.url, tmp_path, scheduler={"retry_initial": "1h"})
    settings.collectors["slow"] = CollectorSettings("slow", "test_slow", SlowCollector, True, 0.05, SlowConfig())
    settings.collectors["broken"] = CollectorSettings(
        "broken", "test_broken", BrokenCollector, True, 0.05, BrokenCollector.Config()
    )
    pipeline = Pipeline(store, settings)
    thread = threading.Thread(target=serve, args=(pipeline, 0.05))
    thread.start()
    time.sleep(2.0)
    pipeline.stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert SlowCollector.runs >= 3 and SlowCollector.most == 1
    with store.transaction() as conn:
        states = {s.collector: s for s in store_state.all_states(conn)}
        failures = states["broken"].failures
    assert states["slow"].health == "ok"
    # Backing off for an hour after its first failure: the scheduler tried it once, not 40 times.
    assert (states["broken"].health, failures) == ("failing", 1)


def test_sigterm_finishes_the_batch_in_hand_and_exits_cleanly(tmp_path: Path) -> None:
    watch = tmp_path / "in"
    watch.mkdir()
    shutil.copy(SAMPLES / "lapor/export-2026-10.xlsx", watch)
    config = tmp_path / "settings.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/p.db"\n'
        '[collectors.lapor]\ntype = "lapor_export"\nwatch_dir = "in"\nsettle_seconds = 0\ninterval = "1s"\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "pengaduan.cli.main", "--config", str(config), "--log-format", "json", "run"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    store = Store(f"sqlite:///{tmp_path}/p.db")
    while time.monotonic() < deadline:
        try:
            with store.transaction() as conn:
                state = store_state.load_state(conn, "lapor")
            if state and state.last_success_at:
                break
        except Exception:
            pass
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert b"finishing the batch in hand" in err and b"scheduler stopped" in err
    assert b"Traceback" not in err
