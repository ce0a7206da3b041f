"""The youtube collector against a faked YouTube Data API v3 (``responses``).

Every response body below is shaped as the API documents it or as real captures show it; the
comment above each builder names the source. Each run registers exactly the calls it should
make and ``assert_all_requests_are_fired`` fails the test when one is not made; a call that
was not registered fails too (responses raises ConnectionError), so call counts are exact.
Page-token requests are matched on their query parameters; where one URL answers differently
over time the run uses ``OrderedRegistry``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from responses.matchers import query_param_matcher
from responses.registries import OrderedRegistry
from sqlalchemy import select

from helpers import make_settings
from pengaduan.collectors.base import Batch, Collector
from pengaduan.collectors.http import RETRY, RateLimited, ResourceError
from pengaduan.collectors.testing import CollectorContract, items_of, run_all
from pengaduan.collectors.youtube import YoutubeCollector, YoutubeConfig
from pengaduan.collectors.youtube_api import InvalidPageToken, next_quota_reset, reached
from pengaduan.errors import AuthError, SourceError
from pengaduan.normalizer import comment_triage
from pengaduan.normalizer.record import Kind
from pengaduan.pipeline import Pipeline
from pengaduan.settings import Secret
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, collector_state, raw_items, record_revisions, records

BASE = "https://www.googleapis.com/youtube/v3"
CHANNEL = "UCkRgSmDinsosPPPAppkb0Bg"  # the office's channel (24 characters, like every UC id)
UPLOADS = "UUkRgSmDinsosPPPAppkb0Bg"  # its uploads playlist: same suffix, UU prefix (§3.5)
KEY = "AIzaSyD-testOnly-notAKey-0123456789abcd"
KEY_ENV = "PENGADUAN_YT_API_KEY"
TOKEN = "ya29.a0AfH6SMtestOnlyNotARealOAuthToken"
TOKEN_ENV = "PENGADUAN_YT_OAUTH_TOKEN"
VIDEO_A, VIDEO_B, VIDEO_C = "kRgSmVidA01", "kRgSmVidB02", "kRgSmVidC03"
WARGA = "UCwargaKarangasem000001A"  # a citizen's channel
WARGA2 = "UCwargaBebandem000000002"
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


def config(**kw: Any) -> YoutubeConfig:
    return YoutubeConfig(
        channel_id=CHANNEL, api_key=Secret(KEY, f"environment variable {KEY_ENV}"), **kw
    )


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(days: float) -> str:
    return iso(NOW - timedelta(days=days))


@pytest.fixture(autouse=True)
def triage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text triage is comment_triage's own subject; here every citizen's text is a complaint."""
    monkeypatch.setattr(comment_triage, "triage_comment", lambda text: (Kind.COMPLAINT, None))


# --- resources, shaped like the real capture in reference/social-apis.md §3.3 ---------------
# (commentThreads.list?part=snippet,replies, store id 36163562260; field order kept), and the
# resource docs developers.google.com/youtube/v3/docs/comments#resource and …/commentThreads.


def comment(
    cid: str, text: str, at: str, *, author: str = WARGA, video: str = VIDEO_A,
    parent: str | None = None, updated: str | None = None,
) -> dict[str, Any]:
    handle = "@" + author[2:12].lower()
    snippet: dict[str, Any] = {
        "channelId": CHANNEL, "videoId": video, "textDisplay": text, "textOriginal": text,
    }
    if parent:
        snippet["parentId"] = parent
    snippet.update({
        "authorDisplayName": "@dinsoskarangasem" if author == CHANNEL else handle,
        "authorProfileImageUrl": "https://yt3.ggpht.com/ytc/AIdro_test=s48-c-k-c0x00ffffff-no-rj",
        "authorChannelUrl": f"http://www.youtube.com/{handle}",
        "authorChannelId": {"value": author},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": at,
        "updatedAt": updated or at,
    })
    return {"kind": "youtube#comment", "etag": f"etag-{cid}", "id": cid, "snippet": snippet}


def thread(
    top: dict[str, Any], replies: list[dict[str, Any]] | None = None, total: int | None = None
) -> dict[str, Any]:
    replies = replies or []
    body: dict[str, Any] = {
        "kind": "youtube#commentThread",
        "etag": f"etag-t-{top['id']}",
        "id": top["id"],
        "snippet": {
            "channelId": CHANNEL,
            "videoId": top["snippet"]["videoId"],
            "topLevelComment": top,
            "canReply": True,
            "totalReplyCount": len(replies) if total is None else total,
            "isPublic": True,
        },
    }
    if replies:  # the capture omits "replies" on a thread without any
        body["replies"] = {"comments": list(replies)}
    return body


def reply(tid: str, n: int, text: str, at: str, **kw: Any) -> dict[str, Any]:
    # Reply ids are "{parentId}.{suffix}" (§3.2).
    return comment(f"{tid}.9zwY9z9YWly{n:02d}", text, at, parent=tid, **kw)


def tid(n: int) -> str:
    return f"UgxKrgsm{n:04d}DinsosV4AaABAg"


def page(
    items: list[dict[str, Any]], token: str | None = None,
    kind: str = "youtube#commentThreadListResponse",
) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "etag": f"etag-page-{token}"}
    if token:
        body["nextPageToken"] = token
    body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": len(items)}
    body["items"] = items
    return body


# channels.list?part=contentDetails: developers.google.com/youtube/v3/docs/channels#resource;
# "relatedPlaylists": {"likes": "", "uploads": "UU…"} is the real capture quoted in §3.5.
CHANNELS = {
    "kind": "youtube#channelListResponse", "etag": "etag-ch",
    "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
    "items": [{
        "kind": "youtube#channel", "etag": "etag-ch1", "id": CHANNEL,
        "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": UPLOADS}},
    }],
}


def playlist(videos: list[str]) -> dict[str, Any]:
    # playlistItems.list?part=contentDetails: …/docs/playlistItems#resource (videoId,
    # videoPublishedAt; newest first, §3.5).
    return page(
        [{"kind": "youtube#playlistItem", "etag": f"etag-pl-{v}", "id": f"VVUk{v}",
          "contentDetails": {"videoId": v, "videoPublishedAt": days_ago(200 - i)}}
         for i, v in enumerate(videos)],
        kind="youtube#playlistItemListResponse",
    )


def statistics(counts: dict[str, int]) -> dict[str, Any]:
    # videos.list?part=statistics: counts are strings, as in the real capture in
    # swoopedj/tx-voting-platform test/server/models/ytBatchResult.js.
    return page(
        [{"kind": "youtube#video", "etag": f"etag-v-{v}", "id": v,
          "statistics": {"viewCount": "1021", "likeCount": "35", "favoriteCount": "0",
                         "commentCount": str(n)}}
         for v, n in counts.items()],
        kind="youtube#videoListResponse",
    )


# --- error bodies (developers.google.com/youtube/v3/docs/errors; §3.4) -----------------------

# §3.4 [real], verbatim.
QUOTA = {"error": {"code": 403, "message": "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "errors": [{"message": "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "domain": "youtube.quota", "reason": "quotaExceeded"}]}}
# §3.4 [real], verbatim.
COMMENTS_DISABLED = {"error": {"code": 403, "message": "The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter has disabled comments.", "errors": [{"message": "The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter has disabled comments.", "domain": "youtube.commentThread", "reason": "commentsDisabled", "location": "videoId", "locationType": "parameter"}]}}
# The capture above with the reason and text the commentThreads.list doc gives for 404.
VIDEO_NOT_FOUND = {"error": {"code": 404, "message": "The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter could not be found.", "errors": [{"message": "The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter could not be found.", "domain": "youtube.commentThread", "reason": "videoNotFound", "location": "videoId", "locationType": "parameter"}]}}
# The classic Google form for a bad key (reason keyInvalid, domain usageLimits).
KEY_INVALID = {"error": {"errors": [{"domain": "usageLimits", "reason": "keyInvalid", "message": "Bad Request"}], "code": 400, "message": "Bad Request"}}
# What Google front ends answer today (real answers to a made-up key, e.g. the Gemini capture
# quoted in several public test suites): status INVALID_ARGUMENT and an ErrorInfo reason.
API_KEY_INVALID = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "errors": [{"message": "API key not valid. Please pass a valid API key.", "domain": "global", "reason": "badRequest"}], "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com", "metadata": {"service": "youtube.googleapis.com"}}]}}
AUTH_ERROR = {"error": {"code": 401, "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError", "location": "Authorization", "locationType": "header"}], "status": "UNAUTHENTICATED"}}
BACKEND_ERROR = {"error": {"code": 503, "message": "The service is currently unavailable.", "errors": [{"message": "The service is currently unavailable.", "domain": "global", "reason": "backendError"}], "status": "UNAVAILABLE"}}
RATE_LIMITED = {"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "errors": [{"message": "Resource has been exhausted (e.g. check quota).", "domain": "global", "reason": "rateLimitExceeded"}], "status": "RESOURCE_EXHAUSTED"}}
INVALID_PAGE_TOKEN = {"error": {"code": 400, "message": "The request specifies an invalid page token.", "errors": [{"message": "The request specifies an invalid page token.", "domain": "youtube.parameter", "reason": "invalidPageToken", "location": "pageToken", "locationType": "parameter"}]}}
# The commentsDisabled capture's shape, with the comments.list doc's 404 for an unknown parentId.
THREAD_NOT_FOUND = {"error": {"code": 404, "message": "The comment thread identified by the request's parentId parameter could not be found.", "errors": [{"message": "The comment thread identified by the request's parentId parameter could not be found.", "domain": "youtube.comment", "reason": "commentThreadNotFound", "location": "parentId", "locationType": "parameter"}]}}
FORBIDDEN = {"error": {"code": 403, "message": "The caller does not have permission", "errors": [{"message": "The caller does not have permission", "domain": "youtube.commentThread", "reason": "forbidden"}], "status": "PERMISSION_DENIED"}}


# --- the fake API --------------------------------------------------------------------------


class FakeYouTube:
    """Registers the calls one run must make, each matched on its full query."""

    def __init__(self, rsps: responses.RequestsMock):
        self.rsps = rsps

    def _add(
        self, endpoint: str, params: dict[str, Any], body: Any, status: int = 200, **kw: Any
    ) -> None:
        self.rsps.get(
            f"{BASE}/{endpoint}", json=body, status=status,
            match=[query_param_matcher({**params, "key": KEY})], **kw,
        )

    def first_run_setup(self, counts: dict[str, int]) -> None:
        self._add("channels", {"part": "contentDetails", "id": CHANNEL}, CHANNELS)
        self.uploads(list(counts))
        self.counts(counts)

    def counts(self, counts: dict[str, int], body: Any = None, status: int = 200) -> None:
        params = {"part": "statistics", "id": ",".join(counts)}
        self._add("videos", params, body or statistics(counts), status)

    def uploads(self, videos: list[str]) -> None:
        params = {"part": "contentDetails", "playlistId": UPLOADS, "maxResults": 50}
        self._add("playlistItems", params, playlist(videos))

    def threads(
        self, body: Any, token: str | None = None, status: int = 200, **filters: str
    ) -> None:
        params = {
            "part": "snippet,replies", "order": "time", "textFormat": "plainText",
            "maxResults": 100, **(filters or {"allThreadsRelatedToChannelId": CHANNEL}),
        }
        if token:
            params["pageToken"] = token
        headers = {"Retry-After": "3"} if status == 429 else {}
        self._add("commentThreads", params, body, status, headers=headers)

    def replies(
        self, parent: str, body: Any, token: str | None = None, status: int = 200
    ) -> None:
        params = {
            "part": "snippet", "parentId": parent, "textFormat": "plainText", "maxResults": 100,
        }
        if token:
            params["pageToken"] = token
        self._add("comments", params, body, status)


@contextmanager
def api(ordered: bool = False) -> Iterator[FakeYouTube]:
    registry = {"registry": OrderedRegistry} if ordered else {}
    mock = responses.RequestsMock(assert_all_requests_are_fired=True, **registry)  # type: ignore[arg-type]
    with mock as rsps:
        yield FakeYouTube(rsps)


class Runner:
    """Runs collectors with a fixed clock and records the backoff sleeps."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.last: YoutubeCollector | None = None

    def collector(self, at: datetime = NOW, cfg: YoutubeConfig | None = None) -> YoutubeCollector:
        self.last = YoutubeCollector(
            "yt", cfg or config(), clock=lambda: at, sleep=self.sleeps.append
        )
        return self.last

    def run(
        self, cursor: dict | None = None, at: datetime = NOW, cfg: YoutubeConfig | None = None
    ) -> list[Batch]:
        return run_all(self.collector(at, cfg), cursor)

    @property
    def calls(self) -> int:
        assert self.last is not None
        return self.last.calls


@pytest.fixture
def runner() -> Runner:
    return Runner()


def ids(batches: list[Batch]) -> list[str]:
    return [i.source_id for i in items_of(batches)]


# --- a channel of several pages -------------------------------------------------------------

PINNED = comment(
    tid(90), "Info jadwal penyaluran BPNT bulan ini, silakan tanya di sini.", days_ago(89),
    author=CHANNEL,
)
PINNED_REPLY = reply(tid(90), 1, "Kapan jadwal untuk Desa Sibetan?", days_ago(80))
T5 = comment(
    tid(5), "KIS saya tidak aktif padahal sudah daftar ulang", days_ago(0.7), video=VIDEO_B
)
T4 = comment(tid(4), "Bantuan PKH ibu saya belum cair sejak Agustus", days_ago(2))
T3 = comment(tid(3), "Lansia di Banjar Dinas Tegeh belum dapat bantuan sembako", days_ago(9))
T3_REPLIES = [
    reply(tid(3), n, f"Sama, di banjar kami juga belum ({n})", days_ago(9 - n / 10), author=WARGA2)
    for n in range(1, 8)
]
T2 = comment(tid(2), "Pendamping PKH tidak pernah datang ke desa", days_ago(45), video=VIDEO_B)
T1 = comment(tid(1), "Data DTKS ayah saya salah nama", days_ago(151))
T0 = comment(tid(0), "Komentar lama di luar jangkauan backfill", days_ago(190))


def register_channel_pages(yt: FakeYouTube) -> None:
    yt.threads(page([thread(PINNED, [PINNED_REPLY], total=1), thread(T5), thread(T4)], "PAGE2"))
    yt.threads(page([], "PAGE3"), token="PAGE2")  # an empty page that still has a token
    # T3 carries 2 of its 7 replies inline; comments.list gives all 7 over two pages.
    yt.threads(page([thread(T3, T3_REPLIES[:2], total=7), thread(T2)], "PAGE4"), token="PAGE3")
    yt.threads(page([thread(T1), thread(T0)], "PAGE5"), token="PAGE4")
    yt.replies(tid(3), page(T3_REPLIES[:5], "REPLIES2", kind="youtube#commentListResponse"))
    yt.replies(tid(3), page(T3_REPLIES[5:], kind="youtube#commentListResponse"), token="REPLIES2")


EXPECTED_IDS = [
    tid(90), PINNED_REPLY["id"], tid(5), tid(4), tid(3), *(r["id"] for r in T3_REPLIES),
    tid(2), tid(1),
]


def first_full_run(runner: Runner) -> list[Batch]:
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 12, VIDEO_B: 2, VIDEO_C: 0})
        register_channel_pages(yt)
        return runner.run()


def test_first_run_reads_every_page_back_to_the_backfill_horizon(runner: Runner) -> None:
    batches = first_full_run(runner)
    # Pinned old thread first, empty page followed, 7 replies although 2 were inline; T0 is
    # older than backfill_days and PAGE5 (past the horizon) is never asked for.
    assert sorted(ids(batches)) == sorted(EXPECTED_IDS)
    assert len(ids(batches)) == len(set(ids(batches)))
    assert runner.calls == 3 + 4 + 2
    final = batches[-1].cursor
    assert final["watermark"] == (NOW - timedelta(minutes=30)).isoformat()
    assert final["videos"] == {VIDEO_A: 12, VIDEO_B: 2}  # baselines taken before reading
    assert final["threads"][tid(3)][:2] == [VIDEO_A, 7]
    assert tid(0) not in final["threads"]
    for batch in batches[:-1]:
        assert "watermark" not in batch.cursor  # only the run that read everything moves it


def test_every_item_carries_its_thread_and_who_it_answers(runner: Runner) -> None:
    items = {i.source_id: i for i in items_of(first_full_run(runner))}
    top, answer = items[tid(3)], items[T3_REPLIES[0]["id"]]
    assert top.media_type == "application/json"
    assert json.loads(top.payload) == T3  # the resource as received
    assert top.meta == {"video_id": VIDEO_A, "thread_id": tid(3), "owner_channel_id": CHANNEL}
    assert answer.meta == {
        "video_id": VIDEO_A, "thread_id": tid(3), "owner_channel_id": CHANNEL,
        "parent_id": tid(3), "parent_author_channel_id": WARGA,
    }


def test_an_idle_poll_is_one_request(runner: Runner) -> None:
    """Issue 7: a quiet poll between sweeps asks for page 1 of the channel's threads and
    nothing else (a call not registered fails the run, one not made fails the test)."""
    cursor = first_full_run(runner)[-1].cursor
    assert cursor["counted"] == NOW.isoformat()
    with api() as yt:
        yt.threads(page([thread(PINNED, [PINNED_REPLY], total=1), thread(T5), thread(T4)], "PAGE2"))
        batches = runner.run(cursor, at=NOW + timedelta(minutes=15))
    assert ids(batches) == []
    assert runner.calls == 1  # 1 quota unit
    assert batches[-1].cursor["watermark"] == (NOW - timedelta(minutes=15)).isoformat()
    assert batches[-1].cursor["counted"] == NOW.isoformat()


def test_an_idle_sweep_adds_the_count_check(runner: Runner) -> None:
    cursor = first_full_run(runner)[-1].cursor
    with api() as yt:
        yt.counts({VIDEO_A: 12, VIDEO_B: 2})
        yt.threads(page([thread(PINNED, [PINNED_REPLY], total=1), thread(T5), thread(T4)], "PAGE2"))
        batches = runner.run(cursor, at=NOW + timedelta(hours=1))
    assert ids(batches) == []
    assert runner.calls == 2  # videos.list + page 1 of the channel: 2 quota units
    assert batches[-1].cursor["watermark"] == (NOW + timedelta(minutes=30)).isoformat()
    assert batches[-1].cursor["counted"] == (NOW + timedelta(hours=1)).isoformat()


@pytest.mark.parametrize("minutes, due", [(15, False), (59, False), (60, True), (-10, True)])
def test_a_sweep_is_due_an_hour_after_the_last_or_when_the_clock_went_back(
    runner: Runner, minutes: int, due: bool
) -> None:
    cursor = first_full_run(runner)[-1].cursor
    with api() as yt:
        if due:
            yt.counts({VIDEO_A: 12, VIDEO_B: 2})
        yt.threads(page([thread(PINNED, [PINNED_REPLY], total=1), thread(T5), thread(T4)], "PAGE2"))
        runner.run(cursor, at=NOW + timedelta(minutes=minutes))


def test_a_pinned_old_thread_on_page_one_does_not_stop_the_reading(runner: Runner) -> None:
    cursor = first_full_run(runner)[-1].cursor
    soon = lambda minutes: iso(NOW + timedelta(minutes=minutes))  # noqa: E731
    new1 = comment(tid(7), "Kartu PKH hilang, bagaimana mengurus penggantinya?", soon(40))
    new2 = comment(tid(6), "Rumah kami rusak kena longsor, mohon bantuan", soon(10), video=VIDEO_B)
    with api() as yt:
        yt.counts({VIDEO_A: 13, VIDEO_B: 3})
        # The pinned thread (89 days old) comes first, before threads newer than the watermark.
        yt.threads(page([thread(PINNED, [PINNED_REPLY], total=1), thread(new1)], "P2"))
        yt.threads(page([thread(new2), thread(T5)], "P3"), token="P2")
        # Both counts moved, so both videos are read again, whole: nothing else is new there.
        pinned, t3 = thread(PINNED, [PINNED_REPLY], total=1), thread(T3, T3_REPLIES[:2], total=7)
        video_a = [pinned, thread(new1), thread(T4), t3, thread(T1)]
        yt.threads(page(video_a), videoId=VIDEO_A)
        yt.threads(page([thread(new2), thread(T5), thread(T2)]), videoId=VIDEO_B)
        batches = runner.run(cursor, at=NOW + timedelta(hours=1))
    assert sorted(ids(batches)) == sorted([tid(7), tid(6)])
    assert runner.calls == 1 + 2 + 2


def test_a_single_item_on_page_one_may_be_the_pinned_one() -> None:
    old = {"snippet": {"topLevelComment": {"snippet": {"publishedAt": days_ago(300)}}}}
    new = {"snippet": {"topLevelComment": {"snippet": {"publishedAt": days_ago(0)}}}}
    assert not reached([old], NOW - timedelta(days=1), first_page=True)
    assert reached([old], NOW - timedelta(days=1), first_page=False)
    assert reached([old, old], NOW - timedelta(days=1), first_page=True)
    assert not reached([old, new], NOW - timedelta(days=1), first_page=True)
    assert not reached([], NOW, first_page=False)  # an empty page is never the end


# --- new replies on old threads ----------------------------------------------------------

OLD = comment(tid(11), "Sudah 3 bulan pengajuan KIP anak saya belum diproses", days_ago(60))
OLD_REPLIES = [
    reply(tid(11), n, f"Mohon ditindaklanjuti ({n})", days_ago(59 - n), author=WARGA2)
    for n in range(1, 6)
]
RECENT = [
    comment(tid(20 + n), f"Pengaduan nomor {n} soal bansos", days_ago(3 + n)) for n in range(3)
]


def test_a_new_reply_on_an_old_thread_is_found_on_the_next_run(runner: Runner) -> None:
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 9})
        yt.threads(page([thread(t) for t in RECENT], "P2"))
        yt.threads(page([thread(OLD, OLD_REPLIES, total=5)]), token="P2")
        cursor = runner.run()[-1].cursor
    late = reply(
        tid(11), 6, "Sampai sekarang belum ada kabar", iso(NOW + timedelta(minutes=5)), author=WARGA
    )
    with api() as yt:  # a quick poll: the old thread is past page 1, its reply waits
        yt.threads(page([thread(t) for t in RECENT], "P2"))
        cursor = runner.run(cursor, at=NOW + timedelta(minutes=15))[-1].cursor
    assert runner.calls == 1
    with api() as yt:  # the sweep finds it
        yt.counts({VIDEO_A: 10})  # moved: one comment more somewhere on video A
        yt.threads(page([thread(t) for t in RECENT], "P2"))  # page 1 reaches the watermark
        # The video is read again; the old thread's reply count moved from 5 to 6 but only 5
        # replies come inline, so comments.list is asked for all of them.
        whole_video = [*(thread(t) for t in RECENT), thread(OLD, OLD_REPLIES, total=6)]
        yt.threads(page(whole_video), videoId=VIDEO_A)
        yt.replies(tid(11), page([*OLD_REPLIES, late], kind="youtube#commentListResponse"))
        batches = runner.run(cursor, at=NOW + timedelta(hours=1))
    assert late["id"] in ids(batches)
    assert not set(ids(batches)) & {t["id"] for t in RECENT}
    assert runner.calls == 4
    assert batches[-1].cursor["videos"] == {VIDEO_A: 10}
    assert batches[-1].cursor["threads"][tid(11)][1] == 6
    with api() as yt:  # and then quiet again: one request
        yt.threads(page([thread(t) for t in RECENT], "P2"))
        assert ids(runner.run(batches[-1].cursor, at=NOW + timedelta(hours=1, minutes=15))) == []
    assert runner.calls == 1


def test_a_sweep_not_read_whole_is_done_again_by_the_next_run(runner: Runner) -> None:
    cursor = first_full_run(runner)[-1].cursor
    listing = [thread(PINNED, [PINNED_REPLY], total=1), thread(T5), thread(T4)]
    with api() as yt:
        yt.counts({VIDEO_A: 13, VIDEO_B: 2})  # A moved; its re-read loops and stops
        yt.threads(page(listing, "PAGE2"))
        yt.threads(page([thread(T4)], "LOOP"), videoId=VIDEO_A)
        yt.threads(page([thread(T3, T3_REPLIES[:2], total=7)], "LOOP"), token="LOOP", videoId=VIDEO_A)
        batches = runner.run(cursor, at=NOW + timedelta(hours=1))
    assert batches[-1].cursor["counted"] == NOW.isoformat()  # not this sweep: it stopped short
    assert batches[-1].cursor["videos"][VIDEO_A] == 12
    with api() as yt:  # 15 minutes later: a sweep again, not a quick poll
        yt.counts({VIDEO_A: 13, VIDEO_B: 2})
        yt.threads(page(listing, "PAGE2"))
        whole = [listing[0], thread(T4), thread(T3, T3_REPLIES[:2], total=7), thread(T1)]
        yt.threads(page(whole), videoId=VIDEO_A)
        again = runner.run(batches[-1].cursor, at=NOW + timedelta(hours=1, minutes=15))
    assert ids(again) == []  # nothing new, nothing gone
    assert again[-1].cursor["counted"] == (NOW + timedelta(hours=1, minutes=15)).isoformat()
    assert again[-1].cursor["videos"][VIDEO_A] == 13


# --- paging guards -------------------------------------------------------------------------


def test_a_repeated_page_token_is_a_loop_stopped_and_reported(runner: Runner) -> None:
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 3})
        yt.threads(page([thread(RECENT[0]), thread(RECENT[1])], "LOOP"))
        yt.threads(page([thread(RECENT[2])], "LOOP"), token="LOOP")  # next == this page's token
        batches = runner.run()
    assert sorted(ids(batches)) == sorted(t["id"] for t in RECENT)
    notes = [n for b in batches for n in b.notes]
    assert any("same page again" in n for n in notes), notes
    assert "watermark" not in batches[-1].cursor  # not everything was read: not advanced


def test_the_same_thread_on_two_pages_is_yielded_once(runner: Runner) -> None:
    with api() as yt:  # gojiplus/tuber #107: the same comments repeated across pages
        yt.first_run_setup({VIDEO_A: 3})
        yt.threads(page([thread(RECENT[0]), thread(RECENT[1])], "P2"))
        yt.threads(page([thread(RECENT[1]), thread(RECENT[2])]), token="P2")
        assert sorted(ids(runner.run())) == sorted(t["id"] for t in RECENT)


def test_an_invalid_page_token_restarts_the_listing_once(runner: Runner) -> None:
    with api(ordered=True) as yt:
        yt.first_run_setup({VIDEO_A: 3})
        yt.threads(page([thread(RECENT[0]), thread(RECENT[1])], "P2"))
        yt.threads(INVALID_PAGE_TOKEN, token="P2", status=400)
        yt.threads(page([thread(RECENT[0]), thread(RECENT[1])], "P2b"))
        yt.threads(page([thread(RECENT[2])]), token="P2b")
        batches = runner.run()
    assert sorted(ids(batches)) == sorted(t["id"] for t in RECENT)
    assert any("refused a page token" in n for b in batches for n in b.notes)
    assert "watermark" in batches[-1].cursor


# --- through the pipeline and the store ------------------------------------------------------


def pipeline(store: Store, tmp_path: Path) -> Pipeline:
    return Pipeline(store, make_settings(store.url, tmp_path), clock=lambda: NOW)


def rows(store: Store, table) -> list[dict]:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return [dict(r) for r in conn.execute(select(table)).mappings()]


def test_an_edited_comment_becomes_a_revision_of_its_record(
    store: Store, tmp_path: Path, runner: Runner
) -> None:
    first = comment(tid(30), "Bantuan PKH belum cair", days_ago(0.1))
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 1})
        yt.threads(page([thread(first)]))
        assert pipeline(store, tmp_path).run(runner.collector()).new == 1
    edited = comment(
        tid(30), "Bantuan PKH ibu saya belum cair sejak Agustus", days_ago(0.1),
        updated=iso(NOW + timedelta(minutes=30)),
    )
    with api() as yt:
        yt.counts({VIDEO_A: 1})  # an edit does not move the count
        yt.threads(page([thread(edited)]))
        report = pipeline(store, tmp_path).run(runner.collector(NOW + timedelta(hours=1)))
    assert (report.new, report.updated) == (0, 1)
    (record,) = rows(store, records)
    (old,) = rows(store, record_revisions)
    assert record["revision"] == 2 and record["content"]["body"].endswith("sejak Agustus")
    assert old["content"]["body"] == "Bantuan PKH belum cair"


def test_a_deleted_thread_is_marked_never_erased(
    store: Store, tmp_path: Path, runner: Runner
) -> None:
    keep, drop = RECENT[0], RECENT[1]
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 2})
        yt.threads(page([thread(keep), thread(drop)]))
        assert pipeline(store, tmp_path).run(runner.collector()).new == 2
    with api() as yt:
        yt.counts({VIDEO_A: 1})  # one comment fewer: the video is read again, whole
        yt.threads(page([thread(keep)]))
        yt.threads(page([thread(keep)]), videoId=VIDEO_A)
        report = pipeline(store, tmp_path).run(runner.collector(NOW + timedelta(hours=1)))
    assert (report.new, report.updated) == (0, 1)
    record = next(r for r in rows(store, records) if r["source_id"] == drop["id"])
    assert record["revision"] == 2 and record["source_status"] == "deleted"
    assert record["content"]["extra"]["deleted"] is True and record["content"]["body"] == ""
    (old,) = rows(store, record_revisions)
    assert old["content"]["body"] == drop["snippet"]["textOriginal"]
    cursor = state_of(store).cursor or {}
    assert drop["id"] not in cursor["threads"] and cursor["videos"] == {VIDEO_A: 1}


def test_the_same_comment_seen_again_is_one_record(
    store: Store, tmp_path: Path, runner: Runner
) -> None:
    for _ in range(2):  # the second time as if the cursor were lost: everything comes again
        with api() as yt:
            yt.first_run_setup({VIDEO_A: 3})
            yt.threads(page([thread(RECENT[0]), thread(RECENT[1])], "P2"))
            yt.threads(page([thread(RECENT[1]), thread(RECENT[2])]), token="P2")
            collector = runner.collector()
            report = pipeline(store, tmp_path).run(collector, fetch=lambda c: collector.fetch(None))
    assert (report.new, report.unchanged) == (0, 3)
    assert len(rows(store, records)) == 3


def test_the_offices_answer_joins_the_case_and_the_complainants_reply_follows_up(
    store: Store, tmp_path: Path, runner: Runner
) -> None:
    top = comment(tid(40), "Bantuan sembako lansia di Desa Bebandem belum dibagikan", days_ago(1))
    office = reply(
        tid(40), 1, "Terima kasih, laporan sudah kami teruskan ke Bidang Linjamsos.",
        days_ago(0.9), author=CHANNEL,
    )
    again = reply(
        tid(40), 2, "Sudah seminggu belum ada petugas datang", days_ago(0.2), author=WARGA
    )
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 3})
        yt.threads(page([thread(top, [office, again])]))
        report = pipeline(store, tmp_path).run(runner.collector())
    assert report.cases_opened == 1
    by_source = {r["source_id"]: r for r in rows(store, records)}
    assert by_source[office["id"]]["kind"] == "not_complaint"
    assert by_source[office["id"]]["content"]["kind_reason"] == "office_answer"
    assert by_source[again["id"]]["kind"] == "follow_up"
    links = {r["record_id"]: (r["case_id"], r["method"]) for r in rows(store, case_links)}
    case_id, _ = links[by_source[tid(40)]["id"]]
    # The answer is recorded on the case it answers (step 5 of the standard), opening none.
    assert links[by_source[office["id"]]["id"]] == (case_id, "office_answer")
    assert links[by_source[again["id"]]["id"]] == (case_id, "follow_up")


# --- errors, one by one (§3.4) ----------------------------------------------------------------


def state_of(store: Store) -> store_state.CollectorState:
    with store.transaction() as conn:
        found = store_state.load_state(conn, "yt")
    assert found is not None
    return found


def test_quota_exceeded_pauses_until_the_pacific_midnight_and_stops_calling(
    store: Store, tmp_path: Path, runner: Runner
) -> None:
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 3})
        yt.threads(page([thread(RECENT[0]), thread(RECENT[1])], "P2"))
        yt.threads(QUOTA, token="P2", status=403)
        report = pipeline(store, tmp_path).run(runner.collector())
        assert len(yt.rsps.calls) == 5  # nothing after the quota answer, not even a retry
    assert report.outcome == "failed" and report.new == 2  # the first page is kept
    state = state_of(store)
    assert state.health == store_state.FAILING
    # 02:00 UTC on 29 Nov is 18:00 PST on the 28th: the quota resets at 08:00 UTC.
    assert state.retry_at == datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)
    assert state.last_error == (
        "collector yt: YouTube daily quota used up; paused until 2026-11-29 16:00 WITA "
        "(midnight Pacific, when it resets)"
    )
    cursor = state.cursor or {}
    assert "watermark" not in cursor and tid(21) in cursor["threads"]


@pytest.mark.parametrize(
    "body, status", [(KEY_INVALID, 400), (API_KEY_INVALID, 400), (AUTH_ERROR, 401)]
)
def test_a_refused_key_needs_reauthorisation_and_says_which_variable(
    store: Store, tmp_path: Path, runner: Runner, body: dict, status: int
) -> None:
    with api() as yt:
        yt.counts({VIDEO_A: 3}, body=body, status=status)
        cursor = {
            "watermark": iso(NOW - timedelta(hours=1)), "videos": {VIDEO_A: 3},
            "threads": {tid(20): [VIDEO_A, 0, "0123456789ab", int(NOW.timestamp()) - 86400]},
        }
        collector = runner.collector()
        report = pipeline(store, tmp_path).run(collector, fetch=lambda c: collector.fetch(cursor))
        assert len(yt.rsps.calls) == 1
    state = state_of(store)
    assert state.health == store_state.NEEDS_REAUTH and report.outcome == "failed"
    assert state.last_error == (
        f"collector yt: the API key was refused: create a new key in Google Cloud "
        f"(YouTube Data API v3) and set {KEY_ENV}"
    )
    assert KEY not in (state.last_error or "")


def test_an_expired_owner_token_names_its_own_variable(runner: Runner) -> None:
    cfg = config(oauth_token=Secret(TOKEN, f"environment variable {TOKEN_ENV}"))
    with api() as yt:
        yt._add("channels", {"part": "contentDetails", "id": CHANNEL}, AUTH_ERROR, 401)
        with pytest.raises(AuthError, match=f"OAuth token .* set {TOKEN_ENV}$") as caught:
            runner.run(cfg=cfg)
        assert yt.rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(caught.value)


def test_owner_access_also_reads_comments_held_for_review(runner: Runner) -> None:
    cfg = config(oauth_token=Secret(TOKEN, f"environment variable {TOKEN_ENV}"))
    held = comment(tid(50), "Petugas meminta uang untuk mengurus bantuan", days_ago(4))
    held["snippet"]["moderationStatus"] = "heldForReview"
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 1})
        yt.threads(page([thread(RECENT[0])]))
        for status, threads in (("heldForReview", [thread(held)]), ("likelySpam", [])):
            yt.threads(page(threads), allThreadsRelatedToChannelId=CHANNEL, moderationStatus=status)
        batches = runner.run(cfg=cfg)
    assert sorted(ids(batches)) == sorted([RECENT[0]["id"], tid(50)])
    with api() as yt:  # still held: not in the published listing of its video, yet not gone
        yt.counts({VIDEO_A: 2})
        yt.threads(page([thread(RECENT[0])]))
        for status, threads in (("heldForReview", [thread(held)]), ("likelySpam", [])):
            yt.threads(page(threads), allThreadsRelatedToChannelId=CHANNEL, moderationStatus=status)
        yt.threads(page([thread(RECENT[0])]), videoId=VIDEO_A)
        again = runner.run(batches[-1].cursor, at=NOW + timedelta(hours=1), cfg=cfg)
    assert ids(again) == [] and tid(50) in again[-1].cursor["threads"]
    with api() as yt:  # between sweeps: the published listing only, one request
        yt.threads(page([thread(RECENT[0])]))
        quick = runner.run(again[-1].cursor, at=NOW + timedelta(hours=1, minutes=15), cfg=cfg)
    assert ids(quick) == [] and runner.calls == 1


def test_disabled_comments_and_a_vanished_video_are_skipped_and_noted(
    store: Store, tmp_path: Path, runner: Runner
) -> None:
    ta = comment(tid(61), "Jalan ke kantor desa rusak", days_ago(20))
    tb = comment(tid(62), "Air PDAM mati", days_ago(21), video=VIDEO_B)
    tc = comment(tid(63), "Bantuan disabilitas belum diterima", days_ago(22), video=VIDEO_C)
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 1, VIDEO_B: 1, VIDEO_C: 1})
        yt.threads(page([thread(ta), thread(tb), thread(tc)]))
        assert pipeline(store, tmp_path).run(runner.collector()).new == 3
    answer = reply(
        tid(63), 1, "Sudah dua bulan, mohon dicek", days_ago(0), author=WARGA2, video=VIDEO_C
    )
    with api() as yt:
        yt.counts({VIDEO_A: 2, VIDEO_B: 2, VIDEO_C: 2})
        yt.threads(page([thread(ta), thread(tb), thread(tc)]))
        yt.threads(COMMENTS_DISABLED, status=403, videoId=VIDEO_A)
        yt.threads(VIDEO_NOT_FOUND, status=404, videoId=VIDEO_B)
        yt.threads(page([thread(tc, [answer])]), videoId=VIDEO_C)
        report = pipeline(store, tmp_path).run(runner.collector(NOW + timedelta(days=1)))
    assert report.outcome == "ok" and report.new == 1
    assert f"video {VIDEO_A} skipped: commentsDisabled" in report.notes
    assert f"video {VIDEO_B} skipped: videoNotFound" in report.notes
    cursor = state_of(store).cursor or {}
    assert cursor["videos"] == {VIDEO_A: 2, VIDEO_C: 2}  # A not read again until it moves
    assert state_of(store).health == store_state.HEALTHY


def test_replies_of_a_vanished_thread_are_skipped_noted_and_tried_again(runner: Runner) -> None:
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 12})
        yt.threads(page([thread(T3, T3_REPLIES[:2], total=7)]))
        yt.replies(tid(3), THREAD_NOT_FOUND, status=404)
        batches = runner.run()
    assert sorted(ids(batches)) == sorted([tid(3), *(r["id"] for r in T3_REPLIES[:2])])
    notes = [n for b in batches for n in b.notes]
    assert f"replies of thread {tid(3)} skipped: commentThreadNotFound" in notes
    assert batches[-1].cursor["threads"][tid(3)][1] == -1
    with api() as yt:  # listed again next time: the replies are asked for again
        yt.counts({VIDEO_A: 12})
        yt.threads(page([thread(T3, T3_REPLIES[:2], total=7)]))
        yt.replies(tid(3), page(T3_REPLIES, kind="youtube#commentListResponse"))
        again = runner.run(batches[-1].cursor, at=NOW + timedelta(hours=1))
    assert {r["id"] for r in T3_REPLIES[2:]} <= set(ids(again))


def test_a_server_error_is_retried_and_the_key_never_leaks(
    store: Store, tmp_path: Path, runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with api(ordered=True) as yt:
        yt.first_run_setup({VIDEO_A: 2})
        yt.threads(BACKEND_ERROR, status=503)
        yt.threads(page([thread(RECENT[0], [reply(tid(20), 1, "Sama", days_ago(2))])]))
        report = pipeline(store, tmp_path).run(runner.collector())
    assert report.outcome == "ok" and report.new == 2
    assert runner.sleeps == [1.0]
    assert "retry 1 of 3" in caplog.text
    for raw in rows(store, raw_items):
        assert KEY.encode() not in raw["payload"] and KEY not in json.dumps(raw["meta"])
    assert KEY not in json.dumps([r["content"] for r in rows(store, records)])
    assert KEY not in json.dumps(rows(store, collector_state), default=str)
    assert KEY not in caplog.text


def test_429_waits_as_retry_after_says(runner: Runner) -> None:
    with api(ordered=True) as yt:
        yt.first_run_setup({VIDEO_A: 1})
        yt.threads(RATE_LIMITED, status=429)
        yt.threads(page([thread(RECENT[0])]))
        assert ids(runner.run()) == [RECENT[0]["id"]]
    assert runner.sleeps == [3.0]


def test_forbidden_is_a_source_error_with_what_to_check(runner: Runner) -> None:
    with api() as yt:
        yt.first_run_setup({VIDEO_A: 1})
        yt.threads(FORBIDDEN, status=403)
        with pytest.raises(SourceError, match="forbidden.*YouTube Data API v3 is enabled"):
            runner.run()


# --- the classifier, as a table ---------------------------------------------------------------


def answer(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.url = f"{BASE}/commentThreads?videoId={VIDEO_A}&key={KEY}"
    return response


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (200, page([]), None),
        (403, QUOTA, RateLimited),
        (400, KEY_INVALID, AuthError),
        (400, API_KEY_INVALID, AuthError),
        (401, AUTH_ERROR, AuthError),
        (403, COMMENTS_DISABLED, ResourceError),
        (404, VIDEO_NOT_FOUND, ResourceError),
        (404, THREAD_NOT_FOUND, ResourceError),
        (400, INVALID_PAGE_TOKEN, InvalidPageToken),
        (403, FORBIDDEN, SourceError),
        (503, BACKEND_ERROR, RETRY),
        (429, RATE_LIMITED, RETRY),
        (403, {"error": {"code": 403, "errors": [{"reason": "rateLimitExceeded"}]}}, RETRY),
        (502, None, RETRY),  # an HTML error page from a proxy
        (400, {"error": {"code": 400, "errors": [{"reason": "invalidFilters"}]}}, SourceError),
    ],
)
def test_classifier(status: int, body: Any, expected: Any) -> None:
    verdict = YoutubeCollector("yt", config(), clock=lambda: NOW).classify(answer(status), body)
    if expected is None or expected is RETRY:
        assert verdict is expected
    else:
        assert isinstance(verdict, expected), verdict
        assert KEY not in str(verdict)
    if isinstance(verdict, ResourceError):
        assert verdict.resource == f"videoId {VIDEO_A}"


def test_the_quota_resets_at_midnight_pacific_summer_and_winter() -> None:
    assert next_quota_reset(NOW) == datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)  # 05:00 PDT
    assert next_quota_reset(summer) == datetime(2026, 7, 2, 7, 0, tzinfo=timezone.utc)


# --- the contract every collector passes ---------------------------------------------------------


class TestYoutubeContract(CollectorContract):
    """A live fake for the whole test; dates relative to the real clock the contract uses."""

    @pytest.fixture
    def populated(self) -> Iterator[Collector]:
        now = datetime.now(timezone.utc)
        at = lambda hours: iso(now - timedelta(hours=hours))  # noqa: E731
        tops = [comment(tid(70 + n), f"Keluhan nomor {n}", at(2 + n)) for n in range(4)]
        extra = reply(tid(70), 1, "Saya juga", at(1))
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            yt = FakeYouTube(rsps)
            yt.first_run_setup({VIDEO_A: 5})
            yt.counts({VIDEO_A: 5})
            yt.threads(page([thread(tops[0], [extra]), thread(tops[1])], "P2"))
            yt.threads(page([thread(tops[2]), thread(tops[3])]), token="P2")
            yield YoutubeCollector("yt", config())

    @pytest.fixture
    def empty(self) -> Iterator[Collector]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            yt = FakeYouTube(rsps)
            yt._add("channels", {"part": "contentDetails", "id": CHANNEL}, CHANNELS)
            yt.uploads([])
            yt.threads(page([]))
            yield YoutubeCollector("yt", config())


def test_a_settings_section_builds_the_collector(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    settings = make_settings(
        f"sqlite:///{tmp_path}/p.db", tmp_path,
        collectors={"yt": {"type": "youtube", "channel_id": CHANNEL, "api_key": {"env": KEY_ENV}}},
    )
    built = settings.collectors["yt"]
    assert built.cls is YoutubeCollector and built.interval == 15 * 60
    cfg = built.config
    assert (cfg.api_base, cfg.backfill_days, cfg.oauth_token) == (BASE, 180, None)
    assert built.config.api_key.reveal() == KEY and KEY not in repr(built.config)
