"""Opening the database: engine set-up, schema version checks, migrations.

SQLite is the embedded default (WAL, so staff can read the queue while a collector writes);
PostgreSQL goes through the same code. Schema changes are Alembic migrations only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, DBAPIError

from pengaduan.errors import ConfigError, StoreError

MIGRATIONS = Path(__file__).parent / "migrations"


def display_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Take the write lock up front: a deferred transaction that later needs to write can
        # fail at once with "database is locked" when another process wrote in between.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _raw_cursor_classes() -> tuple[type, type] | None:
    """psycopg's cursors that send statements as written ($1, $2...), when it has them (3.2+)."""
    try:
        import psycopg
    except ImportError:
        return None
    raw = getattr(psycopg, "RawCursor", None)
    raw_server = getattr(psycopg, "RawServerCursor", None)
    return (raw, raw_server) if raw and raw_server else None


def _psycopg_raw_cursors(engine: Engine, raw_cursors: tuple[type, type]) -> None:
    # A "connect" listener runs after the dialect's first-connect set-up, whose type look-ups
    # (psycopg's TypeInfo) still want the default cursor.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.cursor_factory, dbapi_connection.server_cursor_factory = raw_cursors


class Store:
    """A handle on one database. Use ``transaction()`` for every unit of work."""

    def __init__(self, url: str):
        self.url = url
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigError(
                f"[store] url {url!r} is not a database URL; use e.g. sqlite:///data/pengaduan.db"
            ) from None
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options: dict = {}
        raw_cursors = None
        if self.dialect == "postgresql":
            options = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
            if parsed.get_driver_name() == "psycopg":
                raw_cursors = _raw_cursor_classes()
            if raw_cursors:
                # SQLAlchemy renders $1, $2... and psycopg sends that as it is. With its default
                # cursors psycopg re-parses each statement for %(name)s placeholders, in Python,
                # which for a batch's multi-row INSERTs cost more time than the server's work.
                options["paramstyle"] = "numeric_dollar"
        try:
            self.engine = create_engine(parsed, **options)
        except Exception as exc:  # missing driver, bad options
            raise ConfigError(f"[store] url {display_url(url)} cannot be used: {exc}") from None
        if self.dialect == "sqlite":
            _sqlite_pragmas(self.engine)
        if raw_cursors:
            _psycopg_raw_cursors(self.engine, raw_cursors)
        if parsed.get_driver_name() == "psycopg":
            # A many-row INSERT without RETURNING (a batch's case links) as multi-row VALUES
            # statements, as SQLAlchemy does for psycopg2, rather than psycopg's pipelined
            # executemany: one statement for the server to run instead of one per row.
            self.engine.dialect.use_insertmanyvalues_wo_returning = True

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except (OperationalError, DBAPIError) as exc:
            if exc.connection_invalidated or _is_connection_error(exc):
                raise StoreError(
                    f"cannot reach the database at {display_url(self.url)}: "
                    f"{_first_line(exc.orig)}; check [store] url and that the server is running"
                ) from None
            if _is_disk_full(exc):
                raise StoreError(
                    f"the disk of the database at {display_url(self.url)} is full "
                    f"({_first_line(exc.orig)}); nothing of this transaction was stored: free "
                    "space there and the next run stores it"
                ) from None
            raise

    # --- schema ----------------------------------------------------------------------

    def _alembic_config(self, conn: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        return config

    def schema_revision(self) -> str | None:
        with self.transaction() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        with self.transaction() as conn:
            head = ScriptDirectory.from_config(self._alembic_config(conn)).get_current_head()
        assert head is not None
        return head

    def upgrade(self) -> tuple[str | None, str]:
        """Apply every pending migration; returns (from, to) revisions."""
        before = self.schema_revision()
        with self.transaction() as conn:
            command.upgrade(self._alembic_config(conn), "head")
        return before, self.head_revision()

    def ensure_schema(self, upgrade_empty: bool = True) -> None:
        """Check the schema is current; an empty database is created when allowed."""
        current = self.schema_revision()
        head = self.head_revision()
        if current == head:
            return
        if current is None and upgrade_empty:
            self.upgrade()
            return
        where = "is empty" if current is None else f"is at schema {current}, code expects {head}"
        raise StoreError(
            f"the database at {display_url(self.url)} {where}; run 'pengaduan db upgrade'"
        )

    def dispose(self) -> None:
        self.engine.dispose()


def _first_line(exc: BaseException | None) -> str:
    text = str(exc).strip() if exc else "unknown error"
    return text.splitlines()[0] if text else type(exc).__name__


def _is_disk_full(exc: DBAPIError) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full (SQLSTATE 53100)."""
    orig = exc.orig
    if getattr(orig, "sqlite_errorname", None) == "SQLITE_FULL":
        return True
    return getattr(orig, "sqlstate", None) == "53100"


def _is_connection_error(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(
        needle in text
        for needle in ("connection refused", "could not connect", "connection failed",
                       "server closed", "timeout expired", "no such host", "unable to open")
    )
