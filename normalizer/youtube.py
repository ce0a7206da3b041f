"""Normalise one YouTube comment resource into a complaint record. Pure: no I/O.

The raw item's payload is the ``youtube#comment`` resource exactly as the Data API returned it
(reference/social-apis.md §3.2), top-level comment or reply alike, or the collector's tombstone
of a thread that vanished (``{"id", "deleted": true, "videoId", "publishedAt"}``), which gives
a record marked deleted. ``meta`` carries what the resource itself does not say reliably: the
thread and video it belongs to (a reply read with ``comments.list`` has no ``videoId``), the
channel that owns the video, and for a reply the channel of the comment it answers. Who speaks
decides the kind before any text rule does: the office's own channel answering is its response
(step 5 of the standard), not a complaint; the author of a thread replying in it is following
up on their own complaint.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from typing import Any

from pengaduan.collectors.base import RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer import comment_triage
from pengaduan.normalizer.record import OFFICE_ANSWER, SOURCE_STATUS_MAX, Author, ComplaintRecord, Kind
from pengaduan.normalizer.text import clean_line, clean_text, text_or_none

CHANNEL = "youtube"
WATCH_URL = "https://www.youtube.com/watch?v={video}&lc={comment}"

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def normalize_youtube_comment(item: RawItem) -> ComplaintRecord:
    """Turn one stored comment resource into a record, or raise RecordError."""
    comment = _load(item)
    if comment.get("deleted") is True:
        return _tombstone_record(item, comment)
    snippet = comment.get("snippet")
    if not isinstance(snippet, dict):
        raise RecordError(f"YouTube comment {item.source_id}: the resource has no snippet")
    meta = item.meta
    received_at = parse_time(snippet.get("publishedAt"))
    if received_at is None:
        raise RecordError(
            f"YouTube comment {item.source_id}: publishedAt {snippet.get('publishedAt')!r} is "
            "not a timestamp"
        )
    body = comment_text(snippet)
    if not body:
        raise RecordError(f"YouTube comment {item.source_id}: the comment has no text")

    author_channel = _author_channel(snippet)
    parent_id = text_or_none(snippet.get("parentId")) or text_or_none(meta.get("parent_id"))
    owner = meta.get("owner_channel_id")
    if author_channel and owner and author_channel == owner:
        kind, reason = Kind.NOT_COMPLAINT, OFFICE_ANSWER
    elif parent_id and author_channel and author_channel == meta.get("parent_author_channel_id"):
        kind, reason = Kind.FOLLOW_UP, None
    else:
        kind, reason = comment_triage.triage_comment(body)

    video = text_or_none(snippet.get("videoId")) or text_or_none(meta.get("video_id"))
    # Documented values are short words; anything longer is cut to what the store keeps.
    status = text_or_none(snippet.get("moderationStatus"))
    status = status[:SOURCE_STATUS_MAX] if status else None
    extra: dict[str, Any] = {
        "video_id": video,
        "thread_id": meta.get("thread_id") or parent_id or item.source_id,
        "like_count": snippet.get("likeCount"),
        "updated_at": snippet.get("updatedAt"),
        "moderation_status": status,
    }
    updated = parse_time(snippet.get("updatedAt"))
    if updated is not None and updated > received_at:
        extra["edited"] = True  # YouTube's only edit signal (§3.2)
    return ComplaintRecord(
        channel=CHANNEL,
        source_id=item.source_id,
        received_at=received_at,
        body=body,
        kind=kind,
        kind_reason=reason,
        author=Author(
            name=clean_line(snippet.get("authorDisplayName")) or None, handle=author_channel
        ),
        source_url=WATCH_URL.format(video=video, comment=item.source_id) if video else None,
        in_reply_to=parent_id,
        source_status=status,
        extra={k: v for k, v in extra.items() if v is not None},
    )


def _tombstone_record(item: RawItem, data: dict[str, Any]) -> ComplaintRecord:
    """A thread YouTube no longer lists: the record is marked, its earlier text stays in the
    record's revisions (same shape as the Facebook and Instagram tombstones)."""
    received_at = parse_time(data.get("publishedAt"))
    if received_at is None:
        raise RecordError(f"YouTube tombstone {item.source_id}: no publishedAt")
    video = text_or_none(data.get("videoId")) or text_or_none(item.meta.get("video_id"))
    return ComplaintRecord(
        channel=CHANNEL,
        source_id=item.source_id,
        received_at=received_at,
        body="",
        kind=Kind.NOT_COMPLAINT,
        kind_reason="deleted_on_platform",
        source_url=WATCH_URL.format(video=video, comment=item.source_id) if video else None,
        source_status="deleted",
        source_state="deleted",
        extra={"deleted": True, "video_id": video, "thread_id": item.source_id},
    )


def comment_text(snippet: dict[str, Any]) -> str:
    """``textOriginal`` as typed; else ``textDisplay`` with its HTML undone (§3.1)."""
    original = snippet.get("textOriginal")
    if isinstance(original, str) and original.strip():
        return clean_text(original)
    display = snippet.get("textDisplay")
    if not isinstance(display, str):
        return ""
    # textFormat=html wraps links and timestamps in <a> and breaks lines with <br>.
    return clean_text(html.unescape(_TAG.sub("", _BREAK.sub("\n", display))))


def parse_time(value: Any) -> datetime | None:
    """``2024-04-28T12:05:10Z`` (or with an offset) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01 at +14:00 is before the first UTC day datetime holds
        return None


def _author_channel(snippet: dict[str, Any]) -> str | None:
    channel = snippet.get("authorChannelId")
    value = channel.get("value") if isinstance(channel, dict) else None
    return value if isinstance(value, str) and value else None


def _load(item: RawItem) -> dict[str, Any]:
    try:
        data = json.loads(item.payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordError(
            f"YouTube comment {item.source_id}: the payload is not JSON ({exc})"
        ) from None
    if not isinstance(data, dict):
        raise RecordError(f"YouTube comment {item.source_id}: the payload is not a JSON object")
    return data
