"""Fixtures for the messenger tests: the bots as real processes against the fake Bot API.

The fake Bot API, the bots' settings and the bots polling in this process are shared fixtures
(tests/conftest.py).
"""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import BALE_TOKEN, TELEGRAM_TOKEN, WEBHOOK_SECRET, follow_bot_output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def bot_process(
    fake_api: FakeBotAPI, database_url: str, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Starts `python -m bot ...` as a real process against the fake API and the test database.

    `env` adds to (or overrides) its environment. Its output goes to bot-N.log in the test's
    folder; read on the way, it tells the fake API which updates the process has handled
    (FakeBotAPI.push_update_and_wait waits for that).
    """
    started: list[tuple[subprocess.Popen[str], threading.Thread]] = []

    def start(
        *args: str, port: int | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        more = env or {}
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
            **more,
        }
        log = (tmp_path / f"bot-{len(started)}.log").open("w", encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert process.stdout is not None
        follower = follow_bot_output(process.stdout, log, fake_api, [TELEGRAM_TOKEN, BALE_TOKEN])
        started.append((process, follower))
        return process

    yield start
    for process, _ in started:
        process.terminate()
        process.wait(timeout=10)
    for _, follower in started:
        follower.join(timeout=10)


def wait_for_http(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")
