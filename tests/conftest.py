"""Shared fixtures: the databases every store test runs against, and an IMAP server.

``store_url`` runs a test twice, on SQLite and on PostgreSQL. The PostgreSQL server is started
once per session by ``postgres_server`` (see tests/services/postgres.py), unless
PENGADUAN_TEST_PG_URL names one that is already running. When no server can be had, tests that
need one are skipped locally and fail in CI (CI=true), so CI cannot go green without them.

``dovecot_server`` is a private Dovecot IMAP server for the session (tests/services/dovecot.py);
``imap_account`` gives each test its own fresh user on it. Same skip/fail rule.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from services.dovecot import (  # noqa: E402
    DovecotServer,
    DovecotUnavailable,
    ImapAccount,
    new_account,
    start_dovecot,
)
from services.postgres import (  # noqa: E402
    ExternalPostgres,
    PostgresServer,
    PostgresUnavailable,
    start_postgres,
)

POSTGRES_FIXTURES = {"postgres_server", "pg_url"}
DOVECOT_FIXTURES = {"dovecot_server", "imap_account"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _unavailable(reason: str):
    """Skip locally; fail in CI, where a missing server must not look like a pass."""
    if _in_ci():
        pytest.fail(f"PostgreSQL is required in CI but unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def pytest_configure(config: pytest.Config) -> None:
    # Also declared in pyproject.toml; repeated so --strict-markers holds wherever tests/ runs.
    config.addinivalue_line("markers", "postgresql: needs the PostgreSQL test server")
    config.addinivalue_line("markers", "imap: needs the Dovecot IMAP test server")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests that use the server directly get the marker too, so `-m "not postgresql"`
    # really runs without PostgreSQL.
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if POSTGRES_FIXTURES & fixtures:
            item.add_marker(pytest.mark.postgresql)
        if DOVECOT_FIXTURES & fixtures:
            item.add_marker(pytest.mark.imap)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | ExternalPostgres]:
    """The session's PostgreSQL server: ``.url``, ``create_database``, ``drop_database``,
    ``restart()`` (only when ``.can_restart``; not for PENGADUAN_TEST_PG_URL)."""
    external = os.environ.get("PENGADUAN_TEST_PG_URL")
    if external:
        server = ExternalPostgres(external)
        try:
            server.check()
        except PostgresUnavailable as exc:
            _unavailable(str(exc))
        yield server
        return

    base_dir = Path(tempfile.mkdtemp(prefix="pengaduan-pg-"))
    try:
        server = start_postgres(base_dir)
    except (PostgresUnavailable, OSError) as exc:
        shutil.rmtree(base_dir, ignore_errors=True)
        _unavailable(str(exc))
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base_dir, ignore_errors=True)


def _fresh_database(server: PostgresServer | ExternalPostgres) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        # WITH (FORCE) disconnects engines the test left open.
        server.drop_database(name)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database: a SQLite file in tmp_path, or a PostgreSQL
    database created for this test and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/pengaduan.db"
    else:
        yield from _fresh_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def pg_url(postgres_server: PostgresServer | ExternalPostgres) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (SQLAlchemy URL), dropped after the test."""
    yield from _fresh_database(postgres_server)


@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    """A pengaduan Store on ``store_url`` with its schema created; disposed after the test."""
    from pengaduan.store.db import Store

    opened = Store(store_url)
    opened.ensure_schema()
    yield opened
    opened.dispose()


# --------------------------------------------------------------------------- IMAP (Dovecot)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    """The session's Dovecot: ``.host``/``.port`` (plain IMAP on 127.0.0.1), ``.tls_port`` and
    ``.cert_path`` (implicit TLS, self-signed), ``add_user``, ``append``, ``connect``,
    ``restart()``, ``kill_connections()``, ``reset_uidvalidity()``."""
    base_dir = Path(tempfile.mkdtemp(prefix="pengaduan-imap-"))
    try:
        server = start_dovecot(base_dir, tls=True)
    except (DovecotUnavailable, OSError) as exc:
        shutil.rmtree(base_dir, ignore_errors=True)
        if _in_ci():
            pytest.fail(f"Dovecot is required in CI but unavailable: {exc}", pytrace=False)
        pytest.skip(f"Dovecot unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def imap_account(dovecot_server: DovecotServer) -> ImapAccount:
    """A new user with a random name and password on ``dovecot_server``: an empty mailbox of
    this test's own (host, port, username, password, server; ``.connect()``, ``.append()``)."""
    return new_account(dovecot_server)


# --- measured figures, shown at the end of every run (CI logs included) ---------------------

_FIGURES: list[str] = []


@pytest.fixture
def figures():  # type: ignore[no-untyped-def]
    """Call with a block of text (precision/recall, counts) to print it in the run's summary,
    where it shows even when the test passes and output is captured."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if _FIGURES:
        terminalreporter.section("measured figures")
        for block in _FIGURES:
            terminalreporter.write_line(block)
