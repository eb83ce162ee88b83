"""By SMS: the question in words, one part in either language; a digit texted back from that
mobile is the answer for FEEDBACK_SMS_HOURS, unless another conversation is going on; a
tracking code is still looked up; a mobile that opted out is not asked."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel, NoticeKind
from backend.models import Notice, NoticeDelivery, Subscription, utcnow
from backend.preferences import set_sms_opt_out
from backend.settings import Settings
from bot.sms_desk import SmsDesk
from bot.wiring import make_sms_desk
from channels.render import notice_message, render_for_channel
from channels.sms import InboundSms
from channels.sms.text import parts_needed
from locales.catalogs import LOCALES
from notifications.delivery import OPTED_OUT
from notifications.runtime import Notifier
from tests.feedback.conftest import feedback_of, withdrawn
from tests.helpers.subscribers import console_sms, file_review

OWNER = "+989121234567"  # the factory's registered mobile


@pytest.mark.parametrize("locale", LOCALES)
def test_the_sms_question_fits_one_part(locale: str) -> None:
    message = notice_message(
        NoticeKind.FEEDBACK, {"code": "1234567890", "service": "bill_review"}, Channel.SMS
    )
    text = render_for_channel(message, Channel.SMS, locale, 3)
    assert "1234567890" in text and parts_needed(text) == 1
    assert ("۱ (خیلی بد) تا ۵ (عالی)" if locale == "fa" else "1 (very poor) to 5") in text


@pytest.fixture
def desk(notice_settings: Settings, engine: sa.Engine) -> SmsDesk:
    """The SMS desk on the console gateway, which notices go through too."""
    return make_sms_desk(Notifier(notice_settings, engine))


@pytest.fixture
def asked(
    engine: sa.Engine, notice_settings: Settings, session: Session, subscription: Subscription
) -> str:
    """A review filed in the terminal chat (no messenger: its notices go by SMS), withdrawn, and
    its notices sent: the question texted to the registered mobile. Its tracking code."""
    code = file_review(engine, notice_settings, session, subscription).tracking_code
    withdrawn(session, code, notice_settings)
    Notifier(notice_settings, engine).run_pending()
    return code


def text(desk: SmsDesk, body: str) -> str:
    reply = desk.handle(InboundSms("0" + OWNER[3:], "30004000123", body), "console")
    assert reply is not None
    return reply


def test_a_digit_texted_back_is_the_answer_then_a_comment(
    desk: SmsDesk, asked: str, session: Session, notice_settings: Settings
) -> None:
    (question,) = [s for s in console_sms(notice_settings.sms_console_path) if "رضایت" in s["text"]]
    assert question["to"] == OWNER and asked in question["text"]
    assert parts_needed(question["text"]) == 1

    reply = text(desk, "۴")  # Persian digits, as a Persian keyboard types them
    assert "امتیاز ۴ از ۵" in reply and "در پاسخ همین پیامک" in reply
    feedback = feedback_of(session, asked)
    assert feedback is not None and (feedback.score, feedback.channel) == (4, Channel.SMS)

    assert "به ۲ از ۵ تغییر کرد" in text(desk, "2")  # a digit again: the score changed
    assert "ثبت شد" in text(desk, "پاسخگویی تلفنی کند بود")
    feedback = feedback_of(session, asked)
    assert feedback is not None
    assert (feedback.score, feedback.comment) == (2, "پاسخگویی تلفنی کند بود")
    assert feedback.flagged_at is not None  # a low score by SMS is flagged as well

    # A tracking code is still a look-up, not an answer.
    assert "انصراف" in text(desk, asked)


def _question_sent(session: Session, hours_ago: float) -> None:
    """Dates the question's SMS back, as if it had gone out `hours_ago`."""
    delivery = session.exec(
        select(NoticeDelivery)
        .join(Notice, Notice.id == NoticeDelivery.notice_id)  # type: ignore[arg-type]
        .where(Notice.kind == NoticeKind.FEEDBACK, NoticeDelivery.channel == Channel.SMS)
    ).one()
    delivery.updated_at = utcnow() - timedelta(hours=hours_ago)
    session.add(delivery)
    session.commit()


def test_an_arabic_digit_within_the_hours_counts(
    desk: SmsDesk, asked: str, session: Session, notice_settings: Settings
) -> None:
    _question_sent(session, notice_settings.feedback_sms_hours - 1)
    assert "امتیاز ۳ از ۵" in text(desk, "٣")
    feedback = feedback_of(session, asked)
    assert feedback is not None and feedback.score == 3


def test_a_digit_after_the_hours_is_not_an_answer(
    desk: SmsDesk, asked: str, session: Session, notice_settings: Settings
) -> None:
    _question_sent(session, notice_settings.feedback_sms_hours + 0.1)
    assert "امتیاز" not in text(desk, "3")  # a menu choice, as any digit was before
    assert feedback_of(session, asked) is None


def test_a_digit_in_another_conversation_begun_since_is_its_choice(
    desk: SmsDesk, asked: str, session: Session, subscription: Subscription
) -> None:
    reply = text(desk, subscription.bill_id)  # what can be done with it: numbered choices
    assert "۲ " in reply
    text(desk, "2")
    assert feedback_of(session, asked) is None


def test_a_mobile_that_opted_out_is_not_asked(
    engine: sa.Engine,
    notice_settings: Settings,
    session: Session,
    subscription: Subscription,
    desk: SmsDesk,
) -> None:
    set_sms_opt_out(session, mobile=OWNER, opted_out=True, now=utcnow())
    session.commit()
    code = file_review(engine, notice_settings, session, subscription).tracking_code
    withdrawn(session, code, notice_settings)
    Notifier(notice_settings, engine).run_pending()
    assert not [s for s in console_sms(notice_settings.sms_console_path) if "رضایت" in s["text"]]
    delivery = session.exec(
        select(NoticeDelivery)
        .join(Notice, Notice.id == NoticeDelivery.notice_id)  # type: ignore[arg-type]
        .where(Notice.kind == NoticeKind.FEEDBACK)
    ).one()
    assert (delivery.channel, delivery.raw_code) == (Channel.SMS, OPTED_OUT)
    text(desk, "5")  # no question went: a digit is the dialog's, as before
    assert feedback_of(session, code) is None
