"""``youtube``: every comment on a channel's videos, polled through the YouTube Data API v3.

What the API does and how we read it (reference/social-apis.md §3, §5):

* **New threads**: ``commentThreads.list?allThreadsRelatedToChannelId`` with ``order=time``
  lists threads newest first, except that a pinned thread comes first on page 1 whatever its
  age. Paging goes on while the page reaches back past the cutoff (the watermark; on the first
  run, ``backfill_days`` ago) and stops only when the last item of a page is older than that;
  a page holding a single item on page 1 may be the pinned one and never stops the walk.
* **Replies**: a thread carries a subset of its replies; when ``totalReplyCount`` is larger,
  ``comments.list?parentId`` (paged) gives them all.
* **New replies on old threads** do not move a thread up the list. A thread still on the
  pages a poll reads shows them in its ``totalReplyCount``; further back they are found by
  counts, in a **sweep**: the cursor keeps each tracked thread's reply count and each
  tracked video's ``statistics.commentCount``. A sweep starts with ``videos.list`` for the
  tracked videos (1 unit per 50); a video whose count moved is read again in full
  (``commentThreads.list?videoId``) and every thread whose reply count moved has its
  replies read again. The counts are taken *before* reading, so a comment that arrives
  during the run changes the count again and is found next time. The first run takes them
  from the uploads playlist. With an owner token a sweep also lists the comments held for
  review (one listing per ``moderation_statuses``).
* **Sweeps** run every ``sweep_minutes`` (60; ``counted`` in the cursor is when the last
  whole one began), and at once when the clock reads earlier than that. Every other run is
  a quick poll: the channel listing only, so an idle poll is **one request** (issue 7). The
  trade-off: a new reply to or an edit of a thread older than the listing's first page
  (~20 newest threads, §3.1), the deletion of any thread, and a comment YouTube holds for
  review are found by the next sweep, up to ``sweep_minutes`` later, never lost.
  ``sweep_minutes = 0`` sweeps on every run (the cost before issue 7).
* **Cursor**: ``{"watermark": ISO time, "counted": ISO time, "videos": {id: commentCount},
  "threads": {id: [video, totalReplyCount, fingerprint, published epoch]}}``. The watermark
  is a time, never a page token (tokens expire); it advances only in the final batch of a
  run that read every page of its window, to the run's start minus ``overlap_minutes``.
  Every batch's cursor records the threads that batch holds, so a restarted run pages past
  them without yielding them again. Threads older than ``backfill_days`` are dropped from
  the cursor.
* **Quota**: an idle poll costs 1 unit (page 1 of the channel listing); a sweep adds
  ``ceil(tracked videos / 50)`` units for the counts, one per moderation listing and the
  re-reads of videos whose count moved. ``quotaExceeded`` stops every call until midnight
  Pacific time.

Edits (``updatedAt`` moved, text changed) and moderation changes change a thread's
fingerprint, so the thread is yielded again and the store keeps a revision. A tracked thread
missing from a whole re-read of its video was deleted: it is yielded as a tombstone
``{"id", "deleted": true, "videoId", "publishedAt"}`` under its own id, so its record is
marked, never erased (replies are not tracked one by one, so only threads get tombstones).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem, source_id_problem
from pengaduan.collectors.http import HttpClient, ResourceError, json_list, json_object
from pengaduan.collectors.youtube_api import Pager, YoutubeClassifier, reached
from pengaduan.errors import SourceError
from pengaduan.normalizer.text import text_or_none
from pengaduan.normalizer.youtube import normalize_youtube_comment, parse_time
from pengaduan.settings import Secret

IDS_PER_CALL = 50  # videos.list and playlistItems.list take at most 50 ids / results


@dataclass(frozen=True)
class YoutubeConfig:
    channel_id: str  # UC…
    api_key: Secret
    # The channel owner's OAuth access token: also reads the comments YouTube holds back.
    oauth_token: Secret | None = None
    moderation_statuses: list[str] = field(default_factory=lambda: ["heldForReview", "likelySpam"])
    api_base: str = "https://www.googleapis.com/youtube/v3"
    backfill_days: int = 180
    overlap_minutes: int = 30
    max_results: int = 100
    # Every run reads the channel's newest threads; counts and held comments this often.
    sweep_minutes: int = 60


class YoutubeCollector(Collector):
    type = "youtube"
    channel = "youtube"
    Config = YoutubeConfig
    default_interval = "15m"  # 96 idle polls a day cost a few hundred of 10 000 units
    normalize = staticmethod(normalize_youtube_comment)

    config: YoutubeConfig

    def __init__(
        self,
        name: str,
        config: YoutubeConfig,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(name, config)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.sleep = sleep
        self.classify = YoutubeClassifier(
            name, config.channel_id, config.api_key, config.oauth_token, self.clock
        )
        self.http: HttpClient | None = None
        self.calls = 0  # requests sent by this instance over all its runs: the quota spent

    # --- the run -----------------------------------------------------------------------

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        self.http = self.http or self._client()
        run = _Run(self, cursor or {}, self.clock())
        sweep = run.sweep_due()
        # Counts first: whatever arrives while we read changes them again (see the docstring).
        # Until a window was read whole (no watermark yet) every upload gets its baseline.
        counts: dict[str, int | None] = {}
        if run.watermark is None:
            counts, cutoff = self._upload_counts(), run.horizon
        else:
            if sweep:
                counts = self._video_counts(sorted(run.videos))
            cutoff = max(run.horizon, run.watermark)
        if sweep:
            run.note_vanished(counts)
        listing = {"allThreadsRelatedToChannelId": self.config.channel_id}
        try:
            complete = yield from run.listing("the channel's threads", listing, cutoff, counts)
        except ResourceError as exc:
            raise SourceError(
                f"collector {self.name}: YouTube will not list the comments of channel "
                f"{self.config.channel_id} ({exc.reason})"
            ) from None
        swept = sweep  # and every part of the sweep read whole
        if sweep and self.config.oauth_token is not None:
            for status in self.config.moderation_statuses:
                held = {**listing, "moderationStatus": status}
                swept &= yield from run.listing(
                    f"comments {status}", held, run.horizon, counts, run.held
                )
        for video, count in sorted(counts.items()):
            if video in run.videos and run.videos[video] != count:
                swept &= yield from run.rescan_video(video, count, counts)
        if complete:
            run.watermark = run.started - timedelta(minutes=self.config.overlap_minutes)
        if swept:
            run.counted = run.started
        yield run.batch([])

    def close(self) -> None:
        if self.http is not None:
            self.calls += self.http.calls
            self.http.close()
            self.http = None

    # --- calls -------------------------------------------------------------------------

    def _client(self) -> HttpClient:
        secrets = [self.config.api_key.reveal()]
        if self.config.oauth_token is not None:
            secrets.append(self.config.oauth_token.reveal())
        client = HttpClient(
            self.name, self.config.api_base, self.classify, secrets, sleep=self.sleep,
            clock=self.clock,
        )
        if self.config.oauth_token is not None:
            bearer = f"Bearer {self.config.oauth_token.reveal()}"
            client.session.headers["Authorization"] = bearer
        return client

    def get(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
        assert self.http is not None
        data = self.http.get_json(endpoint, {**params, "key": self.config.api_key.reveal()})
        if not isinstance(data, dict):
            raise SourceError(f"collector {self.name}: {endpoint} answered with something not JSON")
        return data

    def pages(self, endpoint: str, params: Mapping[str, Any], what: str, notes: list[str]) -> Pager:
        return Pager(self.get, self.name, endpoint, params, what, notes)

    def _upload_counts(self) -> dict[str, int | None]:
        """commentCount of every upload: the first run's baseline, taken before reading."""
        channel = self.get("channels", {"part": "contentDetails", "id": self.config.channel_id})
        items = [i for i in json_list(channel.get("items")) if isinstance(i, dict)]
        if not items:
            raise SourceError(
                f"collector {self.name}: YouTube knows no channel {self.config.channel_id}; "
                f"check channel_id in [collectors.{self.name}]"
            )
        playlists = json_object(json_object(items[0].get("contentDetails")).get("relatedPlaylists"))
        uploads = text_or_none(playlists.get("uploads"))
        if not uploads:
            return {}
        videos: list[str] = []
        params = {"part": "contentDetails", "playlistId": uploads, "maxResults": IDS_PER_CALL}
        try:
            for page in self.pages("playlistItems", params, "the uploads playlist", []):
                for entry in json_list(page.get("items")):
                    details = json_object(json_object(entry).get("contentDetails"))
                    video = _video_id(details.get("videoId"))
                    if video is not None and video not in videos:
                        videos.append(video)
        except ResourceError:  # playlistNotFound: a channel that never uploaded anything
            return {}
        return self._video_counts(videos)

    def _video_counts(self, videos: list[str]) -> dict[str, int | None]:
        """statistics.commentCount of ``videos``; None where YouTube gives none (comments off).

        A video left out of the answer is gone (deleted or private) and stops being watched,
        so an answer whose videos cannot be told apart is refused, never read as "all gone".
        """
        counts: dict[str, int | None] = {}
        for start in range(0, len(videos), IDS_PER_CALL):
            asked = videos[start : start + IDS_PER_CALL]
            answer = self.get("videos", {"part": "statistics", "id": ",".join(asked)})
            listed = answer.get("items")
            if not isinstance(listed, list) or not all(
                isinstance(v, dict) and _video_id(v.get("id")) for v in listed
            ):
                raise SourceError(
                    f"collector {self.name}: YouTube answered videos.list without a list of "
                    "videos each with its id; the comment counts are read again next run"
                )
            for video in listed:
                if video["id"] in asked:
                    statistics = json_object(video.get("statistics"))
                    counts[video["id"]] = _comment_count(statistics.get("commentCount"))
        return counts


class _Run:
    """One fetch: the cursor's state as it changes, and what was yielded so far."""

    def __init__(self, collector: YoutubeCollector, cursor: Cursor, started: datetime):
        self.c = collector
        self.config = collector.config
        self.started = started
        self.horizon = started - timedelta(days=self.config.backfill_days)
        self.watermark = parse_time(cursor.get("watermark"))
        self.counted = parse_time(cursor.get("counted"))
        self.videos: dict[str, int | None] = dict(cursor.get("videos") or {})
        floor = self.horizon.timestamp()
        self.threads: dict[str, list[Any]] = {
            tid: list(entry) for tid, entry in (cursor.get("threads") or {}).items()
            if entry[3] >= floor
        }
        tracked = {entry[0] for entry in self.threads.values()}
        self.videos = {v: n for v, n in self.videos.items() if v in tracked}
        self.notes: list[str] = []
        self.held: set[str] = set()  # threads listed as held for review in this run

    def batch(self, items: list[RawItem]) -> Batch:
        cursor: Cursor = {
            "videos": dict(self.videos),
            "threads": {tid: list(entry) for tid, entry in self.threads.items()},
        }
        if self.watermark is not None:
            cursor["watermark"] = self.watermark.isoformat()
        if self.counted is not None:
            cursor["counted"] = self.counted.isoformat()
        notes, self.notes = self.notes, []
        return Batch(items, cursor, notes)

    def sweep_due(self) -> bool:
        """Whether this run checks the counts (see the module docstring)."""
        if self.watermark is None or self.counted is None:
            return True
        since = self.started - self.counted
        return since < timedelta(0) or since >= timedelta(minutes=self.config.sweep_minutes)

    def note_vanished(self, counts: Mapping[str, int | None]) -> None:
        for video in sorted(set(self.videos) - set(counts)):
            self.notes.append(
                f"video {video} is no longer listed (deleted or private); its comments stay "
                "stored and are no longer watched"
            )
            self._forget(video)

    def listing(
        self, what: str, filters: dict[str, Any], cutoff: datetime,
        counts: Mapping[str, int | None], listed: set[str] | None = None,
    ) -> Generator[Batch, None, bool]:
        """Read one commentThreads listing newest first down to ``cutoff``; True if whole.
        The id of every thread it lists is added to ``listed``."""
        params = {
            "part": "snippet,replies", "order": "time", "textFormat": "plainText",
            "maxResults": self.config.max_results, **filters,
        }
        pager = self.c.pages("commentThreads", params, what, self.notes)
        for page in pager:
            threads = [t for t in json_list(page.get("items")) if isinstance(t, dict)]
            if listed is not None:
                listed.update(tid for t in threads if (tid := text_or_none(t.get("id"))))
            items = [i for t in threads for i in self.thread_items(t, counts)]
            if items or self.notes:
                yield self.batch(items)
            if reached(threads, cutoff, first_page=pager.number == 1):
                return True
        return pager.complete

    def rescan_video(
        self, video: str, count: int | None, counts: Mapping[str, int | None]
    ) -> Generator[Batch, None, bool]:
        """A video whose comment count moved: read all of its threads again. A tracked thread
        the whole listing no longer has was deleted (or rejected): it gets a tombstone.
        False when the video is left to be read again (not all of it was read)."""
        listed: set[str] = set()
        try:
            whole = yield from self.listing(
                f"the comments of video {video}", {"videoId": video}, self.horizon, counts, listed
            )
        except ResourceError as exc:
            self.notes.append(f"video {video} skipped: {exc.reason}")
            if exc.reason == "videoNotFound":
                self._forget(video)
            else:
                self.videos[video] = count  # comments turned off: nothing to read until they return
            return True
        if not whole:
            return False  # the count stays old, so the video is read again next sweep
        self.videos[video] = count
        # Held comments are not in the published listing: seen in theirs, they are not gone.
        gone = [
            tid for tid, entry in self.threads.items()
            if entry[0] == video and tid not in listed and tid not in self.held
        ]
        if gone:
            tombstones = [self._tombstone(tid) for tid in gone]
            for tid in gone:
                del self.threads[tid]
            yield self.batch(tombstones)
        return True

    def _tombstone(self, tid: str) -> RawItem:
        video, _, _, published = self.threads[tid]
        at = datetime.fromtimestamp(published, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta = {"video_id": video, "thread_id": tid, "owner_channel_id": self.config.channel_id}
        return _item({"id": tid, "deleted": True, "videoId": video, "publishedAt": at}, meta)

    def thread_items(
        self, thread: dict[str, Any], counts: Mapping[str, int | None]
    ) -> list[RawItem]:
        """The thread's comments when it is new or changed since the cursor; else nothing."""
        tid = text_or_none(thread.get("id"))
        snippet = json_object(thread.get("snippet"))
        top = json_object(snippet.get("topLevelComment"))
        top_snippet = json_object(top.get("snippet"))
        if not tid:
            return []
        published = parse_time(top_snippet.get("publishedAt")) or self.started
        if published < self.horizon:
            return []
        video = text_or_none(snippet.get("videoId")) or text_or_none(top_snippet.get("videoId")) or ""
        inline = json_list(json_object(thread.get("replies")).get("comments"))
        inline = [r for r in inline if isinstance(r, dict)]
        total = _reply_count(snippet.get("totalReplyCount"))
        fingerprint = _fingerprint(top, inline)
        known = self.threads.get(tid)
        if known is not None and known[1] == total and known[2] == fingerprint:
            return []
        replies = {r["id"]: r for r in inline if text_or_none(r.get("id"))}
        read_count = total
        if total > len(replies) and (known is None or known[1] != total):
            if not self._read_replies(tid, replies):
                read_count = -1  # not all read: try again when the thread is listed next
        self.threads[tid] = [video, read_count, fingerprint, int(published.timestamp())]
        if video:  # a comment on no video (the old channel discussion tab) has no count
            self.videos.setdefault(video, counts.get(video))
        owner_meta = {
            "video_id": video, "thread_id": tid, "owner_channel_id": self.config.channel_id,
        }
        items = [_item({**top, "id": text_or_none(top.get("id")) or tid}, owner_meta)]
        parent_author = text_or_none(json_object(top_snippet.get("authorChannelId")).get("value"))
        for reply in replies.values():
            reply_meta = {**owner_meta, "parent_id": tid, "parent_author_channel_id": parent_author}
            items.append(_item(reply, reply_meta))
        return items

    def _read_replies(self, tid: str, replies: dict[str, dict[str, Any]]) -> bool:
        """Add every reply ``comments.list`` gives to ``replies``; True if all were read."""
        params = {
            "part": "snippet", "parentId": tid, "textFormat": "plainText",
            "maxResults": self.config.max_results,
        }
        pager = self.c.pages("comments", params, f"the replies of thread {tid}", self.notes)
        try:
            for page in pager:
                for reply in json_list(page.get("items")):
                    if isinstance(reply, dict) and text_or_none(reply.get("id")):
                        replies.setdefault(reply["id"], reply)
        except ResourceError as exc:  # the thread went away between the two calls
            self.notes.append(f"replies of thread {tid} skipped: {exc.reason}")
            return False
        return pager.complete

    def _forget(self, video: str) -> None:
        self.videos.pop(video, None)
        for tid in [t for t, entry in self.threads.items() if entry[0] == video]:
            del self.threads[tid]


def _fingerprint(top: dict[str, Any], inline: list[dict[str, Any]]) -> str:
    """What makes a thread worth yielding again: an edit, a moderation change, other replies.

    Like counts are left out on purpose: a like is not a new version of a complaint.
    """
    def part(comment: dict[str, Any]) -> list[Any]:
        s = json_object(comment.get("snippet"))
        text = s.get("textOriginal") or s.get("textDisplay")
        return [comment.get("id"), s.get("updatedAt"), text, s.get("moderationStatus")]

    data = json.dumps([part(top), [part(r) for r in inline]], sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()[:12]


def _reply_count(value: Any) -> int:
    """``totalReplyCount`` as a number; a value of another type counts as none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdecimal() else 0


def _video_id(value: Any) -> str | None:
    """A video id the cursor can keep (text, no NUL, not too long), else None."""
    return value if isinstance(value, str) and source_id_problem(value) is None else None


def _comment_count(value: Any) -> int | None:
    """``statistics.commentCount``, a string of digits in the API; else unknown (None)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    if type(value) is int and 0 <= value < 2**63:
        return value
    return None


def _item(comment: dict[str, Any], meta: dict[str, Any]) -> RawItem:
    payload = json.dumps(comment, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    kept_meta = {k: v for k, v in meta.items() if v is not None}
    problem = source_id_problem(comment["id"])
    if problem is None:
        return RawItem(comment["id"], payload, "application/json", kept_meta)
    return RawItem(
        f"noid:{hashlib.sha256(payload).hexdigest()[:16]}", payload, "application/json", kept_meta,
        error=f"YouTube returned a comment whose id cannot be kept: {problem}",
    )
