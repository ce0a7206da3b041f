"""The store on SQLite and PostgreSQL: upserts, revisions, quarantine, cases, schema."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import ListCollector, ListConfig, make_settings
from pengaduan.errors import StoreError
from pengaduan.pipeline import Pipeline
from pengaduan.store import cases as store_cases
from pengaduan.store import quarantine as store_quarantine
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, cases, raw_items, record_revisions, records

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 WITA


def count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def pipeline_for(store: Store, tmp_path: Path, clock=lambda: NOW) -> Pipeline:  # type: ignore[no-untyped-def]
    return Pipeline(store, make_settings(store.url, tmp_path), clock=clock)


def collector(items: list[dict], name: str = "src", **kw) -> ListCollector:  # type: ignore[no-untyped-def]
    return ListCollector(name, ListConfig(items=items, **kw))


def test_empty_database_is_created_at_the_head_revision(store: Store) -> None:
    assert store.schema_revision() == store.head_revision()


def test_new_items_become_records_and_cases_with_a_working_day_deadline(
    store: Store, tmp_path: Path
) -> None:
    items = [{"id": n, "body": f"PKH saya belum cair {n}", "at": "2026-11-02T02:00:00+00:00"} for n in range(5)]
    report = pipeline_for(store, tmp_path).run(collector(items))
    assert (report.fetched, report.new, report.cases_opened, report.outcome) == (5, 5, 5, "ok")
    with store.transaction() as conn:
        queue = store_cases.list_cases(conn)
    assert len(queue) == 5
    # Monday 10:00 WITA received -> Tuesday 10:00 WITA due.
    assert {c["due_at"] for c in queue} == {datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)}
    assert all(c["due_at"].tzinfo is not None for c in queue)
    assert {c["status"] for c in queue} == {"diterima"}


def test_refetching_the_same_items_is_a_no_op(store: Store, tmp_path: Path) -> None:
    items = [{"id": n, "body": f"keluhan {n}"} for n in range(4)]
    pipeline = pipeline_for(store, tmp_path)
    pipeline.run(collector(items))
    with store.transaction() as conn:
        store_state.save_cursor(conn, "src", {"offset": 0}, NOW)  # forget progress: fetch all again
    report = pipeline.run(collector(items))
    assert (report.fetched, report.new, report.unchanged) == (4, 0, 4)
    assert count(store, raw_items) == 4
    assert count(store, records) == 4
    assert count(store, cases) == 4


def test_a_changed_item_updates_its_record_and_keeps_the_history(store: Store, tmp_path: Path) -> None:
    pipeline = pipeline_for(store, tmp_path)
    pipeline.run(collector([{"id": 7, "body": "bansos blm masuk", "status": "Belum Terverifikasi"}]))
    with store.transaction() as conn:
        store_state.save_cursor(conn, "src", {"offset": 0}, NOW)
    report = pipeline.run(collector([{"id": 7, "body": "bansos blm masuk", "status": "Ditindaklanjuti oleh Instansi"}]))
    assert (report.new, report.updated) == (0, 1)
    with store.transaction() as conn:
        record = conn.execute(select(records)).mappings().one()
        history = conn.execute(select(record_revisions)).mappings().all()
    assert record["source_status"] == "Ditindaklanjuti oleh Instansi"
    assert record["revision"] == 2
    assert [h["content"]["source_status"] for h in history] == ["Belum Terverifikasi"]
    assert count(store, cases) == 1
    assert count(store, raw_items) == 2


def test_a_restricted_record_stays_restricted_when_a_later_version_drops_the_flag(
    store: Store, tmp_path: Path
) -> None:
    pipeline = pipeline_for(store, tmp_path)
    pipeline.run(collector([{"id": 1, "body": "kasus KDRT", "name": "Ni Luh Sekar", "confidential": True}]))
    with store.transaction() as conn:
        store_state.save_cursor(conn, "src", None, NOW)
    pipeline.run(collector([{"id": 1, "body": "kasus KDRT (diperbarui)", "name": "Ni Luh Sekar"}]))
    with store.transaction() as conn:
        record = conn.execute(select(records)).mappings().one()
        case = conn.execute(select(cases)).mappings().one()
    assert record["confidential"] is True and record["content"]["confidential"] is True
    assert case["confidential"] is True


def test_a_record_that_becomes_confidential_restricts_its_case(store: Store, tmp_path: Path) -> None:
    pipeline = pipeline_for(store, tmp_path)
    pipeline.run(collector([{"id": 1, "body": "Saya Made Darma minta tolong", "name": "Made Darma"}]))
    with store.transaction() as conn:
        store_state.save_cursor(conn, "src", None, NOW)
    pipeline.run(collector([{"id": 1, "body": "Saya Made Darma minta tolong", "name": "Made Darma", "anonymous": True, "confidential": True}]))
    with store.transaction() as conn:
        case = conn.execute(select(cases)).mappings().one()
    assert case["confidential"] is True
    assert "Darma" not in case["title"]


def test_unnormalisable_items_are_quarantined_and_the_rest_go_in(store: Store, tmp_path: Path) -> None:
    items = [{"id": 1, "body": "ok"}, {"id": 2, "body": ""}, {"id": 3, "body": "ok juga"}]
    report = pipeline_for(store, tmp_path).run(collector(items))
    assert (report.new, report.quarantined) == (2, 1)
    with store.transaction() as conn:
        entries = store_quarantine.list_entries(conn)
    assert [(e["collector"], e["channel"], e["source_id"], e["reason"]) for e in entries] == [
        ("src", "test", "2", "item 2 has no text")
    ]
    assert count(store, raw_items) == 3  # stored raw before anything could reject it


def test_a_follow_up_joins_the_case_of_the_item_it_answers(store: Store, tmp_path: Path) -> None:
    items = [
        {"id": "a", "body": "PKH belum cair"},
        {"id": "b", "body": "sudah 2 minggu blm ada kabar", "kind": "follow_up", "in_reply_to": "a"},
        {"id": "c", "body": "balasan ke pesan yang tidak kami simpan", "kind": "follow_up", "in_reply_to": "zz"},
        {"id": "d", "body": "terima kasih", "kind": "not_complaint"},
    ]
    report = pipeline_for(store, tmp_path).run(collector(items))
    assert report.cases_opened == 2  # a, and c whose thread is unknown; never d
    with store.transaction() as conn:
        links = {
            r.source_id: (r.case_id, r.method)
            for r in conn.execute(
                select(records.c.source_id, case_links.c.case_id, case_links.c.method).join(
                    case_links, case_links.c.record_id == records.c.id
                )
            )
        }
    assert links["b"] == (links["a"][0], "follow_up")
    assert links["c"][1] == "new_case" and links["c"][0] != links["a"][0]
    assert "d" not in links


def test_an_office_answer_is_recorded_on_the_case_it_answers(store: Store, tmp_path: Path) -> None:
    items = [
        {"id": "c1", "body": "BPNT saya belum masuk"},
        {"id": "a1", "body": "Mohon kirim NIK via DM, kami cek", "kind": "not_complaint",
         "kind_reason": "office_answer", "in_reply_to": "c1"},
        {"id": "a2", "body": "Jadwal pelayanan Senin-Jumat", "kind": "not_complaint",
         "kind_reason": "office_answer"},
    ]
    report = pipeline_for(store, tmp_path).run(collector(items, batch_size=3))
    assert report.cases_opened == 1
    with store.transaction() as conn:
        links = {
            r.source_id: (r.case_id, r.method)
            for r in conn.execute(
                select(records.c.source_id, case_links.c.case_id, case_links.c.method).join(
                    case_links, case_links.c.record_id == records.c.id
                )
            )
        }
        from pengaduan.store.audit import audit_of_case

        audit = audit_of_case(conn, links["c1"][0])
    assert links["a1"] == (links["c1"][0], "office_answer")
    assert "a2" not in links
    assert [(a["action"], a["detail"]) for a in audit] == [("answered", {"channel": "test", "in_reply_to": "c1"})]


def test_collector_state_records_success_failure_and_backoff(store: Store, tmp_path: Path) -> None:
    from pengaduan.errors import AuthError, TransientError

    pipeline = pipeline_for(store, tmp_path)
    report = pipeline.run(collector([], fail_with=TransientError("server said 503")))
    assert report.outcome == "failed" and report.error == "server said 503"
    with store.transaction() as conn:
        state = store_state.load_state(conn, "src")
    assert (state.health, state.failures, state.last_error) == ("failing", 1, "server said 503")
    assert state.retry_at == NOW + timedelta(seconds=60)
    pipeline.run(collector([], fail_with=TransientError("again")))
    with store.transaction() as conn:
        state = store_state.load_state(conn, "src")
    assert (state.failures, state.retry_at) == (2, NOW + timedelta(seconds=120))

    later = NOW + timedelta(hours=7)
    pipeline.run(collector([], name="quota", fail_with=TransientError("quota used up", retry_at=later)))
    pipeline.run(collector([], name="other", fail_with=AuthError("token expired: renew it")))
    pipeline.run(collector([{"id": 1, "body": "x"}], name="good"))
    with store.transaction() as conn:
        states = {s.collector: s for s in store_state.all_states(conn)}
        runs = store_state.last_runs(conn)
    assert states["other"].health == "needs_reauth"
    assert states["quota"].retry_at == later  # the source said when: no guessing
    assert states["good"].health == "ok" and states["good"].last_success_at == NOW
    assert runs["good"]["new"] == 1 and runs["src"]["outcome"] == "failed"


def test_a_collector_bug_is_contained(store: Store, tmp_path: Path) -> None:
    report = pipeline_for(store, tmp_path).run(collector([], fail_with=ZeroDivisionError("oops")))
    assert report.outcome == "failed"
    assert report.error == "unexpected ZeroDivisionError: oops"


def test_an_unreachable_postgresql_is_one_clear_error() -> None:
    store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError) as caught:
        store.ensure_schema()
    message = str(caught.value)
    assert message.startswith("cannot reach the database at postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert message.endswith("check [store] url and that the server is running")
