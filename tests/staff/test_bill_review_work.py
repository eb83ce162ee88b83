"""Staff working bill reviews in the chat: take, decide, the two-person rule, refusals, privacy."""

from sqlmodel import Session, col, select

from backend.constants import EventAction, NoticeKind, RequestStatus, StaffRole
from backend.models import Bill, Customer, Notice, RequestEvent, Staff, Subscription
from backend.settings import Settings
from dialogs.staff import CONFIRM_SEND, REASON_PREFIX, REJECTED, UPHELD
from tests.helpers.chat import ChatUser
from tests.helpers.filing import history_of, latest_bill, request_of
from tests.helpers.samples import METER_PHOTO as JPEG
from tests.helpers.staff import Hire
from tests.staff.conftest import file_removal, file_review

A = EventAction
SUBSCRIBER = "subscriber:telegram"


def notice_kinds(session: Session, code: str) -> list[str]:
    request = request_of(session, code)
    query = select(Notice.kind).where(Notice.request_id == request.id).order_by(col(Notice.id))
    return list(session.exec(query))


def test_upheld_with_a_corrected_bill_then_closed(
    subscriber: ChatUser, hire: Hire, session: Session, subscription: Subscription
) -> None:
    bill = latest_bill(session, subscription)  # 585,000 rials
    code = file_review(subscriber, subscription, bill)
    reviewer = hire(StaffRole.BILLING_REVIEWER)

    assert reviewer.run(f"/take {code}") == ["staff.taken"]
    reviewer.say(f"/decide {code}")
    assert reviewer.last.key == "staff.decide.prompt"
    reviewer.press(UPHELD)
    assert reviewer.last.key == "staff.decide.ask_amount"
    assert "۵۸۵٬۰۰۰" in reviewer.text()
    reviewer.say("۵۲۰٬۰۰۰")  # a change below the two-person limit takes effect at once…
    assert reviewer.last.key == "staff.confirm.prompt"  # …once what is sent is confirmed
    assert "۵۲۰٬۰۰۰" in reviewer.text() and CONFIRM_SEND in reviewer.buttons
    reviewer.press(CONFIRM_SEND)
    assert reviewer.keys[0] == "staff.corrected"

    request = request_of(session, code)
    assert request.status == RequestStatus.RESULT_ANNOUNCED
    corrected = session.get(Bill, request.corrected_bill_id)
    assert corrected is not None
    assert (corrected.amount_rials, corrected.corrects_bill_id) == (520_000, bill.id)

    assert reviewer.run(f"/close {code}") == ["staff.closed"]
    assert request_of(session, code).status == RequestStatus.CLOSED
    assert history_of(session, code) == [
        (A.SUBMITTED, RequestStatus.SUBMITTED, SUBSCRIBER),
        (A.TAKE, RequestStatus.UNDER_REVIEW, reviewer.actor),
        (A.UPHOLD, RequestStatus.UPHELD, reviewer.actor),
        (A.CORRECT, RequestStatus.BILL_CORRECTED, reviewer.actor),
        (A.ANNOUNCE, RequestStatus.RESULT_ANNOUNCED, "system"),
        (A.CLOSE, RequestStatus.CLOSED, reviewer.actor),
    ]
    assert notice_kinds(session, code) == [
        NoticeKind.RECEIPT,
        NoticeKind.UNDER_REVIEW,
        NoticeKind.RESULT_CORRECTED,
        NoticeKind.CLOSED,
        NoticeKind.FEEDBACK,  # how it went, asked once it is closed
    ]


def test_rejected_with_a_reason_and_an_explanation(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say(f"/take {review}")
    reviewer.say(f"/decide {review}")
    reviewer.press(REJECTED)
    assert f"{REASON_PREFIX}reading_correct" in reviewer.buttons
    reviewer.press(f"{REASON_PREFIX}reading_correct")
    assert reviewer.last.key == "staff.decide.ask_note"
    reviewer.say("  ")
    assert reviewer.keys[0] == "refused.empty_text"  # asked again
    reviewer.say("عکس کنتور رقم ۱۰٬۵۲۰ را نشان می‌دهد که با قبض یکی است.")
    assert reviewer.last.key == "staff.confirm.prompt"
    reviewer.press(CONFIRM_SEND)
    assert reviewer.keys[0] == "staff.rejected"

    request = request_of(session, review)
    assert request.status == RequestStatus.RESULT_ANNOUNCED
    assert request.decision_reason == "reading_correct"
    assert request.corrected_bill_id is None
    notice = session.exec(select(Notice).where(Notice.kind == NoticeKind.RESULT_REJECTED)).one()
    assert notice.params["explanation"].startswith("عکس کنتور")
    assert notice.params["rejection"] == "reading_correct"  # said in words: staff.rejection.*
    reviewer.say(f"/close {review}")
    assert request_of(session, review).status == RequestStatus.CLOSED


def test_decide_with_arguments(review: str, hire: Hire, session: Session) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say(f"/take {review}")
    assert reviewer.run(f"/decide {review} rejected no_such_reason توضیح") == ["staff.usage"]
    typed = f"/decide {review} rejected meter_sound کنتور در آزمایش سالم بود."
    assert reviewer.confirmed(typed)[0] == "staff.rejected"
    assert request_of(session, review).decision_note == "کنتور در آزمایش سالم بود."


def test_a_correction_above_the_limit_waits_for_another_supervisor(
    review: str, hire: Hire, session: Session
) -> None:
    first = hire(StaffRole.SUPERVISOR, "سرپرست اول")
    second = hire(StaffRole.SUPERVISOR, "سرپرست دوم")
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    first.say(f"/take {review}")
    # 285,000 rials less than the bill: above the limit.
    assert first.confirmed(f"/decide {review} upheld 300,000")[0] == "staff.awaiting_approval"
    request = request_of(session, review)
    assert (request.status, request.corrected_bill_id) == (RequestStatus.UPHELD, None)
    assert request.proposed_amount_rials == 300_000

    assert first.run(f"/approve {review}") == ["refused.same_person"]
    assert reviewer.run(f"/approve {review}") == ["staff.not_your_role", "menu.prompt"]
    assert request_of(session, review).status == RequestStatus.UPHELD

    assert second.run(f"/approve {review}") == ["staff.approved"]
    request = request_of(session, review)
    assert request.status == RequestStatus.RESULT_ANNOUNCED
    corrected = session.get(Bill, request.corrected_bill_id)
    assert corrected is not None and corrected.amount_rials == 300_000
    assert history_of(session, review)[-2:] == [
        (A.CORRECT, RequestStatus.BILL_CORRECTED, second.actor),
        (A.ANNOUNCE, RequestStatus.RESULT_ANNOUNCED, "system"),
    ]


def test_out_of_order_commands_are_refused_and_change_nothing(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    other = hire(StaffRole.BILLING_REVIEWER)
    supervisor = hire(StaffRole.SUPERVISOR)

    assert reviewer.run(f"/close {review}") == ["refused.wrong_status"]
    assert "ثبت" in reviewer.text()  # the status it is in, by name
    assert supervisor.run(f"/settle {review}") == ["refused.wrong_kind"]
    reviewer.say(f"/take {review}")
    before = (history_of(session, review), notice_kinds(session, review))
    # take() sets the assignee before its transition is refused: the savepoint undoes it.
    assert other.run(f"/take {review}") == ["refused.wrong_status"]
    assert request_of(session, review).assignee_id == reviewer.staff_id
    assert (history_of(session, review), notice_kinds(session, review)) == before

    reviewer.confirmed(f"/decide {review} rejected other دلیلی بر خطا ندارد")
    reviewer.say(f"/close {review}")
    before = history_of(session, review)
    assert reviewer.run(f"/decide {review}") == ["refused.wrong_status"]
    assert reviewer.run(f"/note {review} {'ا' * 2001}") == ["refused.text_too_long"]
    assert history_of(session, review) == before


def test_not_staff_is_an_unknown_command(
    review: str, subscriber: ChatUser, hire: Hire, session: Session
) -> None:
    subscriber.say("/nosuchcommand")
    unknown = (subscriber.keys, subscriber.text())
    unbound = hire(StaffRole.SUPERVISOR, bind=False)

    for user, command in [
        (subscriber, "/queue"),
        (subscriber, f"/show {review}"),
        (subscriber, f"/take {review}"),
        (unbound, f"/take {review}"),
    ]:
        user.say(command)
        assert (user.keys, user.text()) == unknown, command
    assert history_of(session, review) == [(A.SUBMITTED, RequestStatus.SUBMITTED, SUBSCRIBER)]


def test_staff_are_told_where_a_command_belongs(review: str, hire: Hire, session: Session) -> None:
    """A staff member's unknown command points to /staffhelp; another role's names the roles."""
    technician = hire(StaffRole.FIELD_TECHNICIAN)
    assert technician.run("/nosuchcommand") == ["staff.unknown_command", "menu.prompt"]
    assert "/staffhelp" in technician.text()
    technician.run("/fee 1234567890 1000")  # finance's and supervisors': both named, as said
    assert "کارشناس مالی و سرپرست" in technician.text()
    assert technician.run(f"/decide {review} upheld 100000") == [
        "staff.not_your_role",
        "menu.prompt",
    ]
    assert "کارشناس رسیدگی به صورت‌حساب" in technician.text() and "سرپرست" in technician.text()
    technician.say(f"/approve {review}")
    assert technician.keys[0] == "staff.not_your_role" and "سرپرست" in technician.text()
    assert history_of(session, review) == [(A.SUBMITTED, RequestStatus.SUBMITTED, SUBSCRIBER)]


def test_a_review_nobody_took_is_taken_by_whoever_decides_it(
    review: str, hire: Hire, session: Session
) -> None:
    """As /fee needs no /take, neither does /decide: the decider takes the review on the way."""
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    assert reviewer.run(f"/close {review}") == ["refused.wrong_status"]
    assert f"/decide {review}" in reviewer.text()  # the refusal says what fits now
    reviewer.say(f"/decide {review}")
    assert reviewer.last.key == "staff.decide.prompt"
    assert reviewer.confirmed(f"/decide {review} upheld 520000")[0] == "staff.corrected"
    request = request_of(session, review)
    assert request.assignee_id == reviewer.staff_id
    assert [action for action, _, _ in history_of(session, review)][:3] == [
        A.SUBMITTED,
        A.TAKE,
        A.UPHOLD,
    ]


def test_a_deactivated_member_is_no_longer_staff(hire: Hire, session: Session) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say("/queue")
    assert reviewer.heads == ["staff.queue.head"]
    staff = session.get(Staff, reviewer.staff_id)
    assert staff is not None
    staff.active = False
    session.commit()
    assert reviewer.run("/queue") == ["input.unknown_command", "menu.prompt"]


def test_show_sends_the_documents_as_files(review: str, hire: Hire, session: Session) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say(f"/show {review}")
    assert reviewer.heads == ["staff.show.head", "staff.history.head", "staff.show.documents"]
    assert reviewer.answer is not None
    files = reviewer.answer.replies[-1].files
    assert [(f.name, f.content_type) for f in files] == [("meter.jpg", "image/jpeg")]
    assert reviewer.engine.storage.read(files[0].storage_key) == JPEG
    text = reviewer.text()
    assert review in text and "قرائت اشتباه کنتور" in text and "ثبت درخواست — مشترک" in text
    assert "/take" not in text and "/decide" in text  # what this role can do next


def test_each_role_sees_only_the_personal_data_it_needs(
    review: str, hire: Hire, session: Session, subscription: Subscription
) -> None:
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    customer.national_id = "0499370899"
    session.commit()
    seen = {}
    for role in StaffRole:
        member = hire(role)
        member.say(f"/show {review}")
        seen[role] = member.text()

    mobile, address = "09121234567", "کوچه ۱۲"  # the mobile as Iranians write it
    assert "0499370899" in seen[StaffRole.SUPERVISOR] and "0499370899" in seen[StaffRole.ADMIN]
    for role in (StaffRole.BILLING_REVIEWER, StaffRole.FIELD_TECHNICIAN, StaffRole.FINANCE):
        assert "0499370899" not in seen[role] and "******0899" in seen[role]
    assert (
        mobile in seen[StaffRole.FIELD_TECHNICIAN] and address in seen[StaffRole.FIELD_TECHNICIAN]
    )
    assert "۵۸۵٬۰۰۰" not in seen[StaffRole.FIELD_TECHNICIAN]
    for role in (StaffRole.BILLING_REVIEWER, StaffRole.FINANCE):
        assert mobile not in seen[role] and address not in seen[role]
        assert "۵۸۵٬۰۰۰" in seen[role]  # the disputed bill's amount


def test_assign_offers_the_staff_who_can_take_the_next_step(
    review: str, hire: Hire, session: Session
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR, "سرپرست")
    reviewer = hire(StaffRole.BILLING_REVIEWER, "کارشناس صورت‌حساب")
    hire(StaffRole.FIELD_TECHNICIAN, "مأمور")
    supervisor.say(f"/assign {review}")
    assert supervisor.last.key == "staff.assign.prompt"
    offered = {b for b in supervisor.buttons if b.startswith("staff_assign:")}
    assert offered == {f"staff_assign:{reviewer.staff_id}", f"staff_assign:{supervisor.staff_id}"}
    supervisor.press(f"staff_assign:{reviewer.staff_id}")
    assert supervisor.keys[0] == "staff.assigned"
    request = request_of(session, review)
    assert (request.status, request.assignee_id) == (RequestStatus.UNDER_REVIEW, reviewer.staff_id)
    assign = session.exec(select(RequestEvent).where(RequestEvent.action == A.ASSIGN)).one()
    assert assign.actor == supervisor.actor

    supervisor.say(f"/show {review}")
    assert "به کارشناس صورت‌حساب" in supervisor.text()  # the history names the assignee


def test_assign_offers_a_request_waiting_on_the_subscriber_to_those_who_work_its_kind(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code = file_removal(session, subscription, settings)
    request = request_of(session, code)
    request.status = RequestStatus.TERMS_ANNOUNCED  # the subscriber's turn: no staff step
    session.add(request)
    session.commit()
    supervisor = hire(StaffRole.SUPERVISOR)
    works = {hire(role).staff_id for role in (StaffRole.FINANCE, StaffRole.FIELD_TECHNICIAN)}
    for role in StaffRole:
        if role not in (StaffRole.SUPERVISOR, StaffRole.FINANCE, StaffRole.FIELD_TECHNICIAN):
            hire(role)  # an admin, a reviewer, counters' operators, heads and inspectors
    supervisor.say(f"/assign {code}")
    offered = {b for b in supervisor.buttons if b.startswith("staff_assign:")}
    assert offered == {f"staff_assign:{id_}" for id_ in works | {supervisor.staff_id}}
