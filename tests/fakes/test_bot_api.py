"""The fake Bot API against the real aiogram Bot: calls, updates, files, faults and limits."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiohttp import web

from tests.fakes.bot_api import (
    FakeBotAPI,
    UploadedFile,
    callback_update,
    contact_update,
    document_update,
    message_update,
    photo_update,
    voice_update,
)
from tests.helpers.bots import polling

TOKEN = "123456:TEST-telegram-token"
OTHER_TOKEN = "654321:TEST-other-token"
BALE_TOKEN = "777777:TEST-bale-token"
USER = 9001


@contextlib.asynccontextmanager
async def aiogram_bot(api: FakeBotAPI, token: str = TOKEN) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=api.aiogram_server())
    bot = Bot(token, session=session)
    try:
        yield bot
    finally:
        # Close the HTTP session directly: AiohttpSession.close() sleeps 250 ms per bot.
        await (await session.create_session()).close()


def run_with_api(scenario: Callable[[FakeBotAPI], Awaitable[None]]) -> None:
    async def main() -> None:
        async with FakeBotAPI() as api:
            await scenario(api)

    asyncio.run(main())


async def raw_call(api: FakeBotAPI, token: str, method: str, **json_body: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.base_url}/bot{token}/{method}", json=json_body) as resp,
    ):
        return resp.status, await resp.json()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    buttons = [[InlineKeyboardButton(text=text, callback_data=data)] for text, data in pairs]
    return InlineKeyboardMarkup(inline_keyboard=buttons)


def test_get_me_and_unknown_method() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        api.delay("getMe", 0.1)
        async with aiogram_bot(api) as bot:
            started = time.monotonic()
            me = await bot.get_me()
            assert time.monotonic() - started >= 0.1
        assert (me.id, me.is_bot, me.username) == (123456, True, "fake123456_bot")
        assert [c.method for c in api.calls(token=TOKEN)] == ["getMe"]
        assert await raw_call(api, TOKEN, "sendUnicorn") == (
            404,
            {"ok": False, "error_code": 404, "description": "Not Found"},
        )

    run_with_api(scenario)


def test_send_message_with_inline_keyboard_is_recorded_and_echoed() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        markup = keyboard(("پرداخت قبض", "bill:pay:42"), ("قطعی برق", "outage"))
        async with aiogram_bot(api) as bot:
            first = await bot.send_message(USER, "سلام & خوش آمدید", reply_markup=markup)
            second = await bot.send_message(USER, "دوم")
            other_chat = await bot.send_message(USER + 1, "x")
        assert (first.message_id, second.message_id, other_chat.message_id) == (1, 2, 1)
        assert first.from_user is not None and first.from_user.id == 123456
        assert first.chat.id == USER and first.text == "سلام & خوش آمدید"
        assert first.reply_markup is not None
        assert (
            first.reply_markup.model_dump() == markup.model_dump()
        )  # == also compares the bound bot
        # aiogram posts form fields; JSON-valued ones such as reply_markup arrive decoded.
        params = api.calls("sendMessage")[0].params
        assert params["chat_id"] == USER
        assert params["reply_markup"]["inline_keyboard"][0][0] == {
            "text": "پرداخت قبض",
            "callback_data": "bill:pay:42",
        }
        sent = api.sent_messages(TOKEN, USER)
        assert [m["text"] for m in sent] == ["سلام & خوش آمدید", "دوم"]
        assert "reply_markup" not in sent[1]

    run_with_api(scenario)


def test_edit_callback_and_answer() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        async with aiogram_bot(api) as bot:
            sent = await bot.send_message(USER, "انتخاب کنید", reply_markup=keyboard(("a", "a")))
            with pytest.raises(TelegramBadRequest, match="message is not modified"):
                await bot.edit_message_text(
                    "انتخاب کنید",
                    chat_id=USER,
                    message_id=sent.message_id,
                    reply_markup=keyboard(("a", "a")),
                )
            # An edit without reply_markup drops the keyboard, as on Telegram.
            await bot.edit_message_text("ثبت شد", chat_id=USER, message_id=sent.message_id)
            assert "reply_markup" not in api.sent_messages(TOKEN, USER)[0]

            api.push_update(TOKEN, callback_update(USER, "a", sent.message_id, callback_id="cb1"))
            [update] = await bot.get_updates()
            query = update.callback_query
            assert query is not None and query.message is not None
            assert query.message.text == "ثبت شد"  # the message as it is now
            assert await bot.answer_callback_query(query.id, text="OK")
            with pytest.raises(TelegramBadRequest, match="query is too old"):
                await bot.answer_callback_query(query.id)

    run_with_api(scenario)


def test_long_poll_from_another_thread_and_offset_confirmation() -> None:
    with FakeBotAPI.running_in_thread() as api:
        # push_update wakes the poll before it returns the id: the poll may well be answered
        # first, so the id comes through a future, set once it is known.
        pushed: concurrent.futures.Future[int] = concurrent.futures.Future()

        def push() -> None:
            try:
                pushed.set_result(api.push_update(TOKEN, message_update(USER, "/start")))
            except BaseException as exc:
                pushed.set_exception(exc)

        timer = threading.Timer(0.2, push)

        async def scenario() -> None:
            async with aiogram_bot(api) as bot:
                started = time.monotonic()
                timer.start()
                [update] = await bot.get_updates(timeout=5)
                assert 0.15 < time.monotonic() - started < 3  # waited for the push, not the timeout
                assert update.update_id == await asyncio.wrap_future(pushed)
                assert update.message is not None and update.message.text == "/start"
                assert update.message.entities is not None
                assert update.message.entities[0].type == "bot_command"
                # Not confirmed yet: served again; an offset past it drops it for good.
                assert [u.update_id for u in await bot.get_updates()] == [update.update_id]
                assert await bot.get_updates(offset=update.update_id + 1) == []
                assert api.pending_updates(TOKEN) == []

        asyncio.run(scenario())
        timer.join()
        assert [c.status for c in api.wait_for_calls_blocking("getUpdates", count=3)] == [200] * 3


def test_second_poller_terminates_the_first() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        async with aiogram_bot(api) as bot:
            first = asyncio.create_task(bot.get_updates(timeout=5))
            await api.wait_for_calls("getUpdates", answered=False)
            second = asyncio.create_task(bot.get_updates(timeout=5))
            with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
                await first
            api.push_update(TOKEN, message_update(USER, "hi"))
            assert len(await second) == 1

    run_with_api(scenario)


def test_bale_shaped_updates_are_served_raw() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        api.push_update(TOKEN, callback_update(USER, "menu:bill", 5, shape="bale"))
        api.push_update(TOKEN, message_update(USER, "/start", shape="bale"))
        api.push_update(TOKEN, voice_update(USER, shape="bale"))
        api.push_update(TOKEN, contact_update(USER, "+989121234567", USER, shape="bale"))
        api.push_update(TOKEN, callback_update(USER, "menu:bill", 5))
        status, body = await raw_call(api, TOKEN, "getUpdates")
        assert status == 200 and body["ok"]
        query, start, voice, contact, telegram_query = body["result"]
        assert "chat_instance" not in query["callback_query"]
        assert "is_bot" not in query["callback_query"]["from"]
        assert start["message"]["text"] == "/start" and "entities" not in start["message"]
        assert "is_bot" not in start["message"]["from"]
        assert "duration" not in voice["message"]["voice"]
        assert contact["message"]["contact"]["user_id"] == USER
        assert "chat_instance" in telegram_query["callback_query"]
        assert telegram_query["callback_query"]["from"]["is_bot"] is False
        ids = [u["update_id"] for u in body["result"]]
        assert ids == sorted(ids) and len(set(ids)) == 5

    run_with_api(scenario)


def test_get_file_and_download_of_user_files() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        pdf = b"%PDF-1.7 bill of user 9001"
        api.push_update(TOKEN, document_update(USER, "قبض.pdf", "application/pdf", pdf))
        api.push_update(TOKEN, photo_update(USER, b"\xff\xd8\xff fake jpeg", caption="کنتور"))
        big = document_update(USER, "scan.tiff", "image/tiff", file_size=25 * 1024 * 1024)
        api.push_update(TOKEN, big)
        async with aiogram_bot(api) as bot:
            doc_update, photo_update_, big_update = await bot.get_updates()
            assert doc_update.message is not None and doc_update.message.document is not None
            document = doc_update.message.document
            assert (document.file_name, document.file_size) == ("قبض.pdf", len(pdf))
            file = await bot.get_file(document.file_id)
            assert file.file_path is not None and file.file_path.endswith(".pdf")
            downloaded = await bot.download_file(file.file_path)
            assert downloaded is not None and downloaded.read() == pdf

            assert photo_update_.message is not None and photo_update_.message.photo is not None
            largest = photo_update_.message.photo[-1]
            photo = await bot.download(largest.file_id)
            assert photo is not None and photo.read() == b"\xff\xd8\xff fake jpeg"

            assert big_update.message is not None and big_update.message.document is not None
            assert big_update.message.document.file_size == 25 * 1024 * 1024
            with pytest.raises(TelegramBadRequest, match="file is too big"):
                await bot.get_file(big_update.message.document.file_id)

    run_with_api(scenario)


def test_send_document_multipart_upload() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        async with aiogram_bot(api) as bot:
            upload = BufferedInputFile(b"%PDF-1.4 receipt", filename="رسید پرداخت.pdf")
            message = await bot.send_document(USER, upload, caption="رسید")
            assert message.document is not None and message.caption == "رسید"
            assert message.document.file_name == "رسید پرداخت.pdf"
            assert message.document.mime_type == "application/pdf"
            copy = await bot.download(message.document.file_id)
            assert copy is not None and copy.read() == b"%PDF-1.4 receipt"
        params = api.calls("sendDocument")[0].params
        assert params["document"] == UploadedFile(
            "رسید پرداخت.pdf", b"%PDF-1.4 receipt", "application/octet-stream"
        )

    run_with_api(scenario)


def test_injected_errors_raise_aiogram_exceptions() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        api.fail_next("sendMessage", 429, retry_after=7)
        api.fail_next("sendMessage", 403, token=TOKEN)
        api.fail_next("sendMessage", 500)
        api.fail_next("sendMessage", 429, "bot limit exceed")
        async with aiogram_bot(api) as bot:
            with pytest.raises(TelegramRetryAfter) as retry:
                await bot.send_message(USER, "1")
            assert retry.value.retry_after == 7
            with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
                await bot.send_message(USER, "2")
            with pytest.raises(TelegramServerError):
                await bot.send_message(USER, "3")
            # Bale's 429 has no retry_after: aiogram raises only the generic error.
            with pytest.raises(TelegramAPIError, match="bot limit exceed") as bale:
                await bot.send_message(USER, "4")
            assert type(bale.value) is TelegramAPIError
            await bot.send_message(USER, "5")
            api.fail_chat(USER + 1)  # a user who blocked the bot, for every later send
            with pytest.raises(TelegramForbiddenError):
                await bot.send_message(USER + 1, "6")
        assert [c.status for c in api.calls("sendMessage")] == [429, 403, 500, 429, 200, 403]
        assert [m["text"] for m in api.sent_messages(TOKEN, USER)] == ["5"]

    run_with_api(scenario)


def test_rate_limit_answers_429_past_the_limit() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        api.rate_limit(TOKEN, 5)
        async with aiogram_bot(api) as bot, aiogram_bot(api, OTHER_TOKEN) as other:
            results = await asyncio.gather(
                *(bot.send_message(USER + i, "خاموشی") for i in range(8)),
                return_exceptions=True,
            )
            limited = [r for r in results if isinstance(r, TelegramRetryAfter)]
            assert len(limited) == 3 and {r.retry_after for r in limited} == {1}
            # The limit is per token.
            await asyncio.gather(*(other.send_message(USER + i, "x") for i in range(8)))
        api.register_bot(BALE_TOKEN, shape="bale")
        api.rate_limit(BALE_TOKEN, 1)
        async with aiogram_bot(api, BALE_TOKEN) as bale:
            await bale.send_message(USER, "1")
            with pytest.raises(TelegramAPIError, match="bot limit exceed"):
                await bale.send_message(USER, "2")

    run_with_api(scenario)


def test_webhook_delivery_with_secret_header() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        received: list[tuple[str | None, dict[str, Any]]] = []

        async def receive(request: web.Request) -> web.Response:
            secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            received.append((secret, await request.json()))
            return web.Response(status=200)

        app = web.Application()
        app.router.add_post("/hook/{path}", receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            api.register_bot(BALE_TOKEN, shape="bale")
            async with aiogram_bot(api) as bot, aiogram_bot(api, BALE_TOKEN) as bale:
                await bot.set_webhook(f"http://127.0.0.1:{port}/hook/tg", secret_token="s3cr3t")
                await bale.set_webhook(f"http://127.0.0.1:{port}/hook/bale", secret_token="x")
                with pytest.raises(TelegramConflictError, match="webhook is active"):
                    await bot.get_updates()
                info = await bot.get_webhook_info()
                assert info.url.endswith("/hook/tg")
            assert await api.post_update_to_webhook(TOKEN, message_update(USER, "hi")) == 200
            bale_update = message_update(USER, "hi", shape="bale")
            assert await api.post_update_to_webhook(BALE_TOKEN, bale_update) == 200
            (secret, update), (bale_secret, _) = received
            assert secret == "s3cr3t" and update["message"]["text"] == "hi"
            assert bale_secret is None  # Bale sends no secret header
            _, info_raw = await raw_call(api, BALE_TOKEN, "getWebhookInfo")
            assert info_raw["result"] == {"url": f"http://127.0.0.1:{port}/hook/bale"}
        finally:
            await runner.cleanup()

    run_with_api(scenario)


def test_dispatcher_polling_round_trip() -> None:
    async def scenario(api: FakeBotAPI) -> None:
        dp = Dispatcher()

        @dp.message(CommandStart())
        async def start(message: Message) -> None:
            await message.answer("منو", reply_markup=keyboard(("قبض", "bill")))

        @dp.callback_query(F.data == "bill")
        async def bill(query: CallbackQuery) -> None:
            await query.answer()
            assert isinstance(query.message, Message)
            await query.message.edit_text("شماره قبض را بفرستید")

        async with aiogram_bot(api) as bot:
            polling = asyncio.create_task(
                dp.start_polling(bot, handle_signals=False, close_bot_session=False)
            )
            api.push_update(TOKEN, message_update(USER, "/start"))
            await api.wait_for_calls("sendMessage")
            [menu] = api.sent_messages(TOKEN, USER)
            assert menu["message_id"] == 2  # the user's /start was 1: one sequence per chat
            api.push_update(TOKEN, callback_update(USER, "bill", menu["message_id"]))
            await api.wait_for_calls("editMessageText")
            await dp.stop_polling()
            await polling
        [edited] = api.sent_messages(TOKEN, USER)
        assert edited["text"] == "شماره قبض را بفرستید" and "reply_markup" not in edited
        assert [c.status for c in api.calls("answerCallbackQuery")] == [200]

    run_with_api(scenario)


def test_push_update_and_wait_ends_when_the_bot_is_done_with_the_update() -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("منو")
        await asyncio.sleep(0.5)  # a pause mid-handling: the wait is for the handler to end
        await message.answer("دوم")

    @dp.message(F.text == "boom")
    async def boom(message: Message) -> None:
        raise RuntimeError("boom")

    with FakeBotAPI.running_in_thread() as api:
        bot = Bot(TOKEN, session=AiohttpSession(api=api.aiogram_server()))
        with polling(dp, [bot], api):
            api.push_update_and_wait(TOKEN, message_update(USER, "/start"))
            assert [m["text"] for m in api.sent_messages(TOKEN, USER)] == ["منو", "دوم"]
            with pytest.raises(AssertionError, match=r"failed: RuntimeError\('boom'\)"):
                api.push_update_and_wait(TOKEN, message_update(USER, "boom"))


def test_push_update_and_wait_ends_for_an_update_dropped_unserved_and_times_out_unpolled() -> None:
    with FakeBotAPI.running_in_thread() as api:
        with pytest.raises(TimeoutError, match="never served"):
            api.push_update_and_wait(TOKEN, message_update(USER, "nobody polls"), timeout=0.2)
        api.reset()

        stale = message_update(USER, "an id the bot has confirmed already")
        stale["update_id"] = 5000
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(api.push_update_and_wait, TOKEN, stale, timeout=5)
            deadline = time.monotonic() + 5
            while not api.pending_updates(TOKEN):  # the push is in
                assert time.monotonic() < deadline
                time.sleep(0.01)

            async def confirm_past_it() -> None:
                async with aiogram_bot(api) as bot:
                    assert await bot.get_updates(offset=5001) == []

            asyncio.run(confirm_past_it())
            assert waiting.result(timeout=5) == 5000  # dropped: it will never be handled
