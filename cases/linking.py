"""Deciding which case each newly saved record belongs to.

For now: a new complaint opens a case; a follow-up joins the case of the item it answers; a
record that is not a complaint opens none. A record that turns confidential restricts its
case. Cross-channel duplicate detection builds on this (issue 5).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from pengaduan.cases.calendar import OfficeCalendar
from pengaduan.normalizer.pii import mask_text
from pengaduan.normalizer.record import ComplaintRecord, Kind
from pengaduan.store import cases as store_cases
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

    complaints = [i for i in saved.new if i.record.kind is Kind.COMPLAINT]
    follow_ups = [i for i in saved.new if i.record.kind is Kind.FOLLOW_UP]
    for item in saved.updated:
        case_id = store_cases.case_of_record(conn, item.record_id)
        if case_id is None:
            if item.record.kind is not Kind.NOT_COMPLAINT:
                complaints.append(item)
        elif item.record.confidential:
            store_cases.restrict_case(conn, case_id, case_title(item.record), now)
    # Complaints first, so a follow-up fetched in the same batch finds its thread's case.
    opened = open_for(complaints)
    for item in follow_ups:
        target = item.record.in_reply_to
        case_id = store_cases.case_of_source(conn, channel, target) if target else None
        if case_id is None:
            # A follow-up whose thread we never saw is still someone waiting for an answer.
            opened += open_for([item])
        else:
            store_cases.link_record(
                conn, item.record_id, case_id, "follow_up", now, evidence={"in_reply_to": target}
            )
    return opened
