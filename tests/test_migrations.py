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
