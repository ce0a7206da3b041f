"""The HTTP choke point: timeouts, retries, Retry-After, classifiers, and no secret anywhere."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from pengaduan.collectors.http import (
    RETRY,
    USER_AGENT,
    HttpClient,
    RateLimited,
    ResourceError,
    redact,
    retry_after_seconds,
    strip_secret_params,
)
from pengaduan.errors import AuthError, SourceError, TransientError

BASE = "https://api.example.test/v1"
TOKEN = "EAAGsecretTOKENvalue123"
NOW = datetime(2026, 11, 2, 1, 15, tzinfo=timezone.utc)


def client(classify=lambda response, data: None, **kw) -> tuple[HttpClient, list[float]]:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    kw.setdefault("sleep", slept.append)
    return HttpClient("fb", BASE, classify, [TOKEN], clock=lambda: NOW, **kw), slept


@responses.activate(assert_all_requests_are_fired=True)
def test_a_success_sends_timeouts_user_agent_and_params() -> None:
    responses.get(
        f"{BASE}/123/posts",
        json={"data": []},
        match=[
            matchers.query_param_matcher({"limit": "5", "access_token": TOKEN}),
            matchers.header_matcher({"User-Agent": USER_AGENT}),
            matchers.request_kwargs_matcher({"timeout": (10.0, 60.0)}),
        ],
    )
    http, slept = client()
    assert http.get_json("123/posts", {"limit": 5, "access_token": TOKEN}) == {"data": []}
    assert (http.calls, slept) == (1, [])


@responses.activate(assert_all_requests_are_fired=True, registry=OrderedRegistry)
def test_5xx_then_ok_is_retried_with_exponential_backoff() -> None:
    responses.get(f"{BASE}/x", status=502, body="<html>bad gateway</html>")
    responses.get(f"{BASE}/x", status=503, json={"error": {"message": "down"}})
    responses.get(f"{BASE}/x", json={"ok": True})
    http, slept = client()
    assert http.get_json("x") == {"ok": True}
    assert (http.calls, slept) == (3, [1.0, 2.0])


@responses.activate(assert_all_requests_are_fired=True, registry=OrderedRegistry)
def test_429_honours_retry_after_in_seconds_and_as_an_http_date() -> None:
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "7"})
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "Mon, 02 Nov 2026 01:15:30 GMT"})
    responses.get(f"{BASE}/x", json={"ok": 1})
    http, slept = client()
    assert http.get_json("x") == {"ok": 1}
    assert slept == [7.0, 30.0]


@responses.activate(assert_all_requests_are_fired=True)
def test_a_long_retry_after_is_not_slept_but_raised_as_rate_limited() -> None:
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "3600"})
    http, slept = client()
    with pytest.raises(RateLimited) as caught:
        http.get_json("x")
    assert caught.value.retry_at == NOW + timedelta(hours=1)
    assert slept == [] and http.calls == 1
    assert "collector fb" in str(caught.value)


@responses.activate(assert_all_requests_are_fired=True, registry=OrderedRegistry)
def test_transport_errors_are_retried_then_a_transient_error_names_the_collector() -> None:
    responses.get(f"{BASE}/x", body=requests.exceptions.ConnectTimeout("connect timed out"))
    responses.get(f"{BASE}/x", body=requests.exceptions.ReadTimeout("read timed out"))
    responses.get(f"{BASE}/x", body=requests.exceptions.ChunkedEncodingError("cut"))
    responses.get(f"{BASE}/x", body=requests.exceptions.ConnectionError("refused"))
    http, slept = client()
    with pytest.raises(TransientError) as caught:
        http.get_json("x", {"access_token": TOKEN})
    assert not isinstance(caught.value, RateLimited)
    assert slept == [1.0, 2.0, 4.0] and http.calls == 4
    message = str(caught.value)
    assert message.startswith("collector fb: GET /v1/x failed 4 times") and "cannot connect" in message


@responses.activate(assert_all_requests_are_fired=True, registry=OrderedRegistry)
def test_truncated_json_on_a_200_is_retried() -> None:
    responses.get(f"{BASE}/x", body='{"data": [{"id": "1"', content_type="application/json")
    responses.get(f"{BASE}/x", json={"data": []})
    http, _ = client()
    assert http.get_json("x") == {"data": []}
    assert http.calls == 2


@responses.activate(assert_all_requests_are_fired=True)
def test_truncated_json_every_time_is_a_transient_error() -> None:
    responses.get(f"{BASE}/x", body='{"data": [', content_type="application/json")
    http, _ = client(attempts=2)
    with pytest.raises(TransientError, match="invalid or truncated JSON"):
        http.get_json("x")


@responses.activate(assert_all_requests_are_fired=True, registry=OrderedRegistry)
def test_the_classifier_sees_every_response_and_decides() -> None:
    seen: list[tuple[int, object]] = []

    def classify(response, data):  # type: ignore[no-untyped-def]
        seen.append((response.status_code, data))
        if data == {"flaky": True}:
            return RETRY
        if data == {"gone": True}:
            return ResourceError("post 9", "was deleted")
        return None

    responses.get(f"{BASE}/a", json={"flaky": True}, status=400)
    responses.get(f"{BASE}/a", json={"fine": True})
    responses.get(f"{BASE}/b", json={"gone": True}, status=400)
    http, slept = client(classify)
    assert http.get_json("a") == {"fine": True}
    with pytest.raises(ResourceError) as caught:
        http.get_json("b")
    assert (caught.value.resource, caught.value.reason) == ("post 9", "was deleted")
    assert seen == [(400, {"flaky": True}), (200, {"fine": True}), (400, {"gone": True})]
    assert slept == [1.0]


@responses.activate(assert_all_requests_are_fired=True)
def test_an_unclassified_4xx_is_a_source_error_without_retry() -> None:
    responses.get(f"{BASE}/x", status=404, json={"message": "no"})
    http, slept = client()
    with pytest.raises(SourceError, match="collector fb: GET /v1/x was refused with HTTP 404"):
        http.get_json("x")
    assert http.calls == 1 and slept == []


@responses.activate(assert_all_requests_are_fired=True)
def test_next_urls_lose_their_embedded_token_and_get_ours_in_params(caplog) -> None:  # type: ignore[no-untyped-def]
    # A Graph paging.next carries access_token (graph-api/results); it is dropped and the
    # caller's own goes in params, so it appears once and never in a log line.
    responses.get(
        f"{BASE}/9/comments",
        json={"data": []},
        match=[matchers.query_param_matcher({"after": "QVFI", "limit": "2", "access_token": TOKEN})],
    )
    http, _ = client()
    with caplog.at_level(logging.DEBUG, logger="pengaduan.http"):
        http.get_json(f"{BASE}/9/comments?access_token={TOKEN}&limit=2&after=QVFI", {"access_token": TOKEN})
    assert TOKEN not in caplog.text and "/v1/9/comments" in caplog.text


def test_a_link_to_another_host_is_not_followed_with_our_token() -> None:
    http, _ = client()
    with pytest.raises(SourceError, match="another host"):
        http.get_json(f"https://evil.example/steal?access_token={TOKEN}", {"access_token": TOKEN})
    assert http.calls == 0


@responses.activate(assert_all_requests_are_fired=True, registry=OrderedRegistry)
def test_secrets_never_reach_messages_or_logs(caplog) -> None:  # type: ignore[no-untyped-def]
    responses.get(f"{BASE}/x", status=500, json={"error": {"message": f"Malformed access token {TOKEN}"}})
    responses.get(f"{BASE}/x", status=400, json={"error": {"message": f"bad token {TOKEN}"}})

    def classify(response, data):  # type: ignore[no-untyped-def]
        if response.status_code == 400:
            return AuthError(f"collector fb: {data['error']['message']}")
        return None

    http, _ = client(classify)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as caught:
        http.get_json("x", {"access_token": TOKEN})
    assert TOKEN not in str(caught.value) and "[redacted]" in str(caught.value)
    assert TOKEN not in caplog.text


def test_redact_and_strip() -> None:
    text = f"GET https://h/x?access_token={TOKEN}&key=AIzaKEY123456&limit=2 failed with {TOKEN}"
    assert redact(text, [TOKEN]) == (
        "GET https://h/x?access_token=[redacted]&key=[redacted]&limit=2 failed with [redacted]"
    )
    assert strip_secret_params(f"https://h/x?access_token={TOKEN}&after=A%3D&limit=2") == (
        "https://h/x?after=A%3D&limit=2"
    )
    assert strip_secret_params(f"https://h/x?t={TOKEN}&a=1", [TOKEN]) == "https://h/x?a=1"


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("120", NOW) == 120.0
    assert retry_after_seconds("Mon, 02 Nov 2026 01:16:00 GMT", NOW) == 60.0
    assert retry_after_seconds("Mon, 02 Nov 2026 01:00:00 GMT", NOW) == 0.0
    assert retry_after_seconds("soon", NOW) is None and retry_after_seconds(None, NOW) is None
