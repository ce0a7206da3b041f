"""HTTP faults over a real socket: 500, 429 with Retry-After, timeouts, cut-off bodies.

The facebook_page collector reads a page served on loopback (tests/services/
graph_fixture_server.py) through the pipeline; the fault hits the comments of the newest post,
after the two older posts' batches are committed. A fault that passes is retried inside the
run (the HTTP choke point, collectors/http.py) and the run completes; one that persists fails
the run with a TransientError saying what happened, the collector waits until its
``retry_at``, the earlier batches stay stored, and the next run reads only what is missing.
``responses`` cannot time a read out or close a connection mid-body; a socket can.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from faults import count, pipeline, sqlite_store, state_of  # noqa: F401  (fixtures)
from pengaduan.collectors.facebook_page import FacebookPageCollector, FacebookPageConfig
from pengaduan.pipeline import Pipeline
from pengaduan.settings import Secret
from pengaduan.store import state as store_state
from pengaduan.store.schema import raw_items, records
from services.graph_fixture_server import Fault, GraphPage, sample_page
from test_facebook import TOKEN, graph_error

POSTS, COMMENTS, PAGE_SIZE = 3, 4, 3
COMMENT_PAGES = -(-COMMENTS // PAGE_SIZE)
READ_TIMEOUT = 0.3


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's backoff sleeps, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(FacebookPageCollector, "sleep", staticmethod(waits.append))
    return waits


@pytest.fixture
def page() -> Iterator[GraphPage]:
    with sample_page(datetime.now(timezone.utc), POSTS, COMMENTS).serving() as served:
        yield served


def collector(page: GraphPage) -> FacebookPageCollector:
    config = FacebookPageConfig(
        page_id=page.page_id, access_token=Secret(TOKEN, "environment variable PENGADUAN_FB_TOKEN"),
        api_base=page.api_base, page_size=PAGE_SIZE,
    )
    built = FacebookPageCollector("fb", config)
    built.http.timeout = (2.0, READ_TIMEOUT)  # the 60 s default, shortened for the test
    return built


def comments_path(page: GraphPage, post: int) -> str:
    """The comments edge of post ``post`` (0 = the oldest, read first)."""
    return f"{sorted(page.comments)[post]}/comments"


def fault(**kw) -> Fault:  # type: ignore[no-untyped-def]
    return Fault("", **kw)  # the path is the newest post's, set by the test


SERVER_ERROR = {"status": 500, "body": b"<html><body>Internal Server Error</body></html>"}
TRANSIENT = {"status": 500, "body": graph_error(2, "Service temporarily unavailable", is_transient=True)}

# Faults that a retry gets past, and the client's sleeps before it: backoff 1 s, or the
# server's Retry-After.
PASSING = {
    "http 500": (fault(**SERVER_ERROR), [1.0]),
    "graph transient error": (fault(**TRANSIENT), [1.0]),
    "429 retry-after 2": (fault(status=429, body=b"Too Many Requests", headers={"Retry-After": "2"}), [2.0]),
    "read timeout": (fault(delay=3 * READ_TIMEOUT), [1.0]),
    "truncated json": (fault(cut=0.5), [1.0]),
    "connection closed mid-body": (fault(cut=0.5, declared=True), [1.0]),
}


@pytest.mark.parametrize("injected, sleeps", PASSING.values(), ids=PASSING.keys())
def test_a_fault_that_passes_is_retried_and_the_run_completes(
    page: GraphPage, pipeline: Pipeline, slept: list[float], injected: Fault, sleeps: list[float]
) -> None:
    injected.path = comments_path(page, POSTS - 1)
    page.fail(injected)
    report = pipeline.run(collector(page))
    assert (report.outcome, report.new) == ("ok", POSTS * COMMENTS), report.summary()
    assert slept == sleeps
    assert page.calls(injected.path) == COMMENT_PAGES + 1  # the faulted request, sent again
    assert count(pipeline.store, raw_items) == count(pipeline.store, records) == POSTS * COMMENTS


# Faults that outlast the client's attempts: the error each must give, and how long the
# collector then waits (the pipeline's first backoff, or the server's Retry-After).
PERSISTING = {
    "http 500": (fault(times=99, **SERVER_ERROR), "failed 4 times (last: HTTP 500)", 60),
    "429 retry-after 1 h": (
        fault(times=99, status=429, body=b"Too Many Requests", headers={"Retry-After": "3600"}),
        "was rate limited (HTTP 429); pausing until", 3600,
    ),
    "read timeout": (fault(times=99, delay=3 * READ_TIMEOUT), "failed 4 times (last: timed out)", 60),
    "truncated json": (
        fault(times=99, cut=0.5), "failed 4 times (last: invalid or truncated JSON)", 60,
    ),
    "connection closed mid-body": (
        fault(times=99, cut=0.5, declared=True),
        "failed 4 times (last: the connection broke off mid-response)", 60,
    ),
}


@pytest.mark.parametrize("injected, message, wait", PERSISTING.values(), ids=PERSISTING.keys())
def test_a_fault_that_persists_fails_clearly_keeps_earlier_batches_and_the_next_run_completes(
    page: GraphPage, pipeline: Pipeline, slept: list[float], injected: Fault, message: str,
    wait: float,
) -> None:
    injected.path = comments_path(page, POSTS - 1)
    page.fail(injected)
    before = datetime.now(timezone.utc)
    report = pipeline.run(collector(page))
    assert report.outcome == "failed"
    assert report.error and report.error.startswith("collector fb: GET /v23.0/") and message in report.error
    assert TOKEN not in report.error
    state = state_of(pipeline.store, "fb")
    assert state.health == store_state.FAILING
    assert state.retry_at is not None
    assert timedelta(seconds=wait - 5) < state.retry_at - before < timedelta(seconds=wait + 30)
    # The two older posts' batches were committed before the fault and stay.
    assert count(pipeline.store, records) == (POSTS - 1) * COMMENTS
    assert set(state.cursor["posts"]) == set(sorted(page.comments)[: POSTS - 1])
    assert state.cursor["watermark"] is None  # the page was not read to its end

    injected.times = 0  # the platform is well again
    older = [page.calls(comments_path(page, n)) for n in range(POSTS - 1)]
    again = pipeline.run(collector(page))
    assert (again.outcome, again.new, again.updated) == ("ok", COMMENTS, 0), again.summary()
    assert [page.calls(comments_path(page, n)) for n in range(POSTS - 1)] == older  # not re-read
    assert count(pipeline.store, raw_items) == count(pipeline.store, records) == POSTS * COMMENTS
