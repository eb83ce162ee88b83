"""What the web app writes to its log: route names and statuses, never secrets or personal data."""

import asyncio
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest
from aiogram import Dispatcher
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session

from backend.settings import Settings
from bot.app import make_channel_bots, webhook_path
from bot.web import RouteAccessLog, make_web_app
from tests.bot.conftest import free_port, wait_for_http
from tests.fakes.bot_api import FakeBotAPI, message_update
from tests.helpers.bots import BALE_TOKEN
from tests.helpers.sms_desk import SECRET

SENDER = "09127654321"  # a subscriber texting the line, as Melipayamak pushes the number
TEXT = "سلام، قبض من ۹۸۷۶۵۴ تومان آمده"  # what they wrote
BALE_TEXT = "شماره من ۰۹۱۲۳۳۳۴۴۵۵ است"


def request(url: str, body: bytes | None = None) -> int:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    call = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def wait_for_lines(log: Path, wanted: list[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        if all(line in text for line in wanted):
            return text
        assert time.monotonic() < deadline, f"not logged: {wanted}\n{text}"
        time.sleep(0.1)


def test_the_access_log_names_routes_and_never_shows_secrets_numbers_or_texts(
    fake_api: FakeBotAPI,
    bot_process: Callable[..., Any],
    bot_settings: Settings,
    session: Session,
    tmp_path: Path,
) -> None:
    port = free_port()
    bot_process(
        "web",
        port=port,
        env={
            "SMS_PROVIDER": "melipayamak",
            "MELIPAYAMAK_USERNAME": "desk",
            "MELIPAYAMAK_PASSWORD": "melipayamak-password",
            "SMS_SENDER": "30004000123",
            "SMS_WEBHOOK_SECRET": SECRET,
            "SMS_API_BASE": fake_api.base_url,  # the desk's reply goes nowhere real
        },
    )
    wait_for_http(port)
    base = f"http://127.0.0.1:{port}"
    bale_path = webhook_path(bot_settings, "bale")
    update = fake_api.complete_update(BALE_TOKEN, message_update(8301, BALE_TEXT, shape="bale"))
    assert request(base + bale_path + "?from=" + SENDER, json.dumps(update).encode()) == 200
    push = urlencode({"from": SENDER, "to": "30004000123", "body": TEXT})
    assert request(f"{base}/sms/melipayamak/{SECRET}?{push}") == 200
    assert request(f"{base}/webhook/bale/guessed-{SECRET}?{push}", b"{}") == 404
    assert request(base + "/healthz?token=" + SECRET) == 200

    logged = wait_for_lines(
        tmp_path / "bot-0.log",
        [
            "POST webhook bale: 200",
            "GET sms push melipayamak: 200",
            "POST no route: 404",
            "GET healthz: 200",
        ],
    )
    bale_secret = bale_path.rsplit("/", 1)[1]
    for secret in (bale_secret, bale_path, SECRET, "/sms/", "guessed"):
        assert secret not in logged
    for personal in (SENDER, "7654321", TEXT, quote_plus(TEXT), BALE_TEXT, "۰۹۱۲۳۳۳۴۴۵۵"):
        assert personal not in logged
    # httpx's own line per request quotes the URL, where a gateway may put a number.
    assert "HTTP Request" not in logged


def post_to_bale(bot_settings: Settings, bodies: list[bytes]) -> list[int]:
    """Posts each body to the Bale webhook of the web app, served as `python -m bot web` does."""
    app = make_web_app(bot_settings, Dispatcher(), make_channel_bots(bot_settings))

    async def post_all() -> list[int]:
        server = TestServer(app)
        await server.start_server(access_log_class=RouteAccessLog)
        async with TestClient(server) as client:
            path = webhook_path(bot_settings, "bale")
            answers = [await client.post(path, data=body) for body in bodies]
            return [answer.status for answer in answers]

    return asyncio.run(post_all())


def skipped(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "skipping an unparsable update" in r.getMessage()]


def test_a_body_nested_too_deep_is_skipped_as_unparsable_without_logging_it(
    bot_settings: Settings, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    depth = 100_000
    array = ("[" * depth + "]" * depth).encode()
    nested_object = ('{"m":' * depth + "0" + "}" * depth).encode()  # within the 1 MB a body may be
    with caplog.at_level(logging.INFO):
        assert post_to_bale(bot_settings, [array, nested_object]) == [200, 200]
    assert [r.levelno for r in skipped(caplog)] == [logging.WARNING] * 2
    assert all("RecursionError" in r.getMessage() for r in skipped(caplog))
    assert all(len(r.getMessage()) < 400 and "[[" not in r.getMessage() for r in caplog.records)
    assert "POST webhook bale: 200" in caplog.text


def test_an_update_that_does_not_validate_is_skipped_without_quoting_it(
    bot_settings: Settings, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    update = {"update_id": "شماره من 09121234567", "message": {"text": BALE_TEXT}}
    with caplog.at_level(logging.INFO):
        assert post_to_bale(bot_settings, [json.dumps(update).encode()]) == [200]
    [warning] = skipped(caplog)
    assert "update_id" in warning.getMessage()  # which field was wrong, not what it held
    assert "09121234567" not in caplog.text and BALE_TEXT not in caplog.text
