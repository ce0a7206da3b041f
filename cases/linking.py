"""Deciding which case each newly saved record belongs to.

For now: a new complaint opens a case; a follow-up joins the case of the item it answers; a
record that is not a complaint opens none. A record that turns confidential restricts its
case. Cross-channel duplicate detection builds on this (issue 5).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from pengaduan.cases.calendar import OfficeCalendar
from pengaduan.cases.status import CASE_NUMBER, parse_case_number
from pengaduan.normalizer.pii import mask_text
from pengaduan.normalizer.record import OFFICE_ANSWER, ComplaintRecord, Kind
from pengaduan.store import cases as store_cases
from pengaduan.store.audit import record_audit
from pengaduan.store.ingest import SavedRecord, SaveResult

TITLE_LENGTH = 120


def case_title(record: ComplaintRecord) -> str:
    """A one-line title, masked: it shows in queue lists where personal data is not needed."""
    text = record.subject or record.body.split("\n", 1)[0]
    if len(text) > TITLE_LENGTH:
        text = text[: TITLE_LENGTH - 1].rstrip() + "…"
    hidden = [record.author.name] if record.author.name and (record.anonymous or record.confidential) else []
    return mask_text(text, hidden)


def link_saved(
    conn: Connection,
    channel: str,
    saved: SaveResult,
    calendar: OfficeCalendar,
    due_working_days: int,
    now: datetime,
) -> int:
    """Attach every new or changed record to a case; returns how many cases were opened."""

    def open_for(items: list[SavedRecord]) -> int:
        store_cases.open_cases(
            conn,
            [
                store_cases.NewCase(
                    record_id=item.record_id,
                    channel=item.record.channel,
                    title=case_title(item.record),
                    received_at=item.record.received_at,
                    due_at=calendar.due_at(item.record.received_at, due_working_days),
                    confidential=item.record.confidential,
                )
                for item in items
            ],
            now,
        )
        return len(items)

    complaints: list[SavedRecord] = []
    threaded: list[SavedRecord] = []
    answers: list[SavedRecord] = []
    for item in saved.new:
        if item.record.kind_reason == OFFICE_ANSWER:
            answers.append(item)
        elif item.record.kind is Kind.FOLLOW_UP or cited_case(item.record):
            threaded.append(item)
        elif item.record.kind is Kind.COMPLAINT:
            complaints.append(item)
    # One look-up and one executemany for the batch rather than statements per record; the
    # loop changes no case link, so looking them all up first finds what it would have.
    linked = store_cases.cases_of_records(conn, [item.record_id for item in saved.updated])
    restricted: list[tuple[int, str | None]] = []
    for item in saved.updated:
        case_id = linked.get(item.record_id)
        if case_id is None:
            if item.record.kind is not Kind.NOT_COMPLAINT:
                complaints.append(item)
        elif item.record.confidential:
            restricted.append((case_id, case_title(item.record)))
    store_cases.restrict_cases(conn, restricted, now)
    # Complaints first, so a follow-up fetched in the same batch finds its thread's case.
    opened = open_for(complaints)
    for item in threaded:
        found = thread_case(conn, channel, item.record)
        if found is None:
            # A follow-up whose thread we never saw is still someone waiting for an answer.
            opened += open_for([item])
        else:
            case_id, evidence = found
            store_cases.link_record(conn, item.record_id, case_id, "follow_up", now, evidence=evidence)
    for item in answers:
        # The office answered on the thread: the answer belongs to the case it answers, and the
        # audit log says when it was given. An answer outside any known thread stays a record.
        found = thread_case(conn, channel, item.record)
        if found is not None:
            case_id, evidence = found
            store_cases.link_record(conn, item.record_id, case_id, OFFICE_ANSWER, now, evidence=evidence)
            record_audit(conn, store_cases.SYSTEM, "answered", now, case_id=case_id,
                         record_id=item.record_id, detail={"channel": channel, **evidence})
    return opened


def cited_case(record: ComplaintRecord) -> tuple[int, str] | None:
    """The case id and number (PGD-2026-000123) the subject quotes, if any."""
    match = CASE_NUMBER.search(record.subject or "")
    case_id = parse_case_number(match.group(0)) if match else None
    return (case_id, match.group(0).upper()) if case_id and match else None


def thread_case(
    conn: Connection, channel: str, record: ComplaintRecord
) -> tuple[int, dict[str, str]] | None:
    """The case this record continues: the item it answers, an earlier one of its thread
    (nearest first), or the case number its subject quotes; with the evidence."""
    references = record.extra.get("references") or []
    for key, ref in [("in_reply_to", record.in_reply_to), *(("references", r) for r in reversed(references))]:
        if ref:
            case_id = store_cases.case_of_source(conn, channel, ref)
            if case_id is not None:
                return case_id, {key: ref}
    cited = cited_case(record)
    if cited and store_cases.get_case(conn, cited[0]) is not None:
        return cited[0], {"case_number": cited[1]}
    return None
