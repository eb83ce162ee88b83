"""A service defined as data in the staff's /queue filter, as the built ones are, and its staff
told when a request reaches their step: the role its definition names, or the holder."""

from sqlmodel import Session, col, select

from backend.constants import NoticeKind, StaffRole
from backend.models import Notice, ServiceRequest, Staff, Subscription, utcnow
from backend.services.engine import act
from backend.settings import Settings
from dialogs.staff.steps import QUEUE_PREFIX, QUEUE_SHOW
from tests.helpers.services import filed_directly
from tests.helpers.staff import Hire, StaffChat

R = StaffRole


ANSWERS = {
    "meter_test": {"description": "کنتور تند می‌چرخد"},
    "mobile_change": {"national_id": "0499370899", "new_mobile": "+989361238866"},
}


def _filed(
    session: Session, settings: Settings, subscription: Subscription, service: str
) -> ServiceRequest:
    return filed_directly(session, settings, subscription, service, ANSWERS[service])


def _acted(
    session: Session,
    settings: Settings,
    request: ServiceRequest,
    chat: StaffChat,
    code: str,
    value: int | str | None = None,
) -> None:
    staff = session.get(Staff, chat.staff_id)
    act(session, request, code, staff=staff, value=value, now=utcnow(), settings=settings)
    session.commit()


def _shown(chat: StaffChat) -> list[int]:
    return [int(v.removeprefix(QUEUE_SHOW)) for v in chat.buttons if v.startswith(QUEUE_SHOW)]


def _told(session: Session) -> list[tuple[int, str]]:
    """Whom the staff queue notices went to, and the step each named, in order."""
    session.expire_all()
    notices = session.exec(
        select(Notice).where(Notice.kind == NoticeKind.STAFF_QUEUE).order_by(col(Notice.id))
    ).all()
    return [(notice.params["staff_id"], notice.params["step"]) for notice in notices]


def test_the_queue_is_filtered_by_a_data_service(
    session: Session, settings: Settings, subscription: Subscription, hire: Hire
) -> None:
    request = _filed(session, settings, subscription, "meter_test")
    supervisor = hire(R.SUPERVISOR)
    supervisor.say("/queue")
    assert f"{QUEUE_PREFIX}k:meter_test" in supervisor.buttons
    assert f"{QUEUE_PREFIX}k:bill_review" in supervisor.buttons
    supervisor.press(f"{QUEUE_PREFIX}k:meter_test")
    assert _shown(supervisor) == [request.id]
    assert "درخواست آزمایش کنتور" in supervisor.text().splitlines()[0]  # the head names it
    supervisor.press(f"{QUEUE_PREFIX}k:change_of_name")
    assert _shown(supervisor) == []
    supervisor.press(f"{QUEUE_PREFIX}k:no_such_service")
    assert supervisor.keys[0] == "input.button_expired"


def test_the_staff_of_a_data_service_s_step_are_told(
    session: Session, settings: Settings, subscription: Subscription, hire: Hire
) -> None:
    finance, technician = hire(R.FINANCE), hire(R.FIELD_TECHNICIAN)
    reviewer, supervisor = hire(R.BILLING_REVIEWER), hire(R.SUPERVISOR)
    request = _filed(session, settings, subscription, "meter_test")
    assert _told(session) == [(finance.staff_id, "submitted")]  # the fee is finance's

    def acted(chat: StaffChat, code: str, value: int | str | None = None) -> None:
        _acted(session, settings, request, chat, code, value)

    acted(finance, "set_fee", 250_000)  # now the subscriber's: nobody is told
    assert len(_told(session)) == 1
    # Paid: the test is the technicians', not finance's, who holds the request and paid it in.
    acted(finance, "receive_fee")
    assert _told(session)[1:] == [(technician.staff_id, "service_fee_paid")]
    acted(technician, "meter_faulty", "12345")
    assert _told(session)[2:] == [(reviewer.staff_id, "meter_faulty")]
    assert supervisor.staff_id not in [staff_id for staff_id, _ in _told(session)]
    acted(reviewer, "correct_bills", 1_200_000)  # closed: nothing more to do
    assert len(_told(session)) == 3


def test_the_holder_who_may_do_the_step_alone_is_told(
    session: Session, settings: Settings, subscription: Subscription, hire: Hire
) -> None:
    first, second, third = (
        hire(R.BILLING_REVIEWER),
        hire(R.BILLING_REVIEWER),
        hire(R.BILLING_REVIEWER),
    )
    request = _filed(session, settings, subscription, "mobile_change")
    assert _told(session) == [(s.staff_id, "submitted") for s in (first, second, third)]
    _acted(session, settings, request, first, "ask_counter")  # the first holds it from now
    _acted(session, settings, request, second, "confirm_identity", "پیشخوان ۱۴۰۱۰")
    assert _told(session)[3:] == [(first.staff_id, "identity_confirmed")]
