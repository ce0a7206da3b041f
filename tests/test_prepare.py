"""Batches prepared ahead in a worker process (prepare.py): the same outcomes and fingerprints
as prepared in process, in order, and nothing lost or left behind when the worker, the
collector or the run ends early (real spawned processes)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import SAMPLES  # noqa: F401,I001  (puts samples/ on sys.path)
from generate_lapor import fake_rows, write_export
from pengaduan import prepare as prepare_module
from pengaduan.collectors.base import Batch, RawItem
from pengaduan.collectors.lapor_export import LaporExportCollector, LaporExportConfig
from pengaduan.errors import TransientError
from pengaduan.prepare import Prepared, prepare, prepared_batches
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, link_suggestions, records

KEY = b"nik-key"


def batches(tmp_path: Path, rows: int, size: int) -> list[Batch]:
    write_export(tmp_path / "export.csv", fake_rows(rows), "csv")
    collector = LaporExportCollector("lapor", LaporExportConfig(batch_size=size))
    return list(collector.fetch_files([tmp_path / "export.csv"], None))


def workers() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "pengaduan-prepare"]


def same(got: Prepared, want: Prepared) -> None:
    assert [(o.item.source_id, o.record, o.reason) for o in got.outcomes] == [
        (o.item.source_id, o.record, o.reason) for o in want.outcomes]
    assert got.fingerprints.keys() == want.fingerprints.keys()
    assert bool(got.fingerprints) == bool(got.outcomes)  # every LAPOR row is a complaint
    for digest, (channel, identity, signature, places) in got.fingerprints.items():
        theirs = want.fingerprints[digest]
        assert (channel, identity, places) == (theirs[0], theirs[1], theirs[3])
        assert (signature.normalized, signature.terms, signature.keys) == (
            theirs[2].normalized, theirs[2].terms, theirs[2].keys)
        assert signature.codes.tolist() == theirs[2].codes.tolist()


def test_ahead_a_worker_prepares_what_the_process_would_in_order(tmp_path: Path) -> None:
    made = batches(tmp_path, 1000, 200)
    got = []
    for batch, prepared in prepared_batches(LaporExportCollector, made, KEY, ahead=True):
        got.append((batch, prepared))
        if len(got) == 3:
            assert len(workers()) == 1  # it is the worker that prepares them
    assert [b for b, _ in got] == made
    for batch, prepared in got:
        same(prepared, prepare(LaporExportCollector, batch.items, KEY))
    assert not workers()


def test_no_fingerprints_while_nothing_is_linked(tmp_path: Path) -> None:
    """An overlapping export re-read: its rows are stored already, nothing will be linked."""
    made = batches(tmp_path, 800, 200)
    linked = [True]
    got = []
    for batch, prepared in prepared_batches(LaporExportCollector, made, KEY, ahead=True,
                                            linking=lambda: linked[0]):
        got.append(prepared)
        linked[0] = False  # as if every batch so far were unchanged
    assert got[0].fingerprints  # before anything was stored
    assert all(not p.fingerprints for p in got[1:]) and all(p.outcomes for p in got[1:-1])


def test_small_batches_or_a_collector_that_may_wait_get_no_worker(tmp_path: Path) -> None:
    for made, ahead in ((batches(tmp_path, 300, 100), True), (batches(tmp_path, 600, 300), False)):
        for batch, prepared in prepared_batches(LaporExportCollector, made, KEY, ahead=ahead):
            assert not workers()
            same(prepared, prepare(LaporExportCollector, batch.items, KEY))


def test_a_worker_that_dies_costs_only_speed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    made = batches(tmp_path, 1200, 200)
    got = []
    with caplog.at_level(logging.WARNING, "pengaduan.pipeline"):
        for batch, prepared in prepared_batches(LaporExportCollector, made, KEY, ahead=True):
            got.append((batch, prepared))
            if len(got) == 2:
                (worker,) = workers()
                os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]
            elif len(got) > 3:
                assert not workers()  # not started again
    assert [b for b, _ in got] == made
    for batch, prepared in got:
        same(prepared, prepare(LaporExportCollector, batch.items, KEY))
    assert "preparing lapor_export in process from now on: the worker ended" in caplog.text
    assert not workers()


def test_no_worker_to_start_means_prepared_in_process_and_asked_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    tries = []

    def refuse(self: object) -> None:
        tries.append(self)
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("spawn").Process, "start", refuse)
    made = batches(tmp_path, 1000, 200)
    with caplog.at_level(logging.WARNING, "pengaduan.pipeline"):
        got = list(prepared_batches(LaporExportCollector, made, KEY, ahead=True))
    assert [b for b, _ in got] == made and len(tries) == 1
    for batch, prepared in got:
        same(prepared, prepare(LaporExportCollector, batch.items, KEY))
    assert "preparing lapor_export in process: no worker (" in caplog.text


def test_a_batch_that_cannot_be_sent_is_prepared_in_process(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    made = batches(tmp_path, 800, 200)
    odd = made[2].items[0]
    # A payload pickle cannot carry: the worker is given up, not the batch.
    made[2].items[0] = RawItem(odd.source_id, odd.payload, odd.media_type, {"f": lambda: 0})
    with caplog.at_level(logging.WARNING, "pengaduan.pipeline"):
        got = list(prepared_batches(LaporExportCollector, made, KEY, ahead=True))
    assert [b for b, _ in got] == made
    assert all(len(p.outcomes) == len(b.items) for b, p in got)
    assert "a batch could not be sent" in caplog.text
    assert not workers()


def test_a_collector_failing_after_a_batch_read_ahead_has_it_stored_first(tmp_path: Path) -> None:
    made = batches(tmp_path, 600, 200)

    def failing() -> Iterator[Batch]:
        yield from made
        raise TransientError("the export folder went away")

    got = []
    with pytest.raises(TransientError):
        for batch, prepared in prepared_batches(LaporExportCollector, failing(), KEY, ahead=True):
            got.append(batch)
    assert got == made
    assert not workers()


def test_a_run_ended_early_leaves_no_worker(tmp_path: Path) -> None:
    made = batches(tmp_path, 1000, 200)
    prepared = prepared_batches(LaporExportCollector, made, KEY, ahead=True)
    next(prepared), next(prepared)
    assert len(workers()) == 1
    prepared.close()
    assert not workers()


def test_an_import_prepared_ahead_links_as_one_prepared_in_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole pipeline: the same records, cases, links and suggestions either way."""
    from test_lapor_collector import lapor, run

    write_export(tmp_path / "export.csv", fake_rows(1500), "csv")
    started = []
    start = prepare_module._Worker.start
    monkeypatch.setattr(prepare_module._Worker, "start",
                        staticmethod(lambda cls: started.append(cls) or start(cls)))
    found = []
    for ahead in (True, False):
        monkeypatch.setattr(LaporExportCollector, "ahead", ahead)
        store = Store(f"sqlite:///{tmp_path}/{ahead}.db")
        store.ensure_schema()
        try:
            report = run(store, tmp_path, lapor(tmp_path, batch_size=250))
            assert report.new == 1500, report.summary()
            with store.engine.connect() as conn:
                found.append((
                    conn.execute(select(func.count()).select_from(records)).scalar(),
                    conn.execute(select(case_links.c.record_id, case_links.c.case_id,
                                        case_links.c.method, case_links.c.score)
                                 .order_by(case_links.c.record_id)).all(),
                    conn.execute(select(link_suggestions.c.record_id, link_suggestions.c.case_id,
                                        link_suggestions.c.score)
                                 .order_by(link_suggestions.c.record_id)).all(),
                ))
        finally:
            store.dispose()
    assert found[0] == found[1] and found[0][2], "no suggestion: the linking compared nothing"
    assert started == [LaporExportCollector]  # once, with ahead
