"""The YouTube normaliser: comment resources as the Data API returns them → records.

The fixtures are the real capture quoted in reference/social-apis.md §3.3 (a
``commentThreads.list?part=snippet,replies`` page pasted in a public project, store id
36163562260) and, for a reply read with ``comments.list``, the real capture in
jthevos/youtube_comment_analysis ``data/sample_response.md`` (whose snippets carry no
``videoId``). Doc: developers.google.com/youtube/v3/docs/comments#resource.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest

from pengaduan.collectors.base import RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer import comment_triage
from pengaduan.normalizer.record import Kind
from pengaduan.normalizer.youtube import comment_text, normalize_youtube_comment, parse_time

OWNER = "UCsT0YIqwnpJCM-mx7-gSA4Q"  # the channel of the captured video
THREAD_AUTHOR = "UCgSXLFaEvKBWbwjjHo3W6CQ"  # who wrote thread UgxJRPGIe1qACkU9vrV4AaABAg

# reference/social-apis.md §3.3 [real]: the top-level comment of thread UgwXM56v-878pDMuUsB4AaABAg.
TOP = {
    "kind": "youtube#comment",
    "etag": "cGvNaM2FWcVDCSpglGuZHNHAnfw",
    "id": "UgwXM56v-878pDMuUsB4AaABAg",
    "snippet": {
        "channelId": "UCsT0YIqwnpJCM-mx7-gSA4Q",
        "videoId": "_VB39Jo8mAQ",
        "textDisplay": "<a href=\"https://www.youtube.com/watch?v=_VB39Jo8mAQ&amp;t=405\">6:45</a> Wow, glad your kids are so familiar with throwing money at strippers at such a young age. It&#39;ll serve them well.",
        "textOriginal": "6:45 Wow, glad your kids are so familiar with throwing money at strippers at such a young age. It'll serve them well.",
        "authorDisplayName": "@1QKGLH",
        "authorProfileImageUrl": "https://yt3.ggpht.com/ytc/AIdro_myylSiSYfsymfqteUHnd8tLCjDqUAGPq-_czzHycImzg=s48-c-k-c0x00ffffff-no-rj",
        "authorChannelUrl": "http://www.youtube.com/@1QKGLH",
        "authorChannelId": {"value": "UCrCDii_RMcnwEhzNiJ5hXkA"},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": "2024-04-28T12:05:10Z",
        "updatedAt": "2024-04-28T12:05:10Z",
    },
}

# reference/social-apis.md §3.3 [real]: thread UgxJRPGIe1qACkU9vrV4AaABAg and its first reply.
THREAD_TOP = {
    "kind": "youtube#comment",
    "etag": "nCRsnDbiQvf9mQQYdNCGkxl4ZKs",
    "id": "UgxJRPGIe1qACkU9vrV4AaABAg",
    "snippet": {
        "channelId": "UCsT0YIqwnpJCM-mx7-gSA4Q",
        "videoId": "_VB39Jo8mAQ",
        "textDisplay": "This video was 8 years ago, but what happened to Sam Bankman Fried last year is what said in the video.",
        "textOriginal": "This video was 8 years ago, but what happened to Sam Bankman Fried last year is what said in the video.",
        "authorDisplayName": "@computerscienceengineering8710",
        "authorProfileImageUrl": "https://yt3.ggpht.com/ytc/AIdro_nh3Kue1Esrdh8RbcZxg9xBiEyNjrQIeS1Xfb4a_uBiaw=s48-c-k-c0x00ffffff-no-rj",
        "authorChannelUrl": "http://www.youtube.com/@computerscienceengineering8710",
        "authorChannelId": {"value": "UCgSXLFaEvKBWbwjjHo3W6CQ"},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": "2024-01-24T04:18:03Z",
        "updatedAt": "2024-01-24T04:18:03Z",
    },
}
REPLY = {
    "kind": "youtube#comment",
    "etag": "FzXT-cHdORnJzy-PGeiHVBk6-Y8",
    "id": "UgxJRPGIe1qACkU9vrV4AaABAg.9zwY9z9YWlyA-Tkz_Q0xiC",
    "snippet": {
        "channelId": "UCsT0YIqwnpJCM-mx7-gSA4Q",
        "videoId": "_VB39Jo8mAQ",
        "textDisplay": "Hi",
        "textOriginal": "Hi",
        "parentId": "UgxJRPGIe1qACkU9vrV4AaABAg",
        "authorDisplayName": "@Raj-dd1tj",
        "authorProfileImageUrl": "https://yt3.ggpht.com/BFp4jkFL4UtLlAvq8ir1-se4xTVnfT2DcjAMlTW1cUc8DTl6XUl_7jn1kuXsNFpxnZEf2Ulm=s48-c-k-c0x00ffffff-no-rj",
        "authorChannelUrl": "http://www.youtube.com/@Raj-dd1tj",
        "authorChannelId": {"value": "UCWeOHYar41NLKbHC4U80tKw"},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": "2024-02-06T11:13:00Z",
        "updatedAt": "2024-02-06T11:13:00Z",
    },
}

# jthevos/youtube_comment_analysis data/sample_response.md [real]: a comments.list?parentId
# reply; note the snippet has neither channelId nor videoId.
LISTED_REPLY = {
    "kind": "youtube#comment",
    "etag": "Y3mnxnPZy4rOIQ3CNkjXq_exzSI",
    "id": "UgzDE2tasfmrYLyNkGt4AaABAg.8g7oZbuBjXg9cGkwcFN8zI",
    "snippet": {
        "textDisplay": "This is the original comment.",
        "textOriginal": "This is the original comment.",
        "parentId": "UgzDE2tasfmrYLyNkGt4AaABAg",
        "authorDisplayName": "GEORGES Dagher",
        "authorProfileImageUrl": "https://yt3.ggpht.com/ytc/AKedOLQLo5B4ZAz78JQ6hfnhH_-guBJ_9mHl-eM-c0VvLA=s48-c-k-c0x00ffffff-no-rj",
        "authorChannelUrl": "http://www.youtube.com/channel/UCR8bVFoncrNgMWRCW7tM7-Q",
        "authorChannelId": {"value": "UCR8bVFoncrNgMWRCW7tM7-Q"},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": "2022-06-14T21:29:00Z",
        "updatedAt": "2022-06-14T21:29:00Z",
    },
}


@pytest.fixture(autouse=True)
def triage(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Text triage is comment_triage's job (tested there); here we see what reaches it."""
    asked: list[str] = []

    def fake(text: str) -> tuple[Kind, str | None]:
        asked.append(text)
        return (Kind.NOT_COMPLAINT, "greeting") if text == "Hi" else (Kind.COMPLAINT, None)

    monkeypatch.setattr(comment_triage, "triage_comment", fake)
    return asked


def item(comment: dict, **meta) -> RawItem:  # type: ignore[no-untyped-def]
    payload = json.dumps(comment, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    meta = {"owner_channel_id": OWNER, **meta}
    return RawItem(comment["id"], payload.encode(), "application/json", meta)


def test_a_top_level_comment_becomes_a_record_with_permalink_and_author(triage: list[str]) -> None:
    record = normalize_youtube_comment(item(TOP, video_id="_VB39Jo8mAQ", thread_id=TOP["id"]))
    assert record.channel == "youtube"
    assert record.source_id == "UgwXM56v-878pDMuUsB4AaABAg"
    assert record.source_url == (
        "https://www.youtube.com/watch?v=_VB39Jo8mAQ&lc=UgwXM56v-878pDMuUsB4AaABAg"
    )
    assert record.received_at == datetime(2024, 4, 28, 12, 5, 10, tzinfo=timezone.utc)
    assert record.body.startswith("6:45 Wow") and "It'll serve" in record.body  # textOriginal
    assert record.author.name == "@1QKGLH" and record.author.handle == "UCrCDii_RMcnwEhzNiJ5hXkA"
    assert record.in_reply_to is None
    assert record.kind is Kind.COMPLAINT and triage == [record.body]
    assert record.extra == {
        "video_id": "_VB39Jo8mAQ", "thread_id": TOP["id"], "like_count": 0,
        "updated_at": "2024-04-28T12:05:10Z",
    }


def test_a_reply_by_someone_else_is_triaged_on_its_text() -> None:
    record = normalize_youtube_comment(
        item(REPLY, parent_id=THREAD_TOP["id"], parent_author_channel_id=THREAD_AUTHOR)
    )
    assert record.in_reply_to == "UgxJRPGIe1qACkU9vrV4AaABAg"
    assert (record.kind, record.kind_reason) == (Kind.NOT_COMPLAINT, "greeting")


def test_the_offices_own_channel_answering_is_not_a_complaint(triage: list[str]) -> None:
    answer = copy.deepcopy(REPLY)
    answer["snippet"]["authorChannelId"] = {"value": OWNER}
    record = normalize_youtube_comment(item(answer, parent_author_channel_id=THREAD_AUTHOR))
    assert (record.kind, record.kind_reason) == (Kind.NOT_COMPLAINT, "office_answer")
    assert triage == []  # who speaks decides before any text rule


def test_a_reply_by_the_threads_author_is_a_follow_up() -> None:
    own = copy.deepcopy(REPLY)
    own["snippet"]["authorChannelId"] = {"value": THREAD_AUTHOR}
    record = normalize_youtube_comment(item(own, parent_author_channel_id=THREAD_AUTHOR))
    assert record.kind is Kind.FOLLOW_UP and record.in_reply_to == THREAD_TOP["id"]


def test_a_reply_from_comments_list_takes_its_video_from_meta() -> None:
    record = normalize_youtube_comment(
        item(LISTED_REPLY, video_id="abcdefghijk", thread_id="UgzDE2tasfmrYLyNkGt4AaABAg")
    )
    assert record.source_url == (
        "https://www.youtube.com/watch?v=abcdefghijk"
        "&lc=UgzDE2tasfmrYLyNkGt4AaABAg.8g7oZbuBjXg9cGkwcFN8zI"
    )
    assert record.in_reply_to == "UgzDE2tasfmrYLyNkGt4AaABAg"


def test_missing_author_and_video_still_give_a_record() -> None:
    bare = copy.deepcopy(TOP)
    for key in ("authorDisplayName", "authorChannelId", "videoId"):
        del bare["snippet"][key]
    record = normalize_youtube_comment(item(bare))
    assert record.author.name is None and record.author.handle is None
    assert record.source_url is None


def test_an_edited_comment_says_so_and_keeps_its_moderation_status() -> None:
    edited = copy.deepcopy(TOP)
    edited["snippet"].update(updatedAt="2024-04-29T08:00:00Z", moderationStatus="heldForReview")
    record = normalize_youtube_comment(item(edited))
    assert record.extra["edited"] is True and record.extra["updated_at"] == "2024-04-29T08:00:00Z"
    assert record.extra["moderation_status"] == record.source_status == "heldForReview"
    assert record.received_at == datetime(2024, 4, 28, 12, 5, 10, tzinfo=timezone.utc)


def test_without_text_original_the_html_display_text_is_undone() -> None:
    snippet = dict(TOP["snippet"])
    del snippet["textOriginal"]
    assert comment_text(snippet) == (
        "6:45 Wow, glad your kids are so familiar with throwing money at strippers at such a "
        "young age. It'll serve them well."
    )
    assert comment_text({"textDisplay": "Jalan rusak<br>di Desa Bebandem &amp; Sibetan"}) == (
        "Jalan rusak\ndi Desa Bebandem & Sibetan"
    )


def test_a_tombstone_gives_a_record_marked_deleted(triage: list[str]) -> None:
    payload = {
        "id": TOP["id"], "deleted": True, "videoId": "_VB39Jo8mAQ",
        "publishedAt": "2024-04-28T12:05:10Z",
    }
    record = normalize_youtube_comment(item(payload, video_id="_VB39Jo8mAQ"))
    assert (record.kind, record.kind_reason) == (Kind.NOT_COMPLAINT, "deleted_on_platform")
    assert record.source_status == record.source_state == "deleted" and record.body == ""
    assert record.received_at == datetime(2024, 4, 28, 12, 5, 10, tzinfo=timezone.utc)
    assert record.extra["deleted"] is True and triage == []


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-04-28T12:05:10Z", datetime(2024, 4, 28, 12, 5, 10, tzinfo=timezone.utc)),
        ("2024-04-28T20:05:10+08:00", datetime(2024, 4, 28, 12, 5, 10, tzinfo=timezone.utc)),
        ("2024-04-28T12:05:10.123Z", datetime(2024, 4, 28, 12, 5, 10, 123000, tzinfo=timezone.utc)),
        ("2024-04-28T12:05:10", None),  # no zone: not guessed
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_time(value: object, expected: datetime | None) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"id": "x"}', "no snippet"),
        (b'{"id": "x", "snippet": {"textOriginal": "a"}}', "not a timestamp"),
        (b'{"id": "x", "snippet": {"publishedAt": "2024-01-01T00:00:00Z", "textOriginal": " "}}',
         "no text"),
    ],
)
def test_unusable_resources_are_record_errors(payload: bytes, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        normalize_youtube_comment(RawItem("x", payload))
