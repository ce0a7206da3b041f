"""Staff control over duplicate links (issue 5): ``queue suggestions / confirm / reject / link /
unlink / merge / split`` through the real command line, on SQLite and PostgreSQL. Ingestion
goes through ``Pipeline.run``; every action is checked in the store and in the audit log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from helpers import ListCollector, ListConfig, make_settings
from pengaduan.cases import regroup
from pengaduan.cases.status import case_number
from pengaduan.cli.main import main
from pengaduan.normalizer.record import Author, ComplaintRecord
from pengaduan.pipeline import Pipeline, RunReport
from pengaduan.store.db import Store
from pengaduan.store.leases import lock_linking
from pengaduan.store.schema import audit_log, case_links, case_relations, cases, link_suggestions, records

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)
PKH = (
    "Selamat pagi bapak/ibu, saya warga Banjar Dinas Kaler, Desa Bebandem. Bantuan PKH tahap 3 "
    "untuk anak saya yang sekolah di SDN 2 Bebandem belum cair sampai sekarang, padahal kartu "
    "KKS sudah diaktifkan di BRI unit Bebandem bulan Agustus. Mohon dicek. Terima kasih."
)
PKH_RETYPED = (
    "slmt siang min, sy warga banjar dinas kaler desa bebandem. bantuan pkh tahap 3 utk anak sy "
    "yg sekolah di sdn 2 bebandem blm cair smp skrg, pdhl kartu kks udh diaktifkan di bri unit "
    "bebandem bln agustus. tlg dicek"
)
ROAD = "Jalan rusak di depan pura desa Tenganan sudah setahun, mohon diperbaiki Dinas PU."
WHEELCHAIR = "Lansia di Abang butuh kursi roda, pendaftaran ATENSI ditolak kantor desa."
PHONE = "081234567890"


class Doors(ListCollector):
    """Items that say their channel, phone and time: one complaint through several doors."""

    @staticmethod
    def normalize(item):  # type: ignore[no-untyped-def]
        data = json.loads(item.payload)
        return ComplaintRecord(
            channel=data["channel"], source_id=item.source_id, body=data["body"],
            received_at=datetime.fromisoformat(data.get("at", "2026-11-02T02:00:00+00:00")),
            author=Author(phone=data.get("phone")), confidential=data.get("confidential", False),
            subject=data.get("subject"),
        )


def ingest(store: Store, tmp_path: Path, items: list[dict], name: str = "src") -> RunReport:
    settings = make_settings(store.url, tmp_path)
    return Pipeline(store, settings, clock=lambda: NOW).run(Doors(name, ListConfig(items=items)))


@pytest.fixture
def cli(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``pengaduan queue ...`` as staff user 'petugas' runs it: (exit code, stdout, stderr)."""
    config = tmp_path / "settings.toml"
    config.write_text(f'[store]\nurl = "{store.url}"\n')
    monkeypatch.setenv("PENGADUAN_USER", "petugas")

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--config", str(config), "--log-format", "json", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def refused(cli: Callable[..., tuple[int, str, str]], message: str, *args: str) -> None:
    code, _, err = cli(*args)
    assert (code, err.count("\n")) == (2, 1) and message in err and "Traceback" not in err, err


# --- reading the store ----------------------------------------------------------------------

def record_id(store: Store, source_id: str) -> int:
    with store.transaction() as conn:
        return conn.execute(select(records.c.id).where(records.c.source_id == source_id)).scalar_one()


def link_of(store: Store, source_id: str) -> dict[str, Any]:
    with store.transaction() as conn:
        return dict(conn.execute(select(case_links).join(records, records.c.id == case_links.c.record_id)
                                 .where(records.c.source_id == source_id)).mappings().one())


def case_of(store: Store, case_id: int) -> dict[str, Any]:
    with store.transaction() as conn:
        return dict(conn.execute(select(cases).where(cases.c.id == case_id)).mappings().one())


def number(store: Store, case_id: int) -> str:
    return case_number(case_id, case_of(store, case_id)["opened_at"].year)


def audit(store: Store, case_id: int) -> list[tuple[str, str, int | None, dict]]:
    """The staff entries of a case's audit log: (actor, action, record, detail)."""
    with store.transaction() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.case_id == case_id,
                                                    audit_log.c.actor != "pengaduan")
                            .order_by(audit_log.c.id)).mappings().all()
    return [(r["actor"], r["action"], r["record_id"], r["detail"]) for r in rows]


def pairs(store: Store) -> dict[tuple[int, int], str]:
    """(record, case) → suggestion status: staff's say on every pair."""
    with store.transaction() as conn:
        rows = conn.execute(select(link_suggestions.c.record_id, link_suggestions.c.case_id,
                                   link_suggestions.c.status)).all()
    return {(r, c): s for r, c, s in rows}


def relations(store: Store) -> list[tuple[int, int, str, str]]:
    with store.transaction() as conn:
        return [tuple(r) for r in conn.execute(select(  # type: ignore[misc]
            case_relations.c.case_id, case_relations.c.related_case_id, case_relations.c.kind,
            case_relations.c.created_by).order_by(case_relations.c.id))]


def snapshot(store: Store) -> tuple:
    with store.transaction() as conn:
        state = (conn.execute(select(case_links.c.record_id, case_links.c.case_id, case_links.c.method)
                              .order_by(case_links.c.record_id)).all(),
                 conn.execute(select(cases.c.id, cases.c.status, cases.c.due_at).order_by(cases.c.id)).all(),
                 len(conn.execute(select(audit_log.c.id)).all()))
    return state, pairs(store)


# --- suggestions ----------------------------------------------------------------------------

SAME_TEXT_ONE_CHANNEL = [  # unknown identity, same channel: capped below automatic, suggested
    {"id": "a", "channel": "email", "body": PKH},
    {"id": "b", "channel": "email", "body": PKH_RETYPED},
]


def test_reject_is_audited_and_the_pair_is_never_suggested_again(store, tmp_path, cli) -> None:
    ingest(store, tmp_path, SAME_TEXT_ONE_CHANNEL)
    a, b = record_id(store, "a"), record_id(store, "b")
    case_a, case_b = link_of(store, "a")["case_id"], link_of(store, "b")["case_id"]
    ((pair, status),) = pairs(store).items()
    assert (pair, status) == ((b, case_a), "open")

    code, out, _ = cli("queue", "suggestions")
    assert code == 0
    (line,) = [l for l in out.splitlines() if l.startswith("1  ")]
    assert number(store, case_a) in line and f"#{b} ({number(store, case_b)})" in line
    assert f"#{a}" in line and "kanal sama" in line
    assert cli("queue", "suggestions", number(store, case_b))[1] == out  # the record's case too
    assert "Usulan duplikat terbuka" in cli("queue", "show", number(store, case_a))[1]

    code, out, _ = cli("queue", "reject", "1", "--note", "orang berbeda")
    assert code == 0 and f"rekaman #{b} tidak akan diusulkan lagi" in out
    assert pairs(store) == {(b, case_a): "rejected"}
    for case_id in (case_a, case_b):
        [(actor, action, rec, detail)] = audit(store, case_id)
        assert (actor, action, rec, detail["note"]) == ("petugas", "suggestion_rejected", b, "orang berbeda")
    refused(cli, "usulan #1 sudah ditolak oleh petugas", "queue", "confirm", "1")

    # The same item fetched again, edited (near-identical): it stays where it is, unsuggested.
    edited = {"id": "b", "channel": "email", "body": PKH_RETYPED + " mohon segera"}
    assert ingest(store, tmp_path, [*SAME_TEXT_ONE_CHANNEL, edited]).updated == 1
    assert pairs(store) == {(b, case_a): "rejected"}
    assert link_of(store, "b")["case_id"] == case_b
    assert cli("queue", "suggestions")[1].startswith("Tidak ada usulan")


def test_confirm_moves_the_record_and_its_emptied_case_points_to_the_other(store, tmp_path, cli) -> None:
    ingest(store, tmp_path, SAME_TEXT_ONE_CHANNEL)
    b = record_id(store, "b")
    case_a, case_b = link_of(store, "a")["case_id"], link_of(store, "b")["case_id"]
    with store.transaction() as conn:
        score = conn.execute(select(link_suggestions.c.score)).scalar_one()
    due_a, due_b = case_of(store, case_a)["due_at"], case_of(store, case_b)["due_at"]

    code, out, _ = cli("queue", "confirm", "1", "--note", "orang yang sama")
    assert code == 0 and f"Kasus {number(store, case_b)} kini kosong" in out
    link = link_of(store, "b")
    assert (link["case_id"], link["method"], link["score"], link["created_by"]) == \
        (case_a, "confirmed", score, "petugas")
    assert link["evidence"]["suggestion_id"] == 1 and link["evidence"]["from_case"] == case_b
    assert pairs(store) == {(b, case_a): "confirmed"}
    assert case_of(store, case_b)["status"] == "diarsipkan"
    assert case_of(store, case_a)["due_at"] == min(due_a, due_b)
    assert relations(store) == [(case_b, case_a, "merged_into", "petugas")]
    for case_id in (case_a, case_b):
        entries = audit(store, case_id)
        assert [e[:3] for e in entries] == [("petugas", "suggestion_confirmed", b), ("petugas", "merged", None)]
        assert entries[0][3] == {"from_case": case_b, "to_case": case_a, "score": score,
                                 "note": "orang yang sama"}

    # The closed case's number still resolves, pointing to the case its record went to.
    shown = cli("queue", "show", number(store, case_b))[1]
    assert f"Relasi    : digabung ke {number(store, case_a)}" in shown
    assert f"menerima gabungan dari {number(store, case_b)}" in cli("queue", "show", number(store, case_a))[1]
    refused(cli, f"rekaman #{b} sudah ada di kasus {number(store, case_a)}",
            "queue", "link", str(b), number(store, case_b))


# --- automatic duplicates: the export, and staff undoing one -----------------------------------

ONE_PERSON_TWO_DOORS = [  # the same phone on two channels: one complaint, linked automatically
    {"id": "m1", "channel": "email", "body": f"{PKH} HP {PHONE}", "phone": PHONE},
    {"id": "fb1", "channel": "facebook", "body": f"{PKH_RETYPED} wa 0812-3456-7890",
     "phone": "+6281234567890", "at": "2026-11-03T03:30:00+00:00"},
]


def test_export_shows_a_duplicate_then_staff_unlink_it(store, tmp_path, cli) -> None:
    ingest(store, tmp_path, ONE_PERSON_TWO_DOORS)
    code, out, _ = cli("export", "--format", "jsonl")
    rows = {r["source_id"]: r for r in map(json.loads, out.splitlines())}
    mail, fb = rows["m1"], rows["fb1"]
    assert code == 0 and mail["case_id"] == fb["case_id"]
    assert fb["link"]["method"] == "duplicate" and fb["link"]["score"] >= 0.8
    assert fb["link"]["evidence"]["matched_record_id"] == mail["record_id"]
    assert fb["link"]["evidence"]["identity"] == "same"
    assert not any(p in out for p in (PHONE, "1234567890", "3456-7890")), "personal data exported"

    case_a = link_of(store, "fb1")["case_id"]
    fb_id = fb["record_id"]
    code, out, _ = cli("queue", "unlink", str(fb_id), "--note", "keluhan lain")
    assert code == 0 and out.startswith(f"Rekaman #{fb_id} dilepas dari kasus {number(store, case_a)}")
    link = link_of(store, "fb1")
    new = case_of(store, link["case_id"])
    settings = make_settings(store.url, tmp_path)
    received = datetime.fromisoformat(ONE_PERSON_TWO_DOORS[1]["at"])
    assert link["case_id"] != case_a and (link["method"], link["created_by"]) == ("unlinked", "petugas")
    assert link["evidence"] == {"from_case": case_a, "was": "duplicate"}
    assert (new["status"], new["channel"], new["received_at"]) == ("diterima", "facebook", received)
    assert new["due_at"] == settings.calendar.due_at(received, settings.due_working_days)
    assert pairs(store) == {(fb_id, case_a): "rejected"}  # never linked back automatically
    for case_id in (case_a, new["id"]):
        assert [e[:2] + (e[3]["note"],) for e in audit(store, case_id)] == \
            [("petugas", "unlinked", "keluhan lain")]
    refused(cli, f"rekaman #{fb_id} satu-satunya di kasus", "queue", "unlink", str(fb_id))
    # A newer version of the comment keeps staff's decision.
    ingest(store, tmp_path, [*ONE_PERSON_TWO_DOORS, {**ONE_PERSON_TWO_DOORS[1], "body": PKH_RETYPED}])
    assert link_of(store, "fb1")["case_id"] == new["id"]


# --- link, merge, split, and what is refused ---------------------------------------------------

def test_link_merge_split_and_clear_refusals(store, tmp_path, cli) -> None:
    ingest(store, tmp_path, [
        {**ONE_PERSON_TWO_DOORS[0], "at": "2026-11-04T02:00:00+00:00"},
        {**ONE_PERSON_TWO_DOORS[1], "at": "2026-11-04T03:00:00+00:00"},
        {"id": "y", "channel": "email", "body": ROAD, "phone": "081311112222"},
        {"id": "z", "channel": "email", "body": WHEELCHAIR, "phone": "081399998888"},
        {"id": "c", "channel": "lapor", "body": "Laporan rahasia: " + WHEELCHAIR, "confidential": True},
    ])
    x1, x2, y, z, c = (record_id(store, s) for s in ("m1", "fb1", "y", "z", "c"))
    X, Y, Z = (link_of(store, s)["case_id"] for s in ("m1", "y", "z"))
    assert link_of(store, "fb1")["case_id"] == X and len({X, Y, Z}) == 3
    num = {c: number(store, c) for c in (X, Y, Z)}

    # link: one record into another case; its old case keeps the other record.
    code, out, _ = cli("queue", "link", str(x2), num[Y], "--note", "salah tautan")
    assert code == 0 and f"Kasus {num[X]} masih berisi 1 rekaman" in out
    assert (link_of(store, "fb1")["case_id"], link_of(store, "fb1")["method"]) == (Y, "manual")
    assert pairs(store) == {(x2, X): "rejected"}
    assert [e[:3] for e in audit(store, X)] == [e[:3] for e in audit(store, Y)] == \
        [("petugas", "linked_manual", x2)]

    # merge: every record of Y into X; Y closed, pointing to X; X keeps the earlier deadline.
    before = {c: case_of(store, c) for c in (X, Y)}
    code, out, _ = cli("queue", "merge", num[X], num[Y], "--note", "satu pengaduan")
    assert code == 0 and f"Kasus {num[Y]} digabung ke {num[X]}: 2 rekaman" in out
    assert [link_of(store, s)["case_id"] for s in ("m1", "fb1", "y")] == [X, X, X]
    assert (link_of(store, "y")["method"], link_of(store, "fb1")["method"]) == ("merged", "manual")
    after = case_of(store, X)
    assert after["due_at"] == min(b["due_at"] for b in before.values())
    assert after["received_at"] == before[Y]["received_at"] < before[X]["received_at"]
    assert case_of(store, Y)["status"] == "diarsipkan"
    assert relations(store) == [(Y, X, "merged_into", "petugas")]
    for case_id in (X, Y):
        assert audit(store, case_id)[-1] == ("petugas", "merged", None, {
            "from_case": Y, "to_case": X, "records": [y, x2], "note": "satu pengaduan"})
    refused(cli, "sudah digabung", "queue", "merge", num[X], num[Y])
    # a merged case is not reopened by a status change: its records are handled in X
    refused(cli, f"sudah digabung ke kasus {num[X]}", "queue", "status", num[Y], "ditanggapi")
    assert case_of(store, Y)["status"] == "diarsipkan"

    # split: y and x2 leave X together into one new case; x1 stays.
    code, out, _ = cli("queue", "split", num[X], str(y), str(x2))
    assert code == 0
    W = link_of(store, "y")["case_id"]
    assert W not in (X, Y, Z) and link_of(store, "fb1")["case_id"] == W
    assert link_of(store, "m1")["case_id"] == X
    assert {link_of(store, s)["method"] for s in ("y", "fb1")} == {"split"}
    settings = make_settings(store.url, tmp_path)
    assert case_of(store, W)["due_at"] == settings.calendar.due_at(before[Y]["received_at"], 1)
    assert pairs(store) == {(x2, X): "rejected", (y, X): "rejected"}
    for case_id in (X, W):
        assert audit(store, case_id)[-1] == ("petugas", "split", None, {
            "from_case": X, "to_case": W, "records": [y, x2], "note": ""})
    assert f"menerima gabungan dari {num[Y]}" in cli("queue", "show", num[X])[1]

    # A confidential record restricts the case it is linked into.
    assert not case_of(store, X)["confidential"]
    assert cli("queue", "link", str(c), num[X])[0] == 0
    assert case_of(store, X)["confidential"] and link_of(store, "c")["case_id"] == X

    # Refusals: one sentence in Bahasa Indonesia, exit 2, and nothing changed.
    assert cli("queue", "status", num[Z], "diarsipkan")[0] == 0
    state = snapshot(store)
    refused(cli, "kasus tidak bisa digabung ke dirinya sendiri", "queue", "merge", num[X], num[X])
    refused(cli, f"rekaman #{x1} sudah ada di kasus {num[X]}", "queue", "link", str(x1), num[X])
    refused(cli, f"semua rekaman kasus {num[X]} akan keluar", "queue", "split", num[X], str(x1), str(c))
    refused(cli, f"rekaman #{y} tidak ada di kasus {num[X]}", "queue", "split", num[X], str(y))
    refused(cli, "tidak ada rekaman #999999", "queue", "link", "999999", num[X])
    refused(cli, "tidak ada kasus nomor 999999", "queue", "link", str(x1), "PGD-2026-999999")
    refused(cli, "tidak ada usulan #999999", "queue", "reject", "999999")
    refused(cli, f"kasus {num[Z]} sudah diarsipkan", "queue", "link", str(y), num[Z])
    refused(cli, f"kasus {num[Z]} sudah diarsipkan", "queue", "merge", num[X], num[Z])
    refused(cli, f"kasus {num[Z]} sudah diarsipkan", "queue", "unlink", str(z))
    assert snapshot(store) == state


def test_a_follow_up_quoting_a_merged_case_joins_the_case_it_went_into(store, tmp_path, cli) -> None:
    ingest(store, tmp_path, [{"id": "y", "channel": "email", "body": ROAD, "phone": "081311112222"},
                             {"id": "z", "channel": "email", "body": WHEELCHAIR, "phone": "081399998888"}])
    Y, Z = (link_of(store, s)["case_id"] for s in ("y", "z"))
    assert cli("queue", "merge", number(store, Z), number(store, Y))[0] == 0
    ingest(store, tmp_path, [{"id": "q", "channel": "email", "phone": "081311112222",
                              "subject": f"Re: {number(store, Y)} jalan rusak",
                              "body": "Sudah seminggu, bagaimana tindak lanjutnya?"}], name="src2")
    assert (link_of(store, "q")["case_id"], link_of(store, "q")["method"]) == (Z, "follow_up")
    assert [r[2] for r in relations(store)] == ["merged_into"]  # no case "reopened" from Y


def test_a_staff_action_waits_for_the_linking_in_flight(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL, several processes: a merge started while a batch holds the linking lock
    waits for that batch's commit (a record cannot join a case the merge is closing)."""
    store = Store(pg_url)
    store.ensure_schema()
    ingest(store, tmp_path, [{"id": "road", "channel": "email", "body": ROAD},
                             {"id": "chair", "channel": "email", "body": WHEELCHAIR}])
    into, source = link_of(store, "road")["case_id"], link_of(store, "chair")["case_id"]
    done: dict[str, Any] = {}

    def staff_merge() -> None:
        with store.transaction() as conn:
            done["moved"] = regroup.merge(conn, into, source, regroup.Staff("petugas", NOW))

    with store.transaction() as batch:
        lock_linking(batch)
        worker = threading.Thread(target=staff_merge)
        worker.start()
        waiting = 0
        for _ in range(300):  # until the merge's session waits on the advisory lock
            with store.transaction() as look:
                waiting = look.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )).scalar_one()
            if waiting or not worker.is_alive():
                break
            time.sleep(0.1)
        assert waiting == 1 and "moved" not in done
    worker.join(timeout=60)
    assert done["moved"].source_closed
    assert link_of(store, "chair")["case_id"] == into
    store.dispose()
