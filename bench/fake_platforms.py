"""Loopback stand-ins for the Meta Graph API (Facebook Page, Instagram) and the YouTube Data
API v3, for bench/idle_poll.py. Each answers the calls our collectors make, with the shapes
the platform docs show (reference/social-apis.md quotes them), and logs every request it gets,
so the request count of a poll is taken where the platform would count it.

Served with ``pengaduan.collectors.testing.serve_http``; every handler is called as
``handler(path, query)`` and answers ``(status, JSON body)``.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

TOKEN = "EAAGbenchTOKEN0123456789"  # what the collectors are configured with; never real
PAGE_ID = "1234567890321"
IG_USER_ID = "17841400000000000"
CHANNEL_ID = "UCbenchDinsosKarangasem01"
UPLOADS = "UU" + CHANNEL_ID[2:]  # the uploads playlist id is the channel id with UU (§3.5)
THREADS_PER_PAGE = 20  # order=time pages hold about 20 threads whatever maxResults says (§3.1)


@dataclass
class Log:
    """Every request a fake platform answered, as its path."""

    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str) -> None:
        with self.lock:
            self.paths.append(path)


def graph_time(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def google_time(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix(graph: str) -> float:
    return datetime.strptime(graph, "%Y-%m-%dT%H:%M:%S%z").timestamp()


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    return int(base64.urlsafe_b64decode(token.encode()).decode()[2:]) if token else 0


def _paged(items: list[Any], query: dict[str, str], size: int, next_url: str) -> dict[str, Any]:
    """A Graph page (developers.facebook.com/docs/graph-api/results): ``data`` and
    ``paging.cursors``; ``paging.next`` only while more follow, the real end-of-data signal."""
    start = _offset(query.get("after"))
    chunk = items[start : start + size]
    paging: dict[str, Any] = {"cursors": {"before": _token(start), "after": _token(start + size)}}
    if start + size < len(items):
        paging["next"] = next_url + "&after=" + _token(start + size)
    return {"data": chunk, "paging": paging}


class FakeGraph:
    """A Facebook Page's posts or an Instagram account's media, each with some comments.

    ``posts`` items go out one a day (Facebook) or one every two days (Instagram), newest
    first, all older than a day, with comments under every third one, so a second poll finds
    everything settled: what a quiet night looks like to the collector.
    """

    def __init__(self, kind: str, posts: int, now: datetime, texts: list[str]):
        self.kind, self.log, self.base = kind, Log(), ""
        owner = PAGE_ID if kind == "facebook" else IG_USER_ID
        self.listing = f"{owner}/posts" if kind == "facebook" else f"{owner}/media"
        self.posts: list[dict[str, Any]] = []
        self.comments: dict[str, list[dict[str, Any]]] = {}
        step = timedelta(days=1 if kind == "facebook" else 2)
        for n in range(posts):
            created = now - timedelta(days=1, hours=3) - n * step
            post_id = f"{PAGE_ID}_90{n:013d}" if kind == "facebook" else f"1790{n:013d}"
            comments = [self._comment(post_id, c, created + timedelta(hours=c + 1), texts)
                        for c in range(3 if n % 3 == 0 else 0)]
            self.comments[post_id] = comments
            self.posts.append(self._post(post_id, created, comments))

    def _post(self, post_id: str, created: datetime,
              comments: list[dict[str, Any]]) -> dict[str, Any]:
        if self.kind == "facebook":
            # Post fields: developers.facebook.com/docs/graph-api/reference/post; updated_time
            # is "the time of the last comment that was left on the post".
            last = comments[-1]["created_time"] if comments else graph_time(created)
            return {"id": post_id, "created_time": graph_time(created), "updated_time": last,
                    "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{post_id[-15:]}"}
        # IG Media: developers.facebook.com/docs/instagram-platform/instagram-graph-api/
        # reference/ig-user/media (comments_count counts replies too).
        return {"id": post_id, "caption": "Info penyaluran bantuan sosial", "media_type": "IMAGE",
                "media_product_type": "FEED",
                "permalink": f"https://www.instagram.com/p/{post_id[-6:]}/",
                "timestamp": graph_time(created), "comments_count": len(comments),
                "username": "dinsoskarangasem"}

    def _comment(self, post_id: str, n: int, at: datetime, texts: list[str]) -> dict[str, Any]:
        text = texts[(3 * len(self.comments) + n) % len(texts)]
        cid = f"{post_id[-13:]}_{n:05d}"
        if self.kind == "facebook":
            # developers.facebook.com/docs/graph-api/reference/object/comments (§1.5)
            return {"id": cid, "message": text, "created_time": graph_time(at),
                    "from": {"id": f"1000{n}", "name": f"Warga {n}"}, "comment_count": 0,
                    "like_count": 0, "is_hidden": False,
                    "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/"
                                     f"{post_id[-15:]}/?comment_id={n}"}
        # developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        # ig-media/comments (§2.3–2.4)
        return {"id": f"1800{cid}", "text": text, "timestamp": graph_time(at), "like_count": 0,
                "hidden": False, "username": f"warga_{n}",
                "from": {"id": f"1784140000000{n:04d}", "username": f"warga_{n}"}}

    def __call__(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        self.log.add(path)
        if query.get("access_token") != TOKEN:
            return 400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                                   "code": 190, "fbtrace_id": "Abench"}}
        edge = path.removeprefix("/v23.0/")
        keep = {k: v for k, v in query.items() if k != "after"}
        next_url = f"{self.base}{path}?" + "&".join(f"{k}={v}" for k, v in keep.items())
        if edge == self.listing:
            since, until = int(query["since"]), int(query["until"])
            stamp = "created_time" if self.kind == "facebook" else "timestamp"
            listed = [p for p in self.posts if since <= _unix(p[stamp]) <= until]
            return 200, _paged(listed, query, int(query["limit"]), next_url)
        post_id = edge.removesuffix("/comments")
        if post_id in self.comments:
            return 200, _paged(self.comments[post_id], query, int(query["limit"]), next_url)
        return 400, {"error": {"message": "Unsupported get request.", "type": "GraphMethodException",
                               "code": 100, "error_subcode": 33, "fbtrace_id": "Abench"}}


class FakeYoutube:
    """A channel with ``videos`` uploads (one every three days) and two comment threads on each.

    Calls answered: channels.list, playlistItems.list, videos.list and commentThreads.list
    (developers.google.com/youtube/v3/docs/…/list), resource shapes per §3.2.
    """

    def __init__(self, videos: int, now: datetime, texts: list[str]):
        self.log, self.base = Log(), ""
        self.videos = [f"vid{n:08d}" for n in range(videos)]  # 11 characters, as real ids
        self.threads: list[dict[str, Any]] = []
        for n, video in enumerate(self.videos):
            for t in range(2):
                at = now - timedelta(days=1 + 3 * n, hours=2 * t)
                text = texts[(n + t) % len(texts)]
                self.threads.append(self._thread(video, f"Ugx{n:06d}{t}bench", at, text))
        self.threads.sort(key=lambda t: t["snippet"]["topLevelComment"]["snippet"]["publishedAt"],
                          reverse=True)

    @staticmethod
    def _thread(video: str, tid: str, at: datetime, text: str) -> dict[str, Any]:
        author = f"UCwarga{tid[3:9]}"
        comment = {"kind": "youtube#comment", "etag": f"e{tid}", "id": tid, "snippet": {
            "channelId": CHANNEL_ID, "videoId": video, "textDisplay": text, "textOriginal": text,
            "authorDisplayName": f"@warga{tid[3:9]}", "authorChannelId": {"value": author},
            "authorChannelUrl": f"http://www.youtube.com/@warga{tid[3:9]}", "canRate": True,
            "viewerRating": "none", "likeCount": 0, "publishedAt": google_time(at),
            "updatedAt": google_time(at)}}
        return {"kind": "youtube#commentThread", "etag": f"t{tid}", "id": tid, "snippet": {
            "channelId": CHANNEL_ID, "videoId": video, "topLevelComment": comment,
            "canReply": True, "totalReplyCount": 0, "isPublic": True}}

    def __call__(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        self.log.add(path)
        endpoint = path.removeprefix("/youtube/v3/")
        start = _offset(query.get("pageToken"))
        if endpoint == "channels":
            return 200, {"kind": "youtube#channelListResponse", "items": [{
                "kind": "youtube#channel", "id": CHANNEL_ID,
                "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": UPLOADS}}}]}
        if endpoint == "playlistItems":
            size = int(query["maxResults"])
            items = [{"kind": "youtube#playlistItem", "contentDetails": {"videoId": v}}
                     for v in self.videos[start : start + size]]
            return 200, self._page("youtube#playlistItemListResponse", items, start + size,
                                   len(self.videos))
        if endpoint == "videos":
            counts = {v: sum(t["snippet"]["videoId"] == v for t in self.threads)
                      for v in query["id"].split(",")}
            return 200, {"kind": "youtube#videoListResponse", "items": [
                {"kind": "youtube#video", "id": v, "statistics": {"commentCount": str(c)}}
                for v, c in counts.items() if v in self.videos]}
        if endpoint == "commentThreads":
            video = query.get("videoId")
            threads = [t for t in self.threads if video in (None, t["snippet"]["videoId"])]
            items = threads[start : start + THREADS_PER_PAGE]
            return 200, self._page("youtube#commentThreadListResponse", items,
                                   start + THREADS_PER_PAGE, len(threads))
        return 404, {"error": {"code": 404, "message": "Not Found", "errors": [
            {"message": "Not Found", "domain": "global", "reason": "notFound"}]}}

    @staticmethod
    def _page(kind: str, items: list[Any], following: int, total: int) -> dict[str, Any]:
        page: dict[str, Any] = {"kind": kind, "pageInfo": {"totalResults": total,
                                                           "resultsPerPage": len(items)},
                                "items": items}
        if following < total:
            page["nextPageToken"] = _token(following)
        return page
