"""The product's engine: a failing statement's error never shows the values bound to it."""

import pytest
import sqlalchemy as sa

from backend import db
from backend.db import make_engine, one_statement

MOBILE = "+989121234567"
DESCRIPTION = "رقم کنتور اشتباه خوانده شده است"


def test_a_failing_statement_shows_its_sql_but_not_its_parameters(database_url: str) -> None:
    engine = make_engine(database_url)
    statement = sa.text(
        "SELECT no_such_column FROM staff WHERE phone = :phone AND full_name = :name"
    )
    with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError) as failed:
        connection.execute(statement, {"phone": MOBILE, "name": DESCRIPTION})
    engine.dispose()
    message = str(failed.value)
    assert "no_such_column" in message  # what failed is still there to read
    assert "parameters hidden" in message
    assert MOBILE not in message and DESCRIPTION not in message


def test_a_connection_in_steady_use_is_not_pinged_and_an_idle_one_is(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ping on every checkout was a round trip per transaction: only a connection idle for
    a while is checked first, and replaced when the server closed it."""
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":  # SQLite's file is never closed under it
        assert not sa.event.contains(engine, "checkout", db._ping_if_idle)
        return
    killer = make_engine(database_url)

    def killed_behind_its_back() -> int:
        with engine.connect() as connection:
            pid = int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        with killer.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return pid

    killed_behind_its_back()
    with pytest.raises(sa.exc.OperationalError), engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))  # in steady use: not pinged, the error surfaces

    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # every connection has been idle long enough
    pid = killed_behind_its_back()
    with engine.connect() as connection:  # pinged, found closed, replaced
        assert connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != pid
    with one_statement(engine) as connection:  # a pinged connection is not left in a transaction
        assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
    engine.dispose()
    killer.dispose()


def test_one_statement_commits_on_its_own_and_leaves_the_pool_transactional(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE one_statement_probe (n INTEGER)"))
    with one_statement(engine) as connection:
        connection.execute(sa.text("INSERT INTO one_statement_probe VALUES (1)"))
    with engine.connect() as connection:  # the same pooled connection, in a transaction again
        connection.execute(sa.text("INSERT INTO one_statement_probe VALUES (2)"))
        connection.rollback()
        rows = connection.execute(sa.text("SELECT n FROM one_statement_probe")).scalars().all()
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE one_statement_probe"))
    engine.dispose()
    assert rows == [1]
