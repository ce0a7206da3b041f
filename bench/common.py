"""What every benchmark here shares: timing, the machine facts, the result table."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import sqlalchemy

import pengaduan
from pengaduan.pipeline import RunReport
from pengaduan.store.db import Store, display_url

T = TypeVar("T")


@dataclass
class Phase:
    name: str
    count: int  # rows or messages handled
    seconds: float  # wall clock: what an operator waits
    cpu: float  # this process's CPU time: wall far above it means a busy machine or I/O
    result: str


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def open_store(url: str) -> Store:
    store = Store(url)
    # A store holding earlier items would turn "new" into "unchanged" and time another path.
    if store.schema_revision() is not None:
        store.dispose()
        sys.exit(f"{display_url(url)} is not empty; give the benchmark an empty database")
    store.ensure_schema()
    return store


def check(phase: str, report: RunReport, ok: bool) -> None:
    if report.outcome != "ok" or not ok:
        sys.exit(f"{phase}: unexpected result: {report.summary()}")


def code_version() -> str:
    """The code measured: others may edit this tree, so name the commit and any uncommitted
    source changes the run picked up."""
    where = Path(pengaduan.__file__).parent
    try:
        def git(*args: str) -> str:  # not stripped: porcelain lines start with a space
            return subprocess.run(["git", "-C", str(where), *args], capture_output=True,
                                  text=True, check=True).stdout
        commit = git("rev-parse", "--short", "HEAD").strip()
        changed = [line[3:] for line in git("status", "--porcelain", "-uno").splitlines()
                   if line.endswith(".py")]
    except (OSError, subprocess.CalledProcessError):
        return f"{where} (not a git checkout)"
    return f"{where} at {commit}" + (f", uncommitted: {', '.join(changed)}" if changed else "")


def machine(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        ("date", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("cpu", f"{cpu}, {os.cpu_count()} cores"),
        ("load average at start", load),  # others may share this machine: say how busy it was
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("sqlite", sqlite3.sqlite_version),
        ("sqlalchemy", sqlalchemy.__version__),
        *extra,
        ("code", code_version()),
    ]


def print_table(phases: list[Phase], unit: str = "rows", rate: str = "rows/s") -> None:
    # Both ratios: wall time is what counts, CPU time is what stays put on a shared machine.
    floor, floor_cpu = phases[0].seconds, phases[0].cpu
    print(f"| phase | {unit} | seconds | cpu s | {rate} | time vs floor | cpu vs floor | result |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for p in phases:
        per_second = p.count / p.seconds if p.seconds else float("inf")
        print(f"| {p.name} | {p.count} | {p.seconds:.3f} | {p.cpu:.3f} | {per_second:,.0f} | "
              f"{p.seconds / floor:.2f}x | {p.cpu / floor_cpu:.2f}x | {p.result} |")


@dataclass(frozen=True)
class Figure:
    """One line of `bench/run.py`'s summary: a measured figure, the baseline measured in the
    same process (same unit), and the issue's goal with whether this run met it."""

    bench: str
    figure: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""  # what the baseline is, e.g. "openpyxl read"
    goal: str = ""  # in words, e.g. "ratio >= 0.25"; "" when the issue sets none
    met: bool | None = None  # None: no goal
    note: str = ""  # what a reader needs to read the figure right

    @property
    def ratio(self) -> float | None:
        return self.figure / self.baseline if self.baseline else None


def print_summary(figures: list[Figure]) -> None:
    print("\n| bench | figure | unit | baseline | ratio | goal | met? |")
    print("|---|---:|---|---|---:|---|---|")
    for f in figures:
        baseline = "—" if f.baseline is None else f"{_number(f.baseline)} ({f.baseline_name})"
        ratio = "—" if f.ratio is None else f"{f.ratio:.2f}x"
        met = {True: "yes", False: "**no**", None: "—"}[f.met]
        met += f": {f.note}" if f.note else ""
        print(f"| {f.bench} | {_number(f.figure)} | {f.unit} | {baseline} | {ratio} | "
              f"{f.goal or '—'} | {met} |")


def _number(value: float) -> str:
    if value != value:  # NaN: a bench that could not measure
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
