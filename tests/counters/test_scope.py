"""Who sees which counters and which requests; who may file what at a counter."""

from typing import NamedTuple

import pytest
from sqlmodel import Session, col, select

from backend.constants import Channel, CounterAction, CounterReason, CounterStatus, RequestKind
from backend.constants import StaffRole as R
from backend.counter_workflow import apply
from backend.counters import (
    add_operator,
    counter_for_filing,
    delegate,
    may_see_counter,
    may_see_request,
    operators_of,
    request_scope,
    services_of,
    visible_counters,
)
from backend.models import Counter, CounterEvent, ServiceRequest, Staff, Subscription
from backend.service_requests import AtCounter, file_request
from backend.workflows import Refused
from tests.counters.conftest import ADMIN, NOW, AddStaff, CounterAt, filed_at
from tests.factories import add_subscription

TABRIZ, MARAGHEH = "تبریز ۲", "مراغه"


class World(NamedTuple):
    first: Counter
    second: Counter
    third: Counter
    at_first: ServiceRequest
    at_third: ServiceRequest
    in_bot: ServiceRequest


@pytest.fixture
def world(session: Session, counter_at: CounterAt, subscription: Subscription) -> "World":
    """Two counters in Tabriz 2, one in Maragheh; a request filed at the first and the third,
    and one the subscriber filed in the bot."""
    first = counter_at(CounterStatus.ACTIVE, area=TABRIZ)
    second = counter_at(CounterStatus.INTRODUCED, area=TABRIZ)
    third = counter_at(CounterStatus.ACTIVE, area=MARAGHEH)
    return World(
        first,
        second,
        third,
        filed_at(session, subscription, first),
        filed_at(session, subscription, third),
        filed_at(session, subscription, None),
    )


def codes(counters: list[Counter]) -> list[str]:
    return [counter.code for counter in counters]


def test_each_role_sees_its_counters_and_their_requests(
    session: Session, add_member: AddStaff, world: World
) -> None:
    first, second, third, at_first, at_third, in_bot = world
    every = [first.code, second.code, third.code]
    operator = operators_of(session, first)[0]
    head = add_member(R.AREA_HEAD, area=TABRIZ)
    headless = add_member(R.AREA_HEAD)  # no area given yet: nothing
    inspector = add_member(R.HQ_INSPECTOR)
    reviewer = add_member(R.BILLING_REVIEWER)
    admin = add_member(R.ADMIN)
    session.commit()

    def requests(staff: Staff) -> set[int | None]:
        query = select(ServiceRequest.id).where(request_scope(staff))
        return set(session.exec(query))

    assert codes(visible_counters(session, operator)) == [first.code]
    assert requests(operator) == {at_first.id}
    assert codes(visible_counters(session, head)) == [first.code, second.code]
    assert requests(head) == {at_first.id}
    assert codes(visible_counters(session, headless)) == [] and requests(headless) == set()
    assert codes(visible_counters(session, inspector)) == every
    assert requests(inspector) == {at_first.id, at_third.id}
    assert codes(visible_counters(session, admin)) == every
    assert requests(admin) == requests(reviewer) == {at_first.id, at_third.id, in_bot.id}
    assert codes(visible_counters(session, reviewer)) == []

    assert may_see_counter(session, head, first) and not may_see_counter(session, head, third)
    assert may_see_request(session, operator, at_first)
    assert not may_see_request(session, operator, at_third)
    assert not may_see_request(session, operator, in_bot)


def test_an_operator_files_only_the_services_of_their_active_counter(
    session: Session, counter_at: CounterAt, add_member: AddStaff
) -> None:
    counter = counter_at(CounterStatus.ACTIVE, services=(RequestKind.BILL_REVIEW,))
    operator = operators_of(session, counter)[0]
    assert counter_for_filing(session, operator, RequestKind.BILL_REVIEW) == counter
    with pytest.raises(Refused) as refused:
        counter_for_filing(session, operator, RequestKind.CONNECTION_REMOVAL)
    assert (refused.value.code, refused.value.params) == (
        "counter_not_delegated",
        {"kind": RequestKind.CONNECTION_REMOVAL},
    )

    assert delegate(
        session,
        counter,
        [RequestKind.CONNECTION_REMOVAL, RequestKind.BILL_REVIEW],
        actor=ADMIN,
        now=NOW,
    ) == [RequestKind.BILL_REVIEW, RequestKind.CONNECTION_REMOVAL]
    assert counter_for_filing(session, operator, RequestKind.CONNECTION_REMOVAL) == counter
    delegate(session, counter, [RequestKind.CONNECTION_REMOVAL], actor=ADMIN, now=NOW)
    assert services_of(session, counter) == [RequestKind.CONNECTION_REMOVAL]

    apply(
        session,
        counter,
        CounterAction.SUSPEND,
        actor=ADMIN,
        now=NOW,
        reason=CounterReason.POOR_INSPECTION,
    )
    with pytest.raises(Refused) as refused:
        counter_for_filing(session, operator, RequestKind.CONNECTION_REMOVAL)
    assert (refused.value.code, refused.value.params) == (
        "counter_not_active",
        {"status": CounterStatus.SUSPENDED},
    )
    for someone in (add_member(R.COUNTER_OPERATOR), add_member(R.AREA_HEAD)):  # no counter
        with pytest.raises(Refused, match="counter_not_operator"):
            counter_for_filing(session, someone, RequestKind.BILL_REVIEW)


def test_delegation_is_recorded_and_refused_once_the_counter_is_closed(
    session: Session, counter_at: CounterAt
) -> None:
    counter = counter_at(CounterStatus.INTRODUCED)
    apply(
        session,
        counter,
        CounterAction.REJECT,
        actor=ADMIN,
        now=NOW,
        reason=CounterReason.UNFAVOURABLE_INQUIRY,
    )
    with pytest.raises(Refused, match="counter_wrong_status"):
        delegate(session, counter, [RequestKind.BILL_REVIEW], actor=ADMIN, now=NOW)
    notes = session.exec(
        select(CounterEvent.note)
        .where(CounterEvent.counter_id == counter.id, CounterEvent.action == CounterAction.DELEGATE)
        .order_by(col(CounterEvent.id))
    ).all()
    assert notes == ["bill_review"]


def test_an_operator_is_linked_only_when_they_are_one_and_the_counter_is_not_closed(
    session: Session, counter_at: CounterAt, add_member: AddStaff
) -> None:
    counter = counter_at(CounterStatus.INTRODUCED, operator=False)
    for someone in (add_member(R.BILLING_REVIEWER), add_member(R.AREA_HEAD)):
        with pytest.raises(Refused, match="counter_not_operator"):
            add_operator(session, counter, someone, actor=ADMIN, now=NOW)
    left = add_member(R.COUNTER_OPERATOR)
    left.active = False
    with pytest.raises(Refused, match="counter_not_operator"):
        add_operator(session, counter, left, actor=ADMIN, now=NOW)
    apply(
        session,
        counter,
        CounterAction.REJECT,
        actor=ADMIN,
        now=NOW,
        reason=CounterReason.UNFAVOURABLE_INQUIRY,
    )
    operator = add_member(R.COUNTER_OPERATOR)
    with pytest.raises(Refused) as refused:
        add_operator(session, counter, operator, actor=ADMIN, now=NOW)
    assert (refused.value.code, refused.value.params) == (
        "counter_wrong_status",
        {"status": CounterStatus.REJECTED},
    )
    assert operator.counter_id is None and operators_of(session, counter) == []


def test_a_counter_files_only_for_the_subscription_whose_code_was_read_out(
    session: Session, counter_at: CounterAt, subscription: Subscription
) -> None:
    counter = counter_at(CounterStatus.ACTIVE)
    operator = operators_of(session, counter)[0]
    other = add_subscription(session, file_number=48299, mobile="+989129999999")
    assert other.id is not None and subscription.id is not None
    with pytest.raises(Refused, match="counter_no_consent"):
        file_request(
            session,
            kind=RequestKind.BILL_REVIEW,
            channel=Channel.TELEGRAM,
            channel_user_id="1001",
            subscription_id=other.id,
            reason="high_consumption",
            description="مصرف این دوره زیاد است.",
            documents=[],
            now=NOW,
            deadline=NOW,
            at_counter=AtCounter(operator, subscription.id),
        )
    session.rollback()
    assert session.exec(select(ServiceRequest)).all() == []
