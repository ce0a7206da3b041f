"""Logging: JSON lines for the service's journal, readable lines on a terminal.

Personal data never reaches a log: every message passes through the PII mask.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from pengaduan.normalizer.pii import mask_for_log

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_for_log(record.getMessage())
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        event.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            event["traceback"] = mask_for_log(self.formatException(record.exc_info))
        return json.dumps(event, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time, not the one it was created with: a
    thread that logs after its caller swapped or closed the stream must not hit a dead one."""

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # type: ignore[no-untyped-def]
        pass


def setup_logging(verbose: bool = False, fmt: str = "auto") -> None:
    handler = _StderrHandler()
    if fmt == "json" or (fmt == "auto" and not sys.stderr.isatty()):
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # APScheduler logs every job start at INFO; our own run event says more.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
