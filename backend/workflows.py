"""Each request kind's lifecycle as an explicit state machine: the only way a status changes."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from backend.constants import FINAL_STATUSES, EventAction, NoticeKind, RequestKind, RequestStatus
from backend.models import RequestEvent, ServiceRequest
from backend.notices import queue_notice
from backend.settings import Settings
from backend.workdays import add_working_days, holidays

S = RequestStatus
A = EventAction
REVIEW, REMOVAL = RequestKind.BILL_REVIEW, RequestKind.CONNECTION_REMOVAL
KEEP = "keep"  # the step goes on: its deadline does not move


@dataclass(frozen=True)
class Transition:
    kind: RequestKind
    action: EventAction
    sources: frozenset[RequestStatus]
    target: RequestStatus
    # The Settings field with the next step's target in working days; None when the next step
    # waits on the subscriber or nothing is left to do; KEEP to leave the deadline as it is.
    deadline: str | None
    notice: NoticeKind | None = None


def _t(
    kind: RequestKind,
    action: EventAction,
    sources: set[RequestStatus],
    target: RequestStatus,
    deadline: str | None,
    notice: NoticeKind | None = None,
) -> Transition:
    return Transition(kind, action, frozenset(sources), target, deadline, notice)


TRANSITIONS: tuple[Transition, ...] = (
    # Bill review (seed 000): review, correction if the objection holds, the result announced.
    _t(REVIEW, A.TAKE, {S.SUBMITTED}, S.UNDER_REVIEW, KEEP, NoticeKind.UNDER_REVIEW),
    _t(REVIEW, A.ASSIGN, {S.SUBMITTED}, S.UNDER_REVIEW, KEEP, NoticeKind.UNDER_REVIEW),
    _t(REVIEW, A.UPHOLD, {S.UNDER_REVIEW}, S.UPHELD, "correction_working_days"),
    _t(REVIEW, A.CORRECT, {S.UPHELD}, S.BILL_CORRECTED, "corrected_bill_delivery_working_days"),
    _t(REVIEW, A.REJECT, {S.UNDER_REVIEW}, S.REJECTED, "corrected_bill_delivery_working_days"),
    _t(
        REVIEW,
        A.ANNOUNCE,
        {S.BILL_CORRECTED},
        S.RESULT_ANNOUNCED,
        None,
        NoticeKind.RESULT_CORRECTED,
    ),
    _t(REVIEW, A.ANNOUNCE, {S.REJECTED}, S.RESULT_ANNOUNCED, None, NoticeKind.RESULT_REJECTED),
    _t(REVIEW, A.CLOSE, {S.RESULT_ANNOUNCED}, S.CLOSED, None, NoticeKind.CLOSED),
    _t(REVIEW, A.WITHDRAW, {S.SUBMITTED, S.UNDER_REVIEW}, S.WITHDRAWN, None, NoticeKind.WITHDRAWN),
    # Permanent removal (seed 001): fee, meter test, terms, collection, statement, clearance.
    _t(REMOVAL, A.ANNOUNCE_FEE, {S.SUBMITTED}, S.FEE_ANNOUNCED, None, NoticeKind.FEE_DUE),
    _t(
        REMOVAL,
        A.PAY_FEE,
        {S.FEE_ANNOUNCED},
        S.FEE_PAID,
        "meter_test_working_days",
        NoticeKind.FEE_RECEIVED,
    ),
    _t(
        REMOVAL,
        A.TEST_METER,
        {S.FEE_PAID},
        S.METER_TESTED,
        "terms_working_days",
        NoticeKind.METER_TESTED,
    ),
    _t(REMOVAL, A.ANNOUNCE_TERMS, {S.METER_TESTED}, S.TERMS_ANNOUNCED, None, NoticeKind.TERMS),
    _t(REMOVAL, A.ACCEPT_TERMS, {S.TERMS_ANNOUNCED}, S.TERMS_ACCEPTED, "collection_working_days"),
    _t(REMOVAL, A.DECLINE_TERMS, {S.TERMS_ANNOUNCED}, S.ARCHIVED, None, NoticeKind.ARCHIVED),
    _t(
        REMOVAL,
        A.COLLECT,
        {S.TERMS_ACCEPTED},
        S.COLLECTED,
        "final_bill_working_days",
        NoticeKind.COLLECTED,
    ),
    _t(REMOVAL, A.ISSUE_STATEMENT, {S.COLLECTED}, S.STATEMENT_ISSUED, None, NoticeKind.STATEMENT),
    _t(REMOVAL, A.SETTLE, {S.STATEMENT_ISSUED}, S.SETTLED, "settlement_working_days"),
    _t(REMOVAL, A.CLOSE, {S.SETTLED}, S.CLOSED, None, NoticeKind.CLEARANCE),
    _t(
        REMOVAL,
        A.WITHDRAW,
        {S.SUBMITTED, S.FEE_ANNOUNCED, S.FEE_PAID, S.METER_TESTED, S.TERMS_ANNOUNCED},
        S.WITHDRAWN,
        None,
        NoticeKind.WITHDRAWN,
    ),
)

# After these, the fee is paid and withdrawing refunds nothing (seed 001 §4).
FEE_PAID_STATUSES = frozenset({S.FEE_PAID, S.METER_TESTED, S.TERMS_ANNOUNCED})


class Refused(Exception):
    """An action that does not fit the request now; `code` names the reason for the message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def find_transition(request: ServiceRequest, action: EventAction) -> Transition:
    """The transition `action` makes from the request's status, or Refused saying why not."""
    of_kind = [t for t in TRANSITIONS if t.kind == request.kind and t.action == action]
    if not of_kind:
        raise Refused("wrong_kind", kind=request.kind)
    for transition in of_kind:
        if request.status in transition.sources:
            return transition
    raise Refused("wrong_status", status=request.status)


def allowed_actions(request: ServiceRequest) -> list[EventAction]:
    return [t.action for t in TRANSITIONS if t.kind == request.kind and request.status in t.sources]


def apply(
    session: Session,
    request: ServiceRequest,
    action: EventAction,
    *,
    actor: str,
    now: datetime,
    settings: Settings,
    note: str | None = None,
    **notice_params: Any,
) -> Transition:
    """Moves the request on: status, deadline, an event and the subscriber's notice, together.

    All of it is written in the caller's transaction; nothing is sent before it commits.
    """
    transition = find_transition(request, action)
    previous = request.status
    request.status = transition.target
    request.updated_at = now
    if transition.deadline != KEEP:
        request.step_deadline = (
            None
            if transition.deadline is None
            else add_working_days(now, getattr(settings, transition.deadline), holidays(session))
        )
    session.add(request)
    assert request.id is not None  # a stored request
    session.add(
        RequestEvent(
            request_id=request.id,
            actor=actor,
            action=action,
            from_status=previous,
            to_status=transition.target,
            note=note,
            created_at=now,
        )
    )
    if transition.notice is not None:
        queue_notice(session, request, transition.notice, now=now, **notice_params)
    if transition.target in FINAL_STATUSES and previous not in FINAL_STATUSES:
        # However it ended, the subscriber is asked once how it went (backend.feedback).
        queue_notice(session, request, NoticeKind.FEEDBACK, now=now, service=request.kind)
    session.flush()
    return transition
