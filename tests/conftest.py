"""Shared fixtures: a database made by the migrations, on SQLite and (where given) PostgreSQL."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from backend.db import make_engine, migrate
from backend.settings import Settings, get_settings

BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail("CI must give TEST_DATABASE_URL: the database tests may not be skipped there")
    return None


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database per backend and test run, its schema made by `alembic upgrade head`."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        migrate(url)
        yield url
        return
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    name = f"desk_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the migrated database; every table is emptied after the test."""
    engine = make_engine(database_url)
    yield engine
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def session(engine: sa.Engine, database_url: str) -> Iterator[Session]:
    """The test's own view of the database.

    It uses a plain engine: the app's SQLite engine takes the write lock at every BEGIN, and a
    test that only looks must not block the code it is looking at.
    """
    plain = sa.create_engine(database_url)
    with Session(plain, expire_on_commit=False) as session:
        yield session
    plain.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a test: files go to a temporary folder."""
    get_settings.cache_clear()
    return Settings(files_dir=tmp_path / "files")
