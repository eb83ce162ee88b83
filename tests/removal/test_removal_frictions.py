"""The small frictions of a removal: «سایر موارد» in words, a code asked for again too soon, an
answer to the code that is not one, and the bill ID followed once its mobile is proved."""

from sqlmodel import Session, select

from backend import preferences
from backend.constants import Channel
from backend.models import OtpChallenge, ServiceRequest, Subscription
from dialogs.engine import DialogEngine
from tests.removal.conftest import JPEG, MOBILE, SmsOutbox, Subscriber


def test_other_asks_the_reason_in_words_and_files_them(
    telegram_user: Subscriber, subscription: Subscription, session: Session
) -> None:
    telegram_user.press("menu:removal")
    telegram_user.say(subscription.bill_id)
    telegram_user.share_contact(MOBILE)
    telegram_user.press("removal_reason:other")
    assert telegram_user.last.key == "removal.ask_reason_text"
    telegram_user.say("   ")
    assert telegram_user.keys == ["removal.reason_text_empty", "removal.ask_reason_text"]
    telegram_user.say("ب" * 201)
    assert telegram_user.keys == ["removal.reason_text_too_long", "removal.ask_reason_text"]
    telegram_user.say("ساختمان  به  شهرداری واگذار شد")
    assert telegram_user.last.key == "removal.ask_id_card"
    telegram_user.upload("id-card.jpg", JPEG, "image/jpeg")
    telegram_user.press("docs:done")
    telegram_user.press("property:none")
    telegram_user.press("removal:acknowledge")
    assert telegram_user.last.key == "removal.summary"
    assert "ساختمان به شهرداری واگذار شد" in telegram_user.text()  # not «سایر موارد» alone
    telegram_user.press("removal:confirm")
    request = session.exec(select(ServiceRequest)).one()
    assert (request.reason, request.description) == ("other", "ساختمان به شهرداری واگذار شد")
    assert request.locale == "fa"


def test_another_reason_asks_no_words(
    telegram_user: Subscriber, subscription: Subscription
) -> None:
    telegram_user.press("menu:removal")
    telegram_user.say(subscription.bill_id)
    telegram_user.share_contact(MOBILE)
    telegram_user.press("removal_reason:demolition")
    assert telegram_user.last.key == "removal.ask_id_card"


def test_starting_again_within_the_resend_interval_says_the_earlier_code_still_holds(
    shell_user: Subscriber, subscription: Subscription, sms: SmsOutbox, session: Session
) -> None:
    shell_user.press("menu:removal")
    shell_user.say(subscription.bill_id)
    assert shell_user.last.key == "otp.prompt"
    code = sms.last_code()
    shell_user.say("/cancel")
    shell_user.press("menu:removal")
    shell_user.say(subscription.bill_id)
    # The finding: «a code was texted» when none was. None was; the earlier one is still good.
    assert shell_user.last.key == "otp.prompt_earlier"
    assert "معتبر است" in shell_user.text() and "پیامک شد" in shell_user.text()
    assert len(sms.sent) == 1
    assert len(session.exec(select(OtpChallenge)).all()) == 1
    shell_user.say(code)
    assert shell_user.keys[0] == "removal.owner_proven"


def test_a_code_sent_moments_ago_to_another_chat_is_not_said_to_be_this_ones(
    dialog_engine: DialogEngine, subscription: Subscription, sms: SmsOutbox
) -> None:
    first = Subscriber(dialog_engine, user_id="first", channel=Channel.SHELL)
    second = Subscriber(dialog_engine, user_id="second", channel=Channel.SHELL)
    for user in (first, second):
        user.say("/start")
        user.press("menu:removal")
        user.say(subscription.bill_id)
    assert first.last.key == "otp.prompt"
    assert second.last.key == "otp.prompt_wait"  # when to ask for one of its own
    assert len(sms.sent) == 1


def test_answers_that_are_not_a_code_leave_every_try(
    shell_user: Subscriber, subscription: Subscription, sms: SmsOutbox
) -> None:
    shell_user.press("menu:removal")
    shell_user.say(subscription.bill_id)
    code = sms.last_code()
    for typed in ("کد نیامده", "abcdef", "۱۲۳", "12a456", "ﻛﺪ"):
        shell_user.say(typed)
        assert shell_user.keys == ["otp.not_a_code", "otp.prompt"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    shell_user.say(wrong)
    assert shell_user.keys == ["otp.wrong", "otp.prompt"]
    assert shell_user.answer.replies[0].text.params["left"] == 4  # only the wrong code counted


def test_a_bill_id_proved_by_its_code_is_followed_and_said_once(
    shell_user: Subscriber, subscription: Subscription, sms: SmsOutbox, session: Session
) -> None:
    shell_user.press("menu:removal")
    shell_user.say(subscription.bill_id)
    shell_user.say(sms.last_code())
    assert shell_user.keys == ["removal.owner_proven", "follow.auto_added", "removal.ask_reason"]
    assert "«شناسه‌های قبض من و اطلاعیه‌ها»" in shell_user.text()  # how to stop
    [followed] = preferences.followed(session, channel=Channel.SHELL, user_id="local")
    assert followed.subscription.id == subscription.id
    # Proved again (the chat vouches for the mobile now): followed already, nothing said.
    shell_user.say("/cancel")
    shell_user.press("menu:removal")
    shell_user.say(subscription.bill_id)
    assert "follow.auto_added" not in shell_user.keys
    assert len(preferences.followed(session, channel=Channel.SHELL, user_id="local")) == 1


def test_a_contact_proves_the_mobile_but_follows_nothing(
    telegram_user: Subscriber, subscription: Subscription, session: Session
) -> None:
    telegram_user.press("menu:removal")
    telegram_user.say(subscription.bill_id)
    telegram_user.share_contact(MOBILE)
    assert telegram_user.keys == ["removal.owner_proven", "removal.ask_reason"]
    assert preferences.followed(session, channel=Channel.TELEGRAM, user_id="5001") == []
