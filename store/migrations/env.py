"""Alembic environment: always handed an open connection by store.db.Store."""

from alembic import context

from pengaduan.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
context.run_migrations()
