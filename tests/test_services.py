"""The test infrastructure itself: both store backends are reachable and the PostgreSQL server
can be restarted under a test's feet."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import exc


def test_store_url_round_trip(store_url: str) -> None:
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
            conn.execute(
                sa.text("INSERT INTO probe (id, body) VALUES (:id, :body)"),
                [{"id": 1, "body": "jalan rusak"}, {"id": 2, "body": "bantuan sosial"}],
            )
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, body FROM probe ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "jalan rusak"), (2, "bantuan sosial")]
        assert engine.dialect.name == store_url.split(":", 1)[0].split("+", 1)[0]
    finally:
        engine.dispose()


def test_store_url_databases_are_fresh(store_url: str) -> None:
    """The previous test's table is gone: every test gets its own empty database."""
    engine = sa.create_engine(store_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_postgres_restart_breaks_connections_and_keeps_data(postgres_server, pg_url: str) -> None:
    if not postgres_server.can_restart:
        pytest.skip("PENGADUAN_TEST_PG_URL points at a server this session cannot restart")
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (42)"))
        held = engine.connect()
        assert held.execute(sa.text("SELECT 1")).scalar() == 1

        postgres_server.restart()

        with pytest.raises(exc.DBAPIError) as raised:
            held.execute(sa.text("SELECT 1"))
        assert raised.value.connection_invalidated
        held.close()
        # The pool noticed; the next connection reaches the restarted server, data intact.
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id FROM probe")).scalar() == 42
    finally:
        engine.dispose()
