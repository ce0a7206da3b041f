"""The collector interface: what a channel plug-in provides.

A collector is a small class with a ``type`` name, a typed frozen ``Config`` dataclass built
from its ``[collectors.NAME]`` settings section, and one generator ``fetch(cursor)`` that yields
``Batch``es: raw items exactly as received plus the cursor *after* them. The pipeline commits
each batch's items and its cursor in one transaction, so a collector never touches the store
and a crash anywhere re-fetches, never skips. Cursors are plain JSON, read only by the
collector that wrote them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pengaduan.normalizer.record import ComplaintRecord

Cursor = dict[str, Any]

# The store keys an item by (collector, source_id) in a VARCHAR(255) column, and PostgreSQL
# text cannot hold a NUL character: an id breaking either would fail its whole batch, on
# every run.
SOURCE_ID_MAX = 255


def source_id_problem(source_id: str) -> str | None:
    """Why ``source_id`` (an id as the source sent it) cannot key an item, or None."""
    if not source_id:
        return "it has no id"
    if len(source_id) > SOURCE_ID_MAX:
        return f"its id is {len(source_id)} characters long (at most {SOURCE_ID_MAX} are kept)"
    if "\x00" in source_id:
        return "its id contains a NUL character"
    return None


@dataclass(frozen=True)
class RawItem:
    """One item as the channel delivered it.

    ``payload`` is stored byte for byte; a changed payload under the same ``source_id`` is a new
    revision of the same item. ``meta`` is provenance (file and row, folder and UID) that is kept
    but does not make a version different. ``error`` is set when the collector could fetch the
    bytes but not make an item of them (a corrupt file): the item is stored and quarantined.
    """

    source_id: str
    payload: bytes
    media_type: str = "application/json"
    meta: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Batch:
    """Items fetched together and the cursor that is true once they are stored."""

    items: Sequence[RawItem]
    cursor: Cursor
    notes: Sequence[str] = ()  # things a person should know about this batch (file skipped…)


class Collector(ABC):
    """Base class of every collector, built-in or plug-in."""

    type: ClassVar[str]
    channel: ClassVar[str]
    Config: ClassVar[type]
    default_interval: ClassVar[str] = "5m"
    # Records are keyed by (key_space, source_id). None: the instance name. Types whose ids
    # are global (an e-mail Message-ID) share one, so two mailboxes make one record of a mail.
    key_space: ClassVar[str | None] = None
    # True when fetching the next batch never waits for new data (a file, an archive): the
    # pipeline may then read it while storing the one before, and prepare it in a second
    # process (prepare.py). Not for a source that may block for new data (IMAP IDLE).
    ahead: ClassVar[bool] = False

    def __init__(self, name: str, config: Any):
        self.name = name
        self.config = config

    @abstractmethod
    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield batches of items newer than ``cursor`` (None on the first run)."""

    @staticmethod
    @abstractmethod
    def normalize(item: RawItem) -> ComplaintRecord:
        """Turn one stored raw item into a record, or raise RecordError. Pure: no I/O."""

    @staticmethod
    def attachment_contents(item: RawItem) -> dict[str, bytes]:
        """The bytes of the attachments the normaliser listed, by sha256 (pure, no I/O)."""
        return {}

    def expand(self, item: RawItem) -> list[RawItem] | None:
        """Re-read a quarantined container item (a whole file) into its items, or None.

        ``quarantine replay`` calls this first, so a file that failed as a whole can succeed
        once the settings or the code are fixed; ``None`` means "normalise the item itself".
        """
        return None

    def close(self) -> None:
        """Release connections; called once after every run."""
