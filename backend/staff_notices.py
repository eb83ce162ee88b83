"""Telling staff: a request given to them, one reaching their role's queue, and a step past its
deadline — its holder once, then (a working day later, at once when nobody holds it) the
supervisors once; and a pishkhan counter's lifecycle step past its deadline, to its area's head
once.

Each is a row of the outbox written in the transaction of the change that causes it, for the
staff member's bound messenger accounts (notifications.policy); no request is named on the row,
so the subscriber's own notices (`/notices CODE`) stay theirs.
"""

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.constants import (
    FINAL_STATUSES,
    AlertLevel,
    NoticeKind,
    StaffRole,
)
from backend.models import (
    Conversation,
    Counter,
    CounterAlert,
    Notice,
    ServiceRequest,
    Staff,
    StaffAlert,
    StaffBinding,
    Subscription,
)
from backend.permissions import ROLE_COMMANDS, WORKING_ROLES, commands_for
from backend.workdays import add_working_days, holidays
from backend.workflows import allowed_actions

OVERDUE_BATCH = 100  # requests one round of the clock looks at; the next round takes the rest
# A supervisor hears of a held step this long after its deadline (never sooner than a day).
ESCALATION_WORKING_DAYS = 1


def staff_locale(session: Session, staff: Staff) -> str | None:
    """The language of the staff member's chat; None for the desk's default."""
    return staff_locales(session, [staff]).get(staff.id)


def staff_locales(session: Session, staff: Collection[Staff]) -> dict[int | None, str]:
    """The language of each one's chat (their latest binding's), in one query; those without
    a chat are left out (the desk's default)."""
    rows = session.exec(
        select(StaffBinding.staff_id, Conversation.locale)
        .join(
            Conversation,
            sa.and_(
                col(StaffBinding.channel) == col(Conversation.channel),
                col(StaffBinding.external_user_id) == col(Conversation.user_id),
            ),
        )
        .where(col(StaffBinding.staff_id).in_([member.id for member in staff]))
        .order_by(col(StaffBinding.bound_at).desc())
    ).all()
    locales: dict[int | None, str] = {}
    for staff_id, locale in rows:
        locales.setdefault(staff_id, locale)
    return locales


def _tell(
    session: Session,
    staff: Staff,
    kind: NoticeKind,
    request: ServiceRequest,
    *,
    now: datetime,
    **params: Any,
) -> None:
    _tell_all(session, [staff], kind, request, now=now, **params)


def _tell_all(
    session: Session,
    staff: Collection[Staff],
    kind: NoticeKind,
    request: ServiceRequest,
    *,
    now: datetime,
    **params: Any,
) -> None:
    """A notice for each of `staff`, their chats' languages looked up together."""
    if not staff:
        return
    locales = staff_locales(session, staff)
    deadline = request.step_deadline
    for member in staff:
        session.add(
            Notice(
                kind=kind,
                params={
                    "staff_id": member.id,
                    "request_id": request.id,
                    "code": request.tracking_code,
                    "service": request.kind,
                    "step": request.status,
                    "due": deadline.isoformat() if deadline else "",
                    **params,
                },
                locale=locales.get(member.id),
                created_at=now,
            )
        )


def _actor_id(actor: str) -> int | None:
    kind, _, number = actor.partition(":")
    return int(number) if kind == "staff" and number.isdigit() else None


def assigned(
    session: Session, request: ServiceRequest, assignee: Staff, *, by: Staff, now: datetime
) -> None:
    """The assignee hears of a request given to them by someone else (not of one they took)."""
    if assignee.id != by.id:
        _tell(session, assignee, NoticeKind.STAFF_ASSIGNED, request, now=now, by=by.full_name)


def step_reached(session: Session, request: ServiceRequest, *, actor: str, now: datetime) -> None:
    """After a change that leaves a built service's request with a staff step to do by a
    deadline: its holder hears of it if they may do it; otherwise the active members of the
    roles that may (the supervisors, for a step only they do: an approval). Never the one who
    made the change. (A service defined as data: defined_step_reached.)"""
    if request.step_deadline is None or request.status in FINAL_STATUSES:
        return  # it waits on the subscriber, or nothing is left
    wanted = commands_for(allowed_actions(request))
    if not wanted:
        return

    def may(role: StaffRole) -> bool:
        return any(c in ROLE_COMMANDS[role] for c in wanted)

    roles = [r for r in WORKING_ROLES[request.kind] if may(r)] or [StaffRole.SUPERVISOR]
    _tell_step(session, request, may=may, roles=roles, actor=actor, now=now)


def defined_step_reached(
    session: Session,
    request: ServiceRequest,
    *,
    role: StaffRole,
    overseers: Collection[StaffRole],
    actor: str,
    now: datetime,
) -> None:
    """As step_reached, for a service defined as data (backend.services.engine): its
    definition names the step's `role`, and `overseers` may act at any staff step."""
    if request.step_deadline is None:
        return  # untimed: nothing is owed by a date, as in step_reached

    def may(held_by: StaffRole) -> bool:
        return held_by == role or held_by in overseers

    _tell_step(session, request, may=may, roles=[role], actor=actor, now=now)


def _tell_step(
    session: Session,
    request: ServiceRequest,
    *,
    may: Callable[[StaffRole], bool],
    roles: Collection[StaffRole],
    actor: str,
    now: datetime,
) -> None:
    """The holder, if their role `may` do the step; otherwise the active members of `roles`
    (only they are read: a province's counters bring thousands of operators to the staff)."""
    holder = session.get(Staff, request.assignee_id) if request.assignee_id is not None else None
    told: Collection[Staff]
    if holder is not None and holder.active and may(holder.role):
        told = [holder]
    else:
        told = session.exec(
            select(Staff)
            .where(col(Staff.active), col(Staff.role).in_(list(roles)))
            .order_by(col(Staff.id))
        ).all()
    actor_id = _actor_id(actor)
    _tell_all(
        session, [s for s in told if s.id != actor_id], NoticeKind.STAFF_QUEUE, request, now=now
    )


def tell_area_supervisors(
    session: Session, request: ServiceRequest, kind: NoticeKind, *, now: datetime, **params: Any
) -> None:
    """The supervisors of the request's area hear of it: its active area heads, or every active
    supervisor when the area has none."""
    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None  # subscriptions are never deleted
    _tell_all(
        session, _area_supervisors(session, subscription.area), kind, request, now=now, **params
    )


def _area_supervisors(session: Session, area: str) -> Sequence[Staff]:
    """The area's active heads; every active supervisor when the area has none."""
    active = select(Staff).where(col(Staff.active)).order_by(col(Staff.id))
    return (
        session.exec(active.where(Staff.role == StaffRole.AREA_HEAD, Staff.area == area)).all()
        or session.exec(active.where(Staff.role == StaffRole.SUPERVISOR)).all()
    )


def overdue_round(session: Session, *, now: datetime) -> int:
    """Tells of steps past their deadline, each level once; the notices queued.

    One query on the deadline's index finds the requests someone is still to be told of: a held
    step whose holder was not, or one whose supervisors were not and are due (nobody holds it,
    or the holder's row says it is time: a working day after the deadline). Each is locked
    (another clock skips it) and its alert row, unique per step and level, is written with its
    notices, so neither a restart nor a second clock tells anyone twice.
    """

    def told(level: AlertLevel, *more: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return sa.exists().where(
            col(StaffAlert.request_id) == col(ServiceRequest.id),
            col(StaffAlert.deadline) == col(ServiceRequest.step_deadline),
            col(StaffAlert.level) == level,
            *more,
        )

    held = col(ServiceRequest.assignee_id).is_not(None)
    due = session.exec(
        select(ServiceRequest)
        .where(
            col(ServiceRequest.step_deadline) < now,
            col(ServiceRequest.status).not_in(list(FINAL_STATUSES)),
            sa.or_(
                sa.and_(held, ~told(AlertLevel.HOLDER)),
                sa.and_(
                    ~told(AlertLevel.SUPERVISOR),
                    sa.or_(~held, told(AlertLevel.HOLDER, col(StaffAlert.escalate_at) <= now)),
                ),
            ),
        )
        .order_by(col(ServiceRequest.step_deadline))
        .limit(OVERDUE_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return 0
    days_off = holidays(session)
    supervisors = session.exec(
        select(Staff)
        .where(Staff.role == StaffRole.SUPERVISOR, col(Staff.active))
        .order_by(col(Staff.id))
    ).all()
    queued = 0
    for request in due:
        assert request.step_deadline is not None  # the query's
        holder = session.get(Staff, request.assignee_id) if request.assignee_id else None
        if holder is not None and not holder.active:
            holder = None  # deactivated: nobody to tell but the supervisors, at once
        escalate_at = now
        if request.assignee_id is not None:
            if holder is not None:
                escalate_at = add_working_days(
                    request.step_deadline, ESCALATION_WORKING_DAYS, days_off
                )
            if _alert(session, request, AlertLevel.HOLDER, now, escalate_at=escalate_at):
                if holder is not None:
                    _tell(session, holder, NoticeKind.STAFF_OVERDUE, request, now=now)
                    queued += 1
            else:  # told before: when the supervisors are due is on that row
                escalate_at = _escalation_of(session, request) or now
        if escalate_at <= now and _alert(session, request, AlertLevel.SUPERVISOR, now):
            name = holder.full_name if holder else ""
            _tell_all(
                session, supervisors, NoticeKind.STAFF_ESCALATED, request, now=now, holder=name
            )
            queued += len(supervisors)
    return queued


def counter_overdue_round(session: Session, *, now: datetime) -> int:
    """Tells the area's head (every supervisor, when the area has none) of a counter's lifecycle
    step past its deadline, once per step; the notices queued. As overdue_round: the counter is
    locked and its alert row, unique per deadline, written with the notices."""
    told = sa.exists().where(
        col(CounterAlert.counter_id) == col(Counter.id),
        col(CounterAlert.deadline) == col(Counter.step_deadline),
    )
    due = session.exec(
        select(Counter)
        .where(col(Counter.step_deadline) < now, ~told)
        .order_by(col(Counter.step_deadline))
        .limit(OVERDUE_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    queued = 0
    for counter in due:
        assert counter.id is not None and counter.step_deadline is not None  # the query's
        alert = CounterAlert(counter_id=counter.id, deadline=counter.step_deadline, created_at=now)
        try:
            with session.begin_nested():
                session.add(alert)
        except IntegrityError:
            continue
        for staff in _area_supervisors(session, counter.area):
            session.add(
                Notice(
                    kind=NoticeKind.STAFF_COUNTER_OVERDUE,
                    params={
                        "staff_id": staff.id,
                        "code": counter.code,
                        "counter": counter.name,
                        "counter_step": counter.status,
                        "due": counter.step_deadline.isoformat(),
                    },
                    locale=staff_locale(session, staff),
                    created_at=now,
                )
            )
            queued += 1
    return queued


def _alert(
    session: Session,
    request: ServiceRequest,
    level: AlertLevel,
    now: datetime,
    *,
    escalate_at: datetime | None = None,
) -> bool:
    """Records that `level` was told of the request's step; False if it was already."""
    assert request.id is not None and request.step_deadline is not None
    try:
        with session.begin_nested():
            session.add(
                StaffAlert(
                    request_id=request.id,
                    deadline=request.step_deadline,
                    level=level,
                    created_at=now,
                    escalate_at=escalate_at,
                )
            )
    except IntegrityError:
        return False
    return True


def _escalation_of(session: Session, request: ServiceRequest) -> datetime | None:
    return session.exec(
        select(StaffAlert.escalate_at).where(
            StaffAlert.request_id == request.id,
            StaffAlert.deadline == request.step_deadline,
            StaffAlert.level == AlertLevel.HOLDER,
        )
    ).first()
