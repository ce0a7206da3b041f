"""Normalise one Facebook Page comment (Graph API JSON) into a complaint record. Pure.

The payload is the comment as the Graph API returned it (fields: reference/social-apis.md
§1.2): ``message`` may be empty (a sticker or photo), ``from`` may be missing (Zammad dropped
those comments; here the author is simply unknown), ``parent`` is set on replies only. The
collector adds in ``meta``: ``owner_id`` (the page), ``parent_author_id`` (who wrote the
comment a reply answers), ``permalink`` and ``post_id``.

Who speaks decides the kind before any text rule: the page itself is the office answering
(``not_complaint``, reason ``office_answer``: it belongs on the case, it opens none); a reply
by the author of the comment it answers is a ``follow_up`` of that thread's case; everything
else goes to ``comment_triage``. A tombstone (``{"id", "deleted": true}``, written by the
collector when a comment vanished) gives a record marked deleted; the text it had stays in the
record's revisions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pengaduan.collectors.base import RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer.comment_triage import triage_comment
from pengaduan.normalizer.record import OFFICE_ANSWER, Author, ComplaintRecord, Kind
from pengaduan.normalizer.text import clean_line, clean_text, text_or_none

CHANNEL = "facebook"
# Attachments that carry a picture of the problem: with no text, still worth a look.
_EVIDENCE_TYPES = {"photo", "video_inline", "video", "share", "file_upload", "album"}


def load_payload(item: RawItem) -> dict[str, Any]:
    try:
        data = json.loads(item.payload)
    except (ValueError, UnicodeDecodeError):
        raise RecordError(f"comment {item.source_id}: the stored payload is not JSON") from None
    if not isinstance(data, dict):
        raise RecordError(f"comment {item.source_id}: the stored payload is not a JSON object")
    return data


def parse_time(value: Any) -> datetime | None:
    """Graph time (``+0000``), ISO with ``Z``, or unix seconds, in UTC; None if unreadable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError):  # NaN, or beyond the years datetime holds
            return None
    if not isinstance(value, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", None):
        try:
            parsed = datetime.strptime(value, fmt) if fmt else datetime.fromisoformat(value)
            aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
            return aware.astimezone(timezone.utc)
        except ValueError:
            continue
        except OverflowError:  # 0001-01-01 at +14:00 is before the first UTC day datetime holds
            return None
    return None


def comment_kind(
    text: str,
    *,
    by_owner: bool,
    is_reply: bool,
    by_parent_author: bool,
    has_evidence: bool,
) -> tuple[Kind, str | None]:
    """The kind of a social-media comment and why (shared by Facebook and Instagram)."""
    if by_owner:
        return Kind.NOT_COMPLAINT, OFFICE_ANSWER
    if is_reply and by_parent_author:
        return Kind.FOLLOW_UP, "reply_by_thread_author"
    if not text:
        return (Kind.COMPLAINT, "attachment_without_text") if has_evidence else (Kind.NOT_COMPLAINT, "no_text")
    return triage_comment(text)


def tombstone_record(
    channel: str, item: RawItem, data: Mapping[str, Any], time_key: str
) -> ComplaintRecord:
    """The record of a comment the platform no longer shows: marked, never erased."""
    received = parse_time(data.get(time_key)) or parse_time(0)
    assert received is not None
    return ComplaintRecord(
        channel=channel,
        source_id=item.source_id,
        received_at=received,
        body="",
        kind=Kind.NOT_COMPLAINT,
        kind_reason="deleted_on_platform",
        source_url=text_or_none(item.meta.get("permalink")) or text_or_none(item.meta.get("post_permalink")),
        source_status="deleted",
        source_state="deleted",
        extra={"deleted": True, "post_id": item.meta.get("post_id")},
    )


def normalize_facebook_comment(item: RawItem) -> ComplaintRecord:
    """One stored Facebook comment (or tombstone) as a record, or RecordError."""
    data = load_payload(item)
    meta = item.meta
    if data.get("deleted") is True:
        return tombstone_record(CHANNEL, item, data, "created_time")
    received = parse_time(data.get("created_time"))
    if received is None:
        raise RecordError(f"comment {item.source_id}: created_time {data.get('created_time')!r} is not a time")
    sender = data.get("from") if isinstance(data.get("from"), dict) else {}
    author_id = str(sender["id"]) if sender.get("id") else None
    parent = data.get("parent") if isinstance(data.get("parent"), dict) else {}
    parent_id = parent.get("id") or meta.get("parent") or None
    body = clean_text(data.get("message") if isinstance(data.get("message"), str) else "")
    attachment = data.get("attachment") if isinstance(data.get("attachment"), dict) else None
    owner = meta.get("owner_id")
    kind, reason = comment_kind(
        body,
        by_owner=bool(owner) and author_id == str(owner),
        is_reply=bool(parent_id),
        by_parent_author=author_id is not None and author_id == meta.get("parent_author_id"),
        has_evidence=bool(attachment) and str(attachment.get("type")) in _EVIDENCE_TYPES,
    )
    hidden = data.get("is_hidden") is True
    extra: dict[str, Any] = {"post_id": meta.get("post_id"), "hidden": hidden}
    for key in ("like_count", "comment_count"):
        if isinstance(data.get(key), int):
            extra[key] = data[key]
    if attachment:
        extra["attachment"] = {k: attachment[k] for k in ("type", "url") if k in attachment}
    return ComplaintRecord(
        channel=CHANNEL,
        source_id=item.source_id,
        received_at=received,
        body=body,
        kind=kind,
        kind_reason=reason,
        author=Author(name=clean_line(sender.get("name")) or None, handle=author_id),
        source_url=text_or_none(data.get("permalink_url")) or text_or_none(meta.get("permalink")),
        in_reply_to=str(parent_id) if parent_id else None,
        source_status="hidden" if hidden else None,
        source_state="hidden" if hidden else None,
        extra=extra,
    )
