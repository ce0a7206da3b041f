"""Wiring: collectors → normaliser → store, one transaction per batch; and the scheduler.

The transaction rule (DESIGN.md §2): a batch's raw items, its records or quarantine entries,
their case links and the collector's next cursor are committed together or not at all, so a
crash anywhere re-fetches and never skips, and a re-fetch stores nothing twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection

from pengaduan.cases.dedup import Fingerprint
from pengaduan.cases.linking import link_saved
from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem
from pengaduan.collectors.registry import collector_types
from pengaduan.errors import AuthError, CollectorError, RecordError, StoreError, TransientError
from pengaduan.normalizer.pii import mask_for_log
from pengaduan.prepare import Prepared, normalize_item, prepare, prepared_batches
from pengaduan.settings import CollectorSettings, Settings
from pengaduan.store import leases as store_leases
from pengaduan.store import quarantine as store_quarantine
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.blobs import save_blobs
from pengaduan.store.ingest import Outcome, SaveResult, save_outcomes

log = logging.getLogger("pengaduan.pipeline")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RunReport:
    collector: str
    outcome: str = "ok"  # ok | failed | interrupted | skipped (another process runs it)
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    cases_opened: int = 0
    notes: list[str] = field(default_factory=list)
    last_cursor: Cursor | None = None
    parked: list[str] = field(default_factory=list)  # "source_id: reason" of each quarantined item
    error: str | None = None

    def counts(self) -> dict[str, int]:
        return {
            "fetched": self.fetched,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
        }

    def summary(self) -> str:
        if self.outcome == "skipped":
            return f"{self.collector}: not run: {self.error}"
        text = (
            f"{self.collector}: {self.fetched} fetched, {self.new} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.quarantined} quarantined, "
            f"{self.cases_opened} cases opened"
        )
        return text if self.error is None else f"{text}; {self.outcome}: {self.error}"


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a batch is stored. The batch's objects
    (records, probes, candidates, index buckets) live until it commits and are then freed by
    reference counting; collections meanwhile only traverse them again and again, ~8% of a
    large import (bench/RESULTS.md). Cyclic garbage a batch makes waits for the next
    collection. Process-wide: a batch stored by another thread meanwhile runs without it
    too, and whichever finds it on turns it back on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _freeze_survivors() -> None:
    """Between the batches of a long run (a file, a backlog): what outlived the stored batch
    is moved out of the cyclic GC's sight (``gc.freeze``) until the run ends
    (``gc.unfreeze``). Linking keeps fingerprints of up to 100 000 recent records (~14 GC-
    tracked objects each); every full collection walked them all again, and as they grew by a
    quarter a full collection followed: 18 of them, 12.6 s of a 100 000-row import
    (bench/RESULTS.md). The young generations are collected first, so the batch's cyclic
    garbage is freed now, not frozen; frozen objects are still freed by reference counting.
    Process-wide, like ``_gc_paused``: cycles that other threads' frozen objects form meanwhile
    wait for the run's end."""
    gc.collect(1)
    gc.freeze()


class Pipeline:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        stop: threading.Event | None = None,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.stop = stop or threading.Event()
        # This pipeline's name in the collector leases (store/leases.py).
        self.holder = store_leases.new_holder()

    # --- one batch ---------------------------------------------------------------------

    def save_batch(self, collector: Collector, batch: Batch, report: RunReport,
                   prepared: Prepared | None = None) -> None:
        """``prepared``: the batch's outcomes made ahead (``prepare.prepared_batches``)."""
        if not batch.items and not batch.notes and batch.cursor == report.last_cursor:
            return  # a keep-alive (IMAP IDLE) with nothing to store
        if prepared is None:
            prepared = prepare(type(collector), batch.items, self.settings.linking.nik_hash_key)
        outcomes = prepared.outcomes
        now = self.clock()
        with _gc_paused(), self.store.transaction() as conn:
            saved, opened = self._store_outcomes(conn, collector, outcomes, now,
                                                 prepared.fingerprints)
            store_state.save_cursor(conn, collector.name, batch.cursor, now)
            # Last, so the lease is renewed as the batch commits; a process that lost it
            # rolls the batch back here (the fence, store/leases.py).
            store_leases.hold(conn, collector.name, self.holder, self.settings.scheduler.lease)
        report.last_cursor = batch.cursor
        report.cases_opened += opened
        report.fetched += len(batch.items)
        report.new += len(saved.new)
        report.updated += len(saved.updated)
        report.unchanged += saved.unchanged
        report.quarantined += saved.quarantined
        for outcome in outcomes:
            if outcome.record is None:
                report.parked.append(f"{outcome.item.source_id}: {outcome.reason}")
                log.warning("%s: quarantined %s: %s", collector.name, outcome.item.source_id, outcome.reason)
        for note in batch.notes:
            log.warning("%s: %s", collector.name, note)
            report.notes.append(note)

    def _store_outcomes(
        self, conn: Connection, collector: Collector, outcomes: list[Outcome], now: datetime,
        ready: Mapping[str, Fingerprint] | None = None,
    ) -> tuple[SaveResult, int]:
        """Inside the caller's transaction: attachments, raw items, records, case links."""
        outcomes, contents = self._attachments(type(collector), outcomes)
        save_blobs(conn, contents, now)
        saved = save_outcomes(
            conn, collector.name, collector.channel, outcomes, now, collector.key_space
        )
        if saved.new or saved.updated:
            store_leases.lock_linking(conn)
        opened = link_saved(
            conn, collector.channel, saved, self.settings.calendar,
            self.settings.due_working_days, now, linking=self.settings.linking, ready=ready,
        )
        return saved, opened

    def _attachments(
        self, cls: type[Collector], outcomes: list[Outcome]
    ) -> tuple[list[Outcome], dict[str, bytes]]:
        """The attachment contents to store, and records that say which were not stored."""
        limit = self.settings.attachment_max_bytes
        contents: dict[str, bytes] = {}
        result = []
        for outcome in outcomes:
            record = outcome.record
            if record is None or not record.attachments:
                result.append(outcome)
                continue
            try:
                found = cls.attachment_contents(outcome.item)
            except RecordError:
                found = {}
            kept = []
            for attachment in record.attachments:
                data = found.get(attachment.sha256 or "")
                if attachment.size > limit:
                    note = (
                        f"not stored: {attachment.size / 1e6:.1f} MB is over the "
                        f"{limit / 1e6:.1f} MB limit ([store] attachment_max_bytes)"
                    )
                    kept.append(dataclasses.replace(attachment, note=note))
                elif data is None:
                    kept.append(dataclasses.replace(attachment, note="not stored: content unreadable"))
                else:
                    contents[attachment.sha256] = data  # type: ignore[index]
                    kept.append(attachment)
            result.append(Outcome(outcome.item, dataclasses.replace(record, attachments=tuple(kept))))
        return result, contents

    # --- one run -----------------------------------------------------------------------

    def run(
        self,
        collector: Collector,
        fetch: Callable[[Cursor | None], Iterable[Batch]] | None = None,
        progress: Callable[[int], None] | None = None,
        min_gap: float = 0.0,
    ) -> RunReport:
        """Fetch from the stored cursor and save batch by batch; health and run log kept.

        One process at a time runs a collector: the run holds its lease (store/leases.py) from
        before it reads the cursor to its end. While another process holds it, or (``min_gap``
        seconds) ran it that recently, nothing is fetched and the outcome is ``skipped``.
        """
        report = RunReport(collector.name)
        refused = store_leases.take(
            self.store, collector.name, self.holder, self.settings.scheduler.lease, min_gap
        )
        if refused:
            report.outcome, report.error = "skipped", refused
            collector.close()
            return report
        keeper = store_leases.KeepAlive(
            self.store, collector.name, self.holder, self.settings.scheduler.lease
        )
        try:
            return self._run_held(collector, fetch, progress, report, keeper)
        finally:
            keeper.stop()

    def _run_held(
        self,
        collector: Collector,
        fetch: Callable[[Cursor | None], Iterable[Batch]] | None,
        progress: Callable[[int], None] | None,
        report: RunReport,
        keeper: store_leases.KeepAlive,
    ) -> RunReport:
        started = self.clock()
        with self.store.transaction() as conn:
            store_state.ensure_state(conn, collector.name, collector.type, started)
            run_id = store_state.start_run(conn, collector.name, started)
            state = store_state.load_state(conn, collector.name)
        cursor = state.cursor if state else None
        batches: Iterator[Batch] = iter(())
        prepared: Iterator[tuple[Batch, Prepared]] = iter(())
        health, retry_at = store_state.HEALTHY, None
        try:
            batches = iter((fetch or collector.fetch)(cursor))
            # Whether the last batch with items had new or changed records: a re-read of
            # what is stored needs no fingerprints for linking made ahead.
            linked = [True]
            prepared = prepared_batches(type(collector), batches, self.settings.linking.nik_hash_key,
                                        ahead=collector.ahead, linking=lambda: linked[0])
            for batch, made in prepared:
                before = report.new + report.updated
                self.save_batch(collector, batch, report, made)
                if collector.ahead:
                    _freeze_survivors()
                if batch.items:
                    linked[0] = report.new + report.updated > before
                if progress:
                    progress(len(batch.items))
                if self.stop.is_set():
                    report.outcome = "interrupted"
                    break
        except store_leases.LeaseLost as exc:
            report.outcome, report.error = "interrupted", str(exc)
        except AuthError as exc:
            report.outcome, report.error, health = "failed", str(exc), store_state.NEEDS_REAUTH
        except TransientError as exc:
            report.outcome, report.error, health = "failed", str(exc), store_state.FAILING
            retry_at = exc.retry_at
        except (CollectorError, StoreError) as exc:
            report.outcome, report.error, health = "failed", str(exc), store_state.FAILING
        except Exception as exc:  # a collector bug must not stop the scheduler or the others
            log.exception("collector %s failed unexpectedly", collector.name)
            report.outcome, health = "failed", store_state.FAILING
            report.error = f"unexpected {type(exc).__name__}: {mask_for_log(str(exc))}"
        finally:
            if collector.ahead:
                gc.unfreeze()
            keeper.stop()
            for ended in (prepared, batches):  # the worker preparing ahead, then the collector
                close = getattr(ended, "close", None)
                if close:
                    close()
            collector.close()
        finished = self.clock()
        try:
            with self.store.transaction() as conn:
                # A run that lost its lease leaves the collector's state to the new holder.
                held = store_leases.release(conn, collector.name, self.holder)
                if held and report.outcome == "failed":
                    failures = (state.failures if state else 0) + 1
                    # The source's own word on when to come back beats our guess.
                    retry_at = retry_at or finished + self.backoff(
                        failures, transient=health != store_state.NEEDS_REAUTH
                    )
                    store_state.mark_failure(
                        conn, collector.name, health, report.error or "", finished, retry_at
                    )
                elif held:
                    store_state.mark_success(conn, collector.name, finished)
                store_state.finish_run(
                    conn, run_id, report.outcome, report.counts(), report.error, finished
                )
        except StoreError as exc:
            report.outcome, report.error = "failed", str(exc)
        log.info(
            "run finished",
            extra={"event": "collector_run", "collector": collector.name,
                   "outcome": report.outcome, "duration_s": (finished - started).total_seconds(),
                   **report.counts()},
        )
        return report

    def backoff(self, failures: int, transient: bool = True) -> timedelta:
        """Exponential backoff, capped; credentials need a person, so wait the longest."""
        s = self.settings.scheduler
        if not transient:
            return timedelta(seconds=s.retry_max)
        return timedelta(seconds=min(s.retry_max, s.retry_initial * 2 ** (failures - 1)))

    def run_instance(self, cs: CollectorSettings, force: bool = False) -> RunReport | None:
        """Run a configured collector unless it is backing off (None then)."""
        if not force:
            with self.store.transaction() as conn:
                state = store_state.load_state(conn, cs.name)
            now = self.clock()
            # A wait decided by a clock since set back would last as long as the jump: one
            # run now, and its outcome is dated by the corrected clock.
            if (state and state.retry_at and state.retry_at > now
                    and not store_state.recorded_ahead(state.last_run_at, now)):
                return None
        # Other processes run it on their own schedules: not again within half an interval.
        return self.run(cs.build(), min_gap=0.0 if force else cs.interval / 2)

    # --- quarantine --------------------------------------------------------------------

    def replay_quarantine(self, entry_ids: Iterable[int] | None = None) -> list[tuple[int, str]]:
        """Retry parked items with today's code and settings; returns (entry, result) pairs."""
        with self.store.transaction() as conn:
            entries = store_quarantine.list_entries(conn)
        wanted = set(entry_ids) if entry_ids is not None else None
        results: list[tuple[int, str]] = []
        for entry in entries:
            if wanted is not None and entry["id"] not in wanted:
                continue
            results.append((entry["id"], self._replay_one(entry)))
        return results

    def _replay_one(self, entry: dict) -> str:
        collector = self._collector_for(entry["collector"])
        if collector is None:
            return f"skipped: no collector named {entry['collector']!r} is configured"
        with self.store.transaction() as conn:
            raw = store_quarantine.raw_item_of(conn, entry["id"])
        assert raw is not None
        item = RawItem(raw["source_id"], raw["payload"], raw["media_type"], raw["meta"], raw["error"])
        items = collector.expand(item)
        if items is None:
            items = [RawItem(item.source_id, item.payload, item.media_type, item.meta)]
        outcomes = [normalize_item(type(collector), i) for i in items]
        failed = [o for o in outcomes if o.record is None]
        if len(items) == 1 and failed:
            with self.store.transaction() as conn:
                store_quarantine.record_attempt(conn, entry["id"], failed[0].reason or "")
            return f"still failing: {failed[0].reason}"
        now = self.clock()
        with self.store.transaction() as conn:
            saved, _ = self._store_outcomes(conn, collector, outcomes, now)
            store_quarantine.resolve(conn, entry["id"], now)
        text = f"replayed: {len(saved.new)} new, {len(saved.updated)} updated"
        return text + (f", {len(failed)} quarantined again" if failed else "")

    def _collector_for(self, name: str) -> Collector | None:
        cs = self.settings.collectors.get(name)
        if cs is not None:
            return cs.build()
        # An instance with no settings section (the one 'import lapor' uses) can still be
        # rebuilt from its stored type when that type works with its default config.
        with self.store.transaction() as conn:
            state = store_state.load_state(conn, name)
        cls = collector_types().get(state.type) if state else None
        if cls is None:
            return None
        try:
            return cls(name, cls.Config())
        except TypeError:
            return None


# --- the scheduler -------------------------------------------------------------------------


def serve(pipeline: Pipeline, poll_seconds: float = 1.0) -> None:
    """Run every enabled collector at its interval until SIGTERM/SIGINT.

    One job per instance and ``max_instances=1``: a slow run is never overlapped by the next.
    A failing collector backs off on its own and never stops the others. A signal lets the
    batch in hand finish (its transaction commits), then the process exits.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone=pipeline.settings.calendar.timezone)
    enabled = [cs for cs in pipeline.settings.collectors.values() if cs.enabled]
    for cs in enabled:
        scheduler.add_job(
            _scheduled_run,
            "interval",
            seconds=cs.interval,
            args=(pipeline, cs),
            id=cs.name,
            name=cs.name,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(timezone.utc),
            misfire_grace_time=None,
        )

    def _stop(signum, _frame) -> None:  # type: ignore[no-untyped-def]
        log.info("signal %s received: finishing the batch in hand", signum)
        pipeline.stop.set()

    # Signals can only be caught in the main thread; elsewhere (tests) ``stop`` is set directly.
    in_main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)} if in_main else {}
    health_server = _start_health(pipeline, scheduler)
    scheduler.start()
    log.info("scheduler started with %d collectors", len(enabled))
    try:
        while not pipeline.stop.is_set():
            time.sleep(poll_seconds)
    finally:
        scheduler.shutdown(wait=True)
        if health_server is not None:
            health_server.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        log.info("scheduler stopped")


def _start_health(pipeline: Pipeline, scheduler):  # type: ignore[no-untyped-def]
    """``[health]``: the /healthz and /metrics thread, and the alert check as a job."""
    health = pipeline.settings.health
    server = None
    if health.listen is not None:
        from pengaduan.health.server import HealthServer

        server = HealthServer(pipeline.store, pipeline.settings, *health.listen)
        server.start()
    if health.alert_email_to:
        from pengaduan.health.alerts import AlertMonitor

        monitor = AlertMonitor(pipeline.store, pipeline.settings, utcnow)
        scheduler.add_job(
            _checked(monitor.check), "interval", seconds=health.check_every, id="health-alerts",
            name="health-alerts", max_instances=1, coalesce=True, misfire_grace_time=None,
        )
    return server


def _checked(check: Callable[[], object]) -> Callable[[], None]:
    def job() -> None:
        try:
            check()
        except Exception as exc:  # the alert check must never take the scheduler down
            log.warning("health alert check failed: %s", mask_for_log(str(exc))[:200])

    return job


def _scheduled_run(pipeline: Pipeline, cs: CollectorSettings) -> None:
    if pipeline.stop.is_set():
        return
    try:
        report = pipeline.run_instance(cs)
    except StoreError as exc:
        # The database is away (restarting, disk full): one sentence, and the next tick
        # tries again; a traceback from the scheduler would say nothing more.
        log.error("%s: %s", cs.name, exc)
        return
    if report is not None:
        level = {"failed": logging.ERROR, "skipped": logging.DEBUG}.get(report.outcome, logging.INFO)
        log.log(level, "%s", report.summary())
