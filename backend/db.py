"""Database engine, sessions and migrations: SQLite (embedded default) or PostgreSQL."""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlmodel import Session

from backend.settings import get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


# A pooled connection idle longer than this is checked before use (the server may have closed
# it); one in steady use is not: a ping on every checkout was a round trip per transaction.
PING_AFTER_IDLE = 1.0  # seconds
# Connections a process keeps: enough for the web process's handler threads, each holding one
# while it handles an event (bot.web.HANDLER_THREADS and bot.sms_web.SMS_THREADS), and its
# event loop's own (/healthz). Opened only as they are needed: a worker keeps one or two.
POOL_SIZE = 26


def make_engine(url: str) -> sa.Engine:
    # A failing statement's error (and so its traceback in the log) shows the SQL, never the
    # values bound to it: descriptions, names, mobiles, user ids.
    if not url.startswith("sqlite"):
        engine = sa.create_engine(url, hide_parameters=True, pool_size=POOL_SIZE)
        sa.event.listen(engine, "checkin", _on_checkin)
        sa.event.listen(engine, "checkout", _ping_if_idle)
        return engine
    database = sa.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Take the write lock up front: two transactions never interleave their writes, which
        # is what serializes one user's events on SQLite (PostgreSQL uses row locks instead).
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _on_checkin(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(
    dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # the ping began a transaction: the user must begin theirs
    except Exception as error:
        # The pool drops this connection and checks out another (a fresh one if need be).
        raise sa.exc.DisconnectionError() from error


@lru_cache
def get_engine() -> sa.Engine:
    return make_engine(get_settings().database_url)


@contextmanager
def session_scope(engine: sa.Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with Session(engine or get_engine(), expire_on_commit=False) as session, session.begin():
        yield session


def insert_on_conflict(session: Session, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` that takes an ON CONFLICT clause, in the dialect of the session's
    database (PostgreSQL and SQLite both have the clause, each its own construct)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def lock_until_commit(session: Session, space: int, key: str) -> None:
    """Until this transaction ends, no other may take the same (space, key): for a check
    and a write that two transactions could otherwise both pass (two desks recording one
    receipt, two reports opening two incidents). On SQLite every writing transaction holds
    the database's write lock from its start already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
            {"space": space, "key": key},
        )


@contextmanager
def one_statement(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection for a single statement that commits on its own: in autocommit on
    PostgreSQL (one round trip instead of three: BEGIN, the statement, COMMIT), in a
    transaction elsewhere."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            yield connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            with connection.begin():
                yield connection


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url or get_settings().database_url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url or get_settings().database_url), revision)
