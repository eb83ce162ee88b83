"""Database facts tests wait on."""

import sqlalchemy as sa


def waits_for_a_lock(engine: sa.Engine) -> bool:
    """Whether a transaction waits for an advisory lock another one holds (PostgreSQL)."""
    with engine.connect() as connection:
        waiting = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        return bool(waiting.scalar_one())
