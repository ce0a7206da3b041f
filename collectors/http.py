"""The one HTTP choke point of every API collector (STYLE.md §4).

Every GET of the Facebook, Instagram and YouTube collectors goes through ``HttpClient``:
explicit (connect, read) timeouts, one User-Agent, a bounded retry with exponential backoff
for what is worth retrying (connection drops, timeouts, truncated bodies, HTTP 5xx and 429,
``Retry-After`` honoured), and nothing else. Each platform adds only a *classifier*: a
function that sees every response with its parsed JSON, success included (usage headers near
100 % must stop us before the platform's penalty), and answers

* ``None``: fine (a success is returned; a 5xx/429 gets the default retry),
* ``RETRY``: transient, retry with backoff,
* an exception instance: raise it (AuthError, RateLimited, SourceError, ResourceError…).

Secrets never leave this module in clear: URLs the API hands back (``paging.next``) carry
``access_token=``; the client drops secret query parameters from absolute URLs before sending
(the caller passes its own credentials in ``params``), logs only the path, and runs every
message it raises or logs through ``redact``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

from pengaduan import __version__
from pengaduan.errors import CollectorError, SourceError, TransientError

log = logging.getLogger("pengaduan.http")

RETRY: Any = object()  # a classifier's answer: transient, retry with backoff
Classifier = Callable[[requests.Response, Any], "BaseException | object | None"]

USER_AGENT = f"pengaduan/{__version__} (+complaint intake of Dinas Sosial PPPA PPKB Karangasem)"
# Query parameters that carry credentials on the APIs we call (Graph, Instagram, Google).
SECRET_PARAMS = frozenset(
    {
        "access_token", "input_token", "fb_exchange_token", "client_secret", "appsecret_proof",
        "key", "api_key", "token", "refresh_token", "code",
    }
)
_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_SECRET_IN_TEXT = re.compile(
    r"(?i)\b(" + "|".join(sorted(SECRET_PARAMS)) + r")=[^&\s\"'<>]+"
)
REDACTED = "[redacted]"


class RateLimited(TransientError):
    """The platform asked us to stop until ``retry_at``; the pipeline backs off until then."""

    retry_at: datetime

    def __init__(self, message: str, retry_at: datetime):
        super().__init__(message, retry_at)
        self.retry_at = retry_at


class ResourceError(CollectorError):
    """One object (a post, a video) cannot be read: skip it and go on."""

    def __init__(self, resource: str, reason: str, message: str | None = None):
        self.resource = resource
        self.reason = reason
        super().__init__(message or f"{resource}: {reason}")


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret value and every ``token=…`` query value masked."""
    for secret in secrets:
        # Very short values would mask ordinary words; real tokens and keys are long.
        if secret and len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


def strip_secret_params(url: str, secrets: Iterable[str] = ()) -> str:
    """``url`` without credential query parameters (by name, or by a known secret value)."""
    values = {s for s in secrets if s}
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in SECRET_PARAMS and v not in values
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header (delta-seconds or HTTP-date) as seconds from ``now``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class HttpClient:
    """GET-only JSON client with timeouts, bounded retries and a platform classifier."""

    def __init__(
        self,
        collector: str,
        base_url: str,
        classify: Classifier,
        secrets: Iterable[str] = (),
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        attempts: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ):
        self.collector = collector
        self.base_url = base_url.rstrip("/") + "/"
        self.classify = classify
        self.secrets = tuple(s for s in secrets if s)
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self.calls = 0  # requests sent, for tests and the idle-poll cost
        self._own_session = session is None
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.headers.setdefault("Accept", "application/json")
        base = urlsplit(self.base_url)
        self._origin = (base.scheme, base.netloc)

    # --- the public call -----------------------------------------------------------------

    def get_json(self, url_or_path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a path under ``base_url`` (or an absolute URL the API returned) as JSON.

        Raises what the classifier answers, RateLimited when a wait would exceed
        ``max_wait``, and TransientError once the attempts are used up.
        """
        url = self._url(url_or_path)
        where = self._where(url)
        problem = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            wait: float | None = None
            self.calls += 1
            log.debug("%s: GET %s (attempt %d)", self.collector, where, attempt)
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
                data, json_problem = _parse_json(response)
            except _TRANSPORT_ERRORS as exc:
                problem = _transport_problem(exc)
            else:
                verdict = self.classify(response, data)
                if isinstance(verdict, BaseException):
                    raise self._scrub(verdict)
                status = response.status_code
                if verdict is RETRY or status >= 500 or status == 429:
                    problem = f"HTTP {status}" + (
                        f" ({self.redact(_api_message(data))})" if _api_message(data) else ""
                    )
                    wait = retry_after_seconds(response.headers.get("Retry-After"), self.clock())
                elif 200 <= status < 300:
                    if json_problem is None:
                        return data
                    problem = json_problem  # a cut-off body: the next attempt may be whole
                else:
                    raise SourceError(
                        f"collector {self.collector}: GET {where} was refused with HTTP "
                        f"{status}; check the collector's settings"
                    )
            if wait is None:
                wait = self.backoff * 2 ** (attempt - 1)
            if wait > self.max_wait:
                # Sleeping through a long penalty would block the scheduler; the pipeline
                # comes back at retry_at instead.
                retry_at = self.clock() + timedelta(seconds=wait)
                raise RateLimited(
                    f"collector {self.collector}: GET {where} was rate limited ({problem}); "
                    f"pausing until {retry_at:%Y-%m-%d %H:%M} UTC",
                    retry_at,
                )
            if attempt < self.attempts:
                log.warning(
                    "%s: GET %s: %s; retry %d of %d in %.1fs",
                    self.collector, where, problem, attempt, self.attempts - 1, wait,
                )
                self.sleep(wait)
        raise TransientError(
            f"collector {self.collector}: GET {where} failed {self.attempts} times "
            f"(last: {problem}); will retry later"
        )

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    # --- helpers -------------------------------------------------------------------------

    def _url(self, url_or_path: str) -> str:
        parts = urlsplit(url_or_path)
        if not parts.scheme:
            return urljoin(self.base_url, url_or_path.lstrip("/"))
        # An absolute URL comes from the API (paging.next). Our credentials go only to the
        # configured host, and its own embedded token is dropped: the caller's params carry it.
        if (parts.scheme, parts.netloc) != self._origin:
            raise SourceError(
                f"collector {self.collector}: the API sent a link to another host "
                f"({parts.scheme}://{parts.netloc}); not following it"
            )
        return strip_secret_params(url_or_path, self.secrets)

    def _where(self, url: str) -> str:
        """The path only: what a person needs in a message, with no query to leak."""
        return urlsplit(url).path or "/"

    def _scrub(self, exc: BaseException) -> BaseException:
        """The classifier's exception with any secret masked in its message."""
        if exc.args and isinstance(exc.args[0], str):
            exc.args = (self.redact(exc.args[0]), *exc.args[1:])
        return exc


def json_object(value: Any) -> dict[str, Any]:
    """``value`` if the API sent an object there, else ``{}``: a field of the wrong type reads
    as missing, so one odd item in a page cannot stop the run that reads it."""
    return value if isinstance(value, dict) else {}


def json_list(value: Any) -> list[Any]:
    """``value`` if the API sent an array there, else ``[]`` (see json_object)."""
    return value if isinstance(value, list) else []


def _parse_json(response: requests.Response) -> tuple[Any, str | None]:
    """The body as JSON, or (None, why not). Reading the body may raise a transport error."""
    body = response.content
    if not body:
        return None, "an empty body"
    try:
        return json.loads(body), None
    except (ValueError, UnicodeDecodeError):
        return None, "invalid or truncated JSON"


def _api_message(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("message") or "")
    return ""


def _transport_problem(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke off mid-response"
    return "cannot connect"
