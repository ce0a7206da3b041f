"""Staff regrouping records into cases: link, unlink, merge, split, and deciding suggestions.

Linking at ingestion (``cases/linking.py``) makes the first guess; staff correct it here, from
the CLI now and the web page later. What holds (DESIGN.md §2.5, §4):

- A record is in exactly one case. Moving it keeps the record and says why: the link's method
  is ``manual``, ``confirmed``, ``merged``, ``unlinked`` or ``split``, its evidence names the
  case it came from.
- A case left without records is closed as merged into the case they went to: status
  ``diarsipkan`` and a ``merged_into`` relation, so its number still resolves to that case.
  Evaluation reports must skip such a case: it was never handled on its own. Its suggestions
  and rejected pairs pass to the case it went into, which keeps the earlier receipt and
  deadline and becomes confidential if either was.
- A record taken out of a case that keeps other records is remembered as a rejected pair with
  that case, so linking never suggests it for that case again.
- An archived case is closed (step 6 of the standard, counted in the evaluation): no record
  enters or leaves it. A message after archiving opens a new case linked back, as at ingestion.
- Every action writes the audit log of each case it touches: who, when, what, and the note.

Every function runs inside the caller's transaction and raises ``ConfigError`` with a sentence
in Bahasa Indonesia (the staff's language) when the action cannot be done. Each first takes
the linking lock (``store.leases.lock_linking``, PostgreSQL): a batch linking new records and a
staff action wait for each other, so a record cannot join a case a merge is closing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from pengaduan.cases.linking import stored_case_title
from pengaduan.cases.status import CaseStatus, case_number
from pengaduan.errors import ConfigError
from pengaduan.store import cases as store_cases
from pengaduan.store import links as store_links
from pengaduan.store.audit import record_audit
from pengaduan.store.leases import lock_linking

ARCHIVED = str(CaseStatus.DIARSIPKAN)

# The deadline of a case received at a time: the office calendar, as at ingestion.
Deadline = Callable[[datetime], datetime]


@dataclass(frozen=True)
class Staff:
    """Who acts, when, and what they noted (kept in the audit log)."""

    actor: str
    now: datetime
    note: str = ""


@dataclass(frozen=True)
class Moved:
    """Where the records are now; case numbers as staff quote them."""

    records: tuple[int, ...]
    into: str
    source: str | None = None  # the case they left (None: the record was in no case)
    source_closed: bool = False  # that case was left empty and closed as merged into ``into``
    source_left: int = 0  # records still in it
    redirected: str | None = None  # the case asked for, when it had been merged into ``into``


# --- actions --------------------------------------------------------------------------------

_Action = Callable[..., Any]


def _serialised_with_linking(action: _Action) -> _Action:
    @functools.wraps(action)
    def locked(conn: Connection, *args: Any, **kwargs: Any) -> Any:
        lock_linking(conn)
        return action(conn, *args, **kwargs)
    return locked



@_serialised_with_linking
def link(conn: Connection, record_id: int, case_id: int, staff: Staff,
         method: str = "manual", action: str = "linked_manual", score: float | None = None,
         evidence: dict[str, Any] | None = None) -> Moved:
    """Put one record in a case (from its own case, or from none)."""
    record = _record(conn, record_id)
    target_id, redirected = _resolve(conn, case_id)
    home_id = store_cases.case_of_record(conn, record_id)
    cases = _lock(conn, target_id, home_id)
    into, home = cases[target_id], cases.get(home_id)
    if store_cases.case_of_record(conn, record_id) != home_id:
        raise ConfigError(f"rekaman #{record_id} baru saja dipindahkan orang lain; coba lagi")
    if home_id == target_id:
        raise ConfigError(f"rekaman #{record_id} sudah ada di kasus {_number(into)}")
    _check_open(into)
    if home is not None:
        _check_open(home)
    evidence = {**(evidence or {}), "from_case": home_id}
    if home is None:
        store_cases.link_record(conn, record_id, target_id, method, staff.now, score, evidence,
                                staff.actor)
    else:
        store_links.move_record(conn, record_id, target_id, method, staff.now, staff.actor,
                                score, evidence)
    store_links.settle_suggestions(conn, [record_id], target_id, staff.actor, staff.now)
    if record["confidential"] and not into["confidential"]:
        store_cases.restrict_case(conn, target_id, into["title"], staff.now)
    left = store_links.record_ids_of_case(conn, home_id) if home is not None else []
    _audit(conn, staff, action, [target_id, home_id], record_id,
           from_case=home_id, to_case=target_id, **({"score": score} if score is not None else {}))
    if home is not None and not left:
        _audit(conn, staff, "merged", [target_id, home_id], None,
               from_case=home_id, to_case=target_id, records=[record_id])
        _close_into(conn, home, into, staff)
    elif home is not None:
        store_links.reject_pair(conn, record_id, home_id, staff.actor, staff.now,
                                {"moved_to": target_id})
    return Moved((record_id,), _number(into), _number_or_none(home), home is not None and not left,
                 len(left), _number_or_none(redirected))


@_serialised_with_linking
def unlink(conn: Connection, record_id: int, staff: Staff, deadline: Deadline) -> Moved:
    """Take one record out of its case into a new case of its own."""
    _record(conn, record_id)
    home_id = store_cases.case_of_record(conn, record_id)
    if home_id is None:
        raise ConfigError(f"rekaman #{record_id} tidak berada di kasus mana pun")
    return split(conn, home_id, [record_id], staff, deadline, method="unlinked", action="unlinked")


@_serialised_with_linking
def split(conn: Connection, case_id: int, record_ids: Sequence[int], staff: Staff,
          deadline: Deadline, method: str = "split", action: str = "split") -> Moved:
    """The given records leave the case together, into one new case; the rest stay."""
    source_id, redirected = _resolve(conn, case_id)
    source = _lock(conn, source_id)[source_id]
    _check_open(source)
    members = {r["id"]: r for r in store_cases.records_of_case(conn, source_id)}
    wanted = list(dict.fromkeys(record_ids))
    for record_id in wanted:
        if record_id not in members:
            _record(conn, record_id)
            raise ConfigError(f"rekaman #{record_id} tidak ada di kasus {_number(source)}")
    if len(wanted) == len(members):
        if len(members) == 1:
            raise ConfigError(f"rekaman #{wanted[0]} satu-satunya di kasus {_number(source)}; "
                              "tidak ada yang bisa dilepas")
        raise ConfigError(f"semua rekaman kasus {_number(source)} akan keluar; setidaknya satu "
                          "harus tetap (untuk memindahkan semuanya: 'pengaduan queue merge')")
    rows = sorted((members[r] for r in wanted), key=lambda r: (r["received_at"], r["id"]))
    received = rows[0]["received_at"]
    (new_id,) = store_cases.insert_cases(conn, [store_cases.NewCase(
        record_id=rows[0]["id"], channel=rows[0]["channel"], title=stored_case_title(rows[0]),
        received_at=received, due_at=deadline(received),
        confidential=any(r["confidential"] for r in rows))], staff.now)
    for row in rows:
        store_links.move_record(conn, row["id"], new_id, method, staff.now, staff.actor,
                                evidence={"from_case": source_id, "was": row["link_method"]})
        store_links.reject_pair(conn, row["id"], source_id, staff.actor, staff.now,
                                {"moved_to": new_id})
    moved = tuple(r["id"] for r in rows)
    _audit(conn, staff, action, [source_id, new_id], moved[0] if len(moved) == 1 else None,
           from_case=source_id, to_case=new_id, records=list(moved))
    return Moved(moved, case_number(new_id, staff.now.year), _number_or_none(source), False,
                 len(members) - len(moved), _number_or_none(redirected))


@_serialised_with_linking
def merge(conn: Connection, into_id: int, source_id: int, staff: Staff) -> Moved:
    """Every record of one case into another; the emptied case is closed as merged."""
    target_id, redirected = _resolve(conn, into_id)
    from_id, from_redirected = _resolve(conn, source_id)
    if target_id == from_id:
        if into_id == source_id:
            raise ConfigError("kasus tidak bisa digabung ke dirinya sendiri")
        merged = from_redirected or redirected
        target = store_cases.get_case(conn, target_id)
        assert merged is not None and target is not None
        raise ConfigError(f"kasus {_number(merged)} sudah digabung ke kasus {_number(target)}")
    cases = _lock(conn, target_id, from_id)
    into, source = cases[target_id], cases[from_id]
    _check_open(into)
    _check_open(source)
    records = store_cases.records_of_case(conn, from_id)
    for row in records:
        # The record that opened the merged case now joins by the merge; the others keep their
        # own reason (a duplicate of, a reply to a record that moved with them).
        if row["link_method"] == "new_case":
            store_links.move_record(conn, row["id"], target_id, "merged", staff.now, staff.actor,
                                    evidence={"from_case": from_id})
    store_links.repoint_links(conn, from_id, target_id)
    ids = [r["id"] for r in records]
    store_links.settle_suggestions(conn, ids, target_id, staff.actor, staff.now)
    _audit(conn, staff, "merged", [target_id, from_id], None,
           from_case=from_id, to_case=target_id, records=ids)
    _close_into(conn, source, into, staff)
    return Moved(tuple(ids), _number(into), _number_or_none(source), True, 0,
                 _number_or_none(redirected or from_redirected))


@_serialised_with_linking
def confirm(conn: Connection, suggestion_id: int, staff: Staff) -> Moved:
    """Staff agree with a possible-duplicate suggestion: its record joins the suggested case."""
    suggestion = _open_suggestion(conn, suggestion_id)
    moved = link(conn, suggestion["record_id"], suggestion["case_id"], staff, method="confirmed",
                 action="suggestion_confirmed", score=suggestion["score"],
                 evidence={**suggestion["evidence"], "suggestion_id": suggestion_id})
    store_links.decide_suggestion(conn, suggestion_id, store_links.CONFIRMED, staff.actor, staff.now)
    return moved


@_serialised_with_linking
def reject(conn: Connection, suggestion_id: int, staff: Staff) -> tuple[int, str]:
    """Staff say the record is not of that case: never suggested for it again (an archived
    case may be named: nothing in it changes). Returns the record and the case number."""
    suggestion = _open_suggestion(conn, suggestion_id)
    case = store_cases.get_case(conn, suggestion["case_id"])
    assert case is not None, "cases are never deleted"
    store_links.decide_suggestion(conn, suggestion_id, store_links.REJECTED, staff.actor, staff.now)
    home_id = store_cases.case_of_record(conn, suggestion["record_id"])
    _audit(conn, staff, "suggestion_rejected", [suggestion["case_id"], home_id],
           suggestion["record_id"], suggestion_id=suggestion_id, score=suggestion["score"],
           case=suggestion["case_id"])
    return suggestion["record_id"], _number(case)


# --- checks and shared steps ----------------------------------------------------------------


def _record(conn: Connection, record_id: int) -> dict[str, Any]:
    row = store_links.record_row(conn, record_id)
    if row is None:
        raise ConfigError(f"tidak ada rekaman #{record_id} di penyimpanan; nomor rekaman ada di "
                          "'pengaduan queue show KASUS'")
    return row


def _resolve(conn: Connection, case_id: int) -> tuple[int, dict[str, Any] | None]:
    """The case to act on: a merged case's number stands for the case it went into (returned
    second, for the message, when it differs)."""
    target = store_links.merged_into(conn, case_id)
    case = store_cases.get_case(conn, case_id)
    if case is None:
        raise ConfigError(f"tidak ada kasus nomor {case_id:06d} di penyimpanan; "
                          "lihat 'pengaduan queue list'")
    return (target, case) if target is not None else (case_id, None)


def _lock(conn: Connection, *case_ids: int | None) -> dict[int, dict[str, Any]]:
    """The cases' rows, locked in id order (two staff locking the same pair cannot deadlock)."""
    found = {}
    for case_id in sorted({c for c in case_ids if c is not None}):
        row = store_cases.get_case(conn, case_id, lock=True)
        assert row is not None, "cases are never deleted"
        found[case_id] = row
    return found


def _number(case: dict[str, Any]) -> str:
    return case_number(case["id"], case["opened_at"].year)


def _number_or_none(case: dict[str, Any] | None) -> str | None:
    return _number(case) if case else None


def _check_open(case: dict[str, Any]) -> None:
    if case["status"] == ARCHIVED:
        raise ConfigError(
            f"kasus {_number(case)} sudah diarsipkan (langkah 6 standar, masuk evaluasi): "
            "rekamannya tidak diubah lagi; pesan baru dari pelapor membuka kasus baru yang "
            "ditautkan ke kasus ini")


def _open_suggestion(conn: Connection, suggestion_id: int) -> dict[str, Any]:
    suggestion = store_links.get_suggestion(conn, suggestion_id)
    if suggestion is None:
        raise ConfigError(f"tidak ada usulan #{suggestion_id}; lihat 'pengaduan queue suggestions'")
    if suggestion["status"] != store_links.OPEN_SUGGESTION:
        decided = {store_links.CONFIRMED: "dikonfirmasi", store_links.REJECTED: "ditolak"}
        raise ConfigError(f"usulan #{suggestion_id} sudah "
                          f"{decided.get(suggestion['status'], suggestion['status'])} oleh "
                          f"{suggestion['decided_by']}")
    return suggestion


def _close_into(conn: Connection, source: dict[str, Any], into: dict[str, Any], staff: Staff) -> None:
    """Close an emptied case as merged into the case its records went to."""
    store_cases.set_status(conn, source["id"], CaseStatus.DIARSIPKAN, staff.now)
    store_links.add_relations(conn, [{"case_id": source["id"], "related_case_id": into["id"],
                                      "kind": store_links.MERGED_INTO}], staff.now, staff.actor)
    store_links.retarget_suggestions(conn, source["id"], into["id"])
    store_cases.set_case_facts(
        conn, into["id"], staff.now,
        received_at=min(into["received_at"], source["received_at"]),
        due_at=min(into["due_at"], source["due_at"]),
        confidential=into["confidential"] or source["confidential"])


def _audit(conn: Connection, staff: Staff, action: str, case_ids: Sequence[int | None],
           record_id: int | None, **detail: Any) -> None:
    """One entry in the log of every case the action touched."""
    for case_id in dict.fromkeys(c for c in case_ids if c is not None):
        record_audit(conn, staff.actor, action, staff.now, case_id=case_id, record_id=record_id,
                     detail={**detail, "note": staff.note})
