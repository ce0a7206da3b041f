"""The YouTube Data API v3 as the ``youtube`` collector meets it: its errors and its paging.

Errors (reference/social-apis.md §3.4, developers.google.com/youtube/v3/docs/errors) are
decided in one table on the ``reason`` strings of the body, parsed leniently: the classic
``error.errors[].reason`` and, on newer Google front ends, ``error.details[].reason``
(ErrorInfo). The HTTP status only breaks ties (401, 429, 5xx).

Paging follows ``nextPageToken`` until it is missing; an empty page that has one goes on
(§3.1: ``order=time`` pages are often short). A token seen before, or several pages of only
ids already seen, is a loop (gojiplus/tuber #107): it is stopped and noted, never spun.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from datetime import time as clock_time
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import requests

from pengaduan.collectors.http import RETRY, RateLimited, ResourceError, json_list, json_object
from pengaduan.errors import AuthError, CollectorError, SourceError
from pengaduan.normalizer.text import text_or_none
from pengaduan.normalizer.youtube import parse_time
from pengaduan.settings import Secret

PACIFIC = ZoneInfo("America/Los_Angeles")  # where YouTube's daily quota resets (§3.5)
WITA = ZoneInfo("Asia/Makassar")  # what staff read (DESIGN.md §2.7)
STALE_PAGES = 3  # pages in a row of only ids already seen: the listing is looping

QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
KEY_REASONS = frozenset({"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED"})
TOKEN_REASONS = frozenset({"authError", "invalidCredentials", "ACCESS_TOKEN_EXPIRED"})
# One object cannot be read; the run skips it and goes on (Airbyte IGNOREs these too).
SKIP_REASONS = frozenset(
    {"commentsDisabled", "videoNotFound", "commentThreadNotFound", "commentNotFound",
     "playlistNotFound"}
)
TRANSIENT_REASONS = frozenset(
    {"backendError", "internalError", "rateLimitExceeded", "userRateLimitExceeded"}
)


class InvalidPageToken(CollectorError):
    """400 invalidPageToken: the listing is read again from its first page, once."""


class YoutubeClassifier:
    """The HttpClient classifier: None, RETRY, or the exception a response means."""

    def __init__(
        self, collector: str, channel_id: str, api_key: Secret, oauth_token: Secret | None,
        clock: Callable[[], datetime],
    ):
        self.collector, self.channel_id = collector, channel_id
        self.api_key, self.oauth_token, self.clock = api_key, oauth_token, clock

    def __call__(self, response: requests.Response, data: Any) -> BaseException | object | None:
        status = response.status_code
        if status < 400:
            return None
        reasons = error_reasons(data)
        where = f"collector {self.collector}"
        named = ", ".join(sorted(reasons)) or f"HTTP {status}"
        if reasons & QUOTA_REASONS:
            # Retrying only burns more of nothing: wait for the reset (Airbyte's 2026 rework).
            reset = next_quota_reset(self.clock())
            return RateLimited(
                f"{where}: YouTube daily quota used up; paused until "
                f"{reset.astimezone(WITA):%Y-%m-%d %H:%M} WITA (midnight Pacific, when it resets)",
                reset,
            )
        if reasons & KEY_REASONS or (status == 401 and self.oauth_token is None):
            return AuthError(
                f"{where}: the API key was refused: create a new key in Google Cloud "
                f"(YouTube Data API v3) and {where_to_put(self.api_key)}"
            )
        if status == 401 or reasons & TOKEN_REASONS:
            return AuthError(
                f"{where}: the channel owner's OAuth token was refused or has expired: sign in "
                f"again as the owner of {self.channel_id} and "
                f"{where_to_put(self.oauth_token or self.api_key)}"
            )
        if "invalidPageToken" in reasons:
            return InvalidPageToken(f"{where}: YouTube refused a page token")
        if reasons & SKIP_REASONS:
            return ResourceError(requested_object(response), sorted(reasons & SKIP_REASONS)[0])
        if status == 429 or status >= 500 or reasons & TRANSIENT_REASONS:
            return RETRY
        if "channelNotFound" in reasons:
            return SourceError(
                f"{where}: YouTube knows no channel {self.channel_id}; check channel_id in "
                f"[collectors.{self.collector}]"
            )
        if status == 403:
            hint = (
                f"the OAuth token must belong to the owner of {self.channel_id}"
                if self.oauth_token is not None
                else "check the API key's restrictions and that YouTube Data API v3 is enabled"
            )
            return SourceError(f"{where}: YouTube refused the request ({named}); {hint}")
        return SourceError(
            f"{where}: YouTube rejected a request ({named}); this is a bug in the collector, "
            "please report it"
        )


class Pager:
    """The pages of one listing, with the loop guards above; ``complete`` once the last
    page (no ``nextPageToken``) was read. ``number`` is the page just yielded, from 1, and
    starts again at 1 when an ``invalidPageToken`` sends the listing back to its start."""

    def __init__(
        self, get: Callable[[str, Mapping[str, Any]], dict[str, Any]], collector: str,
        endpoint: str, params: Mapping[str, Any], what: str, notes: list[str],
    ):
        self.get, self.collector, self.endpoint = get, collector, endpoint
        self.params, self.what, self.notes = params, what, notes
        self.complete = False
        self.number = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        token: str | None = None
        tokens: set[str] = set()
        ids: set[str] = set()
        restarted = False
        stale = 0
        while True:
            query = {**self.params, **({"pageToken": token} if token else {})}
            try:
                page = self.get(self.endpoint, query)
            except InvalidPageToken:
                # Tokens expire; one fresh start is worth it, a second refusal is not ours.
                if token is None or restarted:
                    raise SourceError(
                        f"collector {self.collector}: YouTube refused the page tokens of "
                        f"{self.what} twice; will try again next run"
                    ) from None
                self.notes.append(
                    f"{self.what}: YouTube refused a page token; read again from the start"
                )
                token, restarted, self.number = None, True, 0
                tokens.clear()
                continue
            self.number += 1
            yield page
            items = json_list(page.get("items"))
            page_ids = {text_or_none(i.get("id")) for i in items if isinstance(i, dict)}
            stale = stale + 1 if page_ids and page_ids <= ids else 0
            ids |= page_ids
            following = page.get("nextPageToken")
            if not following:
                self.complete = True
                return
            if not isinstance(following, str):
                raise SourceError(
                    f"collector {self.collector}: {self.what}: YouTube sent a nextPageToken that "
                    "is not text; will try again next run"
                )
            if following == token or following in tokens or stale >= STALE_PAGES:
                self.notes.append(
                    f"{self.what}: YouTube sent the same page again after {self.number} pages; "
                    "stopped reading to avoid a loop, the rest is read next run"
                )
                return
            tokens.add(following)
            token = following


def reached(threads: list[dict[str, Any]], cutoff: datetime, first_page: bool) -> bool:
    """Whether this page of threads reaches back past ``cutoff``, so later pages are older.

    Judged on the page's last item: ``order=time`` listings are newest first, except a pinned
    thread at the top of page 1 (§3.3), so the first old item proves nothing. A page 1 that
    holds a single item cannot tell a pinned thread from the newest one: it never ends a walk.
    """
    if not threads or (first_page and len(threads) == 1):
        return False
    top = json_object(json_object(threads[-1].get("snippet")).get("topLevelComment"))
    last = parse_time(json_object(top.get("snippet")).get("publishedAt"))
    return last is not None and last < cutoff


def error_reasons(data: Any) -> set[str]:
    """Every ``reason`` of a Google error body (``errors[]`` and ErrorInfo ``details[]``)."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return set()
    found = set()
    for entry in [*(error.get("errors") or []), *(error.get("details") or [])]:
        if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
            found.add(entry["reason"])
    return found


def next_quota_reset(now: datetime) -> datetime:
    """The next midnight in America/Los_Angeles, in UTC: when YouTube's daily quota resets."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), clock_time(0), tzinfo=PACIFIC)
    return midnight.astimezone(timezone.utc)


def where_to_put(secret: Secret) -> str:
    """How a person hands us a renewed secret: the variable or file the settings name."""
    prefix = "environment variable "
    if secret.source.startswith(prefix):
        return f"set {secret.source[len(prefix):]}"
    return f"put it in {secret.source}"


def requested_object(response: requests.Response) -> str:
    """The object a skip error is about, named from the request's query (never its key)."""
    query = parse_qs(urlsplit(response.url or "").query)
    for name in ("videoId", "parentId", "playlistId", "id"):
        if query.get(name):
            return f"{name} {query[name][0]}"
    return "the object"
