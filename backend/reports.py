"""Who sees which reports, and the weekly one: pushed on Saturday morning to the managers who
asked for it (`/report weekly on`), once a week each however many clocks run the round."""

from dataclasses import replace
from datetime import datetime, time

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.compliance import COUNTER_CHANNEL, EVERYTHING, Scope, compliance
from backend.constants import NoticeKind, StaffRole
from backend.models import Notice, ReportPush, ReportSubscription, Staff
from backend.periods import SATURDAY, Period, last_weeks, local_day
from backend.settings import Settings, local_zone
from backend.staff_notices import staff_locale

R = StaffRole
WEEKLY_FROM = time(8, 0)  # Saturday, local time: the week's report goes from then on
WEEKLY_WEEKS = 4  # a trend of the weeks before, the last one the week that just ended


def scope_for(staff: Staff, wanted: Scope = EVERYTHING) -> Scope:
    """What `staff` may report on of `wanted`: an area head their area only (the subscriptions'
    area, as low scores are told to them), an HQ inspector what the counters filed (as
    backend.counters.request_scope), admins and supervisors everything."""
    if staff.role == R.AREA_HEAD:
        return replace(wanted, area=staff.area or "")
    if staff.role == R.HQ_INSPECTOR:
        return replace(wanted, channel=COUNTER_CHANNEL)
    return wanted


def subscribe(session: Session, staff: Staff, *, on: bool, now: datetime) -> None:
    assert staff.id is not None
    existing = session.get(ReportSubscription, staff.id)
    if on and existing is None:
        session.add(ReportSubscription(staff_id=staff.id, created_at=now))
    elif not on and existing is not None:
        session.delete(existing)
    session.flush()


def subscribed(session: Session, staff: Staff) -> bool:
    return session.get(ReportSubscription, staff.id) is not None


def weekly_period(now: datetime) -> Period:
    return last_weeks(now, WEEKLY_WEEKS)


def weekly_round(session: Session, *, now: datetime, settings: Settings) -> int:
    """On Saturday from WEEKLY_FROM (local time), queues the weekly report for each active
    subscriber not yet sent this week's: its key figures, with a button for the chart. The row
    in report_push (unique per staff member and week) is written with the notice, so a second
    clock, or a second round, sends nothing more. How many were queued."""
    local = now.astimezone(local_zone())
    if local.weekday() != SATURDAY or local.time() < WEEKLY_FROM:
        return 0
    week = local_day(now)
    due = session.exec(
        select(Staff)
        .join(ReportSubscription, col(ReportSubscription.staff_id) == col(Staff.id))
        .where(
            col(Staff.active),
            ~select(ReportPush.id)
            .where(ReportPush.staff_id == Staff.id, ReportPush.week == week)
            .exists(),
        )
        .order_by(col(Staff.id))
    ).all()
    period = weekly_period(now)
    queued = 0
    for staff in due:
        assert staff.id is not None
        try:
            with session.begin_nested():
                session.add(ReportPush(staff_id=staff.id, week=week, created_at=now))
                session.flush()
        except IntegrityError:
            continue  # another clock took it
        (total,) = compliance(
            session, period=period, scope=scope_for(staff), now=now, settings=settings
        )
        figures = total.figures
        share = figures.on_time_share
        session.add(
            Notice(
                kind=NoticeKind.STAFF_WEEKLY_REPORT,
                params={
                    "staff_id": staff.id,
                    "first_date": period.first.isoformat(),
                    "last_date": period.last.isoformat(),
                    "requests": figures.requests,
                    "on_time_percent": round(100 * share) if share is not None else None,
                    "overdue": figures.overdue,
                    "csat_score": figures.csat_average,
                    "csat_count": figures.csat_count,
                },
                locale=staff_locale(session, staff),
                created_at=now,
            )
        )
        queued += 1
    session.flush()
    return queued
