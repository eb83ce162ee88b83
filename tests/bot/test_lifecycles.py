"""Whole lifecycles in Telegram, as the acceptance criteria script them.

The real aiogram bot polls the fake Bot API; a subscriber and the staff each talk to it from a chat
of their own, staff bound by sharing their own contact and working with the staff commands; the
notices go out through the in-process notifier (no REDIS_URL) to the same fake API, with the buttons
of what the subscriber can do now, and the subscriber presses those.
"""

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, col, select

from backend.actions import SYSTEM, subscriber_actor
from backend.constants import (
    Channel,
    EventAction,
    NoticeKind,
    PaymentMethod,
    PaymentStatus,
    RequestStatus,
    StaffRole,
)
from backend.identifiers import display_mobile
from backend.models import Bill, Notice, NoticeDelivery, Payment, Subscription
from backend.outcomes import clearance_of
from backend.settings import Settings
from backend.staff import add_staff
from bot.app import make_channel_bots, make_dispatcher
from bot.payments_web import add_payment_routes
from channels.render import notice_message
from dialogs.staff import CONFIRM_SEND, METHOD_PREFIX, REASON_PREFIX, REJECTED, UPHELD
from locales.values import HTML, Code, Digits, Msg, Rials, render, tehran_date
from notifications.runtime import Notifier
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN, polling
from tests.helpers.filing import history_of, latest_bill, request_of
from tests.helpers.messenger_user import MessengerUser, file_a_review
from tests.helpers.staff import code_texted_to
from tests.helpers.subscribers import console_sms

A, S = EventAction, RequestStatus
TOKEN = TELEGRAM_TOKEN
MOBILE = "+989121234567"  # the subscription's registered mobile
SUBSCRIBER = subscriber_actor(Channel.TELEGRAM)
ID_CARD = b"\xff\xd8\xff\xe0" + b"national ID card" * 40
FEE = 1_500_000
TERMS = "کنتور سالم است؛ بدهی مصرف پس از جمع‌آوری اعلام می‌شود."


def said(key: str, **params: Any) -> str:
    """A message as the Telegram bot writes it (Persian, HTML)."""
    return render(Msg(key, params), "fa", HTML)


def notice(kind: NoticeKind, code: str, **params: Any) -> str:
    """A notice's text as it reaches Telegram."""
    return render(notice_message(kind, {"code": code, **params}), "fa", HTML)


def buttons_of(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


# --- The bot, and people talking to it ---


@dataclass
class Person(MessengerUser):
    """Someone in a Telegram chat with the bot; `actor` is how the history names what they do."""

    actor: str = SUBSCRIBER
    seen: int = 0  # messages of the chat already looked at

    def _replies(self, before: int, expect_reply: bool) -> list[dict[str, Any]]:
        sent = super()._replies(before, expect_reply)
        self.seen = before + len(sent)
        return sent

    def run(self, command: str) -> str:
        """Types a command; what the bot answered."""
        self.say(command)
        return self.text

    def confirmed(self, command: str) -> str:
        """Types a command that sends the subscriber something, and confirms what it shows."""
        self.say(command)
        assert CONFIRM_SEND in self.buttons(), self.text
        self.press(CONFIRM_SEND)
        return self.text

    def unread(self) -> list[dict[str, Any]]:
        """Messages the chat got since the last look (notices, between the person's turns)."""
        sent = self._sent()
        new, self.seen = sent[self.seen :], len(sent)
        return new


@dataclass
class Desk:
    """The bot polling the fake API, the notifier, the test database and the people."""

    api: FakeBotAPI
    settings: Settings
    db: sa.Engine
    session: Session

    def chat(self, user_id: int) -> Person:
        person = Person(self.api, TOKEN, user_id)  # each update waited for until handled
        person.say("/start")
        return person

    def hire(self, role: StaffRole, user_id: int) -> Person:
        """Adds a staff member, who binds their chat: menu → register my mobile → own contact →
        the code texted to their phone."""
        phone = f"+98935{user_id:07d}"
        name = f"کارمند {user_id}"
        staff = add_staff(self.session, full_name=name, phone=phone, role=role)
        self.session.commit()
        person = self.chat(user_id)
        person.actor = f"staff:{staff.id}"
        person.press("menu:phone")
        person.contact(phone.removeprefix("+"), owner=user_id)  # as Telegram shares it
        masked = Code(display_mobile(phone))
        assert said("phone.staff_code_prompt", phone=masked, minutes=5) in person.text
        person.say(code_texted_to(self.db, self.settings, phone))
        role_name = Msg(f"staff.role.{role}")
        assert said("phone.staff_bound", name=name, role=role_name) in person.text
        return person

    def notices_to(self, person: Person) -> list[dict[str, Any]]:
        """Runs the notifier as the embedded default does after each event; what reached them."""
        Notifier(self.settings, self.db).run_pending()
        return person.unread()

    def notice_to(self, person: Person) -> dict[str, Any]:
        [message] = self.notices_to(person)
        return message

    def final_notice_to(self, person: Person) -> dict[str, Any]:
        """The notice of a request made final; the feedback question, with its scores, after it."""
        message, question = self.notices_to(person)
        assert buttons_of(question)[0].startswith("fb:5:"), question
        return message

    def sms_to(self, mobile: str) -> list[str]:
        sent = console_sms(self.settings.sms_console_path)
        return [sms["text"] for sms in sent if sms["to"] == mobile]


@pytest.fixture
def desk_settings(bot_settings: Settings, tmp_path: Path) -> Settings:
    """Telegram only; SMS to the console provider's file in the test's folder."""
    return bot_settings.model_copy(
        update={"bale_bot_token": None, "sms_console_path": tmp_path / "sms.jsonl"}
    )


@pytest.fixture
def desk(
    fake_api: FakeBotAPI, desk_settings: Settings, engine: sa.Engine, session: Session
) -> Iterator[Desk]:
    """The Telegram bot polling the fake API in this process, on a loop of its own."""
    bots = make_channel_bots(desk_settings, engine)
    with polling(make_dispatcher(bots), [channel_bot.bot for channel_bot in bots], fake_api):
        yield Desk(fake_api, desk_settings, engine, session)


@pytest.fixture
def subscription(session: Session) -> Subscription:
    return add_subscription(session, mobile=MOBILE)


# --- What the subscriber does ---


def file_removal(subscriber: Person, subscription: Subscription) -> str:
    """The removal flow, ownership proved by the subscriber's own contact; the tracking code."""
    subscriber.press("menu:removal")
    subscriber.say(subscription.bill_id)
    assert subscriber.replies[-1]["reply_markup"]["keyboard"][0][0]["request_contact"]
    subscriber.contact(MOBILE.removeprefix("+"), owner=subscriber.user_id)
    assert said("removal.owner_proven", phone=Code(display_mobile(MOBILE))) in subscriber.text
    subscriber.press("removal_reason:demolition")
    subscriber.photo(ID_CARD)
    subscriber.press("docs:done")
    subscriber.press("property:none")
    subscriber.press("removal:acknowledge")  # nothing is refunded once the fee is paid
    subscriber.press("removal:confirm")
    found = re.search(r"<code>([0-9]{10})</code>", subscriber.text)
    assert found is not None, subscriber.text
    return found.group(1)


def pay_online(desk: Desk, subscriber: Person, code: str, amount: int) -> None:
    """Presses the pay button the notice carries, and pays on the page its link opens."""
    subscriber.press(f"req:pay:{code}")
    found = re.search(r"http://\S+/pay/[0-9a-f]{24}", subscriber.text)
    assert found is not None, subscriber.text
    link = found.group()
    assert said("requests.pay_link", amount=Rials(amount), link=link) in subscriber.text

    async def pay() -> str:
        app = web.Application()
        add_payment_routes(app, desk.settings, desk.db)
        async with TestClient(TestServer(app)) as client:
            shown = await (await client.get(urlsplit(link).path)).text()
            attempt = re.search(r'name="attempt" value="([0-9a-f]+)"', shown)
            assert attempt is not None, shown
            form = {"outcome": "pay", "attempt": attempt.group(1)}
            page = await client.post(urlsplit(link).path, data=form)
            assert page.status == 200
            return await page.text()

    assert "پرداخت شد" in asyncio.run(pay())


# --- What the database and the chats show ---


def live_buttons(person: Person, message: dict[str, Any]) -> list[str]:
    """The buttons a message the person got still shows (pressed ones are taken away)."""
    [now] = [
        m for m in person.api.sent_messages(TOKEN, person.user_id) if m["text"] == message["text"]
    ]
    return buttons_of(now)


def notice_kinds(session: Session, code: str) -> list[str]:
    request = request_of(session, code)
    query = select(Notice.kind).where(Notice.request_id == request.id).order_by(col(Notice.id))
    return list(session.exec(query))


def telegram_deliveries(session: Session, code: str) -> list[tuple[str, str]]:
    """Each notice's Telegram delivery: (kind, state)."""
    request = request_of(session, code)
    query = (
        select(Notice.kind, NoticeDelivery.state)
        .join(NoticeDelivery, col(NoticeDelivery.notice_id) == col(Notice.id))
        .where(Notice.request_id == request.id, NoticeDelivery.channel == Channel.TELEGRAM)
        .order_by(col(Notice.id))
    )
    return [(kind, state) for kind, state in session.exec(query)]


def payments(session: Session, code: str) -> list[tuple[str, str, str | None, str | None]]:
    request = request_of(session, code)
    query = select(Payment).where(Payment.request_id == request.id).order_by(col(Payment.id))
    return [(p.purpose, p.status, p.method, p.recorded_by) for p in session.exec(query)]


# --- Bill reviews ---


def review_taken(desk: Desk, subscription: Subscription) -> tuple[Person, Person, str]:
    """A subscriber files a review of the latest bill; a reviewer takes it. Both, and the code."""
    subscriber = desk.chat(7101)
    code = file_a_review(subscriber, subscription, latest_bill(desk.session, subscription))
    receipt = desk.notice_to(subscriber)
    assert f"<code>{code}</code>" in receipt["text"] and buttons_of(receipt) == []

    reviewer = desk.hire(StaffRole.BILLING_REVIEWER, 7102)
    assert said("staff.taken", code=Code(code)) in reviewer.run(f"/take {code}")
    assert desk.notice_to(subscriber)["text"] == notice(NoticeKind.UNDER_REVIEW, code)
    return subscriber, reviewer, code


def test_a_bill_review_upheld_corrected_and_closed(desk: Desk, subscription: Subscription) -> None:
    bill = latest_bill(desk.session, subscription)  # 585,000 rials
    subscriber, reviewer, code = review_taken(desk, subscription)

    reviewer.say(f"/decide {code}")
    assert UPHELD in reviewer.buttons()
    reviewer.press(UPHELD)
    assert said("staff.decide.ask_amount", amount=Rials(585_000)) in reviewer.text
    reviewer.say("۵۲۰٬۰۰۰")
    assert desk.notices_to(subscriber) == []  # nothing is sent before it is confirmed
    reviewer.press(CONFIRM_SEND)
    assert said("staff.corrected", code=Code(code), amount=Rials(520_000)) in reviewer.text

    request = request_of(desk.session, code)
    corrected = desk.session.get(Bill, request.corrected_bill_id)
    assert corrected is not None
    assert (corrected.amount_rials, corrected.corrects_bill_id) == (520_000, bill.id)
    result = desk.notice_to(subscriber)
    assert result["text"] == notice(
        NoticeKind.RESULT_CORRECTED,
        code,
        original_rials=585_000,
        corrected_rials=520_000,
        bill_id=subscription.bill_id,
        payment_id=corrected.payment_id,
    )
    assert any(code in sms and "۵۲۰٬۰۰۰" in sms for sms in desk.sms_to(MOBILE))  # money: SMS too

    assert said("staff.closed", code=Code(code)) in reviewer.run(f"/close {code}")
    assert desk.final_notice_to(subscriber)["text"] == notice(NoticeKind.CLOSED, code)

    assert request_of(desk.session, code).status == S.CLOSED
    assert history_of(desk.session, code) == [
        (A.SUBMITTED, S.SUBMITTED, SUBSCRIBER),
        (A.TAKE, S.UNDER_REVIEW, reviewer.actor),
        (A.UPHOLD, S.UPHELD, reviewer.actor),
        (A.CORRECT, S.BILL_CORRECTED, reviewer.actor),
        (A.ANNOUNCE, S.RESULT_ANNOUNCED, SYSTEM),
        (A.CLOSE, S.CLOSED, reviewer.actor),
    ]
    kinds = [NoticeKind.RECEIPT, NoticeKind.UNDER_REVIEW, NoticeKind.RESULT_CORRECTED]
    kinds += [NoticeKind.CLOSED, NoticeKind.FEEDBACK]
    assert telegram_deliveries(desk.session, code) == [(kind, "sent") for kind in kinds]


def test_a_bill_review_rejected_and_closed(desk: Desk, subscription: Subscription) -> None:
    subscriber, reviewer, code = review_taken(desk, subscription)
    explanation = "عکس کنتور همان رقم قبض را نشان می‌دهد."

    reviewer.say(f"/decide {code}")
    reviewer.press(REJECTED)
    reviewer.press(f"{REASON_PREFIX}reading_correct")
    reviewer.say(explanation)
    reviewer.press(CONFIRM_SEND)
    reason = Msg("staff.rejection.reading_correct")
    assert said("staff.rejected", code=Code(code), reason=reason) in reviewer.text
    result = desk.notice_to(subscriber)
    assert result["text"] == notice(
        NoticeKind.RESULT_REJECTED, code, rejection="reading_correct", explanation=explanation
    )
    reviewer.say(f"/close {code}")

    request = request_of(desk.session, code)
    assert (request.status, request.corrected_bill_id) == (S.CLOSED, None)
    assert history_of(desk.session, code)[2:] == [
        (A.REJECT, S.REJECTED, reviewer.actor),
        (A.ANNOUNCE, S.RESULT_ANNOUNCED, SYSTEM),
        (A.CLOSE, S.CLOSED, reviewer.actor),
    ]


# --- Removals ---


@dataclass
class Removal:
    """A removal filed in Telegram, and the people working it."""

    desk: Desk
    subscriber: Person
    finance: Person
    technician: Person
    code: str

    def announce_fee(self) -> dict[str, Any]:
        """Finance announces the fee; the notice the subscriber got, with its pay button."""
        said_fee = said("staff.fee_announced", code=Code(self.code), amount=Rials(FEE))
        assert said_fee in self.finance.confirmed(f"/fee {self.code} ۱٬۵۰۰٬۰۰۰")
        fee = self.desk.notice_to(self.subscriber)
        assert fee["text"] == notice(NoticeKind.FEE_DUE, self.code, fee_rials=FEE)
        assert buttons_of(fee) == [f"req:pay:{self.code}"]
        return fee

    def pay_fee_at_the_desk(self) -> None:
        self.finance.say(f"/paid {self.code} R-1001 bank")
        assert (
            said(
                "staff.payment_recorded",
                code=Code(self.code),
                amount=Rials(FEE),
                method=Msg("staff.method.bank"),
                status=Msg("status.fee_paid"),
            )
            in self.finance.text
        )
        received = self.desk.notice_to(self.subscriber)
        assert received["text"] == notice(NoticeKind.FEE_RECEIVED, self.code, amount_rials=FEE)

    def meter_tested_and_terms_announced(self) -> dict[str, Any]:
        """The meter test and the terms; the terms' notice, with accept and decline buttons."""
        said_test = said(
            "staff.meter_tested",
            code=Code(self.code),
            result=Msg("staff.meter.ok"),
            reading=12_345,
        )
        assert said_test in self.technician.run(f"/metertest {self.code} ok ۱۲۳۴۵")
        tested = self.desk.notice_to(self.subscriber)
        assert tested["text"] == notice(NoticeKind.METER_TESTED, self.code)
        said_terms = said("staff.terms_announced", code=Code(self.code))
        assert said_terms in self.finance.run(f"/terms {self.code} {TERMS}")
        terms = self.desk.notice_to(self.subscriber)
        assert terms["text"] == notice(NoticeKind.TERMS, self.code, terms=TERMS)
        assert buttons_of(terms) == [f"req:accept:{self.code}", f"req:decline:{self.code}"]
        return terms


@pytest.fixture
def removal(desk: Desk, subscription: Subscription) -> Removal:
    """Filed with the subscriber's own contact; its receipt asks nothing; staff bound."""
    subscriber = desk.chat(7201)
    code = file_removal(subscriber, subscription)
    receipt = desk.notice_to(subscriber)
    assert f"<code>{code}</code>" in receipt["text"] and buttons_of(receipt) == []
    finance = desk.hire(StaffRole.FINANCE, 7202)
    technician = desk.hire(StaffRole.FIELD_TECHNICIAN, 7203)
    return Removal(desk, subscriber, finance, technician, code)


def test_a_removal_through_every_step_to_closed_with_clearance(
    removal: Removal, desk: Desk, subscription: Subscription
) -> None:
    subscriber, finance, technician, code = (
        removal.subscriber,
        removal.finance,
        removal.technician,
        removal.code,
    )
    removal.announce_fee()
    pay_online(desk, subscriber, code, FEE)
    received = desk.notice_to(subscriber)
    assert received["text"] == notice(NoticeKind.FEE_RECEIVED, code, amount_rials=FEE)

    terms = removal.meter_tested_and_terms_announced()
    subscriber.press(f"req:accept:{code}")
    assert said("requests.terms_accepted", code=Code(code)) in subscriber.text
    assert live_buttons(subscriber, terms) == []  # pressed: the terms' buttons are spent
    assert desk.notices_to(subscriber) == []  # accepting needs no notice

    said_collected = said("staff.collected", code=Code(code), reading=12_400)
    assert said_collected in technician.run(f"/collected {code} 12400")
    collected = desk.notice_to(subscriber)
    assert collected["text"] == notice(NoticeKind.COLLECTED, code)
    statement = Msg("staff.statement.debt", {"amount": Rials(250_000)})
    said_statement = said("staff.statement_issued", code=Code(code), statement=statement)
    assert said_statement in finance.confirmed(f"/statement {code} +250,000")
    final = desk.notice_to(subscriber)
    assert final["text"] == notice(NoticeKind.STATEMENT, code, debt_rials=250_000, credit_rials=0)
    assert buttons_of(final) == [f"req:pay:{code}"]

    unpaid = said("refused.statement_unpaid", amount_rials=Rials(250_000))
    assert unpaid in finance.run(f"/settle {code}")
    finance.say(f"/paid {code} R-5521")  # the subscriber paid at the counter: which way?
    finance.press(f"{METHOD_PREFIX}in_person")
    assert (
        said(
            "staff.payment_recorded",
            code=Code(code),
            amount=Rials(250_000),
            method=Msg("staff.method.in_person"),
            status=Msg("status.settled"),
        )
        in finance.text
    )
    assert said("staff.closed", code=Code(code)) in finance.run(f"/close {code}")

    clearance = desk.final_notice_to(subscriber)
    assert clearance["text"] == notice(NoticeKind.CLEARANCE, code)
    assert buttons_of(clearance) == [f"req:clearance:{code}"]
    subscriber.press(f"req:clearance:{code}")
    request = request_of(desk.session, code)
    certificate = clearance_of(desk.session, request, desk.settings)
    assert certificate is not None
    assert (
        said(
            "requests.clearance",
            code=Code(code),
            bill_id=Code(subscription.bill_id),
            address=subscription.address,
            reading=Digits(12_400),
            debt=Rials(250_000),
            credit=Rials(0),
            closed=tehran_date(request.updated_at),
            seal=Code(certificate.seal),
        )
        in subscriber.text
    )
    # The certificate itself comes as a PDF document.
    (sent,) = [reply["document"] for reply in subscriber.replies if "document" in reply]
    assert (sent.filename, sent.content[:5]) == (f"clearance-{code}.pdf", b"%PDF-")

    assert request.status == S.CLOSED
    assert history_of(desk.session, code) == [
        (A.SUBMITTED, S.SUBMITTED, SUBSCRIBER),
        (A.ANNOUNCE_FEE, S.FEE_ANNOUNCED, finance.actor),
        (A.PAY_FEE, S.FEE_PAID, "provider:dev"),
        (A.TEST_METER, S.METER_TESTED, technician.actor),
        (A.ANNOUNCE_TERMS, S.TERMS_ANNOUNCED, finance.actor),
        (A.ACCEPT_TERMS, S.TERMS_ACCEPTED, SUBSCRIBER),
        (A.COLLECT, S.COLLECTED, technician.actor),
        (A.ISSUE_STATEMENT, S.STATEMENT_ISSUED, finance.actor),
        (A.SETTLE, S.SETTLED, finance.actor),
        (A.CLOSE, S.CLOSED, finance.actor),
    ]
    assert payments(desk.session, code) == [
        ("collection_fee", PaymentStatus.PAID, PaymentMethod.ONLINE, "provider:dev"),
        ("final_statement", PaymentStatus.PAID, PaymentMethod.IN_PERSON, finance.actor),
    ]
    kinds = [
        NoticeKind.RECEIPT,
        NoticeKind.FEE_DUE,
        NoticeKind.FEE_RECEIVED,
        NoticeKind.METER_TESTED,
        NoticeKind.TERMS,
        NoticeKind.COLLECTED,
        NoticeKind.STATEMENT,
        NoticeKind.CLEARANCE,
        NoticeKind.FEEDBACK,
    ]
    assert telegram_deliveries(desk.session, code) == [(kind, "sent") for kind in kinds]
    # Money and final results go by SMS as well: the fee, the terms, the statement, the clearance.
    sms = [text for text in desk.sms_to(MOBILE) if code in text]
    assert len(sms) == 4 and "۱٬۵۰۰٬۰۰۰" in sms[0] and "۲۵۰٬۰۰۰" in sms[2]


def test_a_removal_declined_at_the_terms_is_archived(removal: Removal, desk: Desk) -> None:
    subscriber, code = removal.subscriber, removal.code
    removal.announce_fee()
    removal.pay_fee_at_the_desk()
    removal.meter_tested_and_terms_announced()

    subscriber.press(f"req:decline:{code}")
    # The fee is paid: the question says that it is not refunded.
    assert said("requests.confirm_decline_no_refund", code=Code(code)) in subscriber.text
    assert f"req:confirm:{code}" in buttons_of(subscriber.replies[-1])
    subscriber.press(f"req:confirm:{code}")
    assert said("requests.archived", code=Code(code)) in subscriber.text
    assert desk.final_notice_to(subscriber)["text"] == notice(NoticeKind.ARCHIVED, code)

    assert request_of(desk.session, code).status == S.ARCHIVED
    assert history_of(desk.session, code)[-2:] == [
        (A.ANNOUNCE_TERMS, S.TERMS_ANNOUNCED, removal.finance.actor),
        (A.DECLINE_TERMS, S.ARCHIVED, SUBSCRIBER),
    ]
    assert payments(desk.session, code) == [
        ("collection_fee", PaymentStatus.PAID, PaymentMethod.BANK, removal.finance.actor)
    ]
    # Nothing more can be done about it, by the subscriber or by staff.
    archived = Msg("status.archived")
    refused = said("refused.wrong_status", status=archived, next=Msg("refused.next_none"))
    assert refused in removal.technician.run(f"/collected {code} 12400")
    assert notice_kinds(desk.session, code)[-2:] == [NoticeKind.ARCHIVED, NoticeKind.FEEDBACK]


def test_a_removal_withdrawn_after_payment_says_nothing_is_refunded(
    removal: Removal, desk: Desk
) -> None:
    subscriber, code = removal.subscriber, removal.code
    removal.announce_fee()
    removal.pay_fee_at_the_desk()

    subscriber.press("menu:my_requests")
    subscriber.press(f"req:show:{code}")
    assert f"req:withdraw:{code}" in subscriber.buttons()
    subscriber.press(f"req:withdraw:{code}")
    assert said("requests.confirm_withdraw_no_refund", code=Code(code)) in subscriber.text
    subscriber.press(f"req:confirm:{code}")
    assert said("requests.withdrawn", code=Code(code)) in subscriber.text
    assert desk.final_notice_to(subscriber)["text"] == notice(NoticeKind.WITHDRAWN, code)

    request = request_of(desk.session, code)
    assert (request.status, request.no_refund_acknowledged) == (S.WITHDRAWN, True)
    assert history_of(desk.session, code)[-1] == (A.WITHDRAW, S.WITHDRAWN, SUBSCRIBER)
    assert payments(desk.session, code)[0][1] == PaymentStatus.PAID  # kept, not refunded
