"""Every error pengaduan raises on purpose, in one tree.

    PengaduanError                  anything we raise; ``str()`` is one sentence for a person
    ├── ConfigError                 settings.toml or the command line is wrong: fix and restart
    ├── StoreError                  the database cannot be reached or is not at the right schema
    ├── CollectorError              a channel could not be read this run
    │   ├── TransientError          try again later (network, server 5xx, file still copying)
    │   ├── AuthError               credentials refused: a person must renew them
    │   └── SourceError             the source is unusable as configured (folder missing…)
    └── RecordError                 one item cannot be normalised: it goes to quarantine

The CLI prints ``str(error)`` and exits non-zero; it never shows a traceback for these.
The scheduler retries TransientError with backoff, marks the collector ``needs_reauth`` on
AuthError and ``failing`` on SourceError; a RecordError never leaves the pipeline.
"""

from __future__ import annotations

from datetime import datetime


class PengaduanError(Exception):
    """Base class. The message is a sentence saying what happened and what to do."""


class ConfigError(PengaduanError):
    """The settings or arguments are wrong; ``problems`` lists every one found."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems in the settings:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message)


class StoreError(PengaduanError):
    """The database is unreachable, locked, or at the wrong schema version."""


class CollectorError(PengaduanError):
    """A collector could not read its channel this run."""


class TransientError(CollectorError):
    """Worth retrying later without anyone acting; ``retry_at`` when the source said when
    (a rate limit's reset, a daily quota's midnight)."""

    def __init__(self, message: str, retry_at: datetime | None = None):
        self.retry_at = retry_at
        super().__init__(message)


class AuthError(CollectorError):
    """The channel refused our credentials; someone must renew them."""


class SourceError(CollectorError):
    """The channel is unusable as configured; someone must change the settings or the source."""


class RecordError(PengaduanError):
    """One raw item cannot be turned into a complaint record; ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)
