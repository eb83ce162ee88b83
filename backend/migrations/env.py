"""Alembic environment: runs the migrations against the URL the desk is configured with."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import backend.models
from backend.db import make_engine

config = context.config


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the models' own column types as plain SQLAlchemy ones, so migrations stay frozen."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type_ == "type" and isinstance(obj, backend.models.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None  # backend.db.alembic_config sets it
    engine = make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A batch migration on SQLite copies a table, drops it and renames the copy; with
            # foreign keys enforced, dropping a table other rows refer to fails. (The pragma
            # only takes effect outside a transaction: on the driver's own connection, in
            # autocommit, before SQLAlchemy begins one.) The engine is dropped afterwards.
            driver = connection.connection.driver_connection
            assert driver is not None  # a live connection
            driver.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
