"""Telegram and Bale end to end: the real aiogram bots against the fake Bot API server."""

import asyncio
import hashlib
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from sqlmodel import Session, select

from backend.constants import Channel
from backend.models import Bill, ChannelIdentity, RequestDocument, ServiceRequest
from bot.app import webhook_path, webhook_secret
from channels.botapi import RetryMiddleware, make_bot
from channels.ratelimit import LocalLimiter
from channels.registry import MESSENGERS, MessengerBot
from tests.bot.conftest import free_port, wait_for_http
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI, message_update
from tests.helpers.bots import BALE_TOKEN, TELEGRAM_TOKEN
from tests.helpers.filing import latest_bill
from tests.helpers.messenger_user import MessengerUser, file_a_review
from tests.helpers.samples import MESSENGER_METER_PHOTO as JPEG


def assert_filed(session: Session, code: str, channel: str, user_id: int) -> None:
    session.expire_all()
    request = session.exec(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()
    assert (request.channel, request.channel_user_id) == (channel, str(user_id))
    document = session.exec(
        select(RequestDocument).where(RequestDocument.request_id == request.id)
    ).one()
    assert document.sha256 == hashlib.sha256(JPEG).hexdigest()


def test_python_m_bot_files_reviews_on_telegram_and_bale(
    fake_api: FakeBotAPI, bot_process: Any, session: Session
) -> None:
    subscription = add_subscription(session)
    bill = latest_bill(session, subscription)
    bot_process()  # `python -m bot`: long polling, both bots
    telegram = MessengerUser(fake_api, TELEGRAM_TOKEN, 5001)
    code = file_a_review(telegram, subscription, bill)
    sent = fake_api.calls("sendMessage", token=TELEGRAM_TOKEN)
    assert sent[-1].params.get("parse_mode") == "HTML"
    assert f"<code>{code}</code>" in telegram.text
    assert_filed(session, code, "telegram", 5001)

    other_bill = session.exec(
        select(Bill).where(Bill.subscription_id == subscription.id, Bill.id != bill.id)
    ).first()
    assert other_bill is not None
    bale = MessengerUser(fake_api, BALE_TOKEN, 5001, shape="bale")  # the same id, another space
    code = file_a_review(bale, subscription, other_bill)
    assert all(
        "parse_mode" not in c.params for c in fake_api.calls("sendMessage", token=BALE_TOKEN)
    )
    assert_filed(session, code, "bale", 5001)
    menus = fake_api.commands(TELEGRAM_TOKEN)
    assert {command["command"] for command in menus} >= {
        "start",
        "help",
        "cancel",
        "status",
        "notices",
    }


def test_bale_voice_note_without_duration_is_re_prompted(
    fake_api: FakeBotAPI, polling_bots: None
) -> None:
    user = MessengerUser(fake_api, BALE_TOKEN, 7001, shape="bale")
    user.say("/start")
    user.voice()
    assert "پیام صوتی" in user.text


def test_an_unparsable_update_is_skipped_and_polling_goes_on(
    fake_api: FakeBotAPI, polling_bots: None
) -> None:
    fake_api.push_update(TELEGRAM_TOKEN, {"message": {"message_id": 1, "text": "no chat, no date"}})
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7002)
    user.say("/start")
    assert "menu:review" in user.buttons()


def test_start_is_answered_with_one_message_the_greeting_above_the_menu(
    fake_api: FakeBotAPI, polling_bots: None
) -> None:
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7020)
    [reply] = user.say("/start")
    assert reply["text"].startswith("سلام!") and "خوش آمدید" in reply["text"]
    assert "menu:review" in user.buttons()


def test_the_same_update_delivered_twice_is_handled_once(
    fake_api: FakeBotAPI, polling_bots: None
) -> None:
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7003)
    update = message_update(7003, "/start")
    update["update_id"] = 90001
    user.send(update)
    duplicate = message_update(7003, "/start")
    duplicate["update_id"] = 90001
    assert user.send(duplicate, expect_reply=False) == []


def delivered(fake_api: FakeBotAPI, chat_id: int) -> list[str]:
    """The texts the bot got through to a chat (calls the fake answered 200)."""
    calls = fake_api.calls("sendMessage", token=TELEGRAM_TOKEN)
    return [c.params["text"] for c in calls if c.params["chat_id"] == chat_id and c.status == 200]


def test_a_reply_lost_to_server_errors_is_sent_when_the_update_comes_again(
    fake_api: FakeBotAPI, polling_bots: None
) -> None:
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7006)
    user.say("/start")
    update = message_update(7006, "/help")
    update["update_id"] = 90002
    fake_api.fail_next("sendMessage", 500, count=3, token=TELEGRAM_TOKEN)  # every attempt
    with pytest.raises(AssertionError, match="failed"):
        fake_api.push_update_and_wait(TELEGRAM_TOKEN, update)
    before = len(delivered(fake_api, 7006))

    again = message_update(7006, "/help")
    again["update_id"] = 90002  # as Telegram delivers a webhook update it got no 200 for
    fake_api.push_update_and_wait(TELEGRAM_TOKEN, again)
    replies = delivered(fake_api, 7006)[before:]
    assert "راهنما" in replies[0]  # the answer kept with the update, not nothing
    fake_api.push_update_and_wait(TELEGRAM_TOKEN, again)
    assert delivered(fake_api, 7006)[before:] == replies  # sent now: never twice


def test_a_reply_the_bot_api_refuses_for_good_becomes_an_apology(
    fake_api: FakeBotAPI, polling_bots: None
) -> None:
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7007)
    user.say("/start")
    fake_api.fail_next(
        "sendMessage", 400, "Bad Request: can't parse entities", token=TELEGRAM_TOKEN
    )
    update = message_update(7007, "/help")
    update["update_id"] = 90003
    fake_api.push_update_and_wait(TELEGRAM_TOKEN, update)  # handled, not failed

    assert delivered(fake_api, 7007)[-1].startswith("متأسفیم")
    count = len(delivered(fake_api, 7007))
    fake_api.push_update_and_wait(TELEGRAM_TOKEN, update)  # a redelivery: nothing more
    assert len(delivered(fake_api, 7007)) == count


def test_a_document_over_20_mb_is_refused_without_download(
    fake_api: FakeBotAPI, polling_bots: None, session: Session
) -> None:
    subscription = add_subscription(session)
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7004)
    user.say("/start")
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{latest_bill(session, subscription).id}")
    user.press("reason:other")
    user.say("توضیح")
    user.document("scan.pdf", "application/pdf", size=25 * 1024 * 1024)
    assert "بزرگ‌تر از ۲۰ مگابایت" in user.text
    assert fake_api.calls("getFile") == []


def test_a_contact_of_someone_else_is_refused(
    fake_api: FakeBotAPI, polling_bots: None, session: Session
) -> None:
    add_subscription(session, mobile="+989121234567")
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7005)
    user.say("/start")
    user.press("menu:phone")
    assert fake_api.calls("sendMessage")[-1].params["reply_markup"]["keyboard"][0][0][
        "request_contact"
    ]
    user.contact("+98 912 123 4567", owner=9999)
    assert "متعلق به حساب خود شما نیست" in user.text
    user.contact("09121234567", owner=7005)
    assert "متصل شد" in user.text
    session.expire_all()
    identity = session.exec(
        select(ChannelIdentity).where(ChannelIdentity.external_user_id == "7005")
    ).one()
    assert identity.phone == "+989121234567" and identity.phone_verified
    assert identity.customer_id is not None


def test_a_blocked_bot_marks_the_identity_unreachable(
    fake_api: FakeBotAPI, polling_bots: None, session: Session
) -> None:
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7006)
    user.say("/start")
    fake_api.fail_chat(7006, 403, "Forbidden: bot was blocked by the user")
    user.send(message_update(7006, "/help"), expect_reply=False)
    identity = lambda: session.exec(  # noqa: E731
        select(ChannelIdentity).where(ChannelIdentity.external_user_id == "7006")
    ).one()
    session.expire_all()
    assert identity().reachable is False


# --- The retry policy, against the fake server with the waits recorded instead of slept ---


def run_with_retries(api: FakeBotAPI, token: str, call: Any) -> tuple[Any, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def go() -> Any:
        messenger = MessengerBot(MESSENGERS[Channel.TELEGRAM], token, api.base_url, rate=100)
        bot = make_bot(messenger, LocalLimiter(100))  # no retries of its own: these are counted
        bot.session.middleware(RetryMiddleware(4, first_backoff=2.0, sleep=sleep))
        try:
            return await call(bot)
        finally:
            await bot.session.close()

    return asyncio.run(go()), waits


def send_hello(bot: Bot) -> Any:
    return bot.send_message(42, "سلام")


def test_calls_go_as_json_and_files_as_multipart(fake_api: FakeBotAPI) -> None:
    """Persian text and a keyboard as one JSON body, unescaped; a file as a multipart form."""
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="بله", callback_data="yes")]]
    )

    async def send(bot: Bot) -> None:
        await bot.send_message(42, "سلام", reply_markup=markup, disable_notification=False)
        await bot.send_document(42, BufferedInputFile(b"%PDF-1.4", "bill.pdf"), caption="قبض")

    run_with_retries(fake_api, TELEGRAM_TOKEN, send)
    message, document = fake_api.calls("sendMessage")[-1], fake_api.calls("sendDocument")[-1]
    assert message.content_type == "application/json"
    assert message.params["text"] == "سلام" and message.params["disable_notification"] is False
    assert message.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "بله", "callback_data": "yes"}]]
    }
    assert document.content_type == "multipart/form-data"
    assert document.params["caption"] == "قبض"
    assert document.params["document"].content == b"%PDF-1.4"


def test_429_with_retry_after_waits_as_told(fake_api: FakeBotAPI) -> None:
    fake_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    message, waits = run_with_retries(fake_api, TELEGRAM_TOKEN, send_hello)
    assert message.text == "سلام"
    assert waits == [3.0]


def test_bales_429_without_retry_after_backs_off(fake_api: FakeBotAPI) -> None:
    fake_api.fail_next("sendMessage", 429, "bot limit exceed", count=2, token=BALE_TOKEN)
    message, waits = run_with_retries(fake_api, BALE_TOKEN, send_hello)
    assert message.text == "سلام"
    assert waits == [2.0, 4.0]


def test_5xx_and_an_html_error_page_are_retried(fake_api: FakeBotAPI) -> None:
    fake_api.fail_next("sendMessage", 500, "Internal Server Error")
    fake_api.fail_next("sendMessage", 502, body="<html><body>502 Bad Gateway</body></html>")
    message, waits = run_with_retries(fake_api, TELEGRAM_TOKEN, send_hello)
    assert message.text == "سلام"
    assert len(waits) == 2


def test_403_is_not_retried(fake_api: FakeBotAPI) -> None:
    fake_api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(TelegramForbiddenError):
        run_with_retries(fake_api, TELEGRAM_TOKEN, send_hello)
    assert len(fake_api.calls("sendMessage")) == 1


# --- Webhooks ---


def post(url: str, update: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def telegram_poster(base: str, bot_settings: Any) -> Any:
    url = base + webhook_path(bot_settings, "telegram")
    header = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(bot_settings, "telegram", "header")}

    def deliver(update: dict[str, Any]) -> None:
        assert post(url, update, header) == 200

    return deliver


def test_two_web_processes_taking_alternate_updates_of_one_user(
    fake_api: FakeBotAPI, bot_process: Any, session: Session, bot_settings: Any
) -> None:
    subscription = add_subscription(session)
    ports = [free_port(), free_port()]
    for port in ports:
        bot_process("web", port=port)
    for port in ports:
        wait_for_http(port)
    posters = [telegram_poster(f"http://127.0.0.1:{port}", bot_settings) for port in ports]
    turn = iter(range(1000))

    def alternate(update: dict[str, Any]) -> None:
        posters[next(turn) % 2](fake_api.complete_update(TELEGRAM_TOKEN, update))

    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 8001, deliver=alternate)
    code = file_a_review(user, subscription, latest_bill(session, subscription))
    assert_filed(session, code, "telegram", 8001)

    base = f"http://127.0.0.1:{ports[0]}"
    update = fake_api.complete_update(TELEGRAM_TOKEN, message_update(8001, "/help"))
    url = base + webhook_path(bot_settings, "telegram")
    good = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(bot_settings, "telegram", "header")}
    assert post(base + "/webhook/telegram/guessed-secret", update, good) == 404
    assert post(url, update, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
    assert post(url, update) == 403
    before = len(fake_api.calls("sendMessage"))
    assert post(url, update, good) == 200
    handled_once = len(fake_api.calls("sendMessage"))
    assert handled_once > before
    assert post(url, update, good) == 200  # Telegram's retry of the same update
    assert len(fake_api.calls("sendMessage")) == handled_once
    bale_url = base + webhook_path(bot_settings, "bale")
    bale_update = fake_api.complete_update(BALE_TOKEN, message_update(8002, "/start", shape="bale"))
    assert post(bale_url, bale_update) == 200  # Bale sends no header: the path is the secret
    with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
        assert response.read() == b"ok"
