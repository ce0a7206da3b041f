"""``facebook_page``: every comment on the office's Facebook Page, read through the Graph API.

The posts of the window come from ``/{page-id}/posts`` (``since``: ``backfill_days`` on the
first run); a post is read again only when its ``updated_time`` moved, which the Graph API
sets on "the time of the last comment that was left on the post" (reference/post). An idle
poll is one request: the first page of that listing (the newest 100 posts), whose
``updated_time`` values show whether any of them got a comment. Every ``sweep_minutes``
(60) a run lists the whole window instead, so a comment on a post older than the first page
(more than ~100 days back at a post a day) is found within the hour, not within the poll
interval (``graph.GraphCommentsCollector`` says how the two runs share the cursor). Each
post's comments come from ``/{post-id}/comments?filter=stream&order=chronological``: replies
included, flat, with ``parent`` (social-apis.md §1.1); the order can still be ranked, so
nothing stops at "the first old one".

One batch per post read: its comments, tombstones of comments gone from it, and the cursor
that marks the post read. The cursor shape and the watermark rule are
``graph.GraphCommentsCollector``'s.

Edits and hides change the comment JSON (``message``, ``is_hidden``), so a post read again
gives a new revision of such comments; a comment gone from a post read completely is yielded
as a tombstone ``{"id", "deleted": true, "post_id", "created_time"}`` with the same source id:
the record is marked deleted and its earlier text stays in the record's revisions. Facebook
does not move ``updated_time`` for an edit, hide or delete alone, so those are seen when the
post is next read for another reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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
from pengaduan.collectors.http import json_object
from pengaduan.normalizer.facebook import normalize_facebook_comment
from pengaduan.settings import Secret

POST_FIELDS = "id,created_time,updated_time,permalink_url"
COMMENT_FIELDS = (
    "id,message,created_time,from{id,name},parent{id},permalink_url,comment_count,"
    "like_count,is_hidden,attachment{type,url}"
)


@dataclass(frozen=True)
class FacebookPageConfig:
    page_id: str
    access_token: Secret
    api_base: str = "https://graph.facebook.com/v23.0"
    backfill_days: int = 180
    # A post changed this long before a run's start is read once more in the next run.
    overlap_minutes: int = 15
    page_size: int = 100  # the Graph maximum for feeds and comments
    # Every run reads the first page of posts; every post of the window is listed this often.
    sweep_minutes: int = 60


class FacebookPageCollector(GraphCommentsCollector):
    type = "facebook_page"
    channel = "facebook"
    Config = FacebookPageConfig
    token_kind = "Page access token"
    what = "post"
    normalize = staticmethod(normalize_facebook_comment)

    config: FacebookPageConfig

    def list_posts(
        self, since: datetime, until: datetime,
        follow: Callable[[list[dict[str, Any]]], bool] | None,
    ) -> Listing:
        params = {
            "fields": POST_FIELDS,
            "since": unix(since),
            "until": unix(until),
            "limit": self.config.page_size,
        }
        return read_edge(
            self.http, f"{self.config.page_id}/posts", params, self.config.access_token,
            f"posts of page {self.config.page_id}", follow=follow,
        )

    def marker(self, post: dict[str, Any]) -> tuple[Any, int]:
        updated = post.get("updated_time") or post.get("created_time")
        return updated, unix(parse_graph_time(updated))

    def read_post(self, post: dict[str, Any]) -> Scan:
        post_id = str(post["id"])
        params = {
            "filter": "stream",
            "order": "chronological",
            "fields": COMMENT_FIELDS,
            "limit": self.config.page_size,
        }
        listing = read_edge(
            self.http, f"{post_id}/comments", params, self.config.access_token,
            f"comments of post {post_id}",
        )
        # The whole post is read each time, so every reply's parent is here unless deleted.
        authors = {str(c.get("id")): _author_id(c) for c in listing.items}
        scan = Scan([], {}, listing.complete, listing.notes)
        for comment in listing.items:
            parent = json_object(comment.get("parent")).get("id")
            meta = {
                "post_id": post_id,
                "permalink": comment.get("permalink_url") or post.get("permalink_url"),
                "post_permalink": post.get("permalink_url"),
                "parent": parent,
                "owner_id": self.config.page_id,
                "parent_author_id": authors.get(str(parent)) if parent else None,
            }
            item = self.comment_item(comment, meta)
            scan.items.append(item)
            created = unix(parse_graph_time(comment.get("created_time")))
            if item.error is None:
                scan.comments[item.source_id] = created
            scan.latest = max(scan.latest, created)
        return scan

    def tombstone(self, post: dict[str, Any], comment_id: str, created: int) -> RawItem:
        payload = {
            "id": comment_id,
            "deleted": True,
            "post_id": str(post["id"]),
            "created_time": created,
        }
        meta = {"post_id": str(post["id"]), "post_permalink": post.get("permalink_url"),
                "owner_id": self.config.page_id}
        return RawItem(comment_id, canonical_json(payload), "application/json", meta)


def _author_id(comment: dict[str, Any]) -> str | None:
    sender = comment.get("from")
    return str(sender["id"]) if isinstance(sender, dict) and sender.get("id") else None
