"""The instagram collector and normaliser against documented Instagram Graph API shapes.

Fixtures copy reference/social-apis.md §2 (the doc each cites is named above it). Every run has
its own ``responses.RequestsMock(assert_all_requests_are_fired=True)``; pages are matched by
their exact query parameters, ``next`` URLs by the parameters they carry.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
import responses
from responses import matchers
from sqlalchemy import select

from helpers import make_settings
from pengaduan.collectors.base import Collector, RawItem
from pengaduan.collectors.http import RateLimited
from pengaduan.collectors.instagram import (
    COMMENT_FIELDS,
    MEDIA_FIELDS,
    REPLY_FIELDS,
    InstagramCollector,
    InstagramConfig,
)
from pengaduan.collectors.testing import CollectorContract, items_of, run_all
from pengaduan.errors import AuthError, ConfigError
from pengaduan.normalizer.instagram import normalize_instagram_comment
from pengaduan.normalizer.record import Kind
from pengaduan.pipeline import Pipeline
from pengaduan.settings import Secret
from pengaduan.store import state as store_state
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, raw_items, records

API = "https://graph.facebook.com/v23.0"
IG_USER = "17841400000000000"
OWNER = "dinsos.karangasem"
TOKEN = "IGQVJtokenFIXTURE0123456789abcdef"
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
M1, M2, M3 = "17895695668004550", "17895695668004551", "17895695668004552"
C1, C2, C3, C4 = "17870913679156914", "17873440459141021", "17873440459141030", "17873440459141040"
R1, R2, R3 = "17873440459141999", "17873440459142001", "17873440459142002"
COMMENT_PARAMS = {"fields": COMMENT_FIELDS, "limit": "50"}
REPLY_PARAMS = {"fields": REPLY_FIELDS, "limit": "50"}


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(InstagramCollector, "clock", staticmethod(lambda: NOW))
    monkeypatch.setattr(InstagramCollector, "sleep", staticmethod(slept.append))
    return slept


@pytest.fixture(autouse=True)
def simple_triage(monkeypatch: pytest.MonkeyPatch) -> None:
    def triage(text: str) -> tuple[Kind, str | None]:
        if re.search(r"terima kasih|mantap", text, re.IGNORECASE):
            return Kind.NOT_COMPLAINT, "praise"
        return Kind.COMPLAINT, None

    monkeypatch.setattr("pengaduan.normalizer.facebook.triage_comment", triage)


def collector(name: str = "ig", **kw) -> InstagramCollector:  # type: ignore[no-untyped-def]
    token = Secret(TOKEN, "environment variable PENGADUAN_IG_TOKEN")
    return InstagramCollector(name, InstagramConfig(ig_user_id=IG_USER, access_token=token, **kw))


def mocked() -> responses.RequestsMock:
    return responses.RequestsMock(assert_all_requests_are_fired=True)


def run(world: Callable[[responses.RequestsMock], None], c: Collector, cursor=None) -> list:  # type: ignore[no-untyped-def]
    with mocked() as rsps:
        world(rsps)
        return run_all(c, cursor)


def get(rsps: responses.RequestsMock, path: str, params: dict[str, str], body: dict, **kw) -> None:  # type: ignore[no-untyped-def]
    rsps.get(f"{API}/{path}", json=body, match=[matchers.query_param_matcher({**params, "access_token": TOKEN})], **kw)


def next_url(path: str, params: dict[str, str], after: str) -> str:
    # Graph paging.next (developers.facebook.com/docs/graph-api/results; the IG form in
    # social-apis.md §2.4): the request's parameters with the token and the after cursor.
    return f"{API}/{path}?" + urlencode({"access_token": TOKEN, **params, "after": after})


def listing_params(now: datetime = NOW) -> dict[str, str]:
    since = int((now - timedelta(days=180)).timestamp())
    return {"fields": MEDIA_FIELDS, "since": str(since), "until": str(int(now.timestamp())), "limit": "50"}


def media(media_id: str, timestamp: str, count: int) -> dict:
    # IG Media fields: developers.facebook.com/docs/instagram-platform/instagram-graph-api/
    # reference/ig-user/media (comments_count counts replies too).
    return {
        "id": media_id, "caption": "Info penyaluran bantuan", "media_type": "IMAGE",
        "media_product_type": "FEED", "permalink": f"https://www.instagram.com/p/{media_id[-6:]}/",
        "timestamp": timestamp, "comments_count": count, "username": OWNER,
    }


def ig_comment(cid: str, text: str, timestamp: str, username: str | None, from_id: str | None = None, **more) -> dict:  # type: ignore[no-untyped-def]
    # IG Comment: developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
    # ig-media/comments and /ig-comment (social-apis.md §2.3–2.4).
    data: dict = {"id": cid, "text": text, "timestamp": timestamp, "like_count": 0, "hidden": False}
    if username:
        data["username"] = username
    if from_id:
        data["from"] = {"id": from_id, "username": username}
    data.update(more)
    return data


R1_DATA = ig_comment(R1, "@citizen_a kami sudah teruskan ke pendamping PKH", "2026-10-02T03:40:11+0000", OWNER, parent_id=C1)
R2_DATA = ig_comment(R2, "Sudah seminggu min, mohon dibantu", "2026-10-03T01:00:00+0000", "citizen_c", "17841400000000003", parent_id=C3)
R3_DATA = ig_comment(R3, "Saya juga blm terima bantuan", "2026-10-03T02:00:00+0000", "citizen_d", "17841400000000004", parent_id=C3)
C1_DATA = ig_comment(C1, "Bantuan BPNT bulan ini belum masuk, mohon info", "2026-10-02T03:16:02+0000", "citizen_a",
                     "17841400000000001", replies={"data": [R1_DATA]})
C2_DATA = ig_comment(C2, "Kapan pendaftaran KIS dibuka lagi? sy blm dapat", "2026-10-02T02:10:30+0000", "citizen_b", like_count=2)
C3_DATA = ig_comment(C3, "Lansia di desa kami tdk dapat bantuan", "2026-10-02T01:00:00+0000", "citizen_c", "17841400000000003", replies={
    "data": [R2_DATA],
    "paging": {"cursors": {"before": "UjJf", "after": "UjJfYWZ0ZXI"}, "next": next_url(f"{C3}/replies", REPLY_PARAMS, "UjJfYWZ0ZXI")},
})
C4_DATA = ig_comment(C4, "Terima kasih infonya min", "2026-10-20T05:00:00+0000", "citizen_e", "17841400000000005")


def account(
    rsps: responses.RequestsMock,
    m1_count: int = 6,
    m1_pages: list[list[dict]] | None = None,
    m2: tuple[int, list[dict]] = (1, [C4_DATA]),
    read: set[str] = {M1, M2},
    now: datetime = NOW,
    listed: int = 2,
) -> None:
    """Three media over two listing pages (the last with only a `before` cursor, as in the real
    airbyte source-instagram media.json); M1's comments span two pages and C3's replies two.
    A sweep asks for both listing pages, a quick poll (``listed=1``) for the first."""
    first = [media(M3, "2026-10-28T03:00:00+0000", 0), media(M2, "2026-10-20T04:00:00+0000", m2[0])]
    get(rsps, f"{IG_USER}/media", listing_params(now), {
        "data": first,
        "paging": {"cursors": {"before": "QVFIUmx1", "after": "QVFIUkRf"}, "next": next_url(f"{IG_USER}/media", listing_params(now), "QVFIUkRf")},
    })
    if listed > 1:
        get(rsps, f"{IG_USER}/media", {**listing_params(now), "after": "QVFIUkRf"}, {
            "data": [media(M1, "2026-10-01T08:00:00+0000", m1_count)],
            "paging": {"cursors": {"before": "QVFIUnZAaZAE"}},
        })
    if M1 in read:
        pages = m1_pages or [[C1_DATA, C2_DATA], [C3_DATA]]
        get(rsps, f"{M1}/comments", COMMENT_PARAMS, {
            "data": pages[0],
            "paging": {"cursors": {"before": "QVFIUmx1WTBp", "after": "QVFIUkRfQ2Ja"}, "next": next_url(f"{M1}/comments", COMMENT_PARAMS, "QVFIUkRfQ2Ja")},
        })
        get(rsps, f"{M1}/comments", {**COMMENT_PARAMS, "after": "QVFIUkRfQ2Ja"}, {
            "data": pages[1], "paging": {"cursors": {"before": "QVFIUkRfQ2Ja", "after": "QVFIUkRfQ2Ja"}},
        })
        get(rsps, f"{C3}/replies", {**REPLY_PARAMS, "after": "UjJfYWZ0ZXI"}, {
            "data": [R3_DATA], "paging": {"cursors": {"before": "UjNf", "after": "UjNf"}},
        })
    if M2 in read:
        get(rsps, f"{M2}/comments", COMMENT_PARAMS, {"data": m2[1]})


def test_first_run_reads_media_comments_and_nested_replies() -> None:
    c = collector()
    batches = run(account, c)
    items = items_of(batches)
    assert [i.source_id for i in items] == [C1, R1, C2, C3, R2, R3, C4]
    assert c.http.calls == 2 + 2 + 1 + 1  # no call for M3: it has no comments
    by_id = {i.source_id: i for i in items}
    assert "replies" not in json.loads(by_id[C3].payload)  # each reply is its own item
    assert json.loads(by_id[C2].payload) == C2_DATA  # no `from`: kept as received
    assert by_id[R3].meta == {
        "post_id": M1, "permalink": media(M1, "", 0)["permalink"], "owner_id": IG_USER,
        "owner_username": OWNER, "parent": C3, "parent_author_id": "17841400000000003",
        "parent_author_username": "citizen_c",
    }
    cursor = batches[-1].cursor
    assert cursor["posts"][M1]["m"] == 6 and cursor["posts"][M3] == {"m": 0, "t": cursor["posts"][M3]["t"], "c": {}}
    assert cursor["watermark"] == (NOW - timedelta(minutes=15)).isoformat()


def test_an_idle_poll_is_one_request() -> None:
    """Issue 7: a quiet poll asks for the first page of media and nothing else (a call not
    registered here fails the run, one registered and not made fails the test)."""
    first = run(account, collector())
    c = collector()
    again = run(lambda rsps: account(rsps, read=set(), listed=1), c, first[-1].cursor)
    assert items_of(again) == [] and c.http.calls == 1
    assert again[-1].cursor == first[-1].cursor


def test_a_new_comment_on_a_media_of_the_first_page_is_found_by_the_next_poll() -> None:
    first = run(account, collector())
    late = ig_comment("17873440459150001", "Kapan cair min?", "2026-11-02T01:50:00+0000", "citizen_g", "17841400000000007")
    c = collector()
    again = run(lambda rsps: account(rsps, m2=(2, [late, C4_DATA]), read={M2}, listed=1), c, first[-1].cursor)
    assert [i.source_id for i in items_of(again)] == [late["id"], C4]
    assert c.http.calls == 1 + 1
    assert set(again[-1].cursor["posts"]) == {M1, M2, M3}  # a quick poll forgets no media


def test_a_new_comment_on_a_month_old_media_is_found_by_the_next_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trade-off: M1 is on the second listing page, which only a sweep reads."""
    first = run(account, collector())
    late = ig_comment("17873440459150000", "Sampai sekarang belum masuk juga", "2026-11-01T09:00:00+0000", "citizen_f", "17841400000000006")
    world = dict(m1_count=7, m1_pages=[[late, C1_DATA], [C2_DATA, C3_DATA]])
    c = collector()
    unseen = run(lambda rsps: account(rsps, **world, read=set(), listed=1), c, first[-1].cursor)
    assert items_of(unseen) == [] and c.http.calls == 1
    sweep = NOW + timedelta(minutes=60)
    monkeypatch.setattr(InstagramCollector, "clock", staticmethod(lambda: sweep))
    c = collector()
    again = run(lambda rsps: account(rsps, **world, read={M1}, now=sweep), c, unseen[-1].cursor)
    assert sorted(i.source_id for i in items_of(again)) == sorted([late["id"], C1, R1, C2, C3, R2, R3])
    assert c.http.calls == 2 + 3


def test_a_deleted_comment_becomes_a_tombstone_and_a_hidden_one_is_marked(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/p.db")
    store.ensure_schema()
    pipeline = Pipeline(store, make_settings(store.url, tmp_path), clock=lambda: NOW)
    with mocked() as rsps:
        account(rsps)
        assert pipeline.run(collector()).new == 7
    hidden = dict(C2_DATA, hidden=True)
    with mocked() as rsps:  # C4 deleted (M2 now 0), C2 hidden (M1 count unchanged: not read)
        account(rsps, m2=(0, []), read={M2}, listed=1)
        report = pipeline.run(collector())
    assert (report.new, report.updated) == (0, 1)
    with store.transaction() as conn:
        row = conn.execute(select(records).where(records.c.source_id == C4)).one()
    assert row.source_status == "deleted" and row.revision == 2
    record = normalize_instagram_comment(RawItem(C2, json.dumps(hidden).encode(), meta={"post_id": M1}))
    assert record.extra["hidden"] is True and record.source_status == "hidden"


def test_pipeline_end_to_end_records_cases_office_answer_and_follow_up(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/p.db")
    store.ensure_schema()
    with mocked() as rsps:
        account(rsps)
        report = Pipeline(store, make_settings(store.url, tmp_path), clock=lambda: NOW).run(collector())
    assert (report.outcome, report.new, report.quarantined, report.cases_opened) == ("ok", 7, 0, 4)
    with store.transaction() as conn:
        kinds = {r.source_id: (r.kind, r.content["kind_reason"]) for r in conn.execute(select(records))}
        links = {r.source_id: (r.case_id, r.method) for r in conn.execute(
            select(records.c.source_id, case_links.c.case_id, case_links.c.method)
            .join(case_links, case_links.c.record_id == records.c.id))}
    assert kinds[R1] == ("not_complaint", "office_answer") and links[R1] == (links[C1][0], "office_answer")
    assert kinds[R2][0] == "follow_up" and links[R2][0] == links[C3][0]
    assert kinds[C4] == ("not_complaint", "praise") and C4 not in links


def test_an_invalid_token_needs_reauth_and_stops_calling(tmp_path: Path) -> None:
    # Instagram-Login host form (social-apis.md §2.5): type IGApiException, code 190.
    body = {"error": {"message": "Invalid OAuth 2.0 Access Token", "type": "IGApiException", "code": 190, "fbtrace_id": "A1b2C3d4E5f6G7h8"}}
    store = Store(f"sqlite:///{tmp_path}/p.db")
    store.ensure_schema()
    c = collector()
    with mocked() as rsps:
        get(rsps, f"{IG_USER}/media", listing_params(), body, status=400)
        report = Pipeline(store, make_settings(store.url, tmp_path), clock=lambda: NOW).run(c)
    with store.transaction() as conn:
        state = store_state.load_state(conn, "ig")
    assert state is not None and state.health == store_state.NEEDS_REAUTH and c.http.calls == 1
    assert report.error == (
        "collector ig: the Instagram access token is expired or invalid (Graph error 190): "
        "create a new Instagram access token and set PENGADUAN_IG_TOKEN"
    )


def test_buc_throttle_80002_pauses_as_the_header_says() -> None:
    # developers.facebook.com/docs/graph-api/overview/rate-limiting (Instagram BUC, type instagram)
    body = {"error": {"message": "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.",
                      "type": "OAuthException", "code": 80002, "fbtrace_id": "AmFGcW_3hwDB7qFbl_QdebZ"}}
    buc = {IG_USER: [{"type": "instagram", "call_count": 100, "total_cputime": 5, "total_time": 5, "estimated_time_to_regain_access": 12}]}
    c = collector()
    with pytest.raises(RateLimited) as caught:
        run(lambda rsps: get(rsps, f"{IG_USER}/media", listing_params(), body, status=400,
                             headers={"X-Business-Use-Case-Usage": json.dumps(buc)}), c)
    assert caught.value.retry_at == NOW + timedelta(minutes=12) and c.http.calls == 1


def test_a_token_near_its_60_days_is_warned_about() -> None:
    c = collector(token_expires_at=date(2026, 11, 6))
    batches = run(lambda rsps: get(rsps, f"{IG_USER}/media", listing_params(), {"data": []}), c)
    notes = [n for b in batches for n in b.notes]
    assert notes == [
        "the Instagram access token expires in 4 days (2026-11-06): refresh it "
        "(GET /refresh_access_token?grant_type=ig_refresh_token), set PENGADUAN_IG_TOKEN and "
        "update token_expires_at"
    ]
    assert run(lambda rsps: get(rsps, f"{IG_USER}/media", listing_params(), {"data": []}),
               collector(token_expires_at="2027-01-30"))[-1].notes == []
    with pytest.raises(ConfigError, match="not a date"):
        collector(token_expires_at="soon")


def test_settings_build_the_config_and_the_token_stays_out_of_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PENGADUAN_IG_TOKEN", TOKEN)
    settings = make_settings(f"sqlite:///{tmp_path}/p.db", tmp_path, collectors={
        "ig": {"type": "instagram", "ig_user_id": IG_USER, "access_token": {"env": "PENGADUAN_IG_TOKEN"}},
    })
    c = settings.collectors["ig"].build()
    assert isinstance(c, InstagramCollector) and c.config.page_size == 50 and c.config.backfill_days == 180
    caplog.set_level(logging.DEBUG)
    batches = run(account, c)
    dumped = json.dumps([[i.meta, i.payload.decode()] for i in items_of(batches)] + [b.cursor for b in batches])
    assert TOKEN not in dumped and TOKEN not in caplog.text and "access_token" not in dumped


def test_normalise_without_username_or_from() -> None:
    bare = {"timestamp": "2017-08-31T19:16:02+0000", "text": "This is awesome!", "id": "17870913679156914"}
    record = normalize_instagram_comment(RawItem(bare["id"], json.dumps(bare).encode()))
    assert record.author.handle is None and record.in_reply_to is None
    assert record.received_at == datetime(2017, 8, 31, 19, 16, 2, tzinfo=timezone.utc)
    owner = {**bare, "user": {"id": IG_USER}}
    assert normalize_instagram_comment(RawItem(bare["id"], json.dumps(owner).encode(), meta={"owner_id": IG_USER})).kind_reason == "office_answer"


class TestInstagramContract(CollectorContract):
    @pytest.fixture
    def populated(self) -> Iterator[Collector]:
        with mocked() as rsps:
            account(rsps)
            yield collector()

    @pytest.fixture
    def empty(self) -> Iterator[Collector]:
        with mocked() as rsps:
            get(rsps, f"{IG_USER}/media", listing_params(), {"data": [], "paging": {"cursors": {}}})
            yield collector()
