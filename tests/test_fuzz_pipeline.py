"""Fuzzing end to end: generated items of every channel through ``Pipeline.run`` into a store.

Mail and LAPOR: a collector serves generated raw mails, or the items the real LAPOR collector
reads from a generated CSV export, with the real channel's normaliser. Facebook, Instagram,
YouTube: the real collectors read generated API answers (tests/test_fuzz_social.py).
Property: the run succeeds (or, for an API, stops with a CollectorError's sentence), every
item is stored raw and ends as a record or a quarantine entry, none parked because a
normaliser crashed, and the counts of the run report add up. On SQLite and PostgreSQL, whose
column types and text rules differ.
Run size: tests/fuzzing.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from fuzzing import RUNS, fuzz_settings, report
from helpers import make_settings
from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem
from pengaduan.collectors.imap import ImapCollector
from pengaduan.collectors.lapor_export import ROW_MEDIA_TYPE, LaporExportCollector, LaporExportConfig
from pengaduan.collectors.lapor_reader import ExportRow, row_payload
from pengaduan.pipeline import Pipeline
from pengaduan.store.db import Store
from pengaduan.store.schema import quarantine, raw_items, records
from test_fuzz_lapor import csv_files
from test_fuzz_mail import raw_mails
from test_fuzz_social import api_runs, api_serving, build

SERVED = {"email": ImapCollector, "lapor": LaporExportCollector}
NAMES = itertools.count()


def served(real: type[Collector]) -> type[Collector]:
    """A collector of ``real``'s channel, key space and normaliser that serves given items."""

    class Served(Collector):
        type = f"fuzz_{real.type}"
        channel = real.channel
        Config = list
        key_space = real.key_space
        normalize = staticmethod(real.normalize)
        attachment_contents = staticmethod(real.attachment_contents)

        def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
            for start in range(0, len(self.config), 3):
                yield Batch(self.config[start : start + 3], {"next": start + 3})

    return Served


def mails() -> st.SearchStrategy[list[RawItem]]:
    from pengaduan.normalizer.email import message_key

    return st.lists(raw_mails().map(lambda raw: RawItem(message_key(raw), raw, "message/rfc822")),
                    min_size=1, max_size=4)


def lapor_items(tmp: Path) -> st.SearchStrategy[list[RawItem]]:
    """The items the real collector reads from a generated CSV export."""

    def read(data: bytes) -> list[RawItem]:
        path = tmp / "export.csv"
        path.write_bytes(data)
        collector = LaporExportCollector("lapor", LaporExportConfig(watch_dir=tmp))
        return [item for batch in collector.fetch_files([path], None) for item in batch.items]

    return csv_files().map(read)


def runs(tmp: Path) -> st.SearchStrategy[tuple[str, object]]:
    """(channel, items to serve) for mail and LAPOR; (channel, API answers) for the others."""
    return st.one_of(
        st.tuples(st.just("email"), mails()),
        st.tuples(st.just("lapor"), lapor_items(tmp)),
        api_runs(),
    )


def check_run(store: Store, pipeline: Pipeline, channel: str, drawn: object) -> None:
    name = f"fuzz{next(NAMES)}"
    if channel in SERVED:
        collector = served(SERVED[channel])(name, drawn)
        report = pipeline.run(collector)
        assert report.outcome == "ok", report.error
        assert report.fetched == len(drawn)  # type: ignore[arg-type]
    else:  # the real collector reading the generated API answers
        collector = build(channel, name)
        with api_serving(channel, drawn):  # type: ignore[arg-type]
            report = pipeline.run(collector)
        # The API may be refused (a CollectorError's sentence); a crash would say "unexpected".
        assert report.outcome == "ok" or not report.error.startswith("unexpected"), report.error
    assert report.new + report.updated + report.unchanged + report.quarantined == report.fetched, report
    key_space = collector.key_space or name
    with store.transaction() as conn:
        stored = conn.execute(select(raw_items.c.source_id).where(raw_items.c.collector == name)).scalars().all()
        recorded = set(conn.execute(
            select(records.c.source_id).where(records.c.collector == key_space)).scalars())
        parked = dict(conn.execute(
            select(quarantine.c.source_id, quarantine.c.reason).where(quarantine.c.collector == name)).all())
    if channel in SERVED:  # every version stored raw once
        assert len(stored) == len({(i.source_id, i.payload) for i in drawn})  # type: ignore[attr-defined]
    # Every item stored is a record or a quarantine entry, none parked by a normaliser crash.
    assert set(stored) <= recorded | set(parked), set(stored) - recorded - set(parked)
    assert not [r for r in parked.values() if "normaliser failed" in r], parked


long_status = RawItem("1234567", row_payload(ExportRow(2, {
    "tracking_id": "1234567", "tanggal_laporan_masuk": "3 Jan 2026", "isi_laporan_akhir": "PKH belum cair",
    "status_laporan": "Proses " * 50})), ROW_MEDIA_TYPE)


def test_generated_items_end_as_records_or_quarantine(store_url: str, tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    store = Store(store_url)
    store.ensure_schema()
    pipeline = Pipeline(store, make_settings(store_url, tmp_path))
    name = f"pipeline on {store_url.split(':', 1)[0].split('+', 1)[0]}"

    @example(run=("lapor", [long_status]))
    @fuzz_settings(ci_examples=40, nightly_examples=1_000)
    @given(run=runs(tmp_path))
    def fuzz_pipeline(run: tuple[str, object]) -> None:
        RUNS[name] += 1
        check_run(store, pipeline, *run)

    try:
        fuzz_pipeline()
    finally:
        store.dispose()
    report(figures, name)
