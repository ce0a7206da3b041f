"""The schema is what the migrations make: a table changed without a migration fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pengaduan.store.db import Store
from pengaduan.store.schema import metadata


def test_migrations_build_exactly_the_declared_schema(store_url: str) -> None:
    store = Store(store_url)
    before, after = store.upgrade()
    assert before is None and after == store.head_revision() == store.schema_revision()
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    store.dispose()


def test_an_old_schema_is_refused_until_upgraded(store_url: str) -> None:
    from alembic import command

    from pengaduan.errors import StoreError

    store = Store(store_url)
    with store.transaction() as conn:
        command.upgrade(store._alembic_config(conn), "0001")
    try:
        store.ensure_schema()
    except StoreError as exc:
        assert f"is at schema 0001, code expects {store.head_revision()}" in str(exc)
        assert str(exc).endswith("run 'pengaduan db upgrade'")
    else:
        raise AssertionError("an outdated schema was accepted")
    store.upgrade()
    store.ensure_schema()
    store.dispose()


def test_key_tables_are_rebuilt_without_rowid_on_sqlite_keeping_their_rows(store_url: str) -> None:
    from alembic import command
    from sqlalchemy import insert, select, text

    from pengaduan.store.schema import dedup_bands, dedup_identities

    def contents(conn) -> tuple[list[tuple], list[tuple]]:  # type: ignore[no-untyped-def]
        return ([tuple(r) for r in conn.execute(select(dedup_bands).order_by(*dedup_bands.c))],
                [tuple(r) for r in conn.execute(select(dedup_identities).order_by(*dedup_identities.c))])

    def rowid_tables(conn) -> set[str]:  # type: ignore[no-untyped-def]
        if conn.dialect.name != "sqlite":
            return set()
        return {name for name, sql in conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE name LIKE 'dedup_%' AND type = 'table'"))
            if "WITHOUT ROWID" not in sql}

    store = Store(store_url)
    sqlite = store.engine.dialect.name == "sqlite"
    before_0007 = {"dedup_bands", "dedup_identities", "dedup_terms"} if sqlite else set()
    with store.transaction() as conn:
        command.upgrade(store._alembic_config(conn), "0006")
        conn.execute(insert(dedup_bands), [{"band_key": k, "record_id": r}
                                           for k in (-(2**62), 7, 2**62) for r in (3, 1, 2)])
        conn.execute(insert(dedup_identities), [{"key": "a" * 32, "record_id": 5},
                                                {"key": "b" * 32, "record_id": 4}])
        before = contents(conn)
        assert rowid_tables(conn) == before_0007
    store.upgrade()
    with store.transaction() as conn:
        assert contents(conn) == before and len(before[0]) == 9
        assert rowid_tables(conn) == ({"dedup_terms"} if sqlite else set())
        command.downgrade(store._alembic_config(conn), "0006")
        assert contents(conn) == before
        assert rowid_tables(conn) == before_0007
    store.dispose()
