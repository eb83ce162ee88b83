"""What an export and the parent company's (Tavanir's) monthly summary hold, as plain values: the
requests filed in a period with each step and its times, the compliance tables, the CSAT
answers. Personal data (name, mobile, national ID) only as the reader's role sees it
(backend.staff), masked otherwise; channels.workbooks lays it out as sheets."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.compliance import (
    COUNTER_CHANNEL,
    Dimension,
    Row,
    Scope,
    StepRow,
    channel_of_request,
    compliance,
    in_scope,
    step_rows,
)
from backend.identifiers import display_mobile, local_mobile, mask_national_id
from backend.models import Counter, Customer, Feedback, ServiceRequest, Staff, Subscription
from backend.periods import Period
from backend.services.loader import final_steps
from backend.settings import Settings
from backend.staff import Detail

# The compliance tables of an export, in this order.
TABLES: tuple[Dimension, ...] = (
    Dimension.SERVICE,
    Dimension.STEP,
    Dimension.AREA,
    Dimension.CHANNEL,
    Dimension.STAFF,
    Dimension.COUNTER,
)
OPEN = "open"  # the outcome of a request not yet final


@dataclass(frozen=True)
class RequestLine:
    tracking_code: str
    service: str  # a definition's code
    status: str
    channel: str  # a Channel, or COUNTER_CHANNEL
    city: str
    area: str
    counter: str  # the counter's code, "" when not filed at one
    filed_at: datetime
    updated_at: datetime
    name: str  # "" where the role does not see it
    mobile: str  # masked where the role does not see it in full
    national_id: str  # masked where the role does not see it in full
    description: str  # as the subscriber typed it: text that may look like a formula


@dataclass(frozen=True)
class StepLine:
    tracking_code: str
    step: str
    target: int
    started_at: datetime
    ended_at: datetime | None
    by: str  # the staff member's name; "" for the system or the subscriber
    working_days: float | None
    on_time: bool
    overdue: bool


@dataclass(frozen=True)
class FeedbackLine:
    tracking_code: str
    service: str
    score: int
    comment: str
    channel: str
    answered_at: datetime


@dataclass(frozen=True)
class Export:
    period: Period
    requests: Sequence[RequestLine]
    steps: Sequence[StepLine]
    tables: Mapping[Dimension, Sequence[Row]]
    feedback: Sequence[FeedbackLine]
    staff_names: Mapping[str, str]  # "staff:ID" → name, for the staff table
    counter_codes: Mapping[int, str]  # counter id → code


def _filed_in(query: Any, period: Period, scope: Scope) -> Any:
    return in_scope(
        query.join(Subscription, col(Subscription.id) == col(ServiceRequest.subscription_id)).where(
            col(ServiceRequest.created_at) >= period.start,
            col(ServiceRequest.created_at) < period.end,
        ),
        scope,
    )


def _channel(request: ServiceRequest) -> str:
    return COUNTER_CHANNEL if request.counter_id is not None else str(request.channel)


def build_export(
    session: Session,
    *,
    period: Period,
    scope: Scope,
    sees: Collection[Detail],
    now: datetime,
    settings: Settings,
) -> Export:
    """Everything an export holds for a reader who sees `sees` of the subscribers."""
    filed = _filed_in(select(ServiceRequest, Subscription, Customer), period, scope)
    found = session.exec(
        filed.join(Customer, col(Customer.id) == col(Subscription.customer_id)).order_by(
            col(ServiceRequest.created_at), col(ServiceRequest.id)
        )
    ).all()
    counters = sa.select(col(Counter.id), col(Counter.code))
    counter_codes: dict[int, str] = {id_: code for id_, code in session.execute(counters)}
    staff_names = {
        f"staff:{staff_id}": name
        for staff_id, name in session.exec(select(col(Staff.id), col(Staff.full_name))).all()
    }
    requests = [
        _request_line(request, subscription, customer, sees, counter_codes)
        for request, subscription, customer in found
    ]
    measured = step_rows(session, period=period, scope=scope, now=now, settings=settings)
    codes = _tracking_codes(session, {step.request_id for step in measured})
    steps = [_step_line(step, codes, staff_names) for step in measured]
    tables = {
        dimension: compliance(
            session,
            period=period,
            dimensions=[dimension],
            scope=scope,
            now=now,
            settings=settings,
        )
        for dimension in TABLES
    }
    return Export(
        period=period,
        requests=requests,
        steps=steps,
        tables=tables,
        feedback=_feedback(session, period, scope),
        staff_names=staff_names,
        counter_codes=counter_codes,
    )


def _request_line(
    request: ServiceRequest,
    subscription: Subscription,
    customer: Customer,
    sees: Collection[Detail],
    counter_codes: Mapping[int, str],
) -> RequestLine:
    mobile = customer.mobile or ""
    national_id = customer.national_id or ""
    return RequestLine(
        tracking_code=request.tracking_code,
        service=request.kind,
        status=request.status,
        channel=_channel(request),
        city=subscription.city,
        area=subscription.area,
        counter=counter_codes.get(request.counter_id, "") if request.counter_id else "",
        filed_at=request.created_at,
        updated_at=request.updated_at,
        name=customer.full_name if Detail.NAME in sees else "",
        mobile=(local_mobile(mobile) if Detail.MOBILE in sees else display_mobile(mobile))
        if mobile
        else "",
        national_id=national_id
        if Detail.FULL_NATIONAL_ID in sees or not national_id
        else mask_national_id(national_id),
        description=request.description,
    )


def _tracking_codes(session: Session, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = sa.select(col(ServiceRequest.id), col(ServiceRequest.tracking_code)).where(
        col(ServiceRequest.id).in_(ids)
    )
    return {id_: code for id_, code in session.execute(query)}


def _step_line(step: StepRow, codes: Mapping[int, str], names: Mapping[str, str]) -> StepLine:
    return StepLine(
        tracking_code=codes[step.request_id],
        step=step.step,
        target=step.target,
        started_at=step.started_at,
        ended_at=step.ended_at,
        by=names.get(step.staff or "", ""),
        working_days=step.working_days,
        on_time=step.on_time,
        overdue=step.overdue,
    )


def _feedback(session: Session, period: Period, scope: Scope) -> list[FeedbackLine]:
    """The answers given in the period, on requests the scope counts."""
    query = in_scope(
        select(Feedback, ServiceRequest)
        .join(ServiceRequest, col(ServiceRequest.id) == col(Feedback.request_id))
        .join(Subscription, col(Subscription.id) == col(ServiceRequest.subscription_id))
        .where(col(Feedback.created_at) >= period.start, col(Feedback.created_at) < period.end),
        scope,
    ).order_by(col(Feedback.created_at), col(Feedback.id))
    return [
        FeedbackLine(
            tracking_code=request.tracking_code,
            service=request.kind,
            score=answer.score,
            comment=answer.comment or "",
            channel=_channel(request),
            answered_at=answer.created_at,
        )
        for answer, request in session.exec(query).all()
    ]


# --- Tavanir's monthly summary ---


@dataclass(frozen=True)
class MonthlySummary:
    """The shape a parent company asks for: requests filed in the month by service, channel and
    outcome; each step's mean time in working days; the average score by service."""

    period: Period
    by_service: Mapping[str, int]  # a definition's code → requests
    by_channel: Mapping[str, int]
    by_outcome: Mapping[str, int]  # a final status, or OPEN
    steps: Sequence[Row]  # by step: Figures.mean_days, and the rest
    services: Sequence[Row]  # by service: the CSAT, and the rest


def monthly_summary(
    session: Session, *, period: Period, scope: Scope, now: datetime, settings: Settings
) -> MonthlySummary:
    """Counted in SQL: a province's month is tens of thousands of requests."""
    status = col(ServiceRequest.status)
    outcome = sa.case((status.in_(sorted(final_steps())), status), else_=sa.literal(OPEN))

    def tally(column: Any) -> dict[Any, int]:
        query = _filed_in(select(column, sa.func.count()), period, scope).group_by(column)
        return {value: int(count) for value, count in session.exec(query).all()}

    def table(dimension: Dimension) -> list[Row]:
        return compliance(
            session,
            period=period,
            dimensions=[dimension],
            scope=scope,
            now=now,
            settings=settings,
        )

    return MonthlySummary(
        period=period,
        by_service=tally(col(ServiceRequest.kind)),
        by_channel=tally(channel_of_request()),
        by_outcome=tally(outcome),
        steps=table(Dimension.STEP),
        services=table(Dimension.SERVICE),
    )
