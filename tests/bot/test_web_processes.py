"""`python -m bot web` with WEB_PROCESSES=2: two workers behind one port answer every update
once, a redelivery included, whichever worker takes it, and any worker's /metrics counts all of
them; told to stop, the master stops its workers and exits. Each web process freezes what it
built to start out of the garbage collector's reach."""

import gc
import re
import signal
import urllib.request
from pathlib import Path
from typing import Any

from bot.web import freeze_startup_heap
from tests.bot.conftest import free_port, wait_for_http
from tests.bot.test_messengers import telegram_poster
from tests.fakes.bot_api import FakeBotAPI, message_update
from tests.helpers.bots import TELEGRAM_TOKEN

USERS = range(8101, 8107)
HANDLED = re.compile(r'^desk_update_seconds_count\{channel="telegram",[^}]*\} ([0-9.]+)$', re.M)


def _workers_of(master: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return children


def _handled(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return sum(float(count) for count in HANDLED.findall(response.read().decode()))


def test_two_workers_answer_once_and_count_together(
    fake_api: FakeBotAPI, bot_process: Any, bot_settings: Any
) -> None:
    port = free_port()
    master = bot_process("web", port=port, env={"WEB_PROCESSES": "2"})
    wait_for_http(port, timeout=60)
    deliver = telegram_poster(f"http://127.0.0.1:{port}", bot_settings)
    for user in USERS:
        update = fake_api.complete_update(TELEGRAM_TOKEN, message_update(user, "/start"))
        deliver(update)
        deliver(update)  # Telegram's retry: whichever worker takes it, nothing is sent twice

    assert len(_workers_of(master.pid)) == 2
    for user in USERS:
        assert len(fake_api.sent_messages(TELEGRAM_TOKEN, user)) == 1
    # Each scrape lands on either worker; each counts every update of both.
    assert [_handled(port) for _ in range(6)] == [2.0 * len(USERS)] * 6

    master.send_signal(signal.SIGTERM)
    assert master.wait(timeout=40) == 0
    assert _workers_of(master.pid) == []


def test_a_web_process_freezes_what_it_built_before_serving() -> None:
    gc.unfreeze()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process goes on collecting as before
