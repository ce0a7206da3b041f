"""The facebook_page collector and normaliser against documented Graph API shapes.

Every fixture below copies a shape from reference/social-apis.md §1 (with the doc it cites).
Each run gets its own ``responses.RequestsMock(assert_all_requests_are_fired=True)``, so a test
fails when an expected call is not made, and every page is matched by its exact query
parameters (``next`` URLs by the parameters they carry), so an unexpected call fails too.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry
from sqlalchemy import select

from helpers import make_settings
from pengaduan.collectors.base import Collector, RawItem
from pengaduan.collectors.facebook_page import (
    COMMENT_FIELDS,
    POST_FIELDS,
    FacebookPageCollector,
    FacebookPageConfig,
)
from pengaduan.collectors.http import RateLimited
from pengaduan.collectors.testing import CollectorContract, items_of, run_all
from pengaduan.errors import AuthError, SourceError, TransientError
from pengaduan.normalizer.facebook import normalize_facebook_comment
from pengaduan.normalizer.record import Kind
from pengaduan.pipeline import Pipeline
from pengaduan.settings import Secret
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, collector_state, raw_items, record_revisions, records

API = "https://graph.facebook.com/v23.0"
PAGE = "1234567890321"
TOKEN = "EAAGpageTOKENfixture0123456789abcdef"
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
P1, P2, P3 = f"{PAGE}_901097836652708", f"{PAGE}_901200000000001", f"{PAGE}_901300000000001"
C1, C2, C3 = "901097836652708_903438993085259", "901097836652708_903439116418580", "901097836652708_903439200000001"
C4, C5, C6 = "901200000000001_901200000000101", "901200000000001_901200000000102", "901200000000001_901200000000103"
COMMENT_PARAMS = {"filter": "stream", "order": "chronological", "fields": COMMENT_FIELDS, "limit": "100"}


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(FacebookPageCollector, "clock", staticmethod(lambda: NOW))
    monkeypatch.setattr(FacebookPageCollector, "sleep", staticmethod(slept.append))
    return slept


def at(clock: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FacebookPageCollector, "clock", staticmethod(lambda: clock))


def collector(name: str = "fb") -> FacebookPageCollector:
    token = Secret(TOKEN, "environment variable PENGADUAN_FB_TOKEN")
    return FacebookPageCollector(name, FacebookPageConfig(page_id=PAGE, access_token=token))


# --- fixture builders ----------------------------------------------------------------------


def listing_params(now: datetime = NOW) -> dict[str, str]:
    since = int((now - timedelta(days=180)).timestamp())
    return {"fields": POST_FIELDS, "since": str(since), "until": str(int(now.timestamp())), "limit": "100"}


def next_url(path: str, params: dict[str, str], after: str) -> str:
    # The Graph results guide's `next`: the request's own parameters, the page token first,
    # and the `after` cursor (developers.facebook.com/docs/graph-api/results).
    return f"{API}/{path}?" + urlencode({"access_token": TOKEN, "pretty": "0", **params, "after": after})


def edge(
    rsps: responses.RequestsMock,
    path: str,
    params: dict[str, str],
    pages: list[list[dict]],
    next_path: str | None = None,
    tag: str = "Q1VSU09S",
    headers: dict[str, str] | None = None,
    open_end: bool = False,
) -> None:
    """A paged Graph edge (developers.facebook.com/docs/graph-api/results): each page but the
    last has paging.next; the last has cursors only, the real last-page signal."""
    for n, data in enumerate(pages):
        asked = params if n == 0 else {"pretty": "0", **params, "after": f"{tag}{n}"}
        before = f"{tag}b{n}"
        after = f"{tag}{n + 1}"
        paging: dict = {"cursors": {"before": before, "after": after}}
        if len(data) == 1:
            paging["cursors"]["before"] = after  # one item: before == after, as in restfb #966
        if n + 1 < len(pages) or open_end:
            paging["next"] = next_url(next_path or path, params, after)
        rsps.get(
            f"{API}/{(next_path or path) if n else path}",
            json={"data": data, "paging": paging},
            headers=headers,
            match=[matchers.query_param_matcher({**asked, "access_token": TOKEN})],
        )


def post(post_id: str, created: str, updated: str | None = None) -> dict:
    # Post fields: developers.facebook.com/docs/graph-api/reference/post (updated_time: "the
    # time of the last comment that was left on the post"); ids "{page-id}_{post-id}".
    object_id = post_id.split("_")[1]
    return {
        "id": post_id,
        "created_time": created,
        "updated_time": updated or created,
        "permalink_url": f"https://www.facebook.com/{PAGE}/posts/{object_id}",
    }


def comment(cid: str, message: str, created: str, author: tuple[str, str] | None = None, parent: str | None = None, **more) -> dict:  # type: ignore[no-untyped-def]
    # Comment shape: social-apis.md §1.5, from developers.facebook.com/docs/graph-api/reference/
    # object/comments and the Airbyte comment.json schema; `from` absent when not given.
    post_object, comment_part = cid.split("_")
    data: dict = {
        "id": cid,
        "message": message,
        "created_time": created,
        "permalink_url": f"https://www.facebook.com/{PAGE}/posts/{post_object}/?comment_id={comment_part}",
        "comment_count": 0,
        "like_count": 0,
        "is_hidden": False,
    }
    if author:
        data["from"] = {"id": author[0], "name": author[1]}
    if parent:
        data["parent"] = {"id": parent}
    data.update(more)
    return data


CITIZEN_A = ("10001", "Ni Luh Sari")
CITIZEN_B = ("10002", "I Made Wirawan")
CITIZEN_C = ("10003", "Komang Ayu")
OFFICE = (PAGE, "Dinas Sosial PPPA PPKB Karangasem")

P1_COMMENTS = [
    [
        comment(C1, "Bantuan PKH saya belum cair sejak Agustus, mohon dicek", "2026-10-01T09:30:03+0000", CITIZEN_A, comment_count=2),
        comment(C2, "Sama, punya sy juga blm cair", "2026-10-01T09:41:17+0000", None, parent=C1),
    ],
    [comment(C3, "Mohon kirim NIK lewat pesan, kami cek hari ini", "2026-10-03T01:00:00+0000", OFFICE, parent=C1)],
]
P2_COMMENTS = [
    [
        comment(C4, "Jalan ke kantor desa rusak parah, kapan diperbaiki?", "2026-10-21T07:00:00+0000", CITIZEN_B),
        comment(C5, "Sudah 3 bulan pak, tolong", "2026-10-21T07:30:00+0000", CITIZEN_B, parent=C4),
        comment(C6, "Mantap, terima kasih Dinsos", "2026-10-21T08:00:00+0000", CITIZEN_C),
    ]
]


def account(
    rsps: responses.RequestsMock,
    now: datetime = NOW,
    p1: tuple[str, list[list[dict]]] = ("2026-10-03T01:00:00+0000", P1_COMMENTS),
    p2: tuple[str, list[list[dict]]] = ("2026-10-21T08:00:00+0000", P2_COMMENTS),
    p3_updated: str = "2026-10-28T03:00:00+0000",
    read: set[str] = {P1, P2, P3},
    listed: int = 3,
) -> None:
    """Three posts over three listing pages (the middle one empty but with `next`, restfb
    #916); post 1's comments span two pages, posts in `read` expect their comment calls.
    A sweep asks for all three listing pages, a quick poll (``listed=1``) for the first."""
    posts = [post(P3, "2026-10-28T03:00:00+0000", p3_updated), post(P2, "2026-10-20T05:00:00+0000", p2[0])]
    pages = [posts, [], [post(P1, "2026-10-01T08:00:00+0000", p1[0])]]
    edge(rsps, f"{PAGE}/posts", listing_params(now), pages[:listed], tag="UE9TVFM", open_end=listed < 3)
    if P1 in read:
        edge(rsps, f"{P1}/comments", COMMENT_PARAMS, p1[1], next_path="901097836652708/comments", tag="QzFf")
    if P2 in read:
        edge(rsps, f"{P2}/comments", COMMENT_PARAMS, p2[1], tag="QzJf")
    if P3 in read:
        rsps.get(f"{API}/{P3}/comments", json={"data": []},
                 match=[matchers.query_param_matcher({**COMMENT_PARAMS, "access_token": TOKEN})])


def graph_error(code: int, message: str, subcode: int | None = None, **more) -> dict:  # type: ignore[no-untyped-def]
    # developers.facebook.com/docs/graph-api/guides/error-handling (social-apis.md §1.6)
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "EJplcsCHuLu"}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(more)
    return {"error": error}


def mocked(registry=None) -> responses.RequestsMock:  # type: ignore[no-untyped-def]
    kwargs = {"registry": registry} if registry else {}
    return responses.RequestsMock(assert_all_requests_are_fired=True, **kwargs)


def run(world: Callable[[responses.RequestsMock], None], c: Collector, cursor=None) -> list:  # type: ignore[no-untyped-def]
    with mocked() as rsps:
        world(rsps)
        return run_all(c, cursor)


@pytest.fixture(autouse=True)
def simple_triage(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector's logic under test, not the triage rules (tested on their own)."""

    def triage(text: str) -> tuple[Kind, str | None]:
        if re.search(r"terima kasih|mantap", text, re.IGNORECASE):
            return Kind.NOT_COMPLAINT, "praise"
        return Kind.COMPLAINT, None

    monkeypatch.setattr("pengaduan.normalizer.facebook.triage_comment", triage)


# --- reading everything --------------------------------------------------------------------


def test_first_run_reads_every_page_of_posts_and_comments() -> None:
    c = collector()
    batches = run(account, c)
    items = items_of(batches)
    assert [i.source_id for i in items] == [C1, C2, C3, C4, C5, C6]  # oldest post first
    assert c.http.calls == 3 + 2 + 1 + 1
    by_id = {i.source_id: i for i in items}
    assert json.loads(by_id[C2].payload) == P1_COMMENTS[0][1]  # as received, no `from`
    assert by_id[C3].meta == {
        "post_id": P1, "permalink": P1_COMMENTS[1][0]["permalink_url"],
        "post_permalink": f"https://www.facebook.com/{PAGE}/posts/901097836652708",
        "parent": C1, "owner_id": PAGE, "parent_author_id": CITIZEN_A[0],
    }
    cursor = batches[-1].cursor
    assert cursor["watermark"] == (NOW - timedelta(minutes=15)).isoformat()
    assert cursor["posts"][P1]["m"] == "2026-10-03T01:00:00+0000"
    assert set(cursor["posts"][P2]["c"]) == {C4, C5, C6}
    assert json.loads(json.dumps(cursor)) == cursor


def test_an_idle_poll_is_one_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7: a quiet poll asks for the first page of posts and nothing else (a call not
    registered here fails the run, one registered and not made fails the test)."""
    first = run(account, collector())
    at(NOW + timedelta(minutes=10), monkeypatch)
    c = collector()
    again = run(lambda rsps: account(rsps, NOW + timedelta(minutes=10), read=set(), listed=1), c, first[-1].cursor)
    assert items_of(again) == [] and c.http.calls == 1
    assert again[-1].cursor == first[-1].cursor  # the watermark waits for the next sweep


def test_a_new_comment_on_a_post_of_the_first_page_is_found_by_the_next_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(account, collector())
    later = NOW + timedelta(minutes=10)
    at(later, monkeypatch)
    late = comment("901200000000001_901200000000109", "Jalan itu sudah makan korban", "2026-11-02T02:05:00+0000", CITIZEN_C)
    p2 = ("2026-11-02T02:05:00+0000", [P2_COMMENTS[0] + [late]])
    c = collector()
    again = run(lambda rsps: account(rsps, later, p2=p2, read={P2}, listed=1), c, first[-1].cursor)
    assert [i.source_id for i in items_of(again)] == [C4, C5, C6, late["id"]]
    assert c.http.calls == 1 + 1
    assert set(again[-1].cursor["posts"]) == {P1, P2, P3}  # a quick poll forgets no post


def test_a_new_comment_on_a_post_past_the_first_page_is_found_by_the_next_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trade-off: P1 is on the third listing page, which only a sweep reads."""
    first = run(account, collector())
    late = comment("901097836652708_903500000000001", "Sampai hari ini PKH belum juga cair",
                   "2026-11-02T02:20:00+0000", ("10009", "Wayan Sukra"))
    p1 = ("2026-11-02T02:20:00+0000", [P1_COMMENTS[0], P1_COMMENTS[1] + [late]])
    quick = NOW + timedelta(minutes=30)
    at(quick, monkeypatch)
    c = collector()
    unseen = run(lambda rsps: account(rsps, quick, p1=p1, read=set(), listed=1), c, first[-1].cursor)
    assert items_of(unseen) == [] and c.http.calls == 1
    sweep = NOW + timedelta(minutes=60)  # sweep_minutes after the last sweep
    at(sweep, monkeypatch)
    c = collector()
    again = run(lambda rsps: account(rsps, sweep, p1=p1, read={P1}), c, unseen[-1].cursor)
    assert [i.source_id for i in items_of(again)] == [C1, C2, C3, late["id"]]
    assert c.http.calls == 3 + 2
    assert again[-1].cursor["watermark"] == (sweep - timedelta(minutes=15)).isoformat()


def test_a_quick_poll_follows_the_listing_while_it_brings_new_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    """More new posts than one page holds: the next page is read while a page has one."""
    first = run(account, collector())
    later = NOW + timedelta(minutes=10)
    at(later, monkeypatch)
    p4, p5 = f"{PAGE}_901400000000001", f"{PAGE}_901500000000001"
    c = collector()
    with mocked() as rsps:
        pages = [[post(p5, "2026-11-02T01:50:00+0000"), post(p4, "2026-11-02T01:40:00+0000")],
                 [post(P3, "2026-10-28T03:00:00+0000", "2026-10-28T03:00:00+0000"),
                  post(P2, "2026-10-20T05:00:00+0000", "2026-10-21T08:00:00+0000")]]
        edge(rsps, f"{PAGE}/posts", listing_params(later), pages, tag="UE9TVFM", open_end=True)
        for new in (p4, p5):
            rsps.get(f"{API}/{new}/comments", json={"data": []},
                     match=[matchers.query_param_matcher({**COMMENT_PARAMS, "access_token": TOKEN})])
        again = run_all(c, first[-1].cursor)
    assert c.http.calls == 2 + 2  # the second page has no new post: the third is not asked for
    assert set(again[-1].cursor["posts"]) == {P1, P2, P3, p4, p5}


@pytest.mark.parametrize("since_sweep, due", [(0, False), (59, False), (60, True), (-5, True)])
def test_a_sweep_is_due_an_hour_after_the_last_or_when_the_clock_went_back(since_sweep: int, due: bool) -> None:
    watermark = NOW - timedelta(minutes=15)  # the last sweep began at NOW
    assert collector().sweep_due(watermark, NOW + timedelta(minutes=since_sweep)) is due
    assert collector().sweep_due(None, NOW) is True


def test_a_post_changed_just_before_a_run_is_read_once_more(monkeypatch: pytest.MonkeyPatch) -> None:
    """The overlap: updated_time may move before the comment shows on the edge."""
    recent = (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    first = run(lambda rsps: account(rsps, p3_updated=recent), collector())
    at(NOW + timedelta(minutes=10), monkeypatch)
    second = run(lambda rsps: account(rsps, NOW + timedelta(minutes=10), p3_updated=recent, read={P3}, listed=1), collector(), first[-1].cursor)
    at(NOW + timedelta(minutes=20), monkeypatch)
    c = collector()
    run(lambda rsps: account(rsps, NOW + timedelta(minutes=20), p3_updated=recent, read=set(), listed=1), c, second[-1].cursor)
    assert c.http.calls == 1  # read twice after its change: settled, also between sweeps


def test_a_cursor_from_before_quick_polls_is_swept_by_the_old_rule_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A "v": 1 cursor has no "o" marks: its first run lists the whole window and reads again
    what the old rule would (P3 changed after the watermark), then the cursor is "v": 2."""
    recent = (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    first = run(lambda rsps: account(rsps, p3_updated=recent), collector())[-1].cursor
    old = {"v": 1, "watermark": first["watermark"],
           "posts": {k: {f: v for f, v in post.items() if f != "o"} for k, post in first["posts"].items()}}
    at(NOW + timedelta(minutes=10), monkeypatch)
    c = collector()
    again = run(lambda rsps: account(rsps, NOW + timedelta(minutes=10), p3_updated=recent, read={P3}), c, old)
    assert c.http.calls == 3 + 1 and again[-1].cursor["v"] == 2


def test_the_same_comment_on_two_pages_is_yielded_once() -> None:
    pages = [P1_COMMENTS[0], [P1_COMMENTS[0][1], P1_COMMENTS[1][0]]]  # C2 again on page 2
    items = items_of(run(lambda rsps: account(rsps, p1=("2026-10-03T01:00:00+0000", pages)), collector()))
    assert [i.source_id for i in items].count(C2) == 1


def test_a_listing_whose_cursor_does_not_advance_is_stopped_and_reported() -> None:
    """restfb #966 / connection-same-cursor.json: before == after; here with a `next` that
    leads back to the same page, which would loop forever."""

    def world(rsps: responses.RequestsMock) -> None:
        same = {"before": "MjM4NDI5OTEyNDQ4MjA0NzYZD", "after": "MjM4NDI5OTEyNDQ4MjA0NzYZD"}
        p1 = post(P1, "2026-10-01T08:00:00+0000", "2026-10-03T01:00:00+0000")
        loop = {"data": [p1], "paging": {"cursors": same, "next": next_url(f"{PAGE}/posts", listing_params(), same["after"])}}
        rsps.get(f"{API}/{PAGE}/posts", json=loop,
                 match=[matchers.query_param_matcher({**listing_params(), "access_token": TOKEN})])
        rsps.get(f"{API}/{PAGE}/posts", json=loop,
                 match=[matchers.query_param_matcher({"pretty": "0", **listing_params(), "after": same["after"], "access_token": TOKEN})])
        edge(rsps, f"{P1}/comments", COMMENT_PARAMS, P1_COMMENTS, next_path="901097836652708/comments", tag="QzFf")

    c = collector()
    batches = run(world, c)
    assert [i.source_id for i in items_of(batches)] == [C1, C2, C3]
    notes = [n for b in batches for n in b.notes]
    assert any("paging stopped" in n and "does not advance" in n for n in notes), notes
    assert batches[-1].cursor["watermark"] is None  # the window was not read to its end
    assert c.http.calls == 2 + 2


def test_a_comment_page_of_only_known_ids_is_a_loop_and_the_post_is_read_again() -> None:
    """facebook-sdk #510: the same comments returned page after page."""
    c = collector()
    with mocked() as rsps:
        posts = [post(P1, "2026-10-01T08:00:00+0000", "2026-10-03T01:00:00+0000")]
        edge(rsps, f"{PAGE}/posts", listing_params(), [posts])
        # Page 2 repeats page 1 and still has a `next`: it is not followed.
        edge(rsps, f"{P1}/comments", COMMENT_PARAMS, [P1_COMMENTS[0], list(P1_COMMENTS[0])],
             next_path="901097836652708/comments", tag="QzFf", open_end=True)
        batches = run_all(c)
    assert [i.source_id for i in items_of(batches)] == [C1, C2]
    assert any("repeated comments already read" in n for b in batches for n in b.notes)
    assert batches[-1].cursor["posts"][P1]["m"] is None  # unfinished: read again next run


# --- edits, hides, deletions ---------------------------------------------------------------


def sqlite_store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path}/pengaduan.db")
    store.ensure_schema()
    return store


def pipeline(store: Store, tmp_path: Path, now: datetime = NOW) -> Pipeline:
    return Pipeline(store, make_settings(store.url, tmp_path), clock=lambda: now)


def test_an_edited_comment_is_a_revision_and_hidden_or_deleted_ones_are_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = sqlite_store(tmp_path)
    with mocked() as rsps:
        account(rsps)
        first = pipeline(store, tmp_path).run(collector())
    assert (first.outcome, first.new) == ("ok", 6)

    later = NOW + timedelta(hours=3)
    at(later, monkeypatch)
    new = comment("901200000000001_901200000000104", "Tolong segera ditindaklanjuti",
                  "2026-11-02T04:00:00+0000", ("10004", "Gede Arsa"))
    edited = dict(P2_COMMENTS[0][0], message="Jalan ke kantor desa rusak parah sejak Juli, kapan diperbaiki?")
    hidden = dict(P2_COMMENTS[0][2], is_hidden=True)
    p2 = ("2026-11-02T04:00:00+0000", [[edited, hidden, new]])  # C5 deleted by its author
    with mocked() as rsps:
        account(rsps, later, p2=p2, read={P2})
        second = pipeline(store, tmp_path, later).run(collector())
    assert (second.outcome, second.new, second.updated, second.unchanged) == ("ok", 1, 3, 0)

    with store.transaction() as conn:
        rows = {r.source_id: r for r in conn.execute(select(records))}
        revisions = conn.execute(select(record_revisions)).all()
    assert rows[C4].revision == 2 and "sejak Juli" in rows[C4].content["body"]
    assert rows[C6].content["extra"]["hidden"] is True and rows[C6].source_status == "hidden"
    assert rows[C5].source_status == "deleted" and rows[C5].content["kind_reason"] == "deleted_on_platform"
    assert rows[C5].received_at.replace(tzinfo=timezone.utc) == datetime(2026, 10, 21, 7, 30, tzinfo=timezone.utc)
    old = {rows_id: content for rows_id, content in ((r.record_id, r.content) for r in revisions)}
    assert old[rows[C5].id]["body"] == "Sudah 3 bulan pak, tolong"  # never erased
    assert old[rows[C4].id]["body"] == "Jalan ke kantor desa rusak parah, kapan diperbaiki?"


# --- end to end ----------------------------------------------------------------------------


def test_pipeline_end_to_end_records_cases_and_the_office_answer(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    with mocked() as rsps:
        account(rsps)
        report = pipeline(store, tmp_path).run(collector())
    assert (report.outcome, report.fetched, report.new, report.quarantined) == ("ok", 6, 6, 0)
    assert report.cases_opened == 3  # C1, C2 (no author) and C4; C5 follows C4; C6 is praise
    with store.transaction() as conn:
        kinds = {r.source_id: (r.kind, r.content["kind_reason"]) for r in conn.execute(select(records))}
        links = {r.source_id: (r.case_id, r.method) for r in conn.execute(
            select(records.c.source_id, case_links.c.case_id, case_links.c.method)
            .join(case_links, case_links.c.record_id == records.c.id))}
    assert kinds[C3] == ("not_complaint", "office_answer")
    assert kinds[C5][0] == "follow_up" and kinds[C6] == ("not_complaint", "praise")
    assert links[C5][0] == links[C4][0]
    assert links[C3] == (links[C1][0], "office_answer")  # the answer is on C1's case, not a case
    assert len({case for case, method in links.values() if method != "office_answer"}) == 3

    with mocked() as rsps:
        account(rsps, read=set(), listed=1)
        again = pipeline(store, tmp_path).run(collector())
    assert (again.fetched, again.new, again.updated) == (0, 0, 0)


# --- errors, one by one --------------------------------------------------------------------


def failing_listing(body: dict | None = None, status: int = 400, headers: dict | None = None, times: int = 1, exc: Exception | None = None):  # type: ignore[no-untyped-def]
    def world(rsps: responses.RequestsMock) -> None:
        for _ in range(times):
            rsps.get(f"{API}/{PAGE}/posts", json=body, status=status, headers=headers, body=exc,
                     match=[matchers.query_param_matcher({**listing_params(), "access_token": TOKEN})])
    return world


def run_failing(world, tmp_path: Path) -> tuple[FacebookPageCollector, object, store_state.CollectorState]:  # type: ignore[no-untyped-def]
    store = sqlite_store(tmp_path)
    c = collector()
    with mocked(OrderedRegistry) as rsps:
        world(rsps)
        report = pipeline(store, tmp_path).run(c)
    with store.transaction() as conn:
        state = store_state.load_state(conn, "fb")
    assert state is not None
    return c, report, state


def test_an_expired_token_marks_the_collector_needs_reauth_and_stops_calling(tmp_path: Path) -> None:
    # Real body: airbyte source-facebook-marketing unit_tests/test_errors.py (social-apis.md §1.6)
    expired = graph_error(190, "Error validating access token: Session has expired on Friday, 18-Aug", 463)
    c, report, state = run_failing(failing_listing(expired), tmp_path)
    assert state.health == store_state.NEEDS_REAUTH and c.http.calls == 1
    assert report.error == (  # type: ignore[attr-defined]
        "collector fb: the Page access token is expired or invalid (Graph error 190/463): "
        "create a new Page access token and set PENGADUAN_FB_TOKEN"
    )


def test_buc_throttle_80001_pauses_until_the_header_says(tmp_path: Path) -> None:
    # Body and header: developers.facebook.com/docs/graph-api/overview/rate-limiting
    body = graph_error(80001, "(#80001) There have been too many calls to this Page account. Wait a bit and try again.")
    buc = {PAGE: [{"type": "pages", "call_count": 100, "total_cputime": 23, "total_time": 23, "estimated_time_to_regain_access": 30}]}
    c, report, state = run_failing(failing_listing(body, headers={"X-Business-Use-Case-Usage": json.dumps(buc)}), tmp_path)
    assert state.retry_at is not None and state.retry_at.replace(tzinfo=timezone.utc) == NOW + timedelta(minutes=30)
    assert state.health == store_state.FAILING and c.http.calls == 1


@pytest.mark.parametrize("code,message", [
    (4, "(#4) Application request limit reached"),
    (17, "(#17) User request limit reached"),
    (32, "(#32) Page request limit reached"),
    (613, "(#613) Calls to this api have exceeded the rate limit."),
])
def test_platform_rate_limits_pause_without_retrying(code: int, message: str) -> None:
    c = collector()
    usage = {"X-App-Usage": json.dumps({"call_count": 100, "total_time": 25, "total_cputime": 25})}
    with pytest.raises(RateLimited) as caught:
        run(failing_listing(graph_error(code, message), headers=usage), c)
    assert caught.value.retry_at == NOW + timedelta(minutes=60) and c.http.calls == 1
    assert f"Graph error {code}" in str(caught.value)


def test_usage_at_99_percent_on_a_success_stops_before_the_penalty() -> None:
    def world(rsps: responses.RequestsMock) -> None:
        edge(rsps, f"{PAGE}/posts", listing_params(), [[post(P1, "2026-10-01T08:00:00+0000")]],
             headers={"X-App-Usage": json.dumps({"call_count": 99, "total_time": 25, "total_cputime": 25})})

    c = collector()
    with pytest.raises(RateLimited) as caught:
        run(world, c)
    assert caught.value.retry_at == NOW + timedelta(minutes=54) and c.http.calls == 1


@pytest.mark.parametrize("body,status", [
    # (#2) from airbyte source-facebook-marketing unit_tests/test_errors.py, abridged
    (graph_error(2, "(#2) Service temporarily unavailable", is_transient=True), 500),
    (graph_error(1, "An unknown error occurred"), 400),
    (graph_error(100, "An unexpected error has occurred. Please retry your request later.", is_transient=True), 400),
])
def test_transient_graph_errors_are_retried_then_succeed(body: dict, status: int, fixed_time: list[float]) -> None:
    def world(rsps: responses.RequestsMock) -> None:
        failing_listing(body, status)(rsps)
        edge(rsps, f"{PAGE}/posts", listing_params(), [[]])

    c = collector()
    with mocked(OrderedRegistry) as rsps:
        world(rsps)
        batches = run_all(c)
    assert c.http.calls == 2 and fixed_time == [1.0] and items_of(batches) == []


def test_5xx_then_ok_and_429_with_retry_after(fixed_time: list[float]) -> None:
    c = collector()
    with mocked(OrderedRegistry) as rsps:
        failing_listing(None, 503)(rsps)
        failing_listing(None, 429, headers={"Retry-After": "20"})(rsps)
        edge(rsps, f"{PAGE}/posts", listing_params(), [[]])
        run_all(c)
    assert c.http.calls == 3 and fixed_time == [1.0, 20.0]


def test_truncated_json_is_retried(fixed_time: list[float]) -> None:
    c = collector()
    with mocked(OrderedRegistry) as rsps:
        rsps.get(f"{API}/{PAGE}/posts", body='{"data": [{"id": "1234567890321_9', content_type="application/json")
        edge(rsps, f"{PAGE}/posts", listing_params(), [[]])
        run_all(c)
    assert c.http.calls == 2


def test_timeouts_every_time_fail_the_run_for_a_later_retry(tmp_path: Path, fixed_time: list[float]) -> None:
    c, report, state = run_failing(failing_listing(exc=requests.exceptions.ReadTimeout("read timed out"), times=4), tmp_path)
    assert state.health == store_state.FAILING and c.http.calls == 4 and fixed_time == [1.0, 2.0, 4.0]
    assert "timed out" in report.error  # type: ignore[attr-defined]


def test_a_missing_permission_is_a_source_error_with_a_sentence() -> None:
    body = graph_error(200, "(#200) Access to this data is temporarily disabled for non-active apps")
    c = collector()
    with pytest.raises(SourceError, match="lacks a permission .*pages_read_user_content"):
        run(failing_listing(body), c)
    assert c.http.calls == 1


def test_a_post_that_cannot_be_read_is_skipped_and_checked_once_more() -> None:
    # (#100) subcode 33: the error-handling doc's "object does not exist"; also seen as a
    # throttle in disguise (airbyte #4028), hence one more look before giving up on it.
    gone = graph_error(100, "Unsupported get request. Object with ID '1234567890321_901200000000001' does not exist", 33)

    def world(read: set[str], listed: int = 3) -> Callable[[responses.RequestsMock], None]:
        def register(rsps: responses.RequestsMock) -> None:
            account(rsps, read=read, listed=listed)
            rsps.get(f"{API}/{P2}/comments", json=gone, status=400,
                     match=[matchers.query_param_matcher({**COMMENT_PARAMS, "access_token": TOKEN})])
        return register

    batches = run(world({P1, P3}), collector())
    assert [i.source_id for i in items_of(batches)] == [C1, C2, C3]
    assert any(f"post {P2} skipped: it does not exist" in n for b in batches for n in b.notes)
    again = run(world(set(), listed=1), collector(), batches[-1].cursor)
    third = collector()
    run(lambda rsps: account(rsps, read=set(), listed=1), third, again[-1].cursor)
    assert third.http.calls == 1  # failed twice: left alone until the post changes


class TestFacebookContract(CollectorContract):
    @pytest.fixture
    def populated(self) -> Iterator[Collector]:
        with mocked() as rsps:
            account(rsps)
            yield collector()

    @pytest.fixture
    def empty(self) -> Iterator[Collector]:
        with mocked() as rsps:
            edge(rsps, f"{PAGE}/posts", listing_params(), [[]])
            yield collector()


# --- no secret anywhere --------------------------------------------------------------------


def test_the_token_is_never_in_items_cursors_notes_logs_or_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = sqlite_store(tmp_path)
    caplog.set_level(logging.DEBUG)
    with mocked() as rsps:
        account(rsps)
        pipeline(store, tmp_path).run(collector())
    c = collector()
    batches = run(account, c)
    with mocked(OrderedRegistry) as rsps:
        rsps.get(f"{API}/{PAGE}/posts", status=500, json=graph_error(1, f"Malformed access token {TOKEN}"))
        rsps.get(f"{API}/{PAGE}/posts", json=graph_error(190, f"Invalid OAuth access token {TOKEN}"))
        with pytest.raises(AuthError) as caught:
            run_all(collector())
    dumped = json.dumps([[i.meta, i.payload.decode()] for i in items_of(batches)])
    dumped += json.dumps([(b.cursor, list(b.notes)) for b in batches]) + str(caught.value)
    with store.transaction() as conn:
        dumped += repr(conn.execute(select(raw_items)).all()) + repr(conn.execute(select(collector_state)).all())
        dumped += repr(conn.execute(select(records.c.content)).all())
    assert TOKEN not in dumped and TOKEN not in caplog.text
    assert "access_token" not in dumped


# --- normaliser ----------------------------------------------------------------------------


def item(data: dict, **meta) -> RawItem:  # type: ignore[no-untyped-def]
    return RawItem(data["id"], json.dumps(data).encode(), meta={"owner_id": PAGE, "post_id": P1, **meta})


def test_normalise_a_comment_without_from_and_an_office_answer() -> None:
    record = normalize_facebook_comment(item(P1_COMMENTS[0][1], parent=C1, parent_author_id=CITIZEN_A[0]))
    assert record.author.name is None and record.author.handle is None
    assert record.in_reply_to == C1 and record.kind is Kind.COMPLAINT
    assert record.received_at == datetime(2026, 10, 1, 9, 41, 17, tzinfo=timezone.utc)
    assert record.source_url == P1_COMMENTS[0][1]["permalink_url"]
    answer = normalize_facebook_comment(item(P1_COMMENTS[1][0]))
    assert (answer.kind, answer.kind_reason) == (Kind.NOT_COMPLAINT, "office_answer")
    first = normalize_facebook_comment(item(P1_COMMENTS[0][0]))
    assert (first.author.name, first.author.handle, first.in_reply_to) == ("Ni Luh Sari", "10001", None)
    assert first.extra == {"post_id": P1, "hidden": False, "like_count": 0, "comment_count": 2}


def test_normalise_a_follow_up_a_sticker_and_a_photo() -> None:
    follow = normalize_facebook_comment(item(P2_COMMENTS[0][1], parent_author_id=CITIZEN_B[0]))
    assert follow.kind is Kind.FOLLOW_UP and follow.in_reply_to == C4
    sticker = comment("9_1", "", "2026-10-21T07:30:00+0000", CITIZEN_C, attachment={"type": "sticker", "url": "https://x/s"})
    assert normalize_facebook_comment(item(sticker)).kind_reason == "no_text"
    photo = comment("9_2", "", "2026-10-21T07:30:00+0000", CITIZEN_C, attachment={"type": "photo", "url": "https://x/p"})
    assert normalize_facebook_comment(item(photo)).kind is Kind.COMPLAINT
