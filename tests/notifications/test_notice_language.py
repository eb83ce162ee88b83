"""A notice speaks its reader's language: a messenger's in the chat's language now, an SMS in the
one the subscriber last chose where they filed, whichever other chat changed its language."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session

from backend.constants import Channel, NoticeKind
from backend.notices import queue_notice
from backend.settings import Settings
from backend.storage import LocalFileStorage
from dialogs.app import make_dialog_engine
from dialogs.bill_review import CONFIRM, DONE
from notifications.runtime import Notifier
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, request_of, walk_to_documents
from tests.helpers.subscribers import console_sms

CHAT = 6101
MOBILE = "+989121110101"


def switch_language(user: ChatUser, locale: str) -> None:
    user.say("/language")
    user.press(f"lang:{locale}")
    assert user.keys[0] == "language.changed"


def test_sms_follow_the_filing_chats_language_not_another_chats(
    engine: sa.Engine, telegram_settings: Settings, session: Session, fake_api: FakeBotAPI
) -> None:
    dialogs = make_dialog_engine(
        db=engine, settings=telegram_settings, storage=LocalFileStorage(telegram_settings.files_dir)
    )
    subscription = add_subscription(session, mobile=MOBILE)
    filer = ChatUser(dialogs, user_id=str(CHAT), channel=Channel.TELEGRAM)
    filer.say("/start")
    walk_to_documents(filer, subscription, latest_bill(session, subscription))
    filer.press(DONE)
    filer.press(CONFIRM)
    code = filer.answer.replies[0].text.params["code"].value
    assert request_of(session, code).locale == "fa"  # the language it was filed in

    # The same subscriber reads English elsewhere: in Bale, and in their SMS conversation.
    for channel, user_id in ((Channel.BALE, "7101"), (Channel.SMS, MOBILE)):
        other = ChatUser(dialogs, user_id=user_id, channel=channel)
        other.say("/start")
        switch_language(other, "en")
    assert request_of(session, code).locale == "fa"

    notifier = Notifier(telegram_settings, engine)
    notifier.run_pending()  # the receipt, in Telegram
    result = dict(
        rejection="reading_correct", explanation="رقم کنتور در بازدید دوباره همان رقم قبض بود."
    )
    queue_notice(
        session,
        request_of(session, code),
        NoticeKind.RESULT_REJECTED,
        now=datetime.now(UTC),
        **result,
    )
    session.commit()
    notifier.run_pending()  # essential: by Telegram and by SMS
    [sms] = console_sms(telegram_settings.sms_console_path)
    assert "اعتراض شما پذیرفته نشد" in sms["text"]
    assert "اعتراض شما پذیرفته نشد" in fake_api.sent_messages(TELEGRAM_TOKEN, CHAT)[-1]["text"]

    # Where it was filed, English is chosen now: its SMS follow, and so does the chat.
    switch_language(filer, "en")
    assert request_of(session, code).locale == "en"
    queue_notice(
        session,
        request_of(session, code),
        NoticeKind.RESULT_REJECTED,
        now=datetime.now(UTC),
        **result,
    )
    session.commit()
    notifier.run_pending()
    assert (
        "Your objection was not upheld"
        in console_sms(telegram_settings.sms_console_path)[-1]["text"]
    )
    assert (
        "Your objection was not upheld" in fake_api.sent_messages(TELEGRAM_TOKEN, CHAT)[-1]["text"]
    )
