"""The Meta Graph API's error classifier, shared by the Facebook Page and Instagram collectors.

Error codes and usage headers follow reference/social-apis.md §1.6–1.7 (developers.facebook.com
/docs/graph-api/guides/error-handling and /overview/rate-limiting). The HTTP status of a Graph
error is not a reliable signal, so everything is decided on ``error.code`` and
``error_subcode``; usage headers are read on every response, success included, because the
doc's advice is to stop calling *before* the penalty: calls made while throttled extend it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from pengaduan.collectors.http import RETRY, Classifier, RateLimited, ResourceError
from pengaduan.errors import AuthError, SourceError
from pengaduan.settings import Secret

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002})
TRANSIENT_CODES = frozenset({1, 2})
USAGE_HEADERS = ("X-App-Usage", "X-Page-Usage", "X-Business-Use-Case-Usage")
# Stop at this usage percent on a successful call: the next ones would be refused and would
# lengthen the block.
USAGE_STOP = 95
# Platform limits are counted over a rolling hour; without the platform's own estimate we
# stay away for the longest part of one.
DEFAULT_PAUSE = timedelta(minutes=60)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def renew_hint(token: Secret) -> str:
    """Where the admin puts a new token, from where the settings read it."""
    source = token.source
    if source.startswith("environment variable "):
        return "set " + source.removeprefix("environment variable ")
    if source.startswith("file "):
        return "write it to " + source.removeprefix("file ")
    return f"replace the token ({source})"


def usage_percent(headers: requests.structures.CaseInsensitiveDict | dict) -> tuple[float, float]:
    """(highest usage percent, longest ``estimated_time_to_regain_access`` in minutes) over
    every usage header; a missing header means 0 % (restfb #548)."""
    highest, regain = 0.0, 0.0
    for name in USAGE_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        entries: list[Any] = []
        if name == "X-Business-Use-Case-Usage" and isinstance(value, dict):
            for per_object in value.values():
                entries.extend(per_object if isinstance(per_object, list) else [per_object])
        else:
            entries.append(value)
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in ("call_count", "total_cputime", "total_time"):
                number = entry.get(key)
                if isinstance(number, (int, float)) and not isinstance(number, bool):
                    highest = max(highest, float(number))
            minutes = entry.get("estimated_time_to_regain_access")
            if isinstance(minutes, (int, float)) and not isinstance(minutes, bool):
                regain = max(regain, float(minutes))
    return highest, regain


def pause_for(percent: float, regain_minutes: float) -> timedelta:
    """How long to stay away: the platform's estimate, else by how close usage is to 100 %."""
    if regain_minutes > 0:
        return timedelta(minutes=regain_minutes)
    if percent >= 100:
        return DEFAULT_PAUSE
    if percent >= USAGE_STOP:
        # Nearly full: give the rolling window time to drain (30 min at 95 %, 54 at 99 %).
        return timedelta(minutes=max(10.0, 60.0 * (percent - 90) / 10))
    return DEFAULT_PAUSE


def graph_classifier(
    collector: str,
    token: Secret,
    token_kind: str = "Page access token",
    clock: Callable[[], datetime] = utcnow,
) -> Classifier:
    """The classifier for ``HttpClient``: social-apis.md §1.6 as code."""

    def classify(response: requests.Response, data: Any) -> BaseException | object | None:
        percent, regain = usage_percent(response.headers)
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            if response.ok and (percent >= USAGE_STOP or regain > 0):
                retry_at = clock() + pause_for(percent, regain)
                return RateLimited(
                    f"collector {collector}: Graph API usage is at {percent:.0f}% of the "
                    f"limit; pausing until {retry_at:%Y-%m-%d %H:%M} UTC before Meta blocks "
                    "the token",
                    retry_at,
                )
            return None  # a success, or a non-Graph error the client retries or refuses
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        message = str(error.get("message") or "no message")
        if code == 190:
            return AuthError(
                f"collector {collector}: the {token_kind} is expired or invalid "
                f"(Graph error 190{f'/{subcode}' if subcode else ''}): create a new "
                f"{token_kind} and {renew_hint(token)}"
            )
        if code in RATE_LIMIT_CODES:
            retry_at = clock() + pause_for(percent, regain)
            return RateLimited(
                f"collector {collector}: Meta rate limit reached (Graph error {code}: "
                f"{message}); pausing until {retry_at:%Y-%m-%d %H:%M} UTC",
                retry_at,
            )
        if code in TRANSIENT_CODES or error.get("is_transient") is True:
            return RETRY
        if code == 10 or (code is not None and 200 <= code <= 299):
            return SourceError(
                f"collector {collector}: the {token_kind} lacks a permission (Graph error "
                f"{code}: {message}); grant pages_read_engagement and pages_read_user_content "
                "(instagram_basic and instagram_manage_comments for Instagram) and renew it"
            )
        if code == 100 and subcode == 33:
            return ResourceError(_object_of(response), "does not exist or cannot be read")
        if code == 100 and "cursor" in message.lower() and "limit" in message.lower():
            # "The After Cursor specified exceeds the max limit": one huge thread, not the
            # whole source, cannot be paged further.
            return ResourceError(_object_of(response), "has more comments than paging allows")
        return SourceError(
            f"collector {collector}: the Graph API refused a request (error {code}"
            f"{f'/{subcode}' if subcode else ''}: {message})"
        )

    return classify


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _object_of(response: requests.Response) -> str:
    """The object id of a Graph request path (``/v23.0/123_456/comments`` → ``123_456``)."""
    request = getattr(response, "request", None)
    url = getattr(request, "url", None) or getattr(response, "url", "") or ""
    path = [p for p in url.split("?", 1)[0].split("/") if p]
    for part in path[2:]:  # skip scheme and host
        if part[:1] != "v" or not part[1:2].isdigit():
            return part
    return "object"
