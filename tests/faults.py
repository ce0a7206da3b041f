"""What the fault tests (tests/test_fault_*.py) share: a SQLite store and pipeline, counting
rows, checking the logs, and the rule for a fault this machine cannot make."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import make_settings
from pengaduan.pipeline import Pipeline
from pengaduan.store import state as store_state
from pengaduan.store.db import Store


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where a fault that cannot be made must not look like a pass."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"required in CI but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def state_of(store: Store, collector: str) -> store_state.CollectorState:
    with store.transaction() as conn:
        found = store_state.load_state(conn, collector)
    assert found is not None, f"no state for {collector}"
    return found


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """An empty SQLite store in tmp_path, schema created."""
    store = Store(f"sqlite:///{tmp_path}/pengaduan.db")
    store.ensure_schema()
    yield store
    store.dispose()


@pytest.fixture
def pipeline(sqlite_store: Store, tmp_path: Path) -> Pipeline:
    """A pipeline with default settings over ``sqlite_store``."""
    return Pipeline(sqlite_store, make_settings(sqlite_store.url, tmp_path))


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Use with ``pytest.mark.usefixtures``: a fault must be told in a sentence, so nothing
    may log a traceback while the test runs."""
    yield
    logged = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info]
    assert not logged, f"tracebacks in the logs: {logged}"
