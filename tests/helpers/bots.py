"""The bots in tests: their tokens, polling the fake Bot API, and word of each update handled.

A test that pushes an update waits for the bot to be done with it (FakeBotAPI.push_update_and_wait),
not for the chat to fall quiet. The bot side reports "done" to the fake: in this process through
a dispatcher middleware, from a `python -m bot` process through aiogram's log line for it.
"""

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from tests.fakes.bot_api import FakeBotAPI

TELEGRAM_TOKEN = "111111:telegram-test-token"
BALE_TOKEN = "222222:bale-test-token"
WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef"  # 32 characters at least

# aiogram's Dispatcher.feed_update logs this at INFO once the handlers (and all they sent) are
# done, whatever the outcome; `python -m bot` logs INFO to its output.
HANDLED_LINE = re.compile(r"Update id=(\d+) is (?:not )?handled\. .* by bot id=(\d+)")


class ReportHandled:
    """A dispatcher's outer middleware: tells the fake Bot API when it is done with an update."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api

    async def __call__(
        self,
        handler: Callable[[Update, dict[str, Any]], Awaitable[Any]],
        update: Update,
        data: dict[str, Any],
    ) -> Any:
        error: str | None = None
        try:
            return await handler(update, data)
        except BaseException as exc:
            error = repr(exc)
            raise
        finally:
            bot: Bot = data["bot"]
            self.api.mark_handled(bot.token, update.update_id, error)


@contextmanager
def polling(dispatcher: Dispatcher, bots: list[Bot], api: FakeBotAPI) -> Iterator[None]:
    """The dispatcher polling the fake API on a loop of its own, reporting each update handled."""
    dispatcher.update.outer_middleware(ReportHandled(api))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(dispatcher.start_polling(*bots, handle_signals=False),),
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        # The loop ends with the polling, so the stop call never gets its answer: join instead.
        asyncio.run_coroutine_threadsafe(dispatcher.stop_polling(), loop)
        thread.join(timeout=15)
        assert not thread.is_alive()
        loop.close()


def follow_bot_output(
    output: IO[str], log: IO[str], api: FakeBotAPI, tokens: Iterable[str]
) -> threading.Thread:
    """Copies a bot process's output into its log and reports each update it handled."""
    token_of = {int(token.split(":", 1)[0]): token for token in tokens}

    def follow() -> None:
        with log:
            for line in output:
                log.write(line)
                log.flush()
                found = HANDLED_LINE.search(line)
                if found and int(found.group(2)) in token_of:
                    api.mark_handled(token_of[int(found.group(2))], int(found.group(1)))

    thread = threading.Thread(target=follow, name="bot output", daemon=True)
    thread.start()
    return thread
