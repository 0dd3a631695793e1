"""Alembic environment: migrations run on the connection Valuechain hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from valuechain.store.database import database_url
from valuechain.store.tables import Base

target_metadata = Base.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        # Command-line use (`alembic revision --autogenerate`): connect ourselves.
        engine = create_engine(database_url())
        with engine.begin() as conn:
            _migrate(conn)
        return
    _migrate(connection)


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
