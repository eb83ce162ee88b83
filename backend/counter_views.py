"""What staff see of the pishkhan counters: the list of those in their scope (/counters) and one
counter's profile (/counter), its score with the parts backend.counter_inspections computes."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

import jdatetime
from sqlmodel import Session, col, func, select

from backend.constants import RequestKind
from backend.counter_inspections import (
    CounterScore,
    VisitScore,
    counter_score,
    failed_items,
    finished_visits,
    open_visit_at,
    visit_score,
)
from backend.counters import operators_of, services_of, visible_counters
from backend.models import Counter, Inspection, InspectionAnswer, ServiceRequest, Staff
from backend.settings import local_zone
from backend.workdays import add_working_days, holidays

# The items a visit failed are to be seen again (by the next visit) within this many working days.
RECHECK_WORKING_DAYS = 20
VISITS_SHOWN = 5  # on a counter's profile, the latest first


class Trend(StrEnum):
    """The latest visit's score against the one before it."""

    UP = "up"
    DOWN = "down"
    SAME = "same"


@dataclass(frozen=True)
class CounterLine:
    """A counter as /counters lists it."""

    counter: Counter
    score: CounterScore
    trend: Trend | None  # None: fewer than two scored visits
    # The last visit's failed items waiting for the next one, and by when it was due.
    rechecks: int
    recheck_due: datetime | None

    def rechecks_overdue(self, now: datetime) -> bool:
        return self.rechecks > 0 and self.recheck_due is not None and self.recheck_due < now


@dataclass(frozen=True)
class VisitLine:
    visit: Inspection
    inspector: str
    score: VisitScore
    rechecked: int  # the previous visit's failures this one looked at again


@dataclass(frozen=True)
class CounterProfile:
    line: CounterLine
    services: Sequence[str]  # RequestKind, or a defined service's code
    operators: Sequence[str]
    visits: Sequence[VisitLine]  # the latest VISITS_SHOWN finished visits, the latest first
    open_visit: Inspection | None
    filed_this_month: Mapping[RequestKind, int]  # in the current Jalali month, in Tehran


def _trend(scores: Sequence[float | None]) -> Trend | None:
    if len(scores) < 2 or scores[0] is None or scores[1] is None:
        return None
    if abs(scores[0] - scores[1]) < 1e-9:
        return Trend.SAME
    return Trend.UP if scores[0] > scores[1] else Trend.DOWN


def counter_line(
    session: Session, counter: Counter, *, now: datetime, days_off: set[date] | None = None
) -> CounterLine:
    visits = finished_visits(session, counter)
    trend = _trend([visit_score(session, visit).score for visit in visits[:2]])
    rechecks, due = 0, None
    if visits:
        latest = visits[0]
        rechecks = len(failed_items(session, latest))
        if rechecks and latest.finished_at is not None:
            days = holidays(session) if days_off is None else days_off
            due = add_working_days(latest.finished_at, RECHECK_WORKING_DAYS, days)
    return CounterLine(counter, counter_score(session, counter, now=now), trend, rechecks, due)


def counter_lines(session: Session, staff: Staff, *, now: datetime) -> list[CounterLine]:
    """The counters the staff member may see, by code, whatever their status."""
    days_off = holidays(session)
    return [
        counter_line(session, counter, now=now, days_off=days_off)
        for counter in visible_counters(session, staff)
    ]


def month_start(now: datetime) -> datetime:
    """The first moment of the Jalali month `now` falls in, in Tehran."""
    today = jdatetime.date.fromgregorian(date=now.astimezone(local_zone()).date())
    first: date = jdatetime.date(today.year, today.month, 1).togregorian()  # jdatetime is untyped
    return datetime.combine(first, time(), local_zone())


def _filed_since(session: Session, counter: Counter, since: datetime) -> dict[RequestKind, int]:
    rows = session.exec(
        select(ServiceRequest.kind, func.count())
        .where(ServiceRequest.counter_id == counter.id, col(ServiceRequest.created_at) >= since)
        .group_by(col(ServiceRequest.kind))
    ).all()
    counts = {RequestKind(kind): count for kind, count in rows}
    return {kind: counts[kind] for kind in RequestKind if kind in counts}


def _rechecked(session: Session, visit: Inspection) -> int:
    query = select(func.count()).where(
        InspectionAnswer.inspection_id == visit.id, col(InspectionAnswer.recheck_of_id).is_not(None)
    )
    return session.exec(query).one()


def counter_profile(session: Session, counter: Counter, *, now: datetime) -> CounterProfile:
    visits = []
    for visit in finished_visits(session, counter)[:VISITS_SHOWN]:
        inspector = session.get(Staff, visit.inspector_id)
        assert inspector is not None  # staff are deactivated, never deleted
        score = visit_score(session, visit)
        visits.append(VisitLine(visit, inspector.full_name, score, _rechecked(session, visit)))
    return CounterProfile(
        line=counter_line(session, counter, now=now),
        services=services_of(session, counter),
        operators=[staff.full_name for staff in operators_of(session, counter)],
        visits=visits,
        open_visit=open_visit_at(session, counter),
        filed_this_month=_filed_since(session, counter, month_start(now)),
    )
