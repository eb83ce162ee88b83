"""Broadcast benchmark: rate against a rate-limited fake Bot API, a killed worker, materializing.

    .venv/bin/python bench/broadcast.py [--recipients 20000] [--materialize 1000000]

Needs PostgreSQL (BENCH_DATABASE_URL, default the CI one; a fresh database is made and dropped)
and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14, emptied). Two real `rq worker`
processes and the broadcast clock send one broadcast to every recipient through the fake Bot
API, which answers 429 with retry_after past 30 messages a second; the bucket is configured at
those same 30 a second, broadcast sends paced. Run two: undisturbed, then with a worker SIGKILLed
halfway and restarted. Prints the rate as a fraction of the limit, duplicates and losses.
"""

import argparse
import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend import broadcasts as service  # noqa: E402
from backend.broadcast_audience import Audience, AudienceKind, materialize  # noqa: E402
from backend.constants import BroadcastChannels, BroadcastStatus, BroadcastTopic  # noqa: E402
from backend.db import make_engine, migrate, session_scope  # noqa: E402
from backend.models import Broadcast  # noqa: E402
from tests.fakes.bot_api import FakeBotAPI  # noqa: E402

LIMIT = 30  # messages a second the fake Bot API enforces, and the bucket is configured at
TOKEN = "424242:bench-broadcast-token"
STAFF_CHAT = 10_000_000  # where the progress message goes (not a recipient)
FIRST_CHAT = 1_000_000
SERIES = "generate_series(CAST(:a AS integer), CAST(:b AS integer)) g"


def populate(engine: sa.Engine, count: int, *, follower_channel: str | None) -> None:
    """`count` customers with a subscription each; each followed by one Telegram chat."""
    with engine.begin() as connection:
        start = connection.scalar(sa.text("SELECT coalesce(max(id), 0) FROM customer")) or 0
        connection.execute(
            sa.text(
                "INSERT INTO customer (id, full_name, mobile, created_at) "
                "SELECT g, 'bench ' || g, '+98912' || lpad(g::text, 7, '0'), now() "
                f"FROM {SERIES}"
            ),
            {"a": start + 1, "b": start + count},
        )
        connection.execute(
            sa.text(
                "INSERT INTO subscription (id, bill_id, subscription_number, customer_id, address,"
                " city, area, feeder, tariff, status, created_at) "
                "SELECT g, g::text, 'SN' || g, g, 'bench', 'قم', 'صفاشهر', 'F-' || (g % 50),"
                f" '1-1', 'active', now() FROM {SERIES}"
            ),
            {"a": start + 1, "b": start + count},
        )
        if follower_channel:
            connection.execute(
                sa.text(
                    "INSERT INTO followed_subscription (channel, user_id, subscription_id,"
                    " created_at) SELECT :channel, (:first + g)::text, g, now() "
                    f"FROM {SERIES}"
                ),
                {
                    "channel": follower_channel,
                    "first": FIRST_CHAT,
                    "a": start + 1,
                    "b": start + count,
                },
            )
        for table in ("customer", "subscription"):
            connection.execute(
                sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :n)"),
                {"n": start + count},
            )


def new_broadcast(engine: sa.Engine) -> int:
    with session_scope(engine) as session:
        now = datetime.now(UTC)
        broadcast = Broadcast(
            topic=BroadcastTopic.GENERAL,
            message_key="broadcast.text",
            params={"text": "آزمون سرعت ارسال"},
            audience={"kind": "everyone"},
            channels=BroadcastChannels.MESSENGER,
            status=BroadcastStatus.SCHEDULED,
            created_at=now,
            send_at=now,
            progress_channel="telegram",
            progress_chat_id=str(STAFF_CHAT),
        )
        session.add(broadcast)
        session.flush()
        assert broadcast.id is not None
        return broadcast.id


class Processes:
    """The clock and the rq workers, each in its own process group (a kill takes it all)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *command: str) -> None:
        log = (self.logs / f"{name}-{uuid.uuid4().hex[:6]}.log").open("wb")
        self.running[name] = subprocess.Popen(
            command,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker(self, name: str) -> None:
        rq = str(Path(sys.executable).with_name("rq"))
        worker_class = ("-w", "notifications.worker.DeskWorker")  # as the Procfile runs it
        self.start(name, rq, "worker", *worker_class, "--url", self.env["REDIS_URL"], "broadcasts")

    def kill(self, name: str) -> None:
        """SIGKILL to the worker (and to any process under it): the job's code dies mid-flight."""
        worker = self.running.pop(name).pid
        for stat in Path("/proc").glob("[0-9]*/stat"):
            fields = stat.read_text().rsplit(")", 1)[-1].split()
            if int(fields[1]) == worker:  # its parent
                os.kill(int(stat.parent.name), signal.SIGKILL)
        os.killpg(worker, signal.SIGKILL)

    def stop_all(self) -> None:
        for process in self.running.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            process.wait(timeout=30)
        self.running.clear()


def run(
    api: FakeBotAPI, engine: sa.Engine, processes: Processes, recipients: int, *, kill: bool
) -> str:
    api.reset()
    api.register_bot(TOKEN)
    api.rate_limit(TOKEN, LIMIT, with_retry_after=True)
    broadcast_id = new_broadcast(engine)
    killed_at = None
    deadline = time.monotonic() + recipients / LIMIT * 2 + 300
    while time.monotonic() < deadline:
        time.sleep(1)
        with session_scope(engine) as session:
            status = session.scalar(sa.select(Broadcast.status).where(Broadcast.id == broadcast_id))
        sent = sum(1 for c in api.calls("sendMessage") if c.status == 200)
        if kill and killed_at is None and sent >= recipients // 2:
            processes.kill("worker-1")
            killed_at = sent
            time.sleep(3)
            processes.worker("worker-1")  # restarted; the clock gives it the dead one's work
        if status == BroadcastStatus.DONE:
            break
    calls = [c for c in api.calls("sendMessage") if str(c.params.get("chat_id")) != str(STAFF_CHAT)]
    ok = [c for c in calls if c.status == 200]
    refused = sum(1 for c in api.calls() if c.status == 429)
    per_chat = collections.Counter(str(c.params["chat_id"]) for c in ok)
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    lost = sum(1 for i in range(1, recipients + 1) if str(FIRST_CHAT + i) not in per_chat)
    span = ok[-1].time - ok[0].time if len(ok) > 1 else float("nan")
    rate = (len(ok) - 1) / span
    with session_scope(engine) as session:
        doubt = datetime.now(UTC)  # every sender has stopped: an unanswered row is in doubt
        in_doubt = service.delivery_counts(session, broadcast_id, doubt_before=doubt).in_doubt
    label = "worker SIGKILLed and restarted" if kill else "undisturbed"
    return (
        f"{label}: {len(ok)} sent to {recipients} recipients in {span:.1f} s = {rate:.2f} msg/s"
        f" = {rate / LIMIT:.1%} of the enforced {LIMIT}/s; duplicates {duplicates}, lost {lost},"
        f" 429s {refused}, in doubt {in_doubt}, status {status}"
    ) + (f", killed after {killed_at} sent" if kill else "")


@contextmanager
def bench_database(admin_url: str) -> Iterator[str]:
    name = f"bench_broadcast_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def time_materialize(admin_url: str, count: int) -> str:
    with bench_database(admin_url) as url:
        engine = make_engine(url)
        populate(engine, count, follower_channel="telegram")
        broadcast_id = new_broadcast(engine)
        started = time.monotonic()
        with session_scope(engine) as session:
            materialize(
                session,
                broadcast_id,
                Audience(AudienceKind.EVERYONE),
                BroadcastChannels.MESSENGER_THEN_SMS,
                BroadcastTopic.OUTAGE,
                default_locale="fa",
            )
        took = time.monotonic() - started
        with engine.connect() as connection:
            rows = connection.scalar(sa.text("SELECT count(*) FROM broadcast_delivery"))
        engine.dispose()
    return f"materialized {rows} recipients (followers of {count} subscriptions) in {took:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--materialize", type=int, default=1_000_000)
    parser.add_argument("--skip-runs", action="store_true")
    args = parser.parse_args()
    admin_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    if not args.skip_runs:
        redis.Redis.from_url(redis_url).flushdb()
        with bench_database(admin_url) as url, FakeBotAPI.running_in_thread() as api:
            engine = make_engine(url)
            populate(engine, args.recipients, follower_channel="telegram")
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "REDIS_URL": redis_url,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE": api.base_url,
                "TELEGRAM_RATE": str(LIMIT),
                "PYTHONPATH": str(ROOT),
            }
            processes = Processes(env, logs)
            try:
                processes.start("clock", sys.executable, "-m", "bot", "clock")
                processes.worker("worker-1")
                processes.worker("worker-2")
                print(
                    f"bucket: {LIMIT} msg/s per token, bulk paced, replies first; two rq workers",
                    flush=True,
                )
                for kill in (False, True):
                    print(run(api, engine, processes, args.recipients, kill=kill), flush=True)
            finally:
                processes.stop_all()
                engine.dispose()
    if args.materialize:
        print(time_materialize(admin_url, args.materialize), flush=True)


if __name__ == "__main__":
    main()
