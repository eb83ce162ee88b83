"""Fixtures for the messenger tests: the fake Bot API, and the bots running against it."""

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from backend.settings import Settings
from bot.app import make_channel_bots, make_dispatcher
from tests.fakes.bot_api import FakeBotAPI

TELEGRAM_TOKEN = "111111:telegram-test-token"
BALE_TOKEN = "222222:bale-test-token"
WEBHOOK_SECRET = "test-webhook-secret"


@pytest.fixture
def fake_api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI.running_in_thread() as api:
        api.register_bot(BALE_TOKEN, username="barq_bale_bot", shape="bale")
        yield api


@pytest.fixture
def bot_settings(settings: Settings, fake_api: FakeBotAPI) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TELEGRAM_TOKEN),
            "telegram_api_base": fake_api.base_url,
            "bale_bot_token": SecretStr(BALE_TOKEN),
            "bale_api_base": fake_api.base_url,
            "webhook_secret": SecretStr(WEBHOOK_SECRET),
            "bot_api_attempts": 3,
        }
    )


@pytest.fixture
def polling_bots(bot_settings: Settings, engine: sa.Engine) -> Iterator[None]:
    """Both bots polling the fake API in this process, on a loop of their own."""
    bots = make_channel_bots(bot_settings, engine)
    dispatcher = make_dispatcher(bots)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(dispatcher.start_polling(*(b.bot for b in bots), handle_signals=False),),
        daemon=True,
    )
    thread.start()
    yield
    # The loop ends with the polling, so the stop call itself never gets its answer: join instead.
    asyncio.run_coroutine_threadsafe(dispatcher.stop_polling(), loop)
    thread.join(timeout=15)
    assert not thread.is_alive()
    loop.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def bot_process(
    fake_api: FakeBotAPI, database_url: str, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Starts `python -m bot ...` as a real process against the fake API and the test database."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, port: int | None = None) -> subprocess.Popen[str]:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "FILES_DIR": str(tmp_path / "files"),
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_API_BASE": fake_api.base_url,
            "BALE_BOT_TOKEN": BALE_TOKEN,
            "BALE_API_BASE": fake_api.base_url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PORT": str(port or 0),
            "WEB_HOST": "127.0.0.1",
        }
        log = (tmp_path / f"bot-{len(started)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def wait_for_http(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")
