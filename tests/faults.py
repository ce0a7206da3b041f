"""What the fault tests (tests/test_fault_*.py) share: counting rows, checking the logs, and
the rule for a fault this machine cannot make."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from pengaduan.store.db import Store


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where a fault that cannot be made must not look like a pass."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"required in CI but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Use with ``pytest.mark.usefixtures``: a fault must be told in a sentence, so nothing
    may log a traceback while the test runs."""
    yield
    logged = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info]
    assert not logged, f"tracebacks in the logs: {logged}"
