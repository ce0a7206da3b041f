"""The schema is what the migrations make: a table changed without a migration fails here."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pengaduan.store.db import Store
from pengaduan.store.schema import metadata

# Gone at 0008 (the band log replaced it): as the migrations before it had it.
dedup_bands = sa.table("dedup_bands", sa.column("band_key", sa.BigInteger),
                       sa.column("record_id", sa.Integer))


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

    from pengaduan.store.schema import dedup_identities

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
    with store.transaction() as conn:
        command.upgrade(store._alembic_config(conn), "0007")
    with store.transaction() as conn:
        assert contents(conn) == before and len(before[0]) == 9
        assert rowid_tables(conn) == ({"dedup_terms"} if sqlite else set())
        command.downgrade(store._alembic_config(conn), "0006")
        assert contents(conn) == before
        assert rowid_tables(conn) == before_0007
    store.dispose()


def test_band_rows_become_the_band_log_and_back(store_url: str) -> None:
    """0008 copies each record's band keys from ``dedup_bands`` into the log, so the records
    stored before it are still found; the downgrade copies them back."""
    from alembic import command
    from sqlalchemy import insert, select

    from pengaduan.cases.band_log import BandTable
    from pengaduan.cases.dedup_index import LshIndex, Signature

    texts = {n: f"PKH nomor {n} di desa Bebandem belum cair sejak bulan {n % 12 + 1}"
             for n in range(1, 2502)}  # past one log row's 1 000 records
    # Record 7 was linked again after its text changed: the keys of both texts, 40.
    changed = "Lampu penerangan mati di banjar Kaler sejak Galungan"
    rows = sorted({(k, n) for n, t in [*texts.items(), (7, changed)] for k in Signature.of(t).keys})
    store = Store(store_url)
    with store.transaction() as conn:
        command.upgrade(store._alembic_config(conn), "0007")
        conn.execute(insert(dedup_bands), [{"band_key": k, "record_id": r} for k, r in rows])
    store.upgrade()
    with store.transaction() as conn:
        index = LshIndex(BandTable(conn, cap=5000))
        for n in (1, 7, 1000, 1001, 2501):
            assert n in [c.record_id for c in index.query(texts[n]).candidates]
        assert [c.record_id for c in index.query(changed).candidates] == [7]
        assert sorted((k, r) for k, ids in index.table.members({k for k, _ in rows}).items()
                      for r in ids) == rows
        command.downgrade(store._alembic_config(conn), "0007")
        assert [tuple(r) for r in conn.execute(select(dedup_bands).order_by(
            dedup_bands.c.band_key, dedup_bands.c.record_id))] == rows
    store.dispose()
