"""A redelivered event: handled once, its kept answer sent again until it went out; an event that
fails for good answered with an apology; an expired draft that still hears the message; the
look-ups by tracking code a user may make."""

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel
from backend.models import Conversation, ProcessedEvent, ServiceRequest, Subscription, utcnow
from bot.sms_desk import render_sms_answer
from dialogs import states
from dialogs.bill_review import CONFIRM, DONE, DescriptionStep
from dialogs.engine import APOLOGY, DialogEngine
from dialogs.events import Event, EventKind
from locales.values import render
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, walk_to_documents

SECRET_TEXT = "رقم کنتور ۹۸۷۶۵ بود و همسایه‌ام آقای رضایی شاهد است"


def confirm(user: ChatUser, event_id: str) -> Event:
    return Event(user.channel, user.user_id, EventKind.CHOICE, choice=CONFIRM, event_id=event_id)


def test_the_filed_reply_lost_before_its_send_is_sent_again_on_the_redelivery(
    user: ChatUser, dialog_engine: DialogEngine, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    user.press(DONE)
    event = confirm(user, "update-501")

    first = dialog_engine.handle(event)  # committed; the process dies before sending it
    assert first.replies[0].text.key == "review.filed"
    code = first.replies[0].text.params["code"].value

    again = dialog_engine.handle(event)  # the platform delivers the update again
    assert again == first  # the same answer, the tracking code in it: nothing filed twice
    assert len(session.exec(select(ServiceRequest)).all()) == 1
    assert render(again.replies[0].text, again.locale).count(code) == 1

    dialog_engine.answered(event)  # it went out this time
    assert dialog_engine.handle(event).replies == []


def test_an_event_that_fails_for_good_gets_an_apology_and_is_not_tried_again(
    user: ChatUser,
    dialog_engine: DialogEngine,
    session: Session,
    subscription: Subscription,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user.say("/language")
    user.press("lang:en")
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{latest_bill(session, subscription).id}")
    user.press("reason:wrong_reading")
    tries: list[str] = []

    def broken(self: DescriptionStep, ctx: object, text: str) -> None:
        tries.append(text)
        raise ValueError(f"cannot store {text!r}")  # as a database refusing the text would

    monkeypatch.setattr(DescriptionStep, "on_text", broken)
    event = Event(Channel.TELEGRAM, user.user_id, EventKind.TEXT, text=SECRET_TEXT, event_id="9")
    with caplog.at_level(logging.ERROR):
        answer = dialog_engine.handle(event)

    assert [reply.text.key for reply in answer.replies] == [APOLOGY]
    assert render(answer.replies[0].text, answer.locale).startswith("Sorry, ")
    assert "ValueError" in caplog.text and "رضایی" not in caplog.text  # no personal data
    session.expire_all()
    conversation = session.exec(select(Conversation)).one()
    assert conversation.state == states.REVIEW_DESCRIPTION  # rolled back: where it was
    assert session.get(ProcessedEvent, (Channel.TELEGRAM, "9")) is not None  # handled

    assert dialog_engine.handle(event) == answer  # the redelivery: the apology, not the failure
    dialog_engine.answered(event)
    assert dialog_engine.handle(event).replies == []
    assert tries == [SECRET_TEXT]


def test_a_failure_a_retry_may_cure_is_raised_and_the_event_left_to_its_redelivery(
    user: ChatUser,
    dialog_engine: DialogEngine,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = dialog_engine._route

    def unreachable(ctx: object) -> None:
        calls.append(ctx)
        if len(calls) == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, ConnectionError("server closed"))
        real(ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(dialog_engine, "_route", unreachable)
    event = Event(Channel.TELEGRAM, user.user_id, EventKind.TEXT, text="/help", event_id="10")
    with pytest.raises(sa.exc.OperationalError):
        dialog_engine.handle(event)
    assert session.get(ProcessedEvent, (Channel.TELEGRAM, "10")) is None

    assert dialog_engine.handle(event).replies[0].text.key == "help.menu"  # handled this time


def test_an_expired_sms_draft_is_said_and_the_message_still_answered(
    dialog_engine: DialogEngine, session: Session, subscription: Subscription
) -> None:
    request = ChatUser(dialog_engine, user_id="local", channel=Channel.SHELL)
    request.say("/start")
    walk_to_documents(request, subscription, latest_bill(session, subscription))
    request.press(DONE)
    request.press(CONFIRM)
    code = request.answer.replies[0].text.params["code"].value  # type: ignore[union-attr]

    sms = ChatUser(dialog_engine, user_id="+989121234567", channel=Channel.SMS)
    sms.say("سلام")
    sms.press("menu:review")
    sms.say(subscription.bill_id)  # a draft is begun, then nothing for more than 30 minutes
    silence = timedelta(minutes=dialog_engine.settings.sms_session_ttl_minutes + 1)
    later = dialog_engine.clock() + silence
    dialog_engine.clock = lambda: later

    sms.say(f"وضعیت {code}")

    assert sms.keys == ["draft.expired_sms", "track.status_sms", "menu.prompt"]
    assert sms.answer is not None
    reply = render_sms_answer(sms.answer, dialog_engine.settings.sms_reply_max_parts)
    assert "منقضی" in reply and code in reply and "مرحله بعد تا ۱۴" in reply
    assert "…" not in reply


def test_an_expired_draft_still_takes_the_command_that_found_it(
    user: ChatUser, dialog_engine: DialogEngine, subscription: Subscription
) -> None:
    """A press of the expired step's buttons says no more than that it expired
    (test_bill_review's test_a_stale_draft_expires_with_a_message)."""
    user.press("menu:review")
    user.say(subscription.bill_id)
    silence = timedelta(minutes=dialog_engine.settings.draft_ttl_minutes + 1)
    dialog_engine.clock = lambda: utcnow() + silence
    user.say("/help")
    assert user.keys == ["draft.expired", "help.menu", "menu.prompt"]


def test_look_ups_by_tracking_code_are_limited_per_user(
    dialog_engine: DialogEngine, subscription: Subscription
) -> None:
    limit = dialog_engine.settings.track_rate_limit
    guesser = ChatUser(dialog_engine, user_id="3001")
    guesser.say("/start")
    for number in range(limit):
        guesser.say(f"/status {1000000000 + number}")
        assert guesser.keys[0] != "track.rate_limited"
    guesser.say("/status 1000000099")
    assert guesser.keys[0] == "track.rate_limited"
    guesser.say("1000000098")  # a code typed at the menu is a look-up too
    assert guesser.keys[0] == "track.rate_limited"

    other = ChatUser(dialog_engine, user_id="3001", channel=Channel.BALE)  # another channel's user
    other.say("/status 1000000099")
    assert other.keys[0] != "track.rate_limited"
