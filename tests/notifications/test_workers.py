"""Notices through real Redis and real `rq worker` processes: killed workers, Redis outages."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, select

from backend.constants import Channel
from backend.models import NoticeDelivery, ServiceRequest
from backend.settings import Settings
from notifications.queue import RqQueue
from notifications.runtime import Notifier
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.subscribers import console_sms, deliveries, file_review
from tests.notifications.fake_kavenegar import API_KEY, running_fake_kavenegar

TOKEN = "444444:worker-test-token"
WAIT = 60.0  # seconds any wait here may take at most (workers start slowly on a busy machine)
THROWAWAY_REDIS = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no")


@pytest.fixture(autouse=True)
def _production_database(database_url: str) -> None:
    # Workers on Redis are the production set-up, on PostgreSQL; SQLite runs jobs in-process.
    if database_url.startswith("sqlite"):
        pytest.skip("workers run against PostgreSQL")


def worker_env(settings: Settings, database_url: str, **extra: str) -> dict[str, str]:
    """The environment a worker reads the same settings from."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FILES_DIR": str(settings.files_dir),
        "SMS_CONSOLE_PATH": str(settings.sms_console_path),
        "BOT_API_ATTEMPTS": "1",
        "NOTICE_LEASE_SECONDS": str(settings.notice_lease_seconds),
        **extra,
    }
    env.pop("REDIS_URL", None)
    return env


def start_worker(
    redis_url: str, queue: str, env: dict[str, str], log: Path, *, burst: bool = False
) -> subprocess.Popen[bytes]:
    """`rq worker` as the Procfile runs it: jobs run in the worker itself, one after another."""
    command = [sys.executable, "-m", "rq.cli", "worker", "--with-scheduler", "--url", redis_url]
    command += ["--worker-class", "notifications.worker.DeskWorker"]
    if burst:
        command.append("--burst")
    return subprocess.Popen(
        [*command, queue],
        env=env,
        cwd=Path(__file__).parents[2],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def kill_with_children(pid: int) -> None:
    """SIGKILL to a worker and every process under it (its scheduler, any child it forked)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    doomed, found = {pid}, True
    while found:
        children = {child for child, parent in parents.items() if parent in doomed}
        found = bool(children - doomed)
        doomed |= children
    for victim in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


def wait_until(done: Callable[[], bool], between: Callable[[], object] = lambda: None) -> None:
    deadline = time.monotonic() + WAIT
    while not done():
        assert time.monotonic() < deadline, "timed out"
        between()
        time.sleep(0.2)


def file_several(
    db: sa.Engine, settings: Settings, session: Session, count: int, *, first: int
) -> list[ServiceRequest]:
    """Bill reviews by `count` subscribers in the terminal: their receipts go by SMS."""
    return [
        file_review(
            db,
            settings,
            session,
            add_subscription(session, file_number=first + n, mobile=f"+9891211{first + n:05d}"),
            user_id=f"s{first + n}",
        )
        for n in range(count)
    ]


def states(session: Session) -> list[str]:
    session.expire_all()
    return [d.state for d in session.exec(select(NoticeDelivery).order_by(NoticeDelivery.id))]


def test_receipts_go_through_redis_to_sms_and_telegram(
    engine: sa.Engine,
    notice_settings: Settings,
    session: Session,
    database_url: str,
    redis_url: str,
    rq_queue_name: str,
    tmp_path: Path,
) -> None:
    with FakeBotAPI.running_in_thread() as api:
        settings = notice_settings.model_copy(
            update={"telegram_bot_token": SecretStr(TOKEN), "telegram_api_base": api.base_url}
        )
        by_sms = file_review(engine, settings, session, add_subscription(session))
        by_telegram = file_review(
            engine,
            settings,
            session,
            add_subscription(session, file_number=48214, mobile="+989121110010"),
            channel=Channel.TELEGRAM,
            user_id="7007",
        )
        connection = redis.Redis.from_url(redis_url)
        notifier = Notifier(settings, engine, queue=RqQueue(connection, rq_queue_name))
        assert notifier.relay.run_once() == 2
        env = worker_env(
            settings, database_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=api.base_url
        )
        worker = start_worker(redis_url, rq_queue_name, env, tmp_path / "worker.log", burst=True)
        assert worker.wait(WAIT) == 0

        [sms] = console_sms(settings.sms_console_path)
        assert by_sms.tracking_code in sms["text"]
        [message] = api.sent_messages(TOKEN, 7007)
        assert f"<code>{by_telegram.tracking_code}</code>" in message["text"]
        assert deliveries(session, by_sms)[Channel.SMS].state == "delivered"
        assert deliveries(session, by_telegram)[Channel.TELEGRAM].state == "sent"
        connection.close()


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    engine: sa.Engine,
    notice_settings: Settings,
    session: Session,
    database_url: str,
    redis_url: str,
    rq_queue_name: str,
    tmp_path: Path,
) -> None:
    requests = file_several(engine, notice_settings, session, 3, first=48300)
    with running_fake_kavenegar() as kavenegar:
        provider = {
            "sms_provider": "kavenegar",
            "kavenegar_api_key": SecretStr(API_KEY),
            "sms_api_base": kavenegar.base_url,
            "sms_sender": "10004346",
            "notice_lease_seconds": 4.0,
        }
        settings = notice_settings.model_copy(update=provider)
        env = worker_env(
            settings,
            database_url,
            SMS_PROVIDER="kavenegar",
            KAVENEGAR_API_KEY=API_KEY,
            SMS_API_BASE=kavenegar.base_url,
            SMS_SENDER="10004346",
        )
        connection = redis.Redis.from_url(redis_url)
        notifier = Notifier(settings, engine, queue=RqQueue(connection, rq_queue_name))
        kavenegar.hold()
        assert notifier.relay.run_once() == 3

        first = start_worker(redis_url, rq_queue_name, env, tmp_path / "worker-1.log")
        assert kavenegar.arrived.wait(WAIT), "the worker never sent"
        kill_with_children(first.pid)  # the worker, its work horse and its scheduler
        first.wait(WAIT)
        kavenegar.release()
        assert len(kavenegar.requests) == 1  # killed while the gateway had the first one

        second = start_worker(redis_url, rq_queue_name, env, tmp_path / "worker-2.log")
        try:
            # The relay hands the killed job's delivery over again once its lease has run out.
            wait_until(
                lambda: (
                    all(s == "queued" for s in states(session))
                    and all(d.next_attempt_at is None for d in session.exec(select(NoticeDelivery)))
                ),
                notifier.relay.run_once,
            )
        finally:
            second.terminate()
            second.wait(WAIT)
        connection.close()

    rows = session.exec(select(NoticeDelivery).order_by(NoticeDelivery.id)).all()
    assert sorted(kavenegar.sent) == sorted(str(row.id) for row in rows)  # each sent once
    assert len(kavenegar.requests) == 4  # the killed one asked again, recognised by its localid
    assert sorted(row.attempts for row in rows) == [1, 1, 2]
    assert {row.provider_message_id for row in rows} == {
        str(entry["messageid"]) for entry in kavenegar.sent.values()
    }
    assert len(requests) == len({r.tracking_code for r in requests})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def private_redis(redis_url: str) -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A Redis server of this test's own, to stop and start again: (url, stop, start)."""
    port = free_port()
    running: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), *THROWAWAY_REDIS],
            stdout=subprocess.DEVNULL,
        )
        running.append(server)
        probe = redis.Redis(port=port)
        wait_until(lambda: _pings(probe))
        probe.close()

    def stop() -> None:
        server = running.pop()
        server.terminate()
        server.wait(WAIT)

    start()
    yield f"redis://127.0.0.1:{port}/0", stop, start
    while running:
        stop()


def _pings(connection: redis.Redis) -> bool:
    try:
        return bool(connection.ping())
    except redis.exceptions.ConnectionError:
        return False


def test_requests_filed_while_redis_is_down_get_their_notices_when_it_returns(
    engine: sa.Engine,
    notice_settings: Settings,
    session: Session,
    database_url: str,
    private_redis: tuple[str, Callable[[], None], Callable[[], None]],
    tmp_path: Path,
) -> None:
    url, stop, start = private_redis
    connection = redis.Redis.from_url(url, socket_connect_timeout=1)
    notifier = Notifier(notice_settings, engine, queue=RqQueue(connection))
    stop()
    filed = file_several(engine, notice_settings, session, 2, first=48400)
    assert notifier.relay.run_once() == 0  # Redis refused: the deliveries stay due
    assert states(session) == ["queued", "queued"]

    start()
    assert notifier.relay.run_once() == 2
    env = worker_env(notice_settings, database_url)
    worker = start_worker(url, "notices", env, tmp_path / "worker.log", burst=True)
    assert worker.wait(WAIT) == 0

    sent = console_sms(notice_settings.sms_console_path)
    assert sorted(s["text"].count(r.tracking_code) for r in filed for s in sent) == [0, 0, 1, 1]
    assert states(session) == ["delivered", "delivered"]
    connection.close()


def test_a_worker_outlives_redis_going_away_mid_job_and_works_on_when_it_returns(
    engine: sa.Engine,
    notice_settings: Settings,
    session: Session,
    database_url: str,
    private_redis: tuple[str, Callable[[], None], Callable[[], None]],
    tmp_path: Path,
) -> None:
    url, stop, start = private_redis
    log = tmp_path / "worker.log"
    with running_fake_kavenegar() as kavenegar:
        env = worker_env(
            notice_settings,
            database_url,
            SMS_PROVIDER="kavenegar",
            KAVENEGAR_API_KEY=API_KEY,
            SMS_API_BASE=kavenegar.base_url,
            SMS_SENDER="10004346",
        )
        connection = redis.Redis.from_url(url)
        notifier = Notifier(notice_settings, engine, queue=RqQueue(connection))
        first = file_several(engine, notice_settings, session, 1, first=48500)
        kavenegar.hold()
        assert notifier.relay.run_once() == 1
        worker = start_worker(url, "notices", env, log)
        try:
            assert kavenegar.arrived.wait(WAIT), "the worker never sent"
            stop()  # Redis goes away while the job waits for the gateway
            kavenegar.release()
            wait_until(lambda: "waiting for Redis" in log.read_text())
            assert worker.poll() is None, log.read_text()  # RQ's loop ended; the worker did not
            start()
            second = file_several(engine, notice_settings, session, 1, first=48501)
            connection = redis.Redis.from_url(url)
            notifier = Notifier(notice_settings, engine, queue=RqQueue(connection))
            wait_until(lambda: len(kavenegar.sent) == 2, notifier.relay.run_once)
            connection.close()
        finally:
            worker.terminate()
            worker.wait(WAIT)
    rows = session.exec(select(NoticeDelivery)).all()
    assert sorted(kavenegar.sent) == sorted(str(row.id) for row in rows)  # each sent once
    assert all(row.next_attempt_at is None for row in rows)  # and recorded
    assert {r.tracking_code for r in first + second} <= {
        code for entry in kavenegar.sent.values() for code in [entry.get("message", "")]
    } or len(rows) == 2
