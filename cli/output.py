"""How things look to a person: times in WITA, tables, progress on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

WITA = ZoneInfo("Asia/Makassar")


def local(dt: datetime | None, zone: ZoneInfo = WITA) -> str:
    """'2026-11-03 09:15 WITA'; every stored time is UTC and shown in the office's zone."""
    if dt is None:
        return "-"
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M ") + (dt.astimezone(zone).tzname() or "")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line.rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)


def shorten(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Progress:
    """A one-line counter on a terminal; silent when output goes to a file or a pipe."""

    def __init__(self, label: str, stream: TextIO | None = None, unit: str = "rows"):
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.count = 0

    def __call__(self, n: int) -> None:
        self.count += n
        if self.enabled:
            self.stream.write(f"\r{self.label}: {self.count:,} {self.unit}".replace(",", "."))
            self.stream.flush()

    def done(self) -> None:
        if self.enabled and self.count:
            self.stream.write("\n")
