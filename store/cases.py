"""Cases and record→case links: opening, linking, and reading the handling queue."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from pengaduan.cases.status import OPEN, CaseStatus
from pengaduan.store.ingest import planned_per_call
from pengaduan.store.schema import case_links, cases, record_revisions, records

SYSTEM = "pengaduan"


@dataclass(frozen=True)
class NewCase:
    record_id: int
    channel: str
    title: str | None
    received_at: datetime
    due_at: datetime
    confidential: bool


def open_cases(conn: Connection, new: Sequence[NewCase], now: datetime) -> list[int]:
    """Open one case per record, each linked to its record; returns the case ids."""
    if not new:
        return []
    ids = insert_cases(conn, new, now)
    conn.execute(
        insert(case_links),
        [
            {
                "record_id": n.record_id,
                "case_id": case_id,
                "method": "new_case",
                "score": None,
                "evidence": {},
                "created_at": now,
                "created_by": SYSTEM,
            }
            for n, case_id in zip(new, ids)
        ],
    )
    return ids


def insert_cases(conn: Connection, new: Sequence[NewCase], now: datetime) -> list[int]:
    """The case rows alone (their records are linked by the caller); returns the case ids."""
    ids = conn.execute(
        insert(cases).returning(cases.c.id, sort_by_parameter_order=True),
        [
            {
                "status": str(CaseStatus.DITERIMA),
                "title": n.title,
                "channel": n.channel,
                "received_at": n.received_at,
                "opened_at": now,
                "due_at": n.due_at,
                "updated_at": now,
                "confidential": n.confidential,
            }
            for n in new
        ],
    ).scalars().all()
    return list(ids)


def link_record(
    conn: Connection,
    record_id: int,
    case_id: int,
    method: str,
    now: datetime,
    score: float | None = None,
    evidence: dict[str, Any] | None = None,
    actor: str = SYSTEM,
) -> None:
    conn.execute(
        insert(case_links).values(
            record_id=record_id,
            case_id=case_id,
            method=method,
            score=score,
            evidence=evidence or {},
            created_at=now,
            created_by=actor,
        )
    )


def case_of_source(conn: Connection, channel: str, source_id: str) -> int | None:
    """The case holding the record with this source id on this channel, if any."""
    return conn.execute(
        select(case_links.c.case_id)
        .join(records, records.c.id == case_links.c.record_id)
        .where(records.c.channel == channel, records.c.source_id == source_id)
        .limit(1)
    ).scalar()


def case_of_record(conn: Connection, record_id: int) -> int | None:
    return conn.execute(
        select(case_links.c.case_id).where(case_links.c.record_id == record_id)
    ).scalar()


def restrict_case(conn: Connection, case_id: int, title: str | None, now: datetime) -> None:
    """Mark a case confidential, with a title re-masked for the now restricted record."""
    conn.execute(
        update(cases)
        .where(cases.c.id == case_id)
        .values(confidential=True, title=title, updated_at=now)
    )


def cases_of_records(conn: Connection, record_ids: Sequence[int]) -> dict[int, int]:
    """``case_of_record`` for many records at once: record id -> case id, for those in one."""
    found: dict[int, int] = {}
    ids = sorted(set(record_ids))
    with planned_per_call(conn):
        for start in range(0, len(ids), 500):
            for record_id, case_id in conn.execute(
                select(case_links.c.record_id, case_links.c.case_id).where(
                    case_links.c.record_id.in_(ids[start : start + 500])
                )
            ):
                found[record_id] = case_id
    return found


# Parameters named apart from the columns: those names are SQLAlchemy's for the SET clause.
_RESTRICT_CASE = (
    update(cases)
    .where(cases.c.id == bindparam("case_id"))
    .values(confidential=True, title=bindparam("new_title"), updated_at=bindparam("now"))
)


def restrict_cases(
    conn: Connection, titled: Sequence[tuple[int, str | None]], now: datetime
) -> None:
    """``restrict_case`` for each (case id, title), in order, as one executemany."""
    if titled:
        conn.execute(
            _RESTRICT_CASE,
            [{"case_id": case_id, "new_title": title, "now": now} for case_id, title in titled],
        )


def set_status(conn: Connection, case_id: int, status: CaseStatus, now: datetime) -> None:
    conn.execute(
        update(cases).where(cases.c.id == case_id).values(status=str(status), updated_at=now)
    )


# --- reading the queue ------------------------------------------------------------------


def list_cases(
    conn: Connection,
    statuses: Sequence[str] = tuple(str(s) for s in OPEN),
    overdue_at: datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Cases in the given statuses, earliest deadline first, with how many records each has."""
    counts = (
        select(case_links.c.case_id, func.count().label("records"))
        .group_by(case_links.c.case_id)
        .subquery()
    )
    query = (
        select(cases, func.coalesce(counts.c.records, 0).label("records"))
        .outerjoin(counts, counts.c.case_id == cases.c.id)
        .where(cases.c.status.in_(list(statuses)))
        .order_by(cases.c.due_at, cases.c.id)
    )
    if overdue_at is not None:
        query = query.where(cases.c.due_at < overdue_at)
    if limit:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def get_case(conn: Connection, case_id: int, lock: bool = False) -> dict[str, Any] | None:
    """The case row; ``lock`` holds it (PostgreSQL row lock) until the transaction ends, so two
    staff moving records of one case at once take turns (SQLite writers always do)."""
    query = select(cases).where(cases.c.id == case_id)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    return dict(row) if row else None


def set_case_facts(conn: Connection, case_id: int, now: datetime, *, received_at: datetime,
                   due_at: datetime, confidential: bool) -> None:
    """Received time, deadline and restriction of a case that took in another one's records."""
    conn.execute(update(cases).where(cases.c.id == case_id).values(
        received_at=received_at, due_at=due_at, confidential=confidential, updated_at=now))


def records_of_case(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """The case's records, oldest first, each with its link and its earlier versions."""
    rows = [
        dict(r)
        for r in conn.execute(
            select(
                records,
                case_links.c.method.label("link_method"),
                case_links.c.score.label("link_score"),
                case_links.c.evidence.label("link_evidence"),
            )
            .join(case_links, case_links.c.record_id == records.c.id)
            .where(case_links.c.case_id == case_id)
            .order_by(records.c.received_at, records.c.id)
        ).mappings()
    ]
    for row in rows:
        row["revisions"] = [
            dict(r)
            for r in conn.execute(
                select(record_revisions)
                .where(record_revisions.c.record_id == row["id"])
                .order_by(record_revisions.c.revision)
            ).mappings()
        ]
    return rows


def iter_export_rows(conn: Connection, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every record with its case, in record order, fetched in pages to bound memory."""
    query = (
        select(
            records.c.id.label("record_id"),
            records.c.collector,
            records.c.kind,
            records.c.confidential,
            records.c.content,
            cases.c.id.label("case_id"),
            cases.c.opened_at.label("case_opened_at"),
            cases.c.status,
            cases.c.due_at,
            case_links.c.method.label("link_method"),
            case_links.c.score.label("link_score"),
            case_links.c.evidence.label("link_evidence"),
        )
        .outerjoin(case_links, case_links.c.record_id == records.c.id)
        .outerjoin(cases, cases.c.id == case_links.c.case_id)
        .order_by(records.c.id)
    )
    last = 0
    while True:
        page = conn.execute(query.where(records.c.id > last).limit(batch)).mappings().all()
        if not page:
            return
        for row in page:
            yield dict(row)
        last = page[-1]["record_id"]
