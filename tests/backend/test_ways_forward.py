"""No request is ever stuck: from every status short of a final one some role has a way forward.

Two properties. The transition tables: every status a walk through them reaches is final or is
left by an action that a staff role may run, the subscriber takes or the system applies, and a
final status is still reachable from it. The actions: whatever numbers staff type along the way,
each action either takes effect or is refused, and the request can still be carried to a final
status (a correction of 100,000,000,000 rials was once accepted, then failed at every /approve).
"""

from collections.abc import Callable

from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlmodel import Session, select

from backend import actions
from backend.actions import MAX_AMOUNT_RIALS, MAX_READING
from backend.constants import (
    FINAL_STATUSES,
    Channel,
    DocumentType,
    EventAction,
    MeterTestResult,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    RejectionReason,
    RequestKind,
    RequestStatus,
    StaffRole,
)
from backend.models import Bill, Payment, ServiceRequest, Staff, utcnow
from backend.service_requests import DraftDocument, file_request
from backend.settings import Settings
from backend.staff import ROLE_COMMANDS, STEP_COMMANDS
from backend.workflows import TRANSITIONS, Refused, allowed_actions
from tests.factories import add_subscription

A, S = EventAction, RequestStatus
SUBSCRIBER_ACTIONS = frozenset({A.WITHDRAW, A.ACCEPT_TERMS, A.DECLINE_TERMS, A.PAY_FEE, A.SETTLE})
SYSTEM_ACTIONS = frozenset({A.ANNOUNCE})  # applied by the same action that led there
STAFF_MAY = frozenset(
    action
    for action, command in STEP_COMMANDS.items()
    if any(command in commands for commands in ROLE_COMMANDS.values())
)


def targets(kind: RequestKind, status: RequestStatus) -> dict[EventAction, RequestStatus]:
    return {t.action: t.target for t in TRANSITIONS if t.kind == kind and status in t.sources}


def can_end(kind: RequestKind, status: RequestStatus) -> bool:
    """Whether a final status can be reached from `status` through the table."""
    seen, todo = set(), [status]
    while todo:
        current = todo.pop()
        if current in FINAL_STATUSES:
            return True
        if current not in seen:
            seen.add(current)
            todo += targets(kind, current).values()
    return False


@examples(max_examples=200, deadline=None, database=None)
@given(kind=st.sampled_from(list(RequestKind)), choices=st.lists(st.integers(0, 10), max_size=30))
def test_the_tables_leave_no_status_without_a_way_forward(
    kind: RequestKind, choices: list[int]
) -> None:
    status = S.SUBMITTED
    for choice in choices:
        if status in FINAL_STATUSES:
            assert not targets(kind, status), (kind, status)  # nothing leaves a final status
            return
        ways = targets(kind, status)
        performed = {a for a in ways if a in STAFF_MAY | SUBSCRIBER_ACTIONS | SYSTEM_ACTIONS}
        assert performed, f"no role can move a {kind} on from {status}"
        assert can_end(kind, status), f"a {kind} in {status} can never be finished"
        status = ways[sorted(ways)[choice % len(ways)]]


# --- The actions, with the numbers staff type drawn at random --------------------------------

EDGES = [0, 1, 999, 1_000, MAX_AMOUNT_RIALS, MAX_AMOUNT_RIALS + 1, 10**11, MAX_READING + 1]
TYPED = st.one_of(st.sampled_from(EDGES + [-n for n in EDGES]), st.integers(-(10**30), 10**30))
Move = Callable[[Session, ServiceRequest, int, Settings], None]


def member(session: Session, role: StaffRole, number: int = 1) -> Staff:
    phone = f"+98936{list(StaffRole).index(role):02d}{number:05d}"
    found = session.exec(select(Staff).where(Staff.phone == phone)).first()
    if found is None:
        found = Staff(full_name=f"{role} {number}", phone=phone, role=role)
        session.add(found)
        session.flush()
    return found


def pay(session: Session, request: ServiceRequest, settings: Settings) -> None:
    query = select(Payment).where(
        Payment.request_id == request.id, Payment.status == PaymentStatus.PENDING
    )
    payment = session.exec(query).first()
    if payment is None:
        raise Refused("nothing_to_pay")
    actions.record_payment(
        session,
        reference=payment.reference,
        method=PaymentMethod.ONLINE,
        provider_ref="IPG-1",
        actor="subscriber:telegram",
        now=utcnow(),
        settings=settings,
    )


def settle(session: Session, request: ServiceRequest, value: int, settings: Settings) -> None:
    """The statement is settled by staff when it asks for nothing, else by paying it."""
    statement = PaymentPurpose.FINAL_STATEMENT
    owed = session.exec(
        select(Payment).where(Payment.request_id == request.id, Payment.purpose == statement)
    ).first()
    if owed is not None:
        pay(session, request, settings)
    else:
        finance = member(session, StaffRole.FINANCE)
        actions.settle(session, request, finance, now=utcnow(), settings=settings)


def staff_move(
    role: StaffRole, act: Callable[..., object], typed: str | None = None, **fixed: object
) -> Move:
    """A staff member of `role` acts; the number drawn goes in as `typed`, if the act takes one."""

    def move(session: Session, request: ServiceRequest, value: int, settings: Settings) -> None:
        given = {typed: value} if typed else {}
        staff = member(session, role)
        act(session, request, staff, now=utcnow(), settings=settings, **given, **fixed)

    return move


def approve(session: Session, request: ServiceRequest, value: int, settings: Settings) -> None:
    supervisor = member(session, StaffRole.SUPERVISOR, 2)  # not the one who decided
    actions.approve(session, request, supervisor, now=utcnow(), settings=settings)


def assign(session: Session, request: ServiceRequest, value: int, settings: Settings) -> None:
    reviewer, admin = member(session, StaffRole.BILLING_REVIEWER), member(session, StaffRole.ADMIN)
    actions.assign(session, request, reviewer, by=admin, now=utcnow(), settings=settings)


def subscriber(act: Callable[..., object], **fixed: object) -> Move:
    def move(session: Session, request: ServiceRequest, value: int, settings: Settings) -> None:
        actor = "subscriber:telegram"
        act(session, request, actor=actor, now=utcnow(), settings=settings, **fixed)

    return move


R = StaffRole
MOVES: dict[EventAction, Move] = {
    A.TAKE: staff_move(R.BILLING_REVIEWER, actions.take),
    A.ASSIGN: assign,
    A.UPHOLD: staff_move(R.SUPERVISOR, actions.uphold, "corrected_amount_rials", note=None),
    A.REJECT: staff_move(
        R.BILLING_REVIEWER,
        actions.reject,
        reason=RejectionReason.READING_CORRECT,
        note="رقم کنتور درست خوانده شده است",
    ),
    A.CORRECT: approve,
    A.CLOSE: staff_move(R.FINANCE, actions.close),
    A.WITHDRAW: subscriber(actions.withdraw, no_refund_acknowledged=True),
    A.ANNOUNCE_FEE: staff_move(R.FINANCE, actions.announce_fee, "amount_rials"),
    A.PAY_FEE: lambda session, request, value, settings: pay(session, request, settings),
    A.TEST_METER: staff_move(
        R.FIELD_TECHNICIAN, actions.record_meter_test, "reading", result=MeterTestResult.OK
    ),
    A.ANNOUNCE_TERMS: staff_move(R.FINANCE, actions.announce_terms, terms="شرایط"),
    A.ACCEPT_TERMS: subscriber(actions.answer_terms, accept=True),
    A.DECLINE_TERMS: subscriber(actions.answer_terms, accept=False),
    A.COLLECT: staff_move(R.FIELD_TECHNICIAN, actions.collect, "final_reading"),
    A.ISSUE_STATEMENT: staff_move(R.FINANCE, actions.issue_statement, "amount_rials"),
    A.SETTLE: settle,
}


def good_value(request: ServiceRequest, action: EventAction) -> int:
    """A number staff would type for the action: a plain amount, or the meter test's reading."""
    if action == A.COLLECT:
        return request.meter_test_reading or 0
    return 1_234_000


def new_request(session: Session, kind: RequestKind) -> ServiceRequest:
    subscription = add_subscription(
        session, file_number=70_000 + len(session.exec(select(Bill)).all())
    )
    bill = session.exec(select(Bill).where(Bill.subscription_id == subscription.id)).first()
    assert bill is not None
    id_card = DraftDocument("k", "0" * 64, 1, "image/jpeg", "id.jpg", DocumentType.ID_CARD)
    removal = kind == RequestKind.CONNECTION_REMOVAL
    assert subscription.id is not None
    request = file_request(
        session,
        kind=kind,
        channel=Channel.TELEGRAM,
        channel_user_id="1",
        subscription_id=subscription.id,
        disputed_bill_id=None if removal else bill.id,
        reason="other",
        description="—",
        documents=[id_card] if removal else [],
        now=utcnow(),
        deadline=utcnow(),
    )
    session.commit()
    return request


def attempt(
    session: Session, request: ServiceRequest, action: EventAction, value: int, settings: Settings
) -> bool:
    """The move, undone if it is refused (as a staff command's savepoint does); True if it took."""
    try:
        with session.begin_nested():
            MOVES[action](session, request, value, settings)
    except Refused:
        session.refresh(request)
        return False
    return True


@examples(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_whatever_is_typed_a_request_can_always_be_finished(
    session: Session, settings: Settings, data: st.DataObject
) -> None:
    settings = settings.model_copy(update={"two_person_limit_rials": 100_000})
    request = new_request(session, data.draw(st.sampled_from(list(RequestKind))))
    # Staff and the subscriber act at random, with any numbers typed…
    for _ in range(data.draw(st.integers(0, 12))):
        if request.status in FINAL_STATUSES:
            break
        ways = sorted(a for a in allowed_actions(request) if a in MOVES)
        action = data.draw(st.sampled_from(ways))
        attempt(session, request, action, data.draw(TYPED), settings)
    # …and from wherever that left it, plain inputs carry it to a final status.
    for _ in range(20):
        if request.status in FINAL_STATUSES:
            break
        ways = sorted(a for a in allowed_actions(request) if a in MOVES and a != A.WITHDRAW)
        assert ways, f"nobody can move a {request.kind} on from {request.status}"
        assert any(attempt(session, request, a, good_value(request, a), settings) for a in ways)
    session.commit()
    assert request.status in FINAL_STATUSES
