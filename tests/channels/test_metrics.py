"""What operators watch: every Bot API call counted by outcome, and the web app's /metrics."""

import asyncio

import pytest
from aiogram.exceptions import TelegramForbiddenError
from prometheus_client import REGISTRY

from backend.constants import Channel
from bot.web import _metrics
from channels.botapi import make_bot
from channels.ratelimit import LocalLimiter
from channels.registry import MESSENGERS, MessengerBot
from tests.fakes.bot_api import FakeBotAPI

TOKEN = "4242:metrics-test"


def counted(method: str, outcome: str) -> float:
    labels = {"channel": "telegram", "method": method, "outcome": outcome}
    return REGISTRY.get_sample_value("desk_bot_api_calls_total", labels) or 0.0


def test_each_bot_api_call_is_counted_by_method_and_outcome(fake_api: FakeBotAPI) -> None:
    fake_api.fail_chat(777, token=TOKEN)
    messenger = MessengerBot(MESSENGERS[Channel.TELEGRAM], TOKEN, fake_api.base_url, rate=100)
    before = counted("sendMessage", "sent"), counted("sendMessage", "unreachable")

    async def sends() -> None:
        bot = make_bot(messenger, LocalLimiter(100))
        try:
            await bot.send_message(42, "سلام")
            with pytest.raises(TelegramForbiddenError):  # blocked: counted as unreachable
                await bot.send_message(777, "سلام")
        finally:
            await bot.session.close()

    asyncio.run(sends())
    after = counted("sendMessage", "sent"), counted("sendMessage", "unreachable")
    assert (after[0] - before[0], after[1] - before[1]) == (1.0, 1.0)


def test_the_web_app_serves_its_metrics_in_prometheus_text() -> None:
    response = asyncio.run(_metrics(None))  # type: ignore[arg-type]
    body = response.body.decode()  # type: ignore[union-attr]
    assert response.content_type == "text/plain"
    for name in ("desk_bot_api_calls_total", "desk_update_seconds", "desk_queue_depth"):
        assert f"# TYPE {name.removesuffix('_total')}" in body
