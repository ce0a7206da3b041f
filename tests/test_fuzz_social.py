"""Fuzzing the social channels: API items for the normalisers, whole API pages for the collectors.

Items are shaped like the documented resources (reference/social-apis.md: Graph comment §1.2,
Instagram comment §2.3, YouTube comment / commentThread §3.2), with any field missing, null,
of the wrong type or full of odd Unicode. Pages are served to the real collectors through
``responses``: documented page shapes with generated items, and also truncated or invalid
JSON, error bodies and odd status codes. Property: a normaliser gives a valid record or a
RecordError; a collector yields items (each a record or a quarantine entry) or stops with a
CollectorError, whose message is the sentence a person sees; never another exception.
Run size: tests/fuzzing.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import responses
from hypothesis import example, given
from hypothesis import strategies as st

from fuzzing import ANY_JSON, RUNS, fuzz_settings, json_object, maybe, normalize_or_quarantine, report
from pengaduan.collectors.base import Collector, RawItem, source_id_problem
from pengaduan.collectors.facebook_page import FacebookPageCollector, FacebookPageConfig
from pengaduan.collectors.instagram import InstagramCollector, InstagramConfig
from pengaduan.collectors.youtube import YoutubeCollector, YoutubeConfig
from pengaduan.errors import CollectorError
from pengaduan.settings import Secret

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
GRAPH = "https://graph.test/v23.0"
YOUTUBE = "https://youtube.test/youtube/v3"
TOKEN = Secret("fuzz-token-0123456789", "environment variable PENGADUAN_FUZZ_TOKEN")

TEXT = st.text(max_size=80) | st.sampled_from(
    ["PKH belum cair, tolong dicek", "Terima kasih", "", "   ", "<b>bold</b><br>line", "&amp;&lt;",
     "hp 081234567890 NIK 5107010000000001", "\u202e\u200b\ufeff", "🙏" * 50]
)
IDS = st.from_regex(r"[0-9]{1,8}(_[0-9]{1,8})?", fullmatch=True) | st.sampled_from(["", "0", "a" * 300, "x\x00y"])
GRAPH_TIMES = st.one_of(
    st.sampled_from(["2026-11-02T01:15:00+0000", "2026-11-01T10:00:00Z", "2026-11-02T01:15:00",
                     "2026-02-30T01:15:00+0000", "", "yesterday", "9999-12-31T23:59:59-2359"]),
    st.integers(-(2**63), 2**63), st.floats(),
    st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S%z")),
)
ISO_TIMES = st.one_of(
    st.sampled_from(["2026-11-01T10:00:00Z", "2026-11-01T10:00:00.123+07:00", "2026-11-01T10:00:00",
                     "2026-11-01", "Z", "", "0001-01-01T00:00:00+14:00"]),
    st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()),
)

FB_COMMENT = json_object({
    "id": IDS, "message": TEXT, "created_time": GRAPH_TIMES,
    "from": json_object({"id": IDS, "name": TEXT}),
    "parent": json_object({"id": IDS}),
    "attachment": json_object({"type": st.sampled_from(["photo", "sticker", "share"]), "url": TEXT}),
    "like_count": st.integers(), "comment_count": st.integers(), "is_hidden": st.booleans(),
    "permalink_url": st.just("https://www.facebook.com/1/posts/2?comment_id=3"),
    "deleted": st.just(True),
})
IG_COMMENT = json_object({
    "id": IDS, "text": TEXT, "timestamp": GRAPH_TIMES, "username": TEXT,
    "from": json_object({"id": IDS, "username": TEXT}),
    "parent_id": IDS, "hidden": st.booleans(), "like_count": st.integers(),
    "user": json_object({"id": IDS}), "deleted": st.just(True),
})
YT_SNIPPET = json_object({
    "authorDisplayName": TEXT, "authorChannelId": json_object({"value": IDS}),
    "textDisplay": TEXT, "textOriginal": TEXT, "parentId": IDS, "videoId": IDS,
    "likeCount": st.integers(), "moderationStatus": st.sampled_from(["published", "heldForReview"]),
    "publishedAt": ISO_TIMES, "updatedAt": ISO_TIMES, "canRate": st.booleans(),
})
YT_COMMENT = json_object({
    "kind": st.just("youtube#comment"), "id": IDS, "snippet": YT_SNIPPET,
    "deleted": st.just(True), "videoId": IDS, "publishedAt": ISO_TIMES,
})


def metas(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """What a collector puts in ``meta``: read from the same API objects, so just as odd."""
    return st.fixed_dictionaries({}, optional={key: maybe(IDS) for key in keys})


CHANNELS: dict[str, tuple[type[Collector], st.SearchStrategy, st.SearchStrategy]] = {
    "facebook": (FacebookPageCollector, FB_COMMENT,
                 metas(["post_id", "permalink", "post_permalink", "parent", "owner_id", "parent_author_id"])),
    "instagram": (InstagramCollector, IG_COMMENT,
                  metas(["post_id", "permalink", "parent", "owner_id", "owner_username",
                         "parent_author_id", "parent_author_username"])),
    "youtube": (YoutubeCollector, YT_COMMENT,
                metas(["video_id", "thread_id", "owner_channel_id", "parent_id", "parent_author_channel_id"])),
}


@st.composite
def social_items(draw) -> tuple[str, RawItem]:
    channel = draw(st.sampled_from(sorted(CHANNELS)))
    _, comments, meta = CHANNELS[channel]
    payload = draw(st.one_of(
        comments.map(lambda c: json.dumps(c).encode()),
        comments.map(lambda c: json.dumps(c).encode()),
        ANY_JSON.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=40),
    ))
    return channel, RawItem(draw(IDS.filter(bool)), payload, "application/json", draw(meta))


def check_item(channel: str, item: RawItem) -> None:
    normalize_or_quarantine(CHANNELS[channel][0], item, channel)


def pinned(channel: str, payload: dict, **meta: Any) -> tuple[str, RawItem]:
    return channel, RawItem("1_2", json.dumps(payload).encode(), "application/json", meta)


# Crashes the fuzzer found, kept as regressions (each was an exception other than RecordError).
@example(pinned("facebook", {"created_time": 253402300800.0}))  # ValueError: year 10000
@example(pinned("facebook", {"created_time": 67768036191676800}))  # OSError: time_t overflow
@example(pinned("facebook", {"created_time": "2026-11-02T01:15:00+0000",
                             "attachment": {"type": {"photo": 1}}}))  # unhashable type
@example(pinned("facebook", {"created_time": "2026-11-02T01:15:00+0000", "permalink_url": {"x": 1},
                             "from": {"id": "9", "name": ["I Wayan"]}}))  # dict as URL, list as name
@example(pinned("instagram", {"timestamp": "2026-11-01T10:00:00Z", "username": {"u": 1}},
                permalink=["https://ig.test/p/x"]))  # clean_line(dict); a list as source_url
@example(pinned("youtube", {"deleted": True, "publishedAt": "0001-01-01T00:00:00+14:00"}))  # OverflowError
@example(pinned("youtube", {"snippet": {"textOriginal": "PKH", "publishedAt": "2026-11-01T10:00:00Z",
                                        "authorDisplayName": [{}], "parentId": 7,
                                        "moderationStatus": {"s": 1}}}))  # non-text name, parent, status
@fuzz_settings(ci_examples=300)
@given(drawn=social_items())
def fuzz_items(drawn: tuple[str, RawItem]) -> None:
    RUNS["social API items"] += 1
    check_item(*drawn)


def test_generated_api_items_give_a_record_or_a_reason(figures) -> None:  # type: ignore[no-untyped-def]
    fuzz_items()
    report(figures, "social API items")


# --- whole pages through the collectors -------------------------------------------------------


class FuzzFacebook(FacebookPageCollector):
    clock = staticmethod(lambda: NOW)
    sleep = staticmethod(lambda seconds: None)


class FuzzInstagram(InstagramCollector):
    clock = staticmethod(lambda: NOW)
    sleep = staticmethod(lambda seconds: None)


def next_links(base: str) -> st.SearchStrategy[str]:
    return st.sampled_from([f"{base}/next?after=A", f"{base}/next?after=B", "https://elsewhere.test/x",
                            "http://[::1", "not a url", ""])


def graph_page(comment: st.SearchStrategy, base: str) -> st.SearchStrategy[dict[str, Any]]:
    paging = json_object({"next": next_links(base), "cursors": json_object({"after": st.sampled_from(["A", "B"])})})
    return json_object({"data": st.lists(comment, max_size=4), "paging": paging})


def youtube_page(resource: st.SearchStrategy) -> st.SearchStrategy[dict[str, Any]]:
    return json_object({"kind": st.just("youtube#commentThreadListResponse"),
                        "items": st.lists(resource, max_size=4),
                        "nextPageToken": st.sampled_from(["T1", "T2"])})


YT_THREAD = json_object({
    "id": IDS,
    "snippet": json_object({"videoId": st.just("vid1"), "topLevelComment": YT_COMMENT,
                            "totalReplyCount": st.integers(-1, 5) | st.just("3")}),
    "replies": json_object({"comments": st.lists(YT_COMMENT, max_size=2)}),
})
ERROR_BODIES = st.sampled_from([
    {"error": {"code": 190, "message": "expired"}}, {"error": {"code": 4}}, {"error": {"code": 100, "error_subcode": 33}},
    {"error": {"code": 2, "is_transient": True}}, {"error": "text"},
    {"error": {"code": 403, "errors": [{"reason": "commentsDisabled"}]}},
    {"error": {"errors": [{"reason": "quotaExceeded"}]}}, {"error": {"errors": [{"reason": "invalidPageToken"}]}},
])


def responses_of(page: st.SearchStrategy) -> st.SearchStrategy[tuple[int, bytes]]:
    """One HTTP answer: mostly a documented page, else damaged bytes or an error."""
    as_json = page.map(lambda p: json.dumps(p).encode())
    return st.one_of(
        st.tuples(st.just(200), as_json), st.tuples(st.just(200), as_json),
        st.tuples(st.just(200), as_json.flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n]))),
        st.tuples(st.just(200), ANY_JSON.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=30)),
        st.tuples(st.sampled_from([400, 403, 404, 429, 500]), ERROR_BODIES.map(lambda v: json.dumps(v).encode())),
    )


FIXED = {  # the listings that lead to the fuzzed pages, as the docs show them
    "/posts": {"data": [{"id": "1_2", "created_time": "2026-11-01T10:00:00+0000",
                         "updated_time": "2026-11-01T12:00:00+0000", "permalink_url": "https://fb.test/1_2"}]},
    "/media": {"data": [{"id": "17900", "timestamp": "2026-11-01T10:00:00+0000", "comments_count": 3,
                         "permalink": "https://ig.test/p/x", "username": "dinsos"}]},
    "/channels": {"items": [{"contentDetails": {"relatedPlaylists": {"uploads": "UU1"}}}]},
    "/playlistItems": {"items": [{"contentDetails": {"videoId": "vid1"}}]},
    "/videos": {"items": [{"id": "vid1", "statistics": {"commentCount": "3"}}]},
}
END = {"data": [], "items": []}  # once the drawn answers are used up: a last, empty page


def serve(answers: list[tuple[int, bytes]]) -> Callable[[Any], tuple[int, dict, bytes]]:
    def answer(request: Any) -> tuple[int, dict, bytes]:
        path = request.path_url.split("?", 1)[0]
        for suffix, body in FIXED.items():
            if path.endswith(suffix):
                return 200, {}, json.dumps(body).encode()
        status, body = answers.pop(0) if answers else (200, json.dumps(END).encode())
        return status, {}, body

    return answer


def build(channel: str, name: str = "social") -> Collector:
    if channel == "facebook":
        return FuzzFacebook(name, FacebookPageConfig(page_id="1", access_token=TOKEN, api_base=GRAPH))
    if channel == "instagram":
        return FuzzInstagram(name, InstagramConfig(ig_user_id="178", access_token=TOKEN, api_base=GRAPH))
    config = YoutubeConfig(channel_id="UC1", api_key=TOKEN, api_base=YOUTUBE)
    return YoutubeCollector(name, config, clock=lambda: NOW, sleep=lambda seconds: None)


@contextmanager
def api_serving(channel: str, answers: list[tuple[int, bytes]]) -> Iterator[None]:
    """The channel's API on ``responses``: fixed listings, then ``answers`` in turn."""
    base = YOUTUBE if channel == "youtube" else GRAPH
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(re.escape(base) + ".*"), callback=serve(list(answers)))
        yield


PAGES = {
    "facebook": graph_page(FB_COMMENT, GRAPH),
    "instagram": graph_page(IG_COMMENT.flatmap(
        lambda c: st.just(c) | graph_page(IG_COMMENT, GRAPH).map(lambda r: {**c, "replies": r})), GRAPH),
    "youtube": youtube_page(YT_THREAD),
}


@st.composite
def api_runs(draw) -> tuple[str, list[tuple[int, bytes]]]:
    channel = draw(st.sampled_from(sorted(PAGES)))
    return channel, draw(st.lists(responses_of(PAGES[channel]), min_size=1, max_size=4))


def check_run(channel: str, answers: list[tuple[int, bytes]]) -> list[RawItem]:
    """Run the real collector against the answers; its items, checked one by one."""
    collector = build(channel)
    items: list[RawItem] = []
    with api_serving(channel, answers):
        try:
            for batch in collector.fetch(None):
                items.extend(batch.items)
        except CollectorError as error:
            assert str(error).strip(), "a collector error must say what happened"
        finally:
            collector.close()
    for item in items:
        assert isinstance(item.source_id, str) and source_id_problem(item.source_id) is None, item
        normalize_or_quarantine(type(collector), item, collector.channel)
    return items


def ok(body: Any) -> tuple[int, bytes]:
    return 200, json.dumps(body).encode()


# Crashes the fuzzer found in the collectors' page reading, kept as regressions: each stopped
# the whole run with an unexpected exception, on every poll, since the page stays the same.
@example(("instagram", [ok({"data": 5.5})]))  # TypeError: float is not iterable
@example(("facebook", [ok({"data": [{"id": "1", "parent": -140662}]})]))  # int has no .get
@example(("facebook", [ok({"data": [{"id": "1", "created_time": float("-inf")}]})]))  # OverflowError
@example(("instagram", [ok({"paging": {"cursors": {"after": {}}, "next": f"{GRAPH}/n"}})]))  # unhashable
@example(("facebook", [ok({"paging": {"next": "http://[::1"}})]))  # ValueError: Invalid IPv6 URL
@example(("youtube", [ok({"items": 41272, "nextPageToken": "T2"})]))  # int is not iterable
@example(("youtube", [ok({"items": ["P", {"id": "t1", "snippet": [], "replies": [1]}]})]))  # str.get
@example(("youtube", [ok({"items": [{"id": "t1", "snippet": {"totalReplyCount": {}}}]})]))  # int({})
@example(("youtube", [ok({"items": [{"id": ["t1"]}], "nextPageToken": {"t": 1}})]))  # unhashable
# Ids the store cannot key (over VARCHAR(255), or with a NUL, which PostgreSQL text refuses)
# failed the whole batch on PostgreSQL, on every run: now each is a quarantined item.
@example(("facebook", [ok({"data": [{"id": "1_" + "9" * 300, "created_time": "2026-11-01T10:00:00+0000"}]})]))
@example(("youtube", [ok({"items": [{"id": "t\x00", "snippet": {"topLevelComment": {"id": "t\x00"}}}]})]))
@fuzz_settings(ci_examples=200)
@given(run=api_runs())
def fuzz_pages(run: tuple[str, list[tuple[int, bytes]]]) -> None:
    RUNS["social API pages"] += 1
    check_run(*run)


def test_generated_api_pages_give_items_or_a_collector_error(figures) -> None:  # type: ignore[no-untyped-def]
    fuzz_pages()
    report(figures, "social API pages")


# --- YouTube's comment counts -----------------------------------------------------------------
# A sweep starts with the counts: channels.list (the uploads playlist), playlistItems.list
# (its videos, paged) and videos.list?part=statistics, shaped as
# https://developers.google.com/youtube/v3/docs/videos/list and /docs/videos#resource show:
# statistics.commentCount is a string of digits, missing when comments are off.

COUNTS = st.one_of(
    st.integers(0, 10**6).map(str), st.integers(0, 10**6).map(str),
    st.sampled_from(["", "-3", "1e3", "3.0", " 3", "²", "٣", "0x10", "9" * 5000, "NaN"]),
    st.integers(-(2**70), 2**70), st.booleans(), st.none(), ANY_JSON,
)
VIDEO_IDS = st.sampled_from(["vid1", "vid2", "vid3"]) | IDS
VIDEO = json_object({
    "kind": st.just("youtube#video"), "id": VIDEO_IDS,
    "statistics": json_object({"viewCount": st.just("12"), "commentCount": COUNTS}),
})
VIDEO_PAGE = json_object({"kind": st.just("youtube#videoListResponse"), "items": st.lists(VIDEO, max_size=4),
                          "nextPageToken": st.sampled_from(["T1", "T2"])})
PLAYLIST_PAGE = json_object({
    "items": st.lists(json_object({"contentDetails": json_object({"videoId": VIDEO_IDS})}), max_size=4),
    "nextPageToken": st.sampled_from(["T1", "T2"]),
})
CHANNEL = json_object({"items": st.lists(json_object({"contentDetails": json_object({
    "relatedPlaylists": json_object({"uploads": st.just("UU1")})})}), max_size=2)})
# A cursor whose sweep is due: vid1 and vid2 tracked, their counts read again.
SWEEP_CURSOR = {
    "watermark": "2026-11-02T01:00:00+00:00", "counted": "2026-11-01T00:00:00+00:00",
    "videos": {"vid1": 3, "vid2": None},
    "threads": {"t1": ["vid1", 0, "x", 1_793_000_000], "t2": ["vid2", 0, "x", 1_793_000_000]},
}


@st.composite
def count_answers(draw) -> dict[str, list[tuple[int, bytes]]]:
    """The answers of each counts endpoint, in turn; the listings after them are empty."""
    return {
        "/channels": draw(st.lists(responses_of(CHANNEL), min_size=1, max_size=1)),
        "/playlistItems": draw(st.lists(responses_of(PLAYLIST_PAGE), max_size=3)),
        "/videos": draw(st.lists(responses_of(VIDEO_PAGE), min_size=1, max_size=2)),
    }


def serve_counts(answers: dict[str, list[tuple[int, bytes]]]) -> Callable[[Any], tuple[int, dict, bytes]]:
    def answer(request: Any) -> tuple[int, dict, bytes]:
        path = request.path_url.split("?", 1)[0]
        for suffix, queue in answers.items():
            if path.endswith(suffix) and queue:
                status, body = queue.pop(0)
                return status, {}, body
        return 200, {}, json.dumps(END).encode()

    return answer


def check_counts(answers: dict[str, list[tuple[int, bytes]]], sweep: bool) -> None:
    """The collector's run: batches whose cursor keeps only counts it could read, or a
    CollectorError's sentence."""
    collector = build("youtube")
    queues = {path: list(queue) for path, queue in answers.items()}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(re.escape(YOUTUBE) + ".*"), callback=serve_counts(queues))
        try:
            for batch in collector.fetch(SWEEP_CURSOR if sweep else None):
                for video, count in batch.cursor["videos"].items():
                    assert isinstance(video, str) and video, video
                    assert count is None or (type(count) is int and count >= 0), count
        except CollectorError as error:
            assert str(error).strip() and "unexpected" not in str(error), error
        finally:
            collector.close()


def counts_run(videos: Any, channel: Any = FIXED["/channels"], playlist: Any = FIXED["/playlistItems"]) -> dict:
    return {"/channels": [ok(channel)], "/playlistItems": [ok(playlist)], "/videos": [ok(videos)]}


# Crashes the fuzzer found in reading the counts, kept as regressions: each stopped every
# sweep (or the first run) with an unexpected exception.
@example(answers=counts_run({"items": [{"id": ["vid1"]}]}), sweep=True)  # unhashable type: 'list'
@example(answers=counts_run({"items": [None]}), sweep=True)  # NoneType has no .get
@example(answers=counts_run({"items": True}), sweep=True)  # bool is not iterable
@example(answers=counts_run({"items": [{"statistics": {"commentCount": "3"}}]}), sweep=True)  # KeyError: 'id'
@example(answers=counts_run({"items": []}, channel={"items": True}), sweep=False)  # bool not subscriptable
@example(answers=counts_run({"items": [{"id": "vid1", "statistics": {"commentCount": "²"}}]}), sweep=True)  # int("²")
@example(answers=counts_run({"items": [{"id": "vid1", "statistics": {"commentCount": "9" * 5000}}]}), sweep=True)
@example(answers=counts_run({"items": []}, playlist={"items": [{"contentDetails": {"videoId": ["v"]}}]}), sweep=False)
@fuzz_settings(ci_examples=200)
@given(answers=count_answers(), sweep=st.booleans())
def fuzz_counts(answers: dict[str, list[tuple[int, bytes]]], sweep: bool) -> None:
    RUNS["YouTube count payloads"] += 1
    check_counts(answers, sweep)


def test_generated_count_payloads_give_counts_or_a_collector_error(figures) -> None:  # type: ignore[no-untyped-def]
    fuzz_counts()
    report(figures, "YouTube count payloads")
