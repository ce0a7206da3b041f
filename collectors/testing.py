"""The collector contract: tests every collector must pass, for our tests and plug-in authors.

Subclass ``CollectorContract`` in a pytest module and provide two fixtures::

    from pengaduan.collectors.testing import CollectorContract

    class TestMyCollector(CollectorContract):
        @pytest.fixture
        def populated(self, tmp_path):   # a collector whose source holds items
            ...                          # spanning at least two batches
        @pytest.fixture
        def empty(self, tmp_path):       # a collector whose source holds nothing
            ...

Every test below then runs against your collector. ``restart`` builds a fresh instance of the
same collector (a new process after a crash); override it if yours needs more than
``type(c)(c.name, c.config)``.

Fixture helpers for plug-in authors (docs/collectors.md, "Testing"):

* ``add_json_pages(rsps, url, pages)``: register the pages of a paged JSON API on a
  ``responses.RequestsMock``, each matched by its query parameters;
* ``write_files(folder, files)``: sample files written into a folder, optionally aged so a
  collector that waits for files to settle reads them at once;
* ``serve_http(handler)``: a real HTTP server on 127.0.0.1 in a thread, for end-to-end runs
  (``pengaduan run --once`` in a subprocess cannot see ``responses``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem


def run_all(collector: Collector, cursor: Cursor | None = None) -> list[Batch]:
    """Every batch of one complete run, the collector closed afterwards."""
    try:
        return list(collector.fetch(cursor))
    finally:
        collector.close()


def versions(items: Iterable[RawItem]) -> list[tuple[str, str]]:
    """(source_id, payload hash) of each item: what the store treats as one stored version."""
    return [(i.source_id, hashlib.sha256(i.payload).hexdigest()) for i in items]


def items_of(batches: Iterable[Batch]) -> list[RawItem]:
    return [item for batch in batches for item in batch.items]


class CollectorContract:
    """Inherit and provide the ``populated`` and ``empty`` fixtures."""

    def restart(self, collector: Collector) -> Collector:
        return type(collector)(collector.name, collector.config)

    def test_every_item_has_a_source_id_and_bytes(self, populated: Collector) -> None:
        items = items_of(run_all(populated))
        assert items, "the populated source yielded no items"
        for item in items:
            assert isinstance(item.source_id, str) and item.source_id.strip(), item
            assert isinstance(item.payload, bytes), f"{item.source_id}: payload must be bytes"

    def test_source_ids_are_unique_within_a_run(self, populated: Collector) -> None:
        ids = [i.source_id for i in items_of(run_all(populated))]
        assert len(ids) == len(set(ids)), "one run yielded the same source_id twice"

    def test_cursor_survives_a_json_round_trip(self, populated: Collector) -> None:
        batches = run_all(populated)
        for batch in batches:
            assert json.loads(json.dumps(batch.cursor)) == batch.cursor
        # A cursor read back from the database must resume exactly like the one in memory.
        first = batches[0].cursor
        direct = versions(items_of(run_all(self.restart(populated), first)))
        revived = versions(items_of(run_all(self.restart(populated), json.loads(json.dumps(first)))))
        assert direct == revived

    def test_refetch_from_the_returned_cursor_yields_nothing_new(self, populated: Collector) -> None:
        batches = run_all(populated)
        seen = set(versions(items_of(batches)))
        again = versions(items_of(run_all(self.restart(populated), batches[-1].cursor)))
        assert not set(again) - seen, "re-fetching from the final cursor yielded new items"

    def test_empty_source_yields_nothing(self, empty: Collector) -> None:
        assert items_of(run_all(empty)) == []

    def test_interrupted_run_resumes_without_gap_or_repeat(self, populated: Collector) -> None:
        complete = versions(items_of(run_all(populated)))
        fresh = self.restart(populated)
        stream = iter(fresh.fetch(None))
        first = next(stream)
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # the process dies after committing its first batch
        fresh.close()
        assert len(first.items) < len(complete), (
            "make the populated source span at least two batches so an interruption is tested"
        )
        rest = versions(items_of(run_all(self.restart(populated), first.cursor)))
        before = versions(first.items)
        assert not set(before) & set(rest), "items of the committed batch were fetched again"
        assert sorted(before + rest) == sorted(complete), "items were lost across the restart"


# --- fixture helpers for plug-in authors ------------------------------------------------------

Page = tuple[Mapping[str, Any], Any]  # (the query parameters that ask for it, its JSON body)


def add_json_pages(
    rsps: Any,
    url: str,
    pages: Sequence[Page],
    *,
    strict: bool = True,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Register each page of a paged JSON API on ``rsps`` (a ``responses.RequestsMock``).

    A page answers only a GET of ``url`` with exactly its query parameters (``strict=False``:
    at least them, for APIs that get extra ones such as a key), so a collector that asks for
    the wrong page gets a ConnectionError instead of a silently wrong answer. Use
    ``responses.RequestsMock(assert_all_requests_are_fired=True)`` to also fail when an
    expected page is never asked for.
    """
    from responses import matchers  # test dependency only: imported when used

    for params, body in pages:
        query = {k: str(v) for k, v in params.items()}
        rsps.get(
            url,
            json=body,
            status=status,
            headers=dict(headers or {}),
            match=[matchers.query_param_matcher(query, strict_match=strict)],
        )


def write_files(
    folder: Path, files: Mapping[str, bytes | str], *, age_seconds: float = 0.0
) -> list[Path]:
    """Write ``{relative name: content}`` into ``folder`` (created as needed), in order.

    Text is written as UTF-8. ``age_seconds`` sets each file's modification time that far in
    the past, so a collector that leaves young files for the next poll takes them now.
    """
    written = []
    then = time.time() - age_seconds
    for name, content in files.items():
        path = Path(folder) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        if age_seconds:
            os.utime(path, (then, then))
        written.append(path)
    return written


Handler = Callable[[str, dict[str, str]], "tuple[int, Any] | tuple[int, Any, Mapping[str, str]]"]


@contextmanager
def serve_http(handler: Handler) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering GETs with ``handler(path, query)``.

    ``handler`` returns ``(status, body)`` or ``(status, body, headers)``: a body that is bytes
    is sent as it is, anything else as JSON. A ``Content-Length`` among the headers is sent
    instead of the body's own, so a larger one makes a response cut off mid-body (the
    connection closes after each answer), as a dropped connection would. Yields the base URL
    (``http://127.0.0.1:PORT``); the server stops on exit.
    """

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            parts = urlsplit(self.path)
            status, body, *more = handler(parts.path, dict(parse_qsl(parts.query)))
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
            headers.update(more[0] if more else {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
