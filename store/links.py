"""Store side of linking: candidate rows, suggestions, case relations, moving records.

Nothing here commits: ingestion calls it inside the batch transaction, the CLI inside its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from pengaduan.store.cases import SYSTEM
from pengaduan.store.ingest import insert_ignore, planned_per_call
from pengaduan.store.schema import case_links, case_relations, cases, link_suggestions, records

OPEN_SUGGESTION = "open"
CONFIRMED = "confirmed"
REJECTED = "rejected"
# case_relations kinds: a case opened for a complainant whose case was archived, and a case
# whose records staff merged into another (closed as archived, its number still resolving).
REOPENED_FROM = "reopened_from"
MERGED_INTO = "merged_into"


def candidate_rows(conn: Connection, record_ids: Sequence[int],
                   with_content: bool = True) -> dict[int, dict[str, Any]]:
    """Record id → content (unless not wanted), content_sha256, received_at, case id and
    case status, for scoring."""
    found: dict[int, dict[str, Any]] = {}
    ids = sorted(set(record_ids))
    columns = [records.c.id, records.c.content_sha256, records.c.received_at,
               case_links.c.case_id, cases.c.status]
    query = (
        select(*columns, *([records.c.content] if with_content else []))
        .outerjoin(case_links, case_links.c.record_id == records.c.id)
        .outerjoin(cases, cases.c.id == case_links.c.case_id)
    )
    with planned_per_call(conn):
        for start in range(0, len(ids), 500):
            for row in conn.execute(query.where(records.c.id.in_(ids[start : start + 500]))).mappings():
                found[row["id"]] = dict(row)
    return found


def add_suggestions(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> None:
    """Open suggestions; a (record, case) pair suggested before (even rejected) is skipped."""
    insert_ignore(
        conn, link_suggestions,
        [{**r, "status": OPEN_SUGGESTION, "created_at": now, "decided_at": None,
          "decided_by": None} for r in rows],
        ["record_id", "case_id"],
    )


def suggestions(conn: Connection, case_id: int | None = None,
                status: str | None = OPEN_SUGGESTION) -> list[dict[str, Any]]:
    """Suggestions about a case (as the target, or for the case its record is in), or all;
    newest first, each with the target case's ``case_opened_at`` and the record's own case
    (``record_case_id``, ``record_case_opened_at``), for their case numbers."""
    target, home = cases.alias("target"), cases.alias("home")
    query = (
        select(link_suggestions, case_links.c.case_id.label("record_case_id"),
               target.c.opened_at.label("case_opened_at"),
               home.c.opened_at.label("record_case_opened_at"))
        .join(target, target.c.id == link_suggestions.c.case_id)
        .outerjoin(case_links, case_links.c.record_id == link_suggestions.c.record_id)
        .outerjoin(home, home.c.id == case_links.c.case_id)
    )
    if case_id is not None:
        query = query.where(or_(link_suggestions.c.case_id == case_id,
                                case_links.c.case_id == case_id))
    if status is not None:
        query = query.where(link_suggestions.c.status == status)
    return [dict(r) for r in conn.execute(query.order_by(link_suggestions.c.id.desc())).mappings()]


def get_suggestion(conn: Connection, suggestion_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(link_suggestions).where(link_suggestions.c.id == suggestion_id)).mappings().first()
    return dict(row) if row else None


def decide_suggestion(conn: Connection, suggestion_id: int, status: str, actor: str,
                      now: datetime) -> None:
    conn.execute(update(link_suggestions).where(link_suggestions.c.id == suggestion_id)
                 .values(status=status, decided_at=now, decided_by=actor))


def reject_pair(conn: Connection, record_id: int, case_id: int, actor: str, now: datetime,
                evidence: dict[str, Any] | None = None) -> None:
    """Remember that staff said this record is not of this case (never suggested again)."""
    insert_ignore(conn, link_suggestions, [{
        "record_id": record_id, "case_id": case_id, "matched_record_id": None, "score": 0.0,
        "evidence": evidence or {}, "status": REJECTED, "created_at": now, "decided_at": now,
        "decided_by": actor}], ["record_id", "case_id"])
    conn.execute(update(link_suggestions)
                 .where(link_suggestions.c.record_id == record_id,
                        link_suggestions.c.case_id == case_id)
                 .values(status=REJECTED, decided_at=now, decided_by=actor))


def settle_suggestions(conn: Connection, record_ids: Sequence[int], case_id: int, actor: str,
                       now: datetime) -> None:
    """Staff put these records in this case: what was suggested (or rejected) about the pair
    is now decided as confirmed, their latest say."""
    conn.execute(update(link_suggestions)
                 .where(link_suggestions.c.record_id.in_(list(record_ids)),
                        link_suggestions.c.case_id == case_id,
                        link_suggestions.c.status != CONFIRMED)
                 .values(status=CONFIRMED, decided_at=now, decided_by=actor))


def retarget_suggestions(conn: Connection, from_case: int, to_case: int) -> None:
    """A merged case's suggestions and rejected pairs now concern the case it went into; a pair
    already known for that case keeps its own row."""
    taken = select(link_suggestions.c.record_id).where(link_suggestions.c.case_id == to_case)
    conn.execute(update(link_suggestions)
                 .where(link_suggestions.c.case_id == from_case,
                        link_suggestions.c.record_id.not_in(taken.scalar_subquery()))
                 .values(case_id=to_case))


def add_relations(conn: Connection, rows: list[dict[str, Any]], now: datetime,
                  actor: str = SYSTEM) -> None:
    if rows:
        conn.execute(insert(case_relations),
                     [{"evidence": {}, **r, "created_at": now, "created_by": actor} for r in rows])


def relations_of_case(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """Relations from or to the case, oldest first."""
    query = select(case_relations).where(or_(case_relations.c.case_id == case_id,
                                             case_relations.c.related_case_id == case_id))
    return [dict(r) for r in conn.execute(query.order_by(case_relations.c.id)).mappings()]


def merged_into(conn: Connection, case_id: int) -> int | None:
    """The case a merged case's records went to, following merges of merges; None if not merged."""
    seen = {case_id}
    found = None
    while True:
        target = conn.execute(select(case_relations.c.related_case_id).where(
            case_relations.c.case_id == case_id, case_relations.c.kind == MERGED_INTO)
            .order_by(case_relations.c.id.desc()).limit(1)).scalar()
        if target is None or target in seen:
            return found
        seen.add(target)
        found = case_id = target


def record_ids_of_case(conn: Connection, case_id: int) -> list[int]:
    return list(conn.execute(select(case_links.c.record_id).where(case_links.c.case_id == case_id)
                             .order_by(case_links.c.record_id)).scalars())


def move_record(conn: Connection, record_id: int, case_id: int, method: str, now: datetime,
                actor: str, score: float | None = None,
                evidence: dict[str, Any] | None = None) -> None:
    """Point the record's link at another case (a record has exactly one link)."""
    conn.execute(update(case_links).where(case_links.c.record_id == record_id).values(
        case_id=case_id, method=method, score=score, evidence=evidence or {},
        created_at=now, created_by=actor))


def repoint_links(conn: Connection, from_case: int, to_case: int) -> None:
    """Every record of one case now in another; each keeps its link's method and evidence."""
    conn.execute(update(case_links).where(case_links.c.case_id == from_case).values(case_id=to_case))


def record_row(conn: Connection, record_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(records).where(records.c.id == record_id)).mappings().first()
    return dict(row) if row else None
