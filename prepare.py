"""Preparing batches for the store: normalising raw items, and for a long run of large batches
doing it one batch ahead, in a second process.

Public API:

- ``normalize_item(cls, item) -> Outcome``: one item's record, or the reason it has none.
- ``prepare(cls, items, nik_key) -> Prepared``: a batch's outcomes and the fingerprints
  duplicate linking would otherwise make of its complaints (``cases.dedup.fingerprints``).
  Pure: no I/O, the same in either process.
- ``prepared_batches(cls, batches, nik_key, ahead) -> (batch, Prepared), ...``: in order. With
  ``ahead`` (a collector whose next batch never waits for new data: a file, a backlog), from the
  first batch of ``AHEAD_MIN_ITEMS`` or more on, a spawned worker prepares each next batch
  while the pipeline stores the one before: the normaliser and the text and identity work of
  linking (~0.6 ms a LAPOR row) move to the second core.

Why only then: starting the worker costs ~0.5 s of the other core and every item crosses two
pipes (~50 us), which a handful of items never repays; and a collector that may wait for new
data (IMAP IDLE, an API poll) must have its batch stored when it arrives, not when the next
one does.

What cannot go wrong: the worker only computes. A batch is stored by the pipeline, in order,
in its own transaction, as without it; a batch read ahead and not stored (the run stopped or
the collector failed after it) is drained first on a failure and otherwise re-fetched by the
next run, its cursor not having moved. A worker that cannot start, dies, or cannot be sent a
batch (an item that does not pickle) costs only speed: that batch and the rest of the run are
prepared in process, with a warning.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from pengaduan.cases.dedup import Fingerprint, fingerprints
from pengaduan.collectors.base import Batch, Collector, RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer.pii import mask_for_log
from pengaduan.store.ingest import Outcome

log = logging.getLogger("pengaduan.pipeline")

AHEAD_MIN_ITEMS = 200
# Niceness of the worker: it only has to stay one batch ahead of the pipeline, which does the
# heavier work (storing, linking) and should not share its core with it when both are busy.
NICE = 10


@dataclass
class Prepared:
    outcomes: list[Outcome]
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)  # by content digest


def normalize_item(cls: type[Collector], item: RawItem) -> Outcome:
    """One item's fate; a failure here parks the item and never takes the batch down."""
    if item.error:
        return Outcome(item, reason=item.error)
    try:
        return Outcome(item, record=cls.normalize(item))
    except RecordError as exc:
        return Outcome(item, reason=exc.reason)
    except Exception as exc:  # a normaliser bug must cost one item, not the batch
        log.exception("normaliser %s failed on %s", cls.type, item.source_id)
        return Outcome(
            item,
            reason=f"the {cls.type} normaliser failed on this item "
            f"({type(exc).__name__}: {mask_for_log(str(exc))}); replay it after a fix",
        )


def prepare(cls: type[Collector], items: list[RawItem], nik_key: bytes | None,
            fingerprint: bool = True) -> Prepared:
    """``fingerprint`` False: the outcomes only (linking makes what it needs itself)."""
    outcomes = [normalize_item(cls, item) for item in items]
    if not fingerprint:
        return Prepared(outcomes)
    return Prepared(outcomes, fingerprints([o.record for o in outcomes if o.record], nik_key))


def prepared_batches(cls: type[Collector], batches: Iterable[Batch], nik_key: bytes | None,
                     ahead: bool = False, linking: Callable[[], bool] = lambda: True,
                     ) -> Iterator[tuple[Batch, Prepared]]:
    """``linking``: asked as each batch is prepared, whether the batches stored so far were
    linked (had new or changed records): a re-read of what is stored (an overlapping export)
    links nothing, and its fingerprints would be made for nothing."""
    worker: _Worker | None = None
    tried = False  # a worker is started once a run: one that failed or died is not retried
    sent: deque[Batch] = deque()  # with a worker: sent to it, one batch ahead of the caller

    def gone(exc: Exception) -> None:
        nonlocal worker
        log.warning("preparing %s in process from now on: %s", cls.type, exc)
        if worker is not None:
            worker.stop()
        worker = None  # the batches it had are prepared again here, in order: it only computes

    def received() -> tuple[Batch, Prepared]:
        batch = sent.popleft()
        if worker is not None:
            try:
                return batch, worker.receive(batch.items)
            except _WorkerGone as exc:
                gone(exc)
        return batch, prepare(cls, batch.items, nik_key, linking())

    iterator = iter(batches)
    try:
        while True:
            try:
                batch = next(iterator)
            except StopIteration:
                break
            except BaseException:
                # The collector failed: the batch read ahead is stored first, as it would
                # have been without reading ahead, then the run sees the error.
                while sent:
                    yield received()
                raise
            if ahead and not tried and len(batch.items) >= AHEAD_MIN_ITEMS:
                # Started now, it gets ready while this batch is prepared and stored here.
                tried = True
                worker = _Worker.start(cls)
                yield batch, prepare(cls, batch.items, nik_key, linking())
                continue
            sent.append(batch)
            if worker is not None:
                try:
                    worker.send(batch.items, nik_key, linking())
                except _WorkerGone as exc:
                    gone(exc)
            while len(sent) > (1 if worker is not None else 0):
                yield received()
        while sent:
            yield received()
    finally:
        if worker is not None:
            worker.stop()


class _WorkerGone(Exception):
    pass


class _Worker:
    """A spawned process preparing batches it is sent, answering in the order sent."""

    def __init__(self, process: Any, conn: Connection):
        self.process = process
        self.conn = conn

    @classmethod
    def start(cls, collector: type[Collector]) -> _Worker | None:
        context = multiprocessing.get_context("spawn")  # the pipeline has threads: no fork
        mine, theirs = context.Pipe()
        process = context.Process(target=_work, args=(theirs, collector),
                                  name="pengaduan-prepare", daemon=True)
        try:
            process.start()
        except (OSError, pickle.PicklingError, AttributeError, TypeError) as exc:
            # No process to spare, or a collector class defined where a new process cannot
            # import it: prepared in process, as for a small run.
            log.warning("preparing %s in process: no worker (%s)", collector.type, exc)
            mine.close()
            return None
        finally:
            theirs.close()
        return cls(process, mine)

    def send(self, items: list[RawItem], nik_key: bytes | None, fingerprint: bool) -> None:
        try:
            self.conn.send((items, nik_key, fingerprint))
        except OSError as exc:
            raise self._ended(exc) from None
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise _WorkerGone(f"a batch could not be sent ({type(exc).__name__}: "
                              f"{mask_for_log(str(exc))})") from None

    def receive(self, items: list[RawItem]) -> Prepared:
        """The answer for ``items``, the batch sent first of those not answered yet."""
        try:
            answer = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise self._ended(exc) from None
        if isinstance(answer, str):
            raise _WorkerGone(answer)
        fates, found = answer
        return Prepared([Outcome(item, record, reason) for item, (record, reason) in zip(items, fates)],
                        found)

    def _ended(self, exc: Exception) -> _WorkerGone:
        self.process.join(timeout=1)
        return _WorkerGone(f"the worker ended (exit code {self.process.exitcode}, "
                           f"{type(exc).__name__})")

    def stop(self) -> None:
        # It only computes: ended at once, whatever it is doing (still starting, for a run of
        # one large batch), nothing is lost.
        self.conn.close()
        self.process.terminate()
        self.process.join()


def _work(conn: Connection, collector: type[Collector]) -> None:
    # Ctrl-C reaches the whole process group: the pipeline handles it and stops this worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICE)  # a helper: when the cores are busy, the process it feeds goes first
    # Batches are read by a thread of their own: the pipeline sends the next batch while this
    # process sends the last one's answer, and two large messages crossing on one pipe with
    # neither side reading would wait for each other forever.
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def read() -> None:
        try:
            while True:
                inbox.put(conn.recv())
        except (EOFError, OSError):
            inbox.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        while (message := inbox.get()) is not None:
            items, nik_key, fingerprint = message
            try:
                prepared = prepare(collector, items, nik_key, fingerprint)
                # Without the items: the pipeline has them, and they are most of the bytes.
                answer: Any = ([(o.record, o.reason) for o in prepared.outcomes],
                               prepared.fingerprints)
            except Exception as exc:  # normalize_item contains a normaliser's failures
                answer = f"preparing failed ({type(exc).__name__}: {mask_for_log(str(exc))})"
            conn.send(answer)
    except OSError:  # the pipeline is gone
        return
    finally:
        conn.close()
