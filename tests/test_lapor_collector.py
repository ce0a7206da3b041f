"""The lapor_export collector end to end: watch folder, overlapping exports, bad input."""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import time
import weakref
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import SAMPLES, make_settings  # noqa: I001  (puts samples/ on sys.path)
from generate_lapor import fake_rows, write_export
from pengaduan.collectors.base import Collector
from pengaduan.collectors.lapor_export import LaporExportCollector, LaporExportConfig
from pengaduan.collectors.testing import CollectorContract, items_of, run_all
from pengaduan import pipeline as pipeline_module
from pengaduan.pipeline import Pipeline
from pengaduan.store import quarantine as store_quarantine
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, cases, raw_items, record_revisions, records

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


def lapor(watch: Path | None, **kw) -> LaporExportCollector:  # type: ignore[no-untyped-def]
    return LaporExportCollector("lapor", LaporExportConfig(watch_dir=watch, settle_seconds=0, **kw))


class TestLaporExportContract(CollectorContract):
    @pytest.fixture
    def populated(self, tmp_path: Path) -> Collector:
        write_export(tmp_path / "a.csv", fake_rows(7), "csv")
        write_export(tmp_path / "b.xlsx", fake_rows(5, start_id=9_400_000), "xlsx")
        return lapor(tmp_path, batch_size=3)

    @pytest.fixture
    def empty(self, tmp_path: Path) -> Collector:
        return lapor(tmp_path)


def counts(store: Store) -> dict[str, int]:
    with store.transaction() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (raw_items, records, cases, record_revisions)
        }


def quarantined(store: Store) -> list[tuple[str, str]]:
    with store.transaction() as conn:
        return [(e["source_id"], e["reason"]) for e in store_quarantine.list_entries(conn)]


def run(store: Store, tmp_path: Path, collector: LaporExportCollector, files=None):  # type: ignore[no-untyped-def]
    pipeline = Pipeline(store, make_settings(store.url, tmp_path), clock=lambda: NOW)
    fetch = (lambda cursor: collector.fetch_files(files, cursor)) if files else None
    return pipeline.run(collector, fetch=fetch)


def test_overlapping_exports_older_first_give_one_record_per_report_with_history(
    store: Store, tmp_path: Path
) -> None:
    older, newer = SAMPLES / "lapor/export-2026-10.xlsx", SAMPLES / "lapor/export-2026-11.csv"
    first = run(store, tmp_path, lapor(None), [older])
    second = run(store, tmp_path, lapor(None), [newer])
    with store.transaction() as conn:
        by_id = {r.source_id: r for r in conn.execute(select(records))}
        history = conn.execute(select(record_revisions)).mappings().all()
    assert first.new == 25 and second.new == 12  # 8 of the 20 November rows were seen before
    assert second.updated + second.unchanged == 8
    assert len(by_id) == 37 and counts(store)["cases"] == 37
    assert second.updated == len(history) > 0
    for old in history:
        current = next(r for r in by_id.values() if r.id == old["record_id"])
        assert old["content"]["source_status"] != current.source_status or old["content"] != current.content


def test_a_batch_is_stored_with_the_cyclic_gc_paused_and_it_comes_back_on(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paused while a batch is stored (~8% of a large import's time went to collections),
    on again after it, whether the batch committed or failed."""
    seen: list[bool] = []
    real = pipeline_module.save_outcomes

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        if len(seen) == 2:
            raise RuntimeError("the store broke mid-batch")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "save_outcomes", watched)
    assert gc.isenabled()
    assert run(store, tmp_path, lapor(None), [SAMPLES / "lapor/export-2026-10.xlsx"]).new == 25
    failed = run(store, tmp_path, lapor(None), [SAMPLES / "lapor/export-2026-11.csv"])
    assert failed.error is not None and failed.new == 0
    assert seen == [False, False] and gc.isenabled()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_long_run_freezes_what_outlives_each_batch_but_not_its_cyclic_garbage(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between a file's batches, what survived is out of the collector's sight (full
    collections walked linking's cache again and again); the batch's cyclic garbage is freed
    first, and everything is handed back when the run ends."""
    seen: list[tuple[int, bool]] = []
    garbage: list[weakref.ref[_Cycle]] = []
    real = pipeline_module.save_outcomes

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((gc.get_freeze_count(), any(ref() is not None for ref in garbage)))
        garbage.append(weakref.ref(_Cycle()))  # unreachable at once, freed only by the GC
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "save_outcomes", watched)
    report = run(store, tmp_path, lapor(None, batch_size=10), [SAMPLES / "lapor/export-2026-10.xlsx"])
    assert report.new == 25 and len(seen) == 3
    assert seen[0][0] == 0 and all(frozen > 0 for frozen, _ in seen[1:])
    assert not any(alive for _, alive in seen)
    assert gc.get_freeze_count() == 0


def test_the_same_file_again_adds_nothing(store: Store, tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "lapor/export-2026-10.xlsx", tmp_path / "oct.xlsx")
    run(store, tmp_path, lapor(tmp_path))
    before = counts(store)
    shutil.copy(tmp_path / "oct.xlsx", tmp_path / "oct (1).xlsx")  # dropped again under a new name
    report = run(store, tmp_path, lapor(tmp_path))
    assert report.fetched == 0 and counts(store) == before


def test_a_changed_file_is_read_again_and_upserted(store: Store, tmp_path: Path) -> None:
    rows = fake_rows(6)
    write_export(tmp_path / "x.csv", rows, "csv")
    run(store, tmp_path, lapor(tmp_path))
    rows[2] = {**rows[2], "Status Laporan": "Ditutup oleh Admin"}
    write_export(tmp_path / "x.csv", rows, "csv")
    report = run(store, tmp_path, lapor(tmp_path))
    assert (report.fetched, report.new, report.updated, report.unchanged) == (6, 0, 1, 5)


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("corrupt.xlsx", b"PK\x03\x04 this is not really a workbook", "corrupt.xlsx"),
        ("empty.csv", b"", "empty.csv is empty"),
        ("random.xlsx", os.urandom(2048), "random.xlsx"),
    ],
)
def test_a_broken_file_is_quarantined_whole_and_other_files_go_in(
    store: Store, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(content)
    write_export(tmp_path / "good.csv", fake_rows(4), "csv")
    report = run(store, tmp_path, lapor(tmp_path))
    assert report.outcome == "ok" and report.new == 4
    [(source_id, why)] = quarantined(store)
    assert source_id.startswith("file:") and reason in why
    assert "\n" not in why


def test_a_workbook_that_is_not_a_lapor_export(store: Store, tmp_path: Path) -> None:
    write_export(tmp_path / "budget.xlsx", [{"Kegiatan": "Rapat", "Anggaran": "1000000"}], "xlsx", title_rows=[])
    run(store, tmp_path, lapor(tmp_path))
    [(_, why)] = quarantined(store)
    assert why == (
        "budget.xlsx is not a LAPOR! export: no header row with a 'Tracking ID' cell in its "
        "first 50 rows"
    )


def test_header_row_missing_then_fixed_by_a_column_map_and_replayed(
    store: Store, tmp_path: Path
) -> None:
    rows = [{("No Laporan" if k == "Tracking ID" else k): v for k, v in r.items()} for r in fake_rows(3)]
    write_export(tmp_path / "renamed.csv", rows, "csv")
    run(store, tmp_path, lapor(tmp_path))
    assert len(quarantined(store)) == 1 and counts(store)["records"] == 0
    settings = make_settings(
        store.url, tmp_path,
        collectors={"lapor": {"type": "lapor_export", "watch_dir": str(tmp_path),
                              "column_map": {"No Laporan": "tracking_id"}}},
    )
    results = Pipeline(store, settings, clock=lambda: NOW).replay_quarantine()
    assert results == [(1, "replayed: 3 new, 0 updated")]
    assert quarantined(store) == [] and counts(store)["cases"] == 3


def test_bad_rows_are_parked_with_one_sentence_and_the_rest_go_in(store: Store, tmp_path: Path) -> None:
    rows = fake_rows(6)
    rows[1] = {**rows[1], "Tracking ID": ""}
    rows[2] = {**rows[2], "Tracking ID": "ABC-12"}
    rows[3] = {**rows[3], "Tanggal Laporan Masuk": "kemarin sore"}
    rows[4] = {**rows[4], "Tracking ID": rows[0]["Tracking ID"], "Judul Laporan": "lain"}
    rows.append(dict(rows[5]))  # the very same row twice: kept once, nothing parked
    write_export(tmp_path / "mixed.csv", rows, "csv")
    report = run(store, tmp_path, lapor(tmp_path))
    assert report.new == 2 and report.quarantined == 4
    reasons = dict(quarantined(store))
    tid = rows[0]["Tracking ID"]
    file_key = digest(tmp_path / "mixed.csv")
    # Row numbers are the file's own lines: three title rows, a blank, the header on line 5.
    assert reasons[f"file:{file_key}:row:7"] == (
        "row 7 of mixed.csv has no Tracking ID; fix the export and drop it in again"
    )
    assert reasons[f"file:{file_key}:row:8"] == (
        "row 8 of mixed.csv has Tracking ID 'ABC-12', which is not a number; "
        "fix the export and drop it in again"
    )
    assert "'kemarin sore'" in reasons[str(rows[3]["Tracking ID"])]
    assert "is not a date" in reasons[str(rows[3]["Tracking ID"])]
    assert reasons[f"{tid}:dup:{file_key}:row:10"].startswith(
        f"Tracking ID {tid} appears twice in mixed.csv (rows 6 and 10) with different content"
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def test_csv_in_windows_1252_is_read(store: Store, tmp_path: Path) -> None:
    rows = fake_rows(2)
    rows[0] = {**rows[0], "Nama Pelapor": "Renée Café", "Judul Laporan": "Bantuan “PKH” belum cair"}
    text = ";".join(rows[0]) + "\r\n" + "\r\n".join(";".join(map(str, r.values())) for r in rows)
    (tmp_path / "legacy.csv").write_bytes(text.encode("cp1252"))
    report = run(store, tmp_path, lapor(tmp_path))
    assert report.new == 2
    with store.transaction() as conn:
        names = {r.content["author"]["name"] for r in conn.execute(select(records))}
    assert "Renée Café" in names


def test_a_file_still_being_written_waits_for_the_next_poll(store: Store, tmp_path: Path) -> None:
    write_export(tmp_path / "copying.xlsx", fake_rows(3), "xlsx")
    (tmp_path / "big.xlsx.part").write_bytes(b"PK\x03\x04")
    collector = LaporExportCollector("lapor", LaporExportConfig(watch_dir=tmp_path, settle_seconds=3600))
    report = run(store, tmp_path, collector)
    assert report.fetched == 0 and report.outcome == "ok"
    assert report.notes and "copying.xlsx was modified" in report.notes[0]
    old = time.time() - 7200
    os.utime(tmp_path / "copying.xlsx", (old, old))
    report = run(store, tmp_path, collector)
    assert report.new == 3 and quarantined(store) == []  # the .part file is never touched


def test_a_missing_or_unreadable_watch_folder_is_a_clear_failure(store: Store, tmp_path: Path) -> None:
    report = run(store, tmp_path, lapor(tmp_path / "nope"))
    assert report.outcome == "failed"
    assert report.error == (
        f"collector lapor: watch folder {tmp_path / 'nope'} does not exist; create it or fix "
        "watch_dir in [collectors.lapor]"
    )
    with store.transaction() as conn:
        assert store_state.load_state(conn, "lapor").health == "failing"


def test_a_watch_dir_that_is_a_file_or_unreadable(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "afile").write_text("x")
    report = run(store, tmp_path, lapor(tmp_path / "afile"))
    assert report.error == (
        f"collector lapor: watch_dir {tmp_path / 'afile'} is a file, not a folder; fix watch_dir "
        "in [collectors.lapor]"
    )

    def refuse(path):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(path))

    # Root reads any folder whatever its mode, so the refusal is simulated at the system call.
    monkeypatch.setattr("pengaduan.collectors.lapor_export.os.scandir", refuse)
    report = run(store, tmp_path, lapor(tmp_path))
    assert report.outcome == "failed"
    assert report.error == (
        f"collector lapor: watch folder {tmp_path} cannot be read (Permission denied); "
        "check its permissions"
    )


def test_patterns_match_whatever_the_case_of_the_extension(store: Store, tmp_path: Path) -> None:
    write_export(tmp_path / "EXPORT.XLSX", fake_rows(2), "xlsx")
    (tmp_path / "notes.txt").write_text("not an export")
    report = run(store, tmp_path, lapor(tmp_path))
    assert (report.new, report.quarantined) == (2, 0)


def test_twenty_thousand_rows_in_one_file(tmp_path: Path) -> None:
    # On SQLite only: the PostgreSQL path runs the same code through every other test here,
    # and this one is the slowest of the suite. 20 000 rows, ten batches, are what a large file
    # asks of the reader and the store; 50 000 rows spent eight minutes of CI linking reports
    # crowded into three months (bench/lapor_import.py measures 100 000 rows' speed).
    store = Store(f"sqlite:///{tmp_path}/big.db")
    store.ensure_schema()
    write_export(tmp_path / "big.csv", fake_rows(20_000), "csv")
    report = run(store, tmp_path, lapor(tmp_path, batch_size=2000))
    assert (report.new, report.quarantined, report.outcome) == (20_000, 0, "ok")
    with store.transaction() as conn:
        linked = conn.execute(select(func.count()).select_from(case_links)).scalar_one()
    assert linked == 20_000  # every report is in the queue (some may share a duplicate's case)


def test_an_interrupted_import_resumes_at_the_next_row(tmp_path: Path) -> None:
    write_export(tmp_path / "x.csv", fake_rows(10), "csv")
    batches = run_all(lapor(tmp_path, batch_size=4))
    assert [len(b.items) for b in batches] == [4, 4, 2]
    assert batches[0].cursor["partial"]["next_row"] > 0
    resumed = items_of(run_all(lapor(tmp_path, batch_size=4), batches[0].cursor))
    assert [i.source_id for i in resumed] == [i.source_id for b in batches[1:] for i in b.items]
