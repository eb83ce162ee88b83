"""The schema is made by the migrations alone, and they go down and up again cleanly."""

import sqlalchemy as sa
from sqlmodel import SQLModel

from backend.db import downgrade, make_engine, migrate


def test_migrations_match_the_models_and_round_trip(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    downgrade(database_url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(database_url)
    assert set(SQLModel.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
