"""Normalise one Instagram comment or reply (Graph API JSON) into a complaint record. Pure.

Fields (reference/social-apis.md §2.3): ``text`` (not ``message``), ``timestamp``,
``username`` (needs the manage-comments permission, may be missing), ``from{id,username}``
(may be missing), ``parent_id`` on replies, ``hidden``, and ``user{id}``, set only when the
account owner wrote the comment. The collector adds in ``meta``: ``owner_id`` (the IG user
id), ``owner_username`` (the media's ``username``), and for replies ``parent_author_id`` /
``parent_author_username``. Who speaks and the kind follow the Facebook rules
(``normalizer.facebook.comment_kind``).
"""

from __future__ import annotations

from typing import Any

from pengaduan.collectors.base import RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer.facebook import comment_kind, load_payload, parse_time, tombstone_record
from pengaduan.normalizer.record import Author, ComplaintRecord
from pengaduan.normalizer.text import clean_line, clean_text, text_or_none

CHANNEL = "instagram"


def normalize_instagram_comment(item: RawItem) -> ComplaintRecord:
    """One stored Instagram comment (or tombstone) as a record, or RecordError."""
    data = load_payload(item)
    meta = item.meta
    if data.get("deleted") is True:
        return tombstone_record(CHANNEL, item, data, "timestamp")
    received = parse_time(data.get("timestamp"))
    if received is None:
        raise RecordError(f"comment {item.source_id}: timestamp {data.get('timestamp')!r} is not a time")
    sender = data.get("from") if isinstance(data.get("from"), dict) else {}
    author_id = str(sender["id"]) if sender.get("id") else None
    username = clean_line(data.get("username") or sender.get("username")) or None
    owner_user = data.get("user") if isinstance(data.get("user"), dict) else {}
    owner_id = str(meta.get("owner_id") or "")
    by_owner = bool(owner_id) and owner_id in {author_id, str(owner_user.get("id") or "")}
    if username and meta.get("owner_username") and username.casefold() == str(meta["owner_username"]).casefold():
        by_owner = True
    parent_id = data.get("parent_id") or meta.get("parent") or None
    by_parent_author = (author_id is not None and author_id == meta.get("parent_author_id")) or (
        username is not None
        and bool(meta.get("parent_author_username"))
        and username.casefold() == str(meta["parent_author_username"]).casefold()
    )
    body = clean_text(data.get("text") if isinstance(data.get("text"), str) else "")
    kind, reason = comment_kind(
        body, by_owner=by_owner, is_reply=bool(parent_id), by_parent_author=by_parent_author,
        has_evidence=False,
    )
    hidden = data.get("hidden") is True
    extra: dict[str, Any] = {"media_id": meta.get("post_id"), "hidden": hidden}
    if isinstance(data.get("like_count"), int):
        extra["like_count"] = data["like_count"]
    if author_id:
        extra["from_id"] = author_id
    return ComplaintRecord(
        channel=CHANNEL,
        source_id=item.source_id,
        received_at=received,
        body=body,
        kind=kind,
        kind_reason=reason,
        author=Author(name=None, handle=username or author_id),
        source_url=text_or_none(meta.get("permalink")),
        in_reply_to=str(parent_id) if parent_id else None,
        source_status="hidden" if hidden else None,
        source_state="hidden" if hidden else None,
        extra=extra,
    )
