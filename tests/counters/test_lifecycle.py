"""A counter's lifecycle: every transition writes its event and deadline; every refusal says why
and changes nothing."""

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, select

from backend.constants import (
    CounterAction,
    CounterDocumentType,
    CounterReason,
    CounterStatus,
    StaffRole,
)
from backend.counter_workflow import (
    TRANSITIONS,
    VETTING_WORKING_DAYS,
    CounterTransition,
    Paper,
    allowed_actions,
    apply,
)
from backend.counters import CounterError, check_details, introduce_counter
from backend.models import Counter, CounterDocument, CounterEvent
from backend.storage import LocalFileStorage
from backend.workdays import add_working_days
from backend.workflows import Refused
from tests.counters.conftest import (
    ADMIN,
    AGREEMENT,
    LETTER,
    NOW,
    SIGNED_ON,
    AddStaff,
    CounterAt,
    take_step,
)

A, S = CounterAction, CounterStatus
LATER = NOW + timedelta(days=3)
ONBOARDING_STATUSES = {
    S.INTRODUCED,
    S.APPROVED,
    S.PREREQUISITES_ANNOUNCED,
    S.AGREEMENT_SIGNED,
    S.SOFTWARE_INSTALLED,
    S.OPERATOR_TRAINED,
    S.ACTIVE,
}


def events(session: Session, counter: Counter) -> list[CounterEvent]:
    query = select(CounterEvent).where(CounterEvent.counter_id == counter.id)
    return list(session.exec(query.order_by(col(CounterEvent.id))))


def documents(session: Session, counter: Counter) -> list[CounterDocument]:
    query = select(CounterDocument).where(CounterDocument.counter_id == counter.id)
    return list(session.exec(query.order_by(col(CounterDocument.id))))


def at(counter_at: CounterAt, session: Session, status: CounterStatus) -> Counter:
    """A counter in `status`: onboarded to it, or to active and then suspended."""
    if status in ONBOARDING_STATUSES:
        return counter_at(status)
    assert status == S.SUSPENDED
    counter = counter_at(S.ACTIVE)
    apply(session, counter, A.SUSPEND, actor=ADMIN, now=NOW, reason=CounterReason.POOR_INSPECTION)
    session.commit()
    return counter


def test_an_introduced_counter_has_its_letter_and_the_vetting_deadline(
    session: Session, counter_at: CounterAt
) -> None:
    counter = counter_at(S.INTRODUCED, operator=False, services=())
    assert (counter.code, counter.phone, counter.status) == ("14010", "04133445566", S.INTRODUCED)
    assert counter.step_deadline == add_working_days(NOW, VETTING_WORKING_DAYS)
    [letter] = documents(session, counter)
    assert (letter.doc_type, letter.content_type) == (
        CounterDocumentType.INTRODUCTION_LETTER,
        "application/pdf",
    )
    assert letter.original_name == "معرفی‌نامه.pdf"
    [event] = events(session, counter)
    assert (event.action, event.actor, event.from_status, event.to_status, event.created_at) == (
        A.INTRODUCE,
        ADMIN,
        None,
        S.INTRODUCED,
        NOW,
    )
    assert allowed_actions(counter) == [A.APPROVE, A.REJECT]


@pytest.mark.parametrize(
    ("letter", "code"),
    [(None, "counter_document_required"), (Paper(b"GIF89a", "x.gif"), "counter_bad_document")],
)
def test_a_counter_is_introduced_only_with_a_scanned_letter(
    session: Session, storage: LocalFileStorage, letter: Paper | None, code: str
) -> None:
    details = check_details(
        code="۱۲۳۴۵",
        name="دفتر پیشخوان",
        city="مراغه",
        area="مراغه",
        address="خیابان امام",
        phone="04137223344",
        manager_name="مریم احمدی",
    )
    with pytest.raises(Refused) as refused:
        introduce_counter(session, details, letter, storage=storage, actor=ADMIN, now=NOW)
    assert refused.value.code == code
    session.rollback()
    assert session.exec(select(Counter)).all() == []


def test_an_office_code_is_one_counter_only(
    session: Session, counter_at: CounterAt, storage: LocalFileStorage
) -> None:
    counter = counter_at()
    details = check_details(
        code=counter.code,
        name="دفتر دیگر",
        city="تبریز",
        area="تبریز ۲",
        address="خیابان امام",
        phone="09141234567",
        manager_name="علی رضایی",
    )
    with pytest.raises(CounterError, match="already has the code 14010"):
        introduce_counter(session, details, LETTER, storage=storage, actor=ADMIN, now=NOW)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("code", "12", "not an office code"),
        ("phone", "33445566", "not a phone number with its area code"),
        ("name", "  ", "the name is empty"),
        ("address", "خ" * 501, "the address is too long (501 characters, at most 500)"),
    ],
)
def test_counter_details_say_what_is_wrong(field: str, value: str, error: str) -> None:
    fields = {
        "code": "14010",
        "name": "دفتر",
        "city": "تبریز",
        "area": "تبریز ۲",
        "address": "خیابان امام",
        "phone": "041 3344 5566",
        "manager_name": "رضا",
    }
    with pytest.raises(CounterError, match=re.escape(error)):
        check_details(**{**fields, field: value})


TRANSITION_CASES = [
    pytest.param(t, source, id=f"{t.action}-from-{source}")
    for t in TRANSITIONS
    for source in sorted(t.sources)
]


@pytest.mark.parametrize(("transition", "source"), TRANSITION_CASES)
def test_every_transition_moves_the_counter_and_writes_its_event(
    session: Session,
    counter_at: CounterAt,
    storage: LocalFileStorage,
    transition: CounterTransition,
    source: CounterStatus,
) -> None:
    counter = at(counter_at, session, source)
    before = len(events(session, counter))
    reason = CounterReason.AGREEMENT_BREACH if transition.needs_reason else None
    signing = transition.document is not None
    apply(
        session,
        counter,
        transition.action,
        actor="staff:7",
        now=LATER,
        storage=storage,
        reason=reason,
        note="بررسی شد",
        document=AGREEMENT if signing else None,
        signed_on=SIGNED_ON if signing else None,
    )
    session.commit()
    assert counter.status == transition.target
    assert counter.status_reason == reason
    expected_deadline = (
        None
        if transition.deadline_days is None
        else add_working_days(LATER, transition.deadline_days)
    )
    assert counter.step_deadline == expected_deadline
    new = events(session, counter)[before:]
    assert [
        (e.actor, e.action, e.from_status, e.to_status, e.reason, e.note, e.created_at) for e in new
    ] == [("staff:7", transition.action, source, transition.target, reason, "بررسی شد", LATER)]


def test_signing_keeps_the_date_and_the_scanned_agreement(
    session: Session, counter_at: CounterAt
) -> None:
    counter = counter_at(S.AGREEMENT_SIGNED)
    assert counter.agreement_signed_on == SIGNED_ON
    assert [d.doc_type for d in documents(session, counter)] == [
        CounterDocumentType.INTRODUCTION_LETTER,
        CounterDocumentType.AGREEMENT,
    ]


def test_reinstating_clears_the_suspension_reason(session: Session, counter_at: CounterAt) -> None:
    counter = at(counter_at, session, S.SUSPENDED)
    assert counter.status_reason == CounterReason.POOR_INSPECTION
    reinstated = apply(session, counter, A.REINSTATE, actor=ADMIN, now=LATER)
    assert (reinstated.target, session.get(Counter, counter.id)) == (S.ACTIVE, counter)
    assert counter.status_reason is None


WRONG_STATUS_CASES = [
    pytest.param(t.action, status, id=f"{t.action}-in-{status}")
    for t in TRANSITIONS
    for status in sorted({S.INTRODUCED, S.ACTIVE, S.SUSPENDED} - t.sources)
    if not any(o.action == t.action and status in o.sources for o in TRANSITIONS)
]


def assert_refused_and_unchanged(
    session: Session, counter: Counter, code: str, call: Callable[[], object]
) -> Refused:
    status, count = counter.status, len(events(session, counter))
    with pytest.raises(Refused) as refused:
        call()
    assert refused.value.code == code
    session.rollback()
    session.refresh(counter)
    assert (counter.status, len(events(session, counter))) == (status, count)
    return refused.value


@pytest.mark.parametrize(("action", "status"), WRONG_STATUS_CASES)
def test_a_step_out_of_turn_is_refused(
    session: Session,
    counter_at: CounterAt,
    storage: LocalFileStorage,
    action: CounterAction,
    status: CounterStatus,
) -> None:
    counter = at(counter_at, session, status)
    refusal = assert_refused_and_unchanged(
        session,
        counter,
        "counter_wrong_status",
        lambda: take_step(session, counter, action, storage),
    )
    assert refusal.params == {"status": status}


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (A.REJECT, S.INTRODUCED),
        (A.SUSPEND, S.ACTIVE),
        (A.TERMINATE, S.ACTIVE),
        (A.TERMINATE, S.SUSPENDED),
    ],
)
def test_rejecting_suspending_and_terminating_need_a_reason(
    session: Session, counter_at: CounterAt, action: CounterAction, status: CounterStatus
) -> None:
    counter = at(counter_at, session, status)
    assert_refused_and_unchanged(
        session,
        counter,
        "counter_reason_required",
        lambda: apply(session, counter, action, actor=ADMIN, now=LATER),
    )


@pytest.mark.parametrize(
    ("document", "signed_on", "code"),
    [
        (None, SIGNED_ON, "counter_document_required"),
        (AGREEMENT, None, "counter_date_required"),
        (AGREEMENT, (LATER + timedelta(days=1)).date(), "counter_date_in_future"),
        (Paper(b"not a scan", "a.txt"), SIGNED_ON, "counter_bad_document"),
    ],
)
def test_the_agreement_is_signed_with_its_scan_and_a_past_date(
    session: Session,
    counter_at: CounterAt,
    storage: LocalFileStorage,
    document: Paper | None,
    signed_on: date | None,
    code: str,
) -> None:
    counter = counter_at(S.PREREQUISITES_ANNOUNCED)
    assert_refused_and_unchanged(
        session,
        counter,
        code,
        lambda: apply(
            session,
            counter,
            A.SIGN_AGREEMENT,
            actor=ADMIN,
            now=LATER,
            storage=storage,
            document=document,
            signed_on=signed_on,
        ),
    )


def test_training_needs_an_operator_and_starting_work_a_service(
    session: Session, counter_at: CounterAt, add_member: AddStaff
) -> None:
    counter = counter_at(S.SOFTWARE_INSTALLED, operator=False)
    add_member(StaffRole.COUNTER_OPERATOR)  # not linked to this counter
    session.commit()
    assert_refused_and_unchanged(
        session,
        counter,
        "counter_no_operator",
        lambda: apply(session, counter, A.TRAIN_OPERATOR, actor=ADMIN, now=LATER),
    )
    trained = counter_at(S.OPERATOR_TRAINED, services=())
    assert_refused_and_unchanged(
        session,
        trained,
        "counter_no_services",
        lambda: apply(session, trained, A.ACTIVATE, actor=ADMIN, now=LATER),
    )
