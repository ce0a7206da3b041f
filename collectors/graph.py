"""What the Facebook Page and Instagram collectors share: the Meta Graph API's paging, its
timestamps, and the collector both are (its error classifier is ``graph_errors``).

Paging follows ``paging.next`` until it is missing, the only end-of-data signal the Graph
results guide gives (an empty page may still have ``next``). API cursors are never stored:
they expire. A walk that stops advancing (a ``next`` or ``after`` cursor seen before, a page
of only known ids) is stopped and reported, never spun (restfb #966, facebook-sdk #510).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem, source_id_problem
from pengaduan.collectors.graph_errors import graph_classifier, utcnow
from pengaduan.collectors.http import (
    REDACTED,
    HttpClient,
    ResourceError,
    json_list,
    json_object,
    strip_secret_params,
)
from pengaduan.errors import SourceError
from pengaduan.normalizer.text import text_or_none
from pengaduan.settings import Secret

log = logging.getLogger("pengaduan.graph")

MAX_PAGES = 10_000  # far beyond any real walk: a guard against a server that never ends


# --- timestamps ---------------------------------------------------------------------------


def parse_graph_time(value: Any) -> datetime | None:
    """A Graph timestamp (``2026-11-02T01:15:00+0000``, ``…Z``, or a webhook's unix int) in
    UTC; None when absent or unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError):  # NaN, or beyond the years datetime holds
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for parse in (
        lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%S%z"),
        datetime.fromisoformat,
    ):
        try:
            parsed = parse(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return parsed.astimezone(timezone.utc)
        except ValueError:
            continue
        except OverflowError:  # 0001-01-01 at +14:00 is before the first UTC day datetime holds
            return None
    return None


def canonical_json(value: Any) -> bytes:
    """The bytes a payload is stored as: the same JSON always gives the same bytes."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# --- paging -------------------------------------------------------------------------------


@dataclass
class Listing:
    """Every item of one paged edge, and whether the walk reached the real end."""

    items: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    notes: list[str] = field(default_factory=list)


def read_edge(
    client: HttpClient,
    path: str,
    params: dict[str, Any],
    token: Secret,
    what: str,
    first_page: dict[str, Any] | None = None,
    follow: Callable[[list[dict[str, Any]]], bool] | None = None,
) -> Listing:
    """Read ``path`` page by page (or continue from an inline ``first_page``, e.g. a nested
    ``replies`` edge) until ``paging.next`` is missing; a loop is stopped and noted.

    ``follow``, when given, sees each page's new items before its ``next`` is taken; False
    ends the walk there, on purpose and without a note (the listing is then not complete)."""
    listing = Listing()
    seen_ids: set[str] = set()
    followed: set[str] = set()
    seen_after: set[str] = set()
    auth = {"access_token": token.reveal()}
    page = first_page if first_page is not None else client.get_json(path, {**params, **auth})
    for _ in range(MAX_PAGES):
        if not isinstance(page, dict):
            raise SourceError(f"collector {client.collector}: {what}: the API answered no JSON object")
        data = json_list(page.get("data"))
        fresh = [d for d in data if isinstance(d, dict) and str(d.get("id")) not in seen_ids]
        repeated = bool(data) and not fresh
        for item in fresh:
            seen_ids.add(str(item.get("id")))
            listing.items.append(item)
        paging = json_object(page.get("paging"))
        next_url = paging.get("next")
        if not next_url:
            return listing  # the only end-of-data signal
        if follow is not None and not follow(fresh):
            listing.complete = False
            return listing
        cursors = json_object(paging.get("cursors"))
        after = text_or_none(cursors.get("after"))
        try:
            if not isinstance(next_url, str):
                raise ValueError(type(next_url).__name__)
            public_next = strip_secret_params(next_url, client.secrets)
        except ValueError:
            raise SourceError(
                f"collector {client.collector}: {what}: the API sent a next-page link that is "
                "not a URL; will try again next run"
            ) from None
        loop = None
        if after and after in seen_after:
            # before == after on a one-item page is normal; a cursor that does not move is not.
            loop = "the after cursor does not advance" + (
                " (before == after)" if cursors.get("before") == after else ""
            )
        elif public_next in followed:
            loop = "the next page link repeats one already followed"
        elif repeated:
            loop = "a whole page repeated comments already read"
        if loop:
            listing.complete = False
            listing.notes.append(
                f"{what}: paging stopped after {len(listing.items)} items because {loop}; "
                "the rest is read on a later run"
            )
            log.warning("%s: %s", client.collector, listing.notes[-1])
            return listing
        followed.add(public_next)
        if after:
            seen_after.add(after)
        page = client.get_json(public_next, auth)
    listing.complete = False
    listing.notes.append(f"{what}: paging stopped after {MAX_PAGES} pages")
    return listing


# --- the collector both Graph channels are -------------------------------------------------


@dataclass
class Scan:
    """What reading one post's (or media's) comments gave."""

    items: list[RawItem]
    comments: dict[str, int]  # comment id -> created (unix seconds), for tombstones
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    latest: int = 0  # newest comment time seen (unix), for the overlap rule
    short: bool = False  # fewer comments than the listing counted (Instagram)


class GraphCommentsCollector(Collector):
    """The run both Graph collectors share; a subclass says how to list and read a post.

    Two kinds of run (issue 7: an idle poll costs one request):

    * a **quick poll** asks for the first page of the window's listing only (newest first,
      ``page_size`` posts) and reads the posts on it whose marker moved. It follows
      ``paging.next`` only while a page holds a post the cursor does not know yet (more new
      posts than one page). An idle quick poll is one request.
    * a **sweep** lists every page of the window, as a quick poll would if it never stopped,
      drops posts that left the window and moves the watermark. A run sweeps when the last
      sweep began ``sweep_minutes`` ago or more (or the clock now reads earlier than it),
      and when no sweep ever finished.

    The trade-off: a new comment on a post further back than the first listing page (on a
    page posting daily, Facebook: ~100 days, Instagram: ~50 posts back) is found by the next
    sweep, up to ``sweep_minutes`` later, not by the next poll. Nothing is lost, it is only
    later. ``sweep_minutes = 0`` makes every run a sweep (the cost before issue 7).

    The cursor (plain JSON, small)::

        {"v": 2, "watermark": "2026-11-02T01:00:00+00:00" | null,
         "posts": {"<post/media id>": {"m": <marker>, "t": <unix>, "o": 1 (or absent),
                                       "c": {"<comment id>": <unix>}}}}

    ``watermark``: the start of the last sweep that listed every page of the window and read
    every changed post, minus ``overlap_minutes``. ``m`` says a post changed (Facebook
    ``updated_time``, Instagram ``comments_count``) and ``t`` when; a post is read again when
    ``m`` moved, or when ``o`` is set: ``t`` was less than ``overlap_minutes`` before the run
    that read it began, and a comment can be counted before the comments edge shows it. ``c``
    holds the comment ids seen, so a comment gone from a post read again becomes a tombstone;
    posts that leave the window leave the cursor at a sweep. A ``"v": 1`` cursor (before
    ``o``: a post was read again while ``t`` was after the watermark) is swept with both rules
    until a sweep lists the whole window; its final cursor is then ``"v": 2``.
    """

    # Looked up on the class, so a test can replace them for every instance (and restarts).
    clock: Callable[[], datetime] = staticmethod(utcnow)
    sleep: Callable[[float], None] = staticmethod(time.sleep)
    token_kind = "Page access token"
    what = "post"
    default_interval = "10m"

    def __init__(self, name: str, config: Any):
        super().__init__(name, config)
        token: Secret = config.access_token
        cls = type(self)
        self.http = HttpClient(
            name,
            config.api_base,
            graph_classifier(name, token, self.token_kind, clock=lambda: cls.clock()),
            [token.reveal()],
            sleep=lambda seconds: cls.sleep(seconds),
            clock=lambda: cls.clock(),
        )

    # --- what a subclass says -----------------------------------------------------------

    def list_posts(
        self, since: datetime, until: datetime,
        follow: Callable[[list[dict[str, Any]]], bool] | None,
    ) -> Listing:
        """The window's posts, newest first; ``follow`` as ``read_edge`` takes it."""
        raise NotImplementedError

    def marker(self, post: dict[str, Any]) -> tuple[Any, int]:
        """(what says the post changed, when it last changed, unix seconds)."""
        raise NotImplementedError

    def has_comments(self, post: dict[str, Any]) -> bool:
        """False when the listing alone shows there is nothing to read."""
        return True

    def read_post(self, post: dict[str, Any]) -> Scan:
        raise NotImplementedError

    def tombstone(self, post: dict[str, Any], comment_id: str, created: int) -> RawItem:
        raise NotImplementedError

    def warnings(self, now: datetime) -> list[str]:
        return []

    # --- the run ------------------------------------------------------------------------

    def sweep_due(self, watermark: datetime | None, start: datetime) -> bool:
        """Whether this run lists the whole window (see the class docstring)."""
        if watermark is None:
            return True
        swept = watermark + timedelta(minutes=self.config.overlap_minutes)  # the last sweep's start
        return swept > start or start - swept >= timedelta(minutes=self.config.sweep_minutes)

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        cursor = cursor or {}
        posts = {k: dict(v) for k, v in (cursor.get("posts") or {}).items()}
        watermark = parse_graph_time(cursor.get("watermark"))
        start = self.clock()
        since = start - timedelta(days=self.config.backfill_days)
        if watermark is not None and watermark < since:
            since = watermark  # off for longer than the window: catch up, lose nothing
        legacy = cursor.get("v", 1) < 2
        sweep = legacy or self.sweep_due(watermark, start)
        version = 1 if legacy else 2
        known = set(posts)
        # A quick poll goes on past a page only while the page brings posts never seen.
        follow = None if sweep else (lambda page: any(str(p.get("id")) not in known for p in page))
        listing = self.list_posts(since, start, follow)
        notes = self.warnings(start) + listing.notes
        unsettled = unix(start) - self.config.overlap_minutes * 60

        def dump(mark: datetime | None) -> Cursor:
            return {"v": version, "watermark": mark.isoformat() if mark else None,
                    "posts": {k: dict(v) for k, v in posts.items()}}

        def once_more(changed: int) -> dict[str, int]:
            """The mark that has a post read again: it changed too close to this run."""
            return {"o": 1} if changed > unsettled else {}

        listed = sorted((p for p in listing.items if p.get("id")), key=lambda p: self.marker(p)[1])
        for post in listed:
            post_id = str(post["id"])
            marker, changed = self.marker(post)
            old = posts.get(post_id)
            moved = old is None or old.get("m") != marker
            recent = old is not None and (bool(old.get("o")) or (
                legacy and watermark is not None and old.get("t", 0) > watermark.timestamp()))
            if not (moved or recent):
                continue
            if not self.has_comments(post) and not (old and old.get("c")):
                posts[post_id] = {"m": marker, "t": changed, **once_more(changed), "c": {}}
                continue
            try:
                scan = self.read_post(post)
            except ResourceError as exc:
                notes.append(f"{self.what} {post_id} skipped: it {exc.reason}")
                if old is not None and old.get("e"):
                    # Failed twice: accept it until the post changes again. Once, because
                    # Graph 100/33 is sometimes a throttle in disguise (airbyte #4028).
                    posts[post_id] = {"m": marker, "t": changed, "c": old.get("c", {})}
                else:
                    posts[post_id] = {**(old or {"m": None, "t": changed, "c": {}}), "e": 1}
                yield Batch([], dump(watermark), notes=notes)
                notes = []
                continue
            known_comments = dict((old or {}).get("c") or {})
            items = list(scan.items)
            if scan.complete:
                gone = sorted(set(known_comments) - set(scan.comments))
                items += [self.tombstone(post, i, known_comments[i]) for i in gone]
                comments = dict(scan.comments)
            else:
                comments = {**known_comments, **scan.comments}
            # A short read right after a change is read once more next run.
            latest = max(changed, scan.latest, unix(start) if scan.short and moved else 0)
            # An unfinished read keeps the old marker, so the post is read again next run.
            posts[post_id] = {
                "m": marker if scan.complete else (old or {}).get("m"),
                "t": latest,
                **once_more(latest),
                "c": comments,
            }
            yield Batch(items, dump(watermark), notes=notes + scan.notes)
            notes = []
        if sweep and listing.complete:
            listed_ids = {str(p["id"]) for p in listed}
            for post_id in [k for k in posts if k not in listed_ids]:
                del posts[post_id]  # out of the window (or deleted): nothing left to compare
            watermark = start - timedelta(minutes=self.config.overlap_minutes)
            version = 2  # every post of the window was judged by both rules
        yield Batch([], dump(watermark), notes=notes)

    def close(self) -> None:
        self.http.close()

    # --- items --------------------------------------------------------------------------

    def comment_item(self, raw: dict[str, Any], meta: dict[str, Any]) -> RawItem:
        """One comment as a RawItem: its JSON as received, minus nested edges that are
        stored as their own items (``replies``) or carry the token (``paging``)."""
        payload = {k: v for k, v in raw.items() if k not in ("replies", "paging")}
        data = canonical_json(payload)
        for secret in self.http.secrets:
            # Never seen in a comment, but a stored token is a leaked token: mask it.
            data = data.replace(secret.encode(), REDACTED.encode())
        raw_id = raw.get("id")
        # Graph ids are strings (or numbers in old payloads); anything else is no id.
        comment_id = str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else ""
        problem = source_id_problem(comment_id)
        if problem is None:
            return RawItem(comment_id, data, "application/json", meta)
        return RawItem(
            f"noid:{hashlib.sha256(data).hexdigest()[:16]}", data, "application/json", meta,
            error=f"the API returned a comment whose id cannot be kept: {problem}"
            if comment_id
            else "the API returned a comment without an id (tokens without moderation rights "
            "hide them); use a Page token of a page admin",
        )


def unix(value: datetime | None) -> int:
    return int(value.timestamp()) if value else 0
