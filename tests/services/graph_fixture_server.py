"""A Facebook Page on loopback: the Graph API's posts and comments edges over a real socket.

For tests that cannot use ``responses``: a ``pengaduan run`` in a child process, and faults
only a socket has (a read that times out, a body cut off mid-way). The page's posts and
comments are the dicts tests/test_facebook.py builds (``post``, ``comment``, ``graph_error``);
this module adds only what the Graph API does with them:

* ``GET /v23.0/{page-id}/posts``: posts created within ``since``..``until`` (unix seconds),
  newest first; ``GET /v23.0/{post-id}/comments``: the post's comments, oldest first
  (``order=chronological``, replies flat, as ``filter=stream`` gives them);
* paging as the results guide shows it (developers.facebook.com/docs/graph-api/results):
  ``limit`` items, ``paging.cursors.before/after``, and an absolute ``paging.next`` carrying
  the request's own parameters (the token too) only while more items follow;
* a wrong token: error 190, an unknown object: error 100/33 (social-apis.md §1.6).

``fail(...)`` queues faults for the next matching requests: any status, body and headers
(HTTP 500, 429 with Retry-After), a delay longer than the client's read timeout, a body cut
short (valid length, broken JSON) or a connection closed before the declared length.
Every request is logged in ``requests`` (path, query) for tests that count calls.
"""

from __future__ import annotations

import base64
import threading
import time
from datetime import datetime, timedelta
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pengaduan.collectors.graph import canonical_json, parse_graph_time
from pengaduan.collectors.testing import serve_http
from test_facebook import PAGE, TOKEN, comment, graph_error, post

VERSION = "v23.0"


@dataclass
class Fault:
    """What the next ``times`` requests whose path contains ``path`` get instead of data.

    ``cut``: send only this fraction of the real body. With ``declared=True`` the header
    still announces the whole body and the connection closes early (a transport error);
    otherwise the shorter body is announced (well-formed HTTP, truncated JSON).
    """

    path: str
    times: int = 1
    status: int | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: float | None = None
    declared: bool = False


class GraphPage:
    """One Facebook Page (posts and their comments) served as the Graph API serves it."""

    def __init__(
        self,
        page_id: str,
        token: str,
        posts: list[dict[str, Any]],
        comments: Mapping[str, list[dict[str, Any]]],
    ):
        self.page_id = page_id
        self.token = token
        self.posts = list(posts)
        self.comments = {k: list(v) for k, v in comments.items()}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.base = ""  # http://127.0.0.1:PORT, once serving
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    @property
    def api_base(self) -> str:
        """What a collector's ``api_base`` setting is pointed at."""
        return f"{self.base}/{VERSION}"

    def fail(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def calls(self, fragment: str) -> int:
        """How many requests had ``fragment`` in their path."""
        return sum(fragment in path for path, _ in self.requests)

    @contextmanager
    def serving(self) -> Iterator[GraphPage]:
        with serve_http(self.answer) as base:
            self.base = base
            try:
                yield self
            finally:
                self.base = ""

    # --- the API ------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append((path, dict(query)))
            fault = next((f for f in self._faults if f.path in path and f.times > 0), None)
            if fault is not None:
                fault.times -= 1
        status, body = self._data(path, query)
        if fault is None:
            return status, body, {}
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status is not None:
            status, body = fault.status, fault.body if fault.body is not None else b""
        headers = dict(fault.headers)
        if fault.cut is not None:
            whole = body if isinstance(body, bytes) else canonical_json(body)
            body = whole[: int(len(whole) * fault.cut)]
            if fault.declared:
                headers["Content-Length"] = str(len(whole))
        return status, body, headers

    def _data(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if len(parts) != 3 or parts[0] != VERSION:
            return 404, graph_error(803, "Unknown path components")
        if query.get("access_token") != self.token:
            return 400, graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        node, edge = parts[1], parts[2]
        if node == self.page_id and edge == "posts":
            since = int(query.get("since", 0))
            until = int(query.get("until", 2**31))
            items = [p for p in self.posts
                     if since <= _unix(p.get("created_time")) <= until]
            items.sort(key=lambda p: _unix(p.get("created_time")), reverse=True)
        elif edge == "comments" and node in self.comments:
            items = sorted(self.comments[node], key=lambda c: _unix(c.get("created_time")))
        else:
            return 400, graph_error(
                100, f"Unsupported get request. Object with ID '{node}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation",
                subcode=33, type="GraphMethodException",
            )
        return 200, self._page(path, query, items)

    def _page(self, path: str, query: dict[str, str], items: list[dict]) -> dict[str, Any]:
        limit = max(1, int(query.get("limit", 25)))
        start = _offset(query.get("after"))
        chunk = items[start : start + limit]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            body["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}}
            if start + len(chunk) < len(items):
                following = {**query, "after": _cursor(start + len(chunk))}
                body["paging"]["next"] = f"{self.base}{path}?{urlencode(following)}"
        return body


def _unix(value: Any) -> int:
    parsed = parse_graph_time(value)
    return int(parsed.timestamp()) if parsed else 0


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    return int(base64.b64decode(cursor).decode()) if cursor else 0


TEXTS = (
    "Bantuan PKH saya belum cair sejak Agustus, mohon dicek",
    "Lansia di banjar kami belum terdaftar BPNT",
    "Terima kasih Dinsos, bantuan sudah diterima",
    "Kartu KIS ibu saya tidak aktif padahal sudah daftar ulang",
    "Rumah kami rusak kena angin, mohon bantuan bedah rumah",
)


def sample_page(now: datetime, posts: int, comments_per_post: int) -> GraphPage:
    """The office's page: ``posts`` posts of the last weeks, each with citizens' comments
    (every third a reply to the one before), made by test_facebook's builders."""

    def stamp(at: datetime) -> str:
        return at.strftime("%Y-%m-%dT%H:%M:%S+0000")

    listed, threads = [], {}
    for p in range(posts):
        object_id = f"9014{p:011d}"
        created = now - timedelta(days=3 * (posts - p), hours=1)
        last = created + timedelta(minutes=10 * comments_per_post)
        listed.append(post(f"{PAGE}_{object_id}", stamp(created), stamp(last)))
        made: list[dict[str, Any]] = []
        for c in range(comments_per_post):
            parent = made[-1]["id"] if c % 3 == 2 else None
            made.append(comment(
                f"{object_id}_{9030 + p:04d}{c:06d}", f"{TEXTS[(p + c) % len(TEXTS)]} ({p}.{c})",
                stamp(created + timedelta(minutes=10 * (c + 1))),
                (f"1{p:02d}{c:03d}", f"Warga {p}.{c}"), parent=parent,
            ))
        threads[f"{PAGE}_{object_id}"] = made
    return GraphPage(PAGE, TOKEN, listed, threads)
