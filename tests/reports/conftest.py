"""Constructed histories for the reports: requests and their events at chosen moments (Tehran
time), across a Friday and a holiday, with staff, a counter and feedback."""

from dataclasses import dataclass
from datetime import date, datetime
from itertools import count

import pytest
from sqlmodel import Session

from backend.constants import Channel, CounterStatus, EventAction, RequestKind, RequestStatus
from backend.models import (
    Counter,
    Feedback,
    Holiday,
    RequestEvent,
    ServiceRequest,
    Staff,
    Subscription,
)
from backend.periods import Period
from backend.settings import local_zone
from tests.factories import add_subscription

A = EventAction
S = RequestStatus
HOLIDAY = date(2026, 10, 25)  # a Sunday (1405/08/03)
_codes = count(100000001)


def tehran(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of October 2026 in Tehran: the 21st is a Wednesday, the 23rd a Friday."""
    return datetime(2026, 10, day, hour, minute, tzinfo=local_zone())


NOW = tehran(28, 11)  # the Wednesday after
WEEK = Period(date(2026, 10, 21), date(2026, 10, 28))  # Wednesday to Wednesday
REVIEW, REMOVAL = RequestKind.BILL_REVIEW, RequestKind.CONNECTION_REMOVAL
FORMULA = '=HYPERLINK("http://example.invalid","بررسی")'


@dataclass
class Desk:
    session: Session
    subscription: Subscription
    counter: Counter
    staff_a: Staff
    staff_b: Staff

    def request(
        self,
        kind: RequestKind,
        filed: datetime,
        *steps: tuple[EventAction, RequestStatus, datetime, str],
        channel: Channel = Channel.TELEGRAM,
        at_counter: bool = False,
        holder: Staff | None = None,
        score: int | None = None,
        subscription: Subscription | None = None,
        description: str = "",
    ) -> ServiceRequest:
        """A request filed at `filed`, then each (action, new status, moment, actor) in turn."""
        request = ServiceRequest(
            kind=kind,
            tracking_code=str(next(_codes)),
            status=steps[-1][1] if steps else S.SUBMITTED,
            channel=channel,
            channel_user_id="5001",
            subscription_id=(subscription or self.subscription).id,
            reason="other",
            description=description,
            created_at=filed,
            updated_at=filed,
            counter_id=self.counter.id if at_counter else None,
            assignee_id=holder.id if holder else None,
        )
        self.session.add(request)
        self.session.flush()
        assert request.id is not None
        events = [(A.SUBMITTED, S.SUBMITTED, filed, f"subscriber:{channel}"), *steps]
        for action, status, moment, actor in events:
            self.session.add(
                RequestEvent(
                    request_id=request.id,
                    actor=actor,
                    action=action,
                    to_status=status,
                    created_at=moment,
                )
            )
        if score is not None:
            self.session.add(
                Feedback(request_id=request.id, score=score, channel=channel, created_at=NOW)
            )
        self.session.commit()
        return request


def actor(staff: Staff) -> str:
    return f"staff:{staff.id}"


@pytest.fixture
def desk(session: Session) -> Desk:
    subscription = add_subscription(session)
    session.add(Holiday(day=HOLIDAY, name="تعطیل رسمی"))
    counter = Counter(
        code="14010",
        name="دفتر پیشخوان ولیعصر",
        city="قم",
        area="صفاییه",
        address="قم",
        phone="02533445566",
        manager_name="رضا محمدی",
        status=CounterStatus.ACTIVE,
    )
    staff_a = Staff(full_name="مینا رضایی", phone="+989350000101", role="billing_reviewer")
    staff_b = Staff(full_name="علی کریمی", phone="+989350000102", role="billing_reviewer")
    session.add_all([counter, staff_a, staff_b])
    session.commit()
    return Desk(session, subscription, counter, staff_a, staff_b)


def rejected(
    moment: datetime, staff: Staff
) -> list[tuple[EventAction, RequestStatus, datetime, str]]:
    """A review's step ended by a rejection, and the result told at once (as actions do)."""
    return [
        (A.REJECT, S.REJECTED, moment, actor(staff)),
        (A.ANNOUNCE, S.RESULT_ANNOUNCED, moment, "system"),
    ]


@pytest.fixture
def week(desk: Desk) -> Desk:
    """A week of requests (see test_compliance for what each shows)."""
    a, b = desk.staff_a, desk.staff_b
    # Wednesday 10:00 → Saturday 09:00: Thursday and Saturday less an hour; due Monday 10:00.
    desk.request(REVIEW, tehran(21, 10), *rejected(tehran(24, 9), a), score=5)
    # Thursday 12:00, due Tuesday 12:00 (Friday off, Sunday a holiday): an hour late.
    desk.request(
        REVIEW, tehran(22, 12), *rejected(tehran(27, 13), b), channel=Channel.BALE, score=2
    )
    # Filed on the Friday at 10:00: due Tuesday 10:00, still open with B now (Wednesday).
    desk.request(REVIEW, tehran(23, 10), channel=Channel.SMS, holder=b)
    # At the counter: half a day.
    desk.request(REVIEW, tehran(24, 8), *rejected(tehran(24, 20), a), at_counter=True)
    # Withdrawn: neither done nor overdue.
    desk.request(
        REVIEW,
        tehran(24, 9),
        (A.WITHDRAW, S.WITHDRAWN, tehran(25, 9), "subscriber:telegram"),
        score=4,
    )
    # Open, not due before Saturday; its description would be a formula in a spreadsheet.
    desk.request(REVIEW, tehran(27, 9), description=FORMULA)
    # A removal: its fee announced late (a day's target), then its meter test open, not yet due.
    desk.request(
        REMOVAL,
        tehran(21, 16),
        (A.ANNOUNCE_FEE, S.FEE_ANNOUNCED, tehran(24, 10), actor(a)),
        (A.PAY_FEE, S.FEE_PAID, tehran(24, 12), "subscriber:bale"),
        channel=Channel.BALE,
    )
    # Before the week: not counted.
    desk.request(REVIEW, tehran(20, 10), *rejected(tehran(20, 15), a))
    return desk
