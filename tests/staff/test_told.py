"""Staff are told: a request given to them, one reaching their role's queue, a step past its
deadline (its holder once, then the supervisors once), with buttons to act in one or two taps."""

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.actions import pending_payment_of, record_payment, subscriber_actor
from backend.constants import Channel, NoticeKind, PaymentMethod, StaffRole
from backend.db import session_scope
from backend.models import Notice, NoticeDelivery, Staff, StaffAlert, Subscription, utcnow
from backend.settings import Settings
from backend.staff import deactivate, staff_by_phone
from backend.staff_notices import overdue_round
from backend.workdays import add_working_days
from bot.clock import tell_overdue
from channels.staff_buttons import staff_buttons
from dialogs.staff import UPHELD
from notifications.runtime import Notifier
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, request_of
from tests.helpers.staff import Hire
from tests.staff.conftest import file_removal, file_review


def staff_notices(session: Session, kind: NoticeKind | None = None) -> list[Notice]:
    session.expire_all()
    query = select(Notice).where(col(Notice.kind).startswith("staff_"))
    query = query.where(col(Notice.kind) != NoticeKind.STAFF_BOUND)
    if kind is not None:
        query = query.where(Notice.kind == kind)
    return list(session.exec(query.order_by(col(Notice.id))))


def told(session: Session, kind: NoticeKind) -> list[int]:
    """The staff ids a kind of staff notice was queued for, in order."""
    return [notice.params["staff_id"] for notice in staff_notices(session, kind)]


def test_the_assignee_is_told_with_buttons_that_act_in_one_or_two_taps(
    review: str,
    hire: Hire,
    session: Session,
    engine: sa.Engine,
    telegram_settings: Settings,
    fake_api: FakeBotAPI,
) -> None:
    admin = hire(StaffRole.ADMIN, "مدیر")
    reviewer = hire(StaffRole.BILLING_REVIEWER, "مینا رضایی")
    admin.say(f"/assign {review}")
    admin.press(f"staff_assign:{reviewer.staff_id}")
    assert admin.keys[0] == "staff.assigned"

    (notice,) = staff_notices(session, NoticeKind.STAFF_ASSIGNED)
    request = request_of(session, review)
    assert notice.params["staff_id"] == reviewer.staff_id and notice.request_id is None
    assert (notice.params["code"], notice.params["by"]) == (review, "مدیر")
    assert notice.params["due"] == request.step_deadline.isoformat()  # type: ignore[union-attr]

    # Delivered to the reviewer's bound Telegram account, as the real bot sends it.
    Notifier(telegram_settings, engine).run_pending()
    sent = fake_api.sent_messages(TELEGRAM_TOKEN, int(reviewer.user_id))
    (message,) = [m for m in sent if review in m["text"]]
    assert "به شما ارجاع شد" in message["text"] and "مدیر" in message["text"]
    assert f"<code>{review}</code>" in message["text"] and "مهلت:" in message["text"]
    values = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert values == [f"staff_do:show:{request.id}", f"staff_do:decide:{request.id}"]
    delivery = session.exec(
        select(NoticeDelivery).where(NoticeDelivery.notice_id == notice.id)
    ).one()
    assert (delivery.channel, delivery.address) == (Channel.TELEGRAM, reviewer.user_id)

    # One tap shows the file; one more after «decide» is the decision's first choice.
    reviewer.press(f"staff_do:show:{request.id}")
    assert reviewer.heads == ["staff.show.head", "staff.history.head", "staff.show.documents"]
    reviewer.press(f"staff_do:decide:{request.id}")
    assert reviewer.keys == ["staff.decide.prompt"]
    reviewer.press(UPHELD)
    assert reviewer.keys == ["staff.decide.ask_amount"]

    # The buttons re-check the role: another role's tap is refused, naming the roles.
    finance = hire(StaffRole.FINANCE)
    finance.press(f"staff_do:decide:{request.id}")
    assert finance.keys[0] == "staff.not_your_role"
    finance.press("staff_do:fee:1")  # not a one-tap command
    assert finance.keys[0] == "input.button_expired"


def test_taking_a_request_oneself_tells_nobody(review: str, hire: Hire, session: Session) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    assert reviewer.run(f"/take {review}") == ["staff.taken"]
    assert told(session, NoticeKind.STAFF_ASSIGNED) == []


def test_a_new_filing_reaches_its_roles_members_only(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    first = hire(StaffRole.BILLING_REVIEWER)
    second = hire(StaffRole.BILLING_REVIEWER)
    technician = hire(StaffRole.FIELD_TECHNICIAN)
    finance = hire(StaffRole.FINANCE)
    hire(StaffRole.ADMIN)
    hire(StaffRole.SUPERVISOR)

    code = file_removal(session, subscription, settings)
    assert told(session, NoticeKind.STAFF_QUEUE) == [finance.staff_id]  # the fee is theirs

    # The fee paid, the meter test is the technicians': the one who holds it, if anyone does.
    assert finance.confirmed(f"/fee {code} 1500000")[0] == "staff.fee_announced"
    pending = pending_payment_of(session, request_of(session, code))
    assert pending is not None
    record_payment(
        session,
        reference=pending.reference,
        method=PaymentMethod.ONLINE,
        provider_ref="IPG-1",
        actor=subscriber_actor("telegram"),
        now=utcnow(),
        settings=settings,
    )
    session.commit()
    assert told(session, NoticeKind.STAFF_QUEUE) == [finance.staff_id, technician.staff_id]
    (notice,) = staff_notices(session, NoticeKind.STAFF_QUEUE)[1:]
    assert notice.params["step"] == "fee_paid"
    # The technician's buttons: the file and taking it (the meter test's reading is typed).
    buttons = staff_buttons(session, notice.params)
    values = [b.value for row in buttons for b in row]
    assert values == [f"staff_do:show:{request_of(session, code).id}", values[1]]
    assert values[1].startswith("staff_do:take:")

    # Held by the technician, the next handover to the technicians is told to them alone.
    assert technician.run(f"/take {code}") == ["staff.taken"]
    assert technician.run(f"/metertest {code} سالم 12345") == ["staff.meter_tested"]
    assert told(session, NoticeKind.STAFF_QUEUE)[2:] == [finance.staff_id]  # the terms: finance
    assert first.staff_id not in told(session, NoticeKind.STAFF_QUEUE)
    assert second.staff_id not in told(session, NoticeKind.STAFF_QUEUE)


def test_a_review_filed_in_the_chat_tells_the_reviewers(
    subscriber: ChatUser, hire: Hire, session: Session, subscription: Subscription
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    in_english = hire(StaffRole.BILLING_REVIEWER)
    in_english.say("/language")
    in_english.press("lang:en")
    hire(StaffRole.FINANCE)
    code = file_review(subscriber, subscription, latest_bill(session, subscription))
    notices = staff_notices(session)
    assert [(n.kind, n.params["staff_id"]) for n in notices] == [
        (NoticeKind.STAFF_QUEUE, reviewer.staff_id),
        (NoticeKind.STAFF_QUEUE, in_english.staff_id),
    ]
    assert all((n.params["code"], n.params["step"]) == (code, "submitted") for n in notices)
    assert [n.locale for n in notices] == ["fa", "en"]  # each in their own chat's language


def test_a_filing_reads_only_the_staff_it_tells(
    subscriber: ChatUser, hire: Hire, session: Session, subscription: Subscription
) -> None:
    """Not every active member: a province's counters bring thousands of operators."""
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    for role in (StaffRole.FINANCE, StaffRole.FIELD_TECHNICIAN, StaffRole.HQ_INSPECTOR):
        hire(role)
    loaded: list[int] = []

    def on_load(member: Staff, _: object) -> None:
        loaded.append(member.id or 0)

    sa.event.listen(Staff, "load", on_load)
    try:
        file_review(subscriber, subscription, latest_bill(session, subscription))
    finally:
        sa.event.remove(Staff, "load", on_load)
    assert set(loaded) == {reviewer.staff_id}
    assert told(session, NoticeKind.STAFF_QUEUE) == [reviewer.staff_id]


def test_a_late_step_tells_its_holder_once_then_the_supervisors_once(
    review: str, hire: Hire, session: Session, engine: sa.Engine
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER, "مینا رضایی")
    supervisor = hire(StaffRole.SUPERVISOR, "سرپرست")
    other_supervisor = hire(StaffRole.SUPERVISOR)
    hire(StaffRole.ADMIN)
    assert reviewer.run(f"/take {review}") == ["staff.taken"]
    deadline = request_of(session, review).step_deadline
    assert deadline is not None

    def round_at(moment: object) -> int:
        with session_scope(engine) as clock:
            return overdue_round(clock, now=moment)  # type: ignore[arg-type]

    assert round_at(deadline - timedelta(minutes=1)) == 0  # not late yet
    assert round_at(deadline + timedelta(minutes=1)) == 1
    assert told(session, NoticeKind.STAFF_OVERDUE) == [reviewer.staff_id]
    assert round_at(deadline + timedelta(hours=2)) == 0  # once; supervisors not yet
    assert told(session, NoticeKind.STAFF_ESCALATED) == []

    a_working_day_later = add_working_days(deadline, 1)
    assert round_at(a_working_day_later - timedelta(minutes=1)) == 0
    assert round_at(a_working_day_later) == 2
    assert told(session, NoticeKind.STAFF_ESCALATED) == [
        supervisor.staff_id,
        other_supervisor.staff_id,
    ]
    (escalated, _) = staff_notices(session, NoticeKind.STAFF_ESCALATED)
    assert escalated.params["holder"] == "مینا رضایی"
    assert round_at(a_working_day_later + timedelta(days=5)) == 0
    assert len(session.exec(select(StaffAlert)).all()) == 2


def test_a_late_step_nobody_holds_goes_to_the_supervisors_at_once(
    review: str, hire: Hire, session: Session, engine: sa.Engine
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    deadline = request_of(session, review).step_deadline
    assert deadline is not None
    with session_scope(engine) as clock:
        assert overdue_round(clock, now=deadline + timedelta(minutes=1)) == 1
    assert told(session, NoticeKind.STAFF_ESCALATED) == [supervisor.staff_id]
    assert told(session, NoticeKind.STAFF_OVERDUE) == []
    assert staff_notices(session, NoticeKind.STAFF_ESCALATED)[0].params["holder"] == ""


def test_the_clock_round_run_twice_sends_once(
    review: str,
    hire: Hire,
    session: Session,
    engine: sa.Engine,
    telegram_settings: Settings,
    fake_api: FakeBotAPI,
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    deadline = request_of(session, review).step_deadline
    assert deadline is not None
    late = deadline + timedelta(minutes=5)
    # Two clocks (a restart, or two processes): the second finds nothing left to tell.
    for _ in range(2):
        clock = Notifier(telegram_settings, engine, clock=lambda: late)
        tell_overdue(clock)
        clock.run_pending()
    sent = [
        m
        for m in fake_api.sent_messages(TELEGRAM_TOKEN, int(supervisor.user_id))
        if review in m["text"]
    ]
    assert len(sent) == 1
    assert "مهلت درخواست" in sent[0]["text"] and "به کسی ارجاع نشده" in sent[0]["text"]


def test_a_correction_over_the_limit_reaches_the_supervisors_with_its_approval(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    supervisor = hire(StaffRole.SUPERVISOR)
    hire(StaffRole.ADMIN)
    assert reviewer.confirmed(f"/decide {review} upheld 300,000")[0] == "staff.awaiting_approval"
    (notice,) = staff_notices(session, NoticeKind.STAFF_QUEUE)
    assert notice.params["staff_id"] == supervisor.staff_id  # only they approve
    request_id = request_of(session, review).id
    values = [b.value for row in staff_buttons(session, notice.params) for b in row]
    assert f"staff_do:approve:{request_id}" in values
    supervisor.press(f"staff_do:approve:{request_id}")
    assert supervisor.keys[0] == "staff.approved"


def test_a_late_step_of_a_deactivated_holder_goes_to_the_supervisors_at_once(
    review: str, hire: Hire, session: Session, engine: sa.Engine
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    supervisor = hire(StaffRole.SUPERVISOR)
    assert reviewer.run(f"/take {review}") == ["staff.taken"]
    with session_scope(engine) as admin:
        assert deactivate(admin, staff_by_phone(admin, reviewer.phone)) == 1  # still theirs
    deadline = request_of(session, review).step_deadline
    assert deadline is not None
    for _ in range(2):
        with session_scope(engine) as clock:
            overdue_round(clock, now=deadline + timedelta(minutes=1))
    assert told(session, NoticeKind.STAFF_OVERDUE) == []
    assert told(session, NoticeKind.STAFF_ESCALATED) == [supervisor.staff_id]
