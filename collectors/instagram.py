"""``instagram``: every comment and reply on the office's Instagram business account.

Media come from ``/{ig-user-id}/media`` (``since``: ``backfill_days`` on the first run); a
media is read again only when its ``comments_count`` (which counts replies) changed, since
Instagram's comments edge has no time filter and no edit time (social-apis.md §2.2–2.3).
An idle poll is one request: the first page of that listing (the newest 50 media) and their
counts. Every ``sweep_minutes`` (60) a run lists the whole window instead, so a comment on a
media further back is found within the hour (``graph.GraphCommentsCollector``). An edit
changes no count, so it is seen only when its media is read again for another reason.
Each media's comments come from ``/{media-id}/comments`` with ``replies{...}`` expanded; a
nested ``replies.paging.next`` is followed to the end. Comments are returned newest first and
at most 50 a page; nothing stops early.

If a read finds fewer comments than ``comments_count`` right after the count moved, the
media is read once more in the next run: a comment can be counted before the edge shows it.
The cursor and the watermark rule are ``graph.GraphCommentsCollector``'s; deletion and hiding
work as on Facebook (``hidden`` in the JSON; a vanished comment becomes a tombstone with the
same id). Instagram-Login tokens last 60 days: set ``token_expires_at`` and every run warns
``token_warn_days`` before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pengaduan.collectors.base import RawItem
from pengaduan.collectors.graph import (
    GraphCommentsCollector,
    Listing,
    Scan,
    canonical_json,
    parse_graph_time,
    read_edge,
    unix,
)
from pengaduan.collectors.graph_errors import renew_hint
from pengaduan.errors import ConfigError
from pengaduan.normalizer.instagram import normalize_instagram_comment
from pengaduan.settings import Secret

MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp,comments_count,username"
REPLY_FIELDS = "id,text,timestamp,username,from{id,username},parent_id,like_count,hidden,user"
COMMENT_FIELDS = (
    "id,text,timestamp,username,from{id,username},like_count,hidden,parent_id,user,"
    f"replies{{{REPLY_FIELDS}}}"
)


@dataclass(frozen=True)
class InstagramConfig:
    ig_user_id: str
    access_token: Secret
    api_base: str = "https://graph.facebook.com/v23.0"
    backfill_days: int = 180
    overlap_minutes: int = 15
    page_size: int = 50  # Instagram returns at most 50 comments a page
    # Every run reads the first page of media; every media of the window is listed this often.
    sweep_minutes: int = 60
    # When the token stops working (Instagram-Login tokens: 60 days); warn this many days before.
    token_expires_at: date | None = None
    token_warn_days: int = 7

    def __post_init__(self) -> None:
        if self.token_expires_at is not None and expiry_date(self.token_expires_at) is None:
            raise ConfigError(
                f"token_expires_at {self.token_expires_at!r} is not a date; write it as "
                "token_expires_at = 2026-12-31"
            )


def expiry_date(value: Any) -> date | None:
    """A TOML date, datetime or ISO string as a date; None when it is none of those."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


class InstagramCollector(GraphCommentsCollector):
    type = "instagram"
    channel = "instagram"
    Config = InstagramConfig
    token_kind = "Instagram access token"
    what = "media"
    normalize = staticmethod(normalize_instagram_comment)

    config: InstagramConfig

    def warnings(self, now: datetime) -> list[str]:
        expires = expiry_date(self.config.token_expires_at)
        if expires is None:
            return []
        days = (expires - now.date()).days
        if days > self.config.token_warn_days:
            return []
        when = "has expired" if days < 0 else f"expires in {days} days"
        return [
            f"the Instagram access token {when} ({expires.isoformat()}): refresh it "
            f"(GET /refresh_access_token?grant_type=ig_refresh_token), "
            f"{renew_hint(self.config.access_token)} and update token_expires_at"
        ]

    def list_posts(
        self, since: datetime, until: datetime,
        follow: Callable[[list[dict[str, Any]]], bool] | None,
    ) -> Listing:
        params = {
            "fields": MEDIA_FIELDS,
            "since": unix(since),
            "until": unix(until),
            "limit": self.config.page_size,
        }
        return read_edge(
            self.http, f"{self.config.ig_user_id}/media", params, self.config.access_token,
            f"media of account {self.config.ig_user_id}", follow=follow,
        )

    def marker(self, post: dict[str, Any]) -> tuple[Any, int]:
        return _count(post), unix(parse_graph_time(post.get("timestamp")))

    def has_comments(self, post: dict[str, Any]) -> bool:
        return _count(post) != 0

    def read_post(self, post: dict[str, Any]) -> Scan:
        media_id = str(post["id"])
        token = self.config.access_token
        listing = read_edge(
            self.http, f"{media_id}/comments",
            {"fields": COMMENT_FIELDS, "limit": self.config.page_size}, token,
            f"comments of media {media_id}",
        )
        scan = Scan([], {}, listing.complete, listing.notes)
        base_meta = {
            "post_id": media_id,
            "permalink": post.get("permalink"),
            "owner_id": self.config.ig_user_id,
            "owner_username": post.get("username"),
        }
        for comment in listing.items:
            self._add(scan, comment, {**base_meta, "parent": None})
            edge = comment.get("replies")
            if not isinstance(edge, dict):
                continue
            replies = read_edge(
                self.http, f"{comment.get('id')}/replies",
                {"fields": REPLY_FIELDS, "limit": self.config.page_size}, token,
                f"replies to comment {comment.get('id')}", first_page=edge,
            )
            scan.complete = scan.complete and replies.complete
            scan.notes += replies.notes
            sender = comment.get("from") if isinstance(comment.get("from"), dict) else {}
            for reply in replies.items:
                self._add(scan, reply, {
                    **base_meta,
                    "parent": reply.get("parent_id") or comment.get("id"),
                    "parent_author_id": sender.get("id"),
                    "parent_author_username": comment.get("username") or sender.get("username"),
                })
        counted = _count(post)
        scan.short = counted is not None and len(scan.comments) < counted
        return scan

    def _add(self, scan: Scan, comment: dict[str, Any], meta: dict[str, Any]) -> None:
        item = self.comment_item(comment, meta)
        if item.error is None and item.source_id in scan.comments:
            return  # the same comment twice in one read (paging overlap): once is enough
        scan.items.append(item)
        created = unix(parse_graph_time(comment.get("timestamp")))
        if item.error is None:
            scan.comments[item.source_id] = created
        scan.latest = max(scan.latest, created)

    def tombstone(self, post: dict[str, Any], comment_id: str, created: int) -> RawItem:
        payload = {"id": comment_id, "deleted": True, "media_id": str(post["id"]), "timestamp": created}
        meta = {"post_id": str(post["id"]), "permalink": post.get("permalink"),
                "owner_id": self.config.ig_user_id, "owner_username": post.get("username")}
        return RawItem(comment_id, canonical_json(payload), "application/json", meta)


def _count(post: dict[str, Any]) -> int | None:
    value = post.get("comments_count")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
