"""Notice benchmark: relay planning, in-process delivery (console SMS), hand-over to Redis.

    .venv/bin/python bench/notices.py [--notices 2000]

Needs PostgreSQL (BENCH_DATABASE_URL, default the CI one; a fresh database is made and dropped)
and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14; only this run's queue is used and
removed). Files one request per subscriber, each with its receipt notice, then prints how fast
the relay plans deliveries, how fast they are sent in-process, and how fast due deliveries are
leased and handed to RQ.
"""

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import sqlalchemy as sa
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.constants import Channel, RequestKind  # noqa: E402
from backend.db import make_engine, migrate, session_scope  # noqa: E402
from backend.models import NoticeDelivery  # noqa: E402
from backend.service_requests import file_request  # noqa: E402
from backend.settings import Settings  # noqa: E402
from notifications.queue import RqQueue  # noqa: E402
from notifications.runtime import Notifier  # noqa: E402
from tests.factories import add_subscription  # noqa: E402


def file_requests(db: sa.Engine, count: int) -> None:
    now = datetime.now(UTC)
    with Session(db) as session:
        for n in range(count):
            subscription = add_subscription(
                session, file_number=10_000 + n, bills=0, mobile=f"+98912{n:07d}"
            )
            assert subscription.id is not None
            file_request(
                session,
                kind=RequestKind.BILL_REVIEW,
                channel=Channel.SHELL,
                channel_user_id=f"u{n}",
                subscription_id=subscription.id,
                reason="other",
                description="بنچمارک",
                documents=[],
                now=now,
                deadline=now + timedelta(days=3),
            )
            session.commit()


def timed(label: str, count: int, work: Callable[[], object]) -> None:
    start = time.perf_counter()
    work()
    report(label, count, time.perf_counter() - start)


def report(label: str, count: int, seconds: float) -> None:
    print(f"{label:<44} {count:>6} in {seconds:6.2f} s  {count / seconds:8.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=2000)
    count = parser.parse_args().notices
    admin_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    name = f"desk_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    queue_name = f"bench-notices-{uuid.uuid4().hex[:8]}"
    connection = redis.Redis.from_url(redis_url)
    try:
        migrate(url)
        db = make_engine(url)
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(database_url=url, sms_console_path=Path(folder) / "sms.jsonl")
            timed(
                "filing requests (each with its receipt)", count, lambda: file_requests(db, count)
            )
            inline = Notifier(settings, db)
            timed("relay: planning deliveries", count, lambda: drain(inline.relay.plan))
            with contextlib.redirect_stdout(io.StringIO()):  # the console provider prints each SMS
                start = time.perf_counter()
                drain(inline.relay.run_once)
                seconds = time.perf_counter() - start
            report("in-process delivery (console SMS)", count, seconds)
            with session_scope(db) as session:  # due again, to measure the hand-over alone
                session.execute(sa.update(NoticeDelivery).values(next_attempt_at=datetime.now(UTC)))
            rq = Notifier(settings, db, queue=RqQueue(connection, queue_name))
            timed("relay: leasing and handing over to RQ", count, lambda: drain(rq.relay.run_once))
        db.dispose()
    finally:
        for key in connection.scan_iter(f"*{queue_name}*"):
            connection.delete(key)
        for key in connection.scan_iter("rq:job:*"):
            if connection.hget(key, "origin") == queue_name.encode():
                connection.delete(key)
        connection.close()
        with admin.connect() as admin_connection:
            admin_connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def drain(step: Callable[[], int]) -> None:
    """Runs a relay step until it finds nothing more to do."""
    while step():
        pass


if __name__ == "__main__":
    main()
