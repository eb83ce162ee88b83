"""The product's engine: a failing statement's error never shows the values bound to it."""

import pytest
import sqlalchemy as sa

from backend.db import make_engine

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
