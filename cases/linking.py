"""Deciding which case each newly saved record belongs to.

A new complaint joins the open case of the same complaint (cross-channel duplicate linking,
``cases/dedup.py``: MinHash-LSH + identity guard + rarity + template rule, thresholds in
``[linking]``) or opens its own, maybe with a possible-duplicate suggestion for staff; a
follow-up joins the case of the item it answers, of the case number it quotes, or of the LAPOR
Tracking ID it cites ("#9301187", "nomor laporan 9301187", "no. tracking 9301187"); when that
case is archived a new case opens that links back to it. A record that is not a complaint
opens none. A record that turns confidential restricts its case.

Entry point: ``link_saved(conn, channel, saved, calendar, due_working_days, now, linking=None,
ready=None)``
(``linking``: the ``[linking]`` settings, None meaning their defaults; ``ready``: fingerprints
made ahead, by content digest).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from pengaduan.cases.dedup import Fingerprint, link_complaints
from pengaduan.cases.link_settings import LinkingSettings

from pengaduan.cases.calendar import OfficeCalendar
from pengaduan.cases.status import CASE_NUMBER, CaseStatus, parse_case_number
from pengaduan.normalizer.pii import mask_text
from pengaduan.normalizer.record import OFFICE_ANSWER, Author, ComplaintRecord, Kind
from pengaduan.store import cases as store_cases
from pengaduan.store import links as store_links
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


def stored_case_title(row: Mapping[str, Any]) -> str:
    """``case_title`` of a stored record (a ``records`` row): its text, and the name it must
    hide when the reporter is anonymous or the report confidential."""
    content = row["content"]
    return case_title(ComplaintRecord(
        channel=row["channel"], source_id=row["source_id"], received_at=row["received_at"],
        body=content.get("body") or "", subject=content.get("subject"),
        author=Author(name=(content.get("author") or {}).get("name")),
        anonymous=bool(content.get("anonymous")), confidential=row["confidential"]))


def link_saved(
    conn: Connection,
    channel: str,
    saved: SaveResult,
    calendar: OfficeCalendar,
    due_working_days: int,
    now: datetime,
    linking: LinkingSettings | None = None,
    ready: Mapping[str, Fingerprint] | None = None,
) -> int:
    """Attach every new or changed record to a case; returns how many cases were opened.
    ``ready``: the fingerprints of complaints made ahead (``dedup.fingerprints``)."""
    linking = linking or LinkingSettings()

    def open_for(items: list[SavedRecord]) -> list[int]:
        return store_cases.open_cases(
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

    complaints: list[SavedRecord] = []
    threaded: list[SavedRecord] = []
    answers: list[SavedRecord] = []
    citing: list[SavedRecord] = []  # complaints citing a LAPOR Tracking ID
    for item in saved.new:
        if item.record.kind_reason == OFFICE_ANSWER:
            answers.append(item)
        elif item.record.kind is Kind.FOLLOW_UP or cited_case(item.record):
            threaded.append(item)
        elif item.record.kind is Kind.COMPLAINT and cited_tracking_ids(item.record):
            citing.append(item)
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
    opened = link_complaints(conn, complaints, linking, open_for, now, ready)
    # After the batch's complaints have cases, so a citation of a report in this batch resolves.
    unresolved = []
    for item in citing:
        (threaded if thread_case(conn, channel, item.record) else unresolved).append(item)
    opened += link_complaints(conn, unresolved, linking, open_for, now, ready)
    for item in threaded:
        found = thread_case(conn, channel, item.record)
        if found is None:
            # A follow-up whose thread we never saw is still someone waiting for an answer.
            opened += len(open_for([item]))
            continue
        case_id, evidence = found
        case = store_cases.get_case(conn, case_id)
        if case is not None and case["status"] == str(CaseStatus.DIARSIPKAN):
            # The complainant writes again after the case was archived: a new case, linked back.
            (new_id,) = open_for([item])
            opened += 1
            store_links.add_relations(conn, [{"case_id": new_id, "related_case_id": case_id,
                                              "kind": "reopened_from", "evidence": evidence}], now)
            record_audit(conn, store_cases.SYSTEM, "reopened", now, case_id=new_id,
                         record_id=item.record_id, detail={"from_case": case_id, **evidence})
        else:
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
        # A case staff merged into another lives on there: the follow-up goes where its
        # records went, not to a new case "reopened" from the closed one.
        return store_links.merged_into(conn, cited[0]) or cited[0], {"case_number": cited[1]}
    for tracking_id in cited_tracking_ids(record):
        if channel == LAPOR and tracking_id == record.source_id:
            continue
        case_id = store_cases.case_of_source(conn, LAPOR, tracking_id)
        if case_id is not None:
            return case_id, {"lapor_tracking_id": tracking_id}
    return None


LAPOR = "lapor"
# "#9301187", "nomor laporan 9301187", "no. tracking 9301187", "tracking id: 9301187",
# "no laporan lapor #9301187": a LAPOR Tracking ID is 6 to 10 digits.
_TRACKING_ID = re.compile(
    r"(?:#|\b(?:nomor|nomer|no\.?)\s*(?:laporan|tracking|pengaduan)(?:\s*(?:id|lapor!?))?"
    r"|\btracking\s*id)\s*[:.]?\s*#?\s*(\d{6,10})\b|#(\d{6,10})\b",
    re.IGNORECASE,
)


def cited_tracking_ids(record: ComplaintRecord) -> list[str]:
    """LAPOR Tracking IDs the subject or body cites, in order."""
    text = " ".join(filter(None, [record.subject, record.body]))
    return [a or b for a, b in _TRACKING_ID.findall(text)]
