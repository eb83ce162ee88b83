"""How well the deadlines are kept, computed from the request history alone (no second
bookkeeping): every staff step a service gives a target in working days, when it started and
ended, grouped by service, step, area, channel, staff member, counter or week.

The steps are every service's definition's (backend.services; the built services' agree with
their code, tests/services/test_agreement.py): a step with a target of its own, in working days
or a Settings field, starts with the event that enters it (the filing enters the first) and ends
with the request's next event that enters a step not keeping the deadline running. A step
waiting on the subscriber, or untimed, has no target: it is not counted. Done: ended other
than by a withdrawal or a declined offer. Within its target: ended by the deadline
add_working_days gives (today's targets and holidays, Fridays off). Overdue now: still open
past it. The share on time is of the steps whose outcome is known: done, or open and late.

Times are on a working clock: a working day counts its 24 hours, a Friday or a holiday none, so
a step from Wednesday 10:00 to Saturday 10:00 took 2 working days. Percentiles interpolate as
PostgreSQL's percentile_cont does.

Every figure is of the steps that started in the period. On PostgreSQL the figures are SQL
aggregates (the calendar, the clock and the percentiles in the query; no rows come to Python);
elsewhere (SQLite, the embedded default, small by nature) the steps are fetched and counted
here, the same way, since SQLite has neither time zones nor percentiles.
"""

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from backend.constants import RequestKind, RequestStatus
from backend.models import (
    Feedback,
    Holiday,
    RequestEvent,
    ServiceRequest,
    Subscription,
    UTCDateTime,
)
from backend.periods import Period, local_day, week_start
from backend.services.loader import definitions
from backend.services.schema import SUBSCRIBER, Step
from backend.settings import Settings, get_settings, local_zone
from backend.workdays import holidays, is_working_day

COUNTER_CHANNEL = "counter"  # the channel of a request filed at a pishkhan counter
# The built services' filing targets, as backend.service_requests' callers give them: the
# bench walks histories from them, and tests/services/test_agreement.py checks that the
# definitions, which the report reads, say the same.
FILING_TARGETS: Mapping[RequestKind, str] = {
    RequestKind.BILL_REVIEW: "review_working_days",
    RequestKind.CONNECTION_REMOVAL: "fee_announcement_working_days",
}
# A step ended by these was not done: the subscriber withdrew or declined.
NOT_DONE = (RequestStatus.WITHDRAWN, RequestStatus.ARCHIVED)
SECONDS_A_DAY = 86400


@dataclass(frozen=True)
class TimedStep:
    """A step of a service with a target of its own: it runs from the event entering `status`."""

    service: str  # the definition's code: the request's kind
    status: str  # the step's code
    name: str  # what the reports call it (step_name)
    working_days: int | None  # the target, or
    setting: str | None  # the Settings field holding it

    def target(self, settings: Settings) -> int:
        if self.setting is not None:
            return int(getattr(settings, self.setting))
        assert self.working_days is not None  # timed_steps keeps only steps with a target
        return self.working_days


def step_name(service: str, step: Step) -> str:
    """A built service's step by its target's setting, as the reports have always named them
    (`review_working_days` → `review`: the two steps ending in the result told are one); a data
    service's by the service and the step's code (`meter_test.submitted`), codes repeating
    across services. channels.workbooks.step_label words both."""
    if service in set(RequestKind) and step.working_days_setting is not None:
        return step.working_days_setting.removesuffix("_working_days")
    return f"{service}.{step.code}"


@cache
def timed_steps() -> tuple[TimedStep, ...]:
    """Every service's steps that staff (or the desk) owe by a target, in definition order."""
    return tuple(
        TimedStep(
            code, step.code, step_name(code, step), step.working_days, step.working_days_setting
        )
        for code, definition in definitions().items()
        for step in definition.steps
        if step.role != SUBSCRIBER
        and (step.working_days is not None or step.working_days_setting is not None)
    )


@cache
def step_boundaries() -> Mapping[str, frozenset[str]]:
    """Each service's statuses whose entry ends the step before and starts its own, if timed:
    every step but those keeping the running deadline (a review taken goes on as the review)."""
    return {
        code: frozenset(step.code for step in definition.steps if not step.keeps_deadline)
        for code, definition in definitions().items()
    }


def step_names(services: Iterable[str]) -> list[str]:
    """The steps of these services, each once, in definition order."""
    wanted = set(services)
    return list(dict.fromkeys(s.name for s in timed_steps() if s.service in wanted))


class Dimension(StrEnum):
    SERVICE = "service"  # the request's kind: a definition's code
    STEP = "step"
    AREA = "area"  # the subscription's city and area: two parts of the key
    CHANNEL = "channel"  # where it was filed: telegram, bale, sms, shell, or counter
    STAFF = "staff"  # who ended the step ("staff:ID", "system"…); the holder of an open one
    COUNTER = "counter"  # the counter's id (None: not filed at one)
    WEEK = "week"  # the Saturday of the week the step started


@dataclass(frozen=True)
class Scope:
    """Which requests a report counts; None is any."""

    kind: str | None = None  # a service: a definition's code
    city: str | None = None
    area: str | None = None
    channel: str | None = None  # a Channel or COUNTER_CHANNEL
    counter_id: int | None = None


EVERYTHING = Scope()


def channel_of_request() -> sa.ColumnElement[str]:
    """A request's channel as reports count it: the counter for one filed at a counter."""
    return sa.case(
        (col(ServiceRequest.counter_id).is_not(None), sa.literal(COUNTER_CHANNEL)),
        else_=col(ServiceRequest.channel),
    )


def in_scope(query: Any, scope: Scope) -> Any:
    """`query`, which joins the request and its subscription, kept to the scope's requests."""
    if scope.kind is not None:
        query = query.where(col(ServiceRequest.kind) == scope.kind)
    if scope.city is not None:
        query = query.where(col(Subscription.city) == scope.city)
    if scope.area is not None:
        query = query.where(col(Subscription.area) == scope.area)
    if scope.channel is not None:
        query = query.where(channel_of_request() == scope.channel)
    if scope.counter_id is not None:
        query = query.where(col(ServiceRequest.counter_id) == scope.counter_id)
    return query


@dataclass(frozen=True)
class Figures:
    requests: int  # requests with a step started in the period
    steps: int
    done: int
    on_time: int  # done within the target
    overdue: int  # still open, past the target now
    mean_days: float | None  # of the steps done, in working days
    median_days: float | None
    p90_days: float | None
    csat_average: float | None  # the scores of those requests (1-5)
    csat_count: int

    @property
    def on_time_share(self) -> float | None:
        """Of the steps whose outcome is known (done, or open and late), those on time."""
        known = self.done + self.overdue
        return self.on_time / known if known else None


NO_FIGURES = Figures(0, 0, 0, 0, 0, None, None, None, None, 0)  # of a group with no step
Key = tuple[Any, ...]


@dataclass(frozen=True)
class Row:
    key: Key  # one value per dimension asked (two for AREA: city, area)
    figures: Figures


def compliance(
    session: Session,
    *,
    period: Period,
    dimensions: Sequence[Dimension] = (),
    scope: Scope = EVERYTHING,
    now: datetime,
    settings: Settings | None = None,
) -> list[Row]:
    """The figures of each group of steps started in `period`, sorted by key; no dimensions:
    one row of them all (with zeros when nothing started)."""
    settings = settings or get_settings()
    days_off = holidays(session)
    calendar = WorkingCalendar(period, now, days_off)
    if session.get_bind().dialect.name == "postgresql":
        rows = _aggregate_in_sql(session, period, dimensions, scope, now, settings, calendar)
    else:
        rows = _aggregate_here(session, period, dimensions, scope, now, settings, calendar)
    if not dimensions and not rows:
        rows = [Row((), NO_FIGURES)]
    return sorted(rows, key=lambda row: tuple(_sortable(value) for value in row.key))


def _sortable(value: Any) -> tuple[int, str]:
    return (1, "") if value is None else (0, str(value))


class WorkingCalendar:
    """The working clock over a span of local days: a moment's working days since the span
    began (a working day's hours count, a Friday's or a holiday's do not)."""

    def __init__(self, period: Period, now: datetime, days_off: set[date]) -> None:
        # Steps start in the period and end by now, which may come before it or after.
        first = self.first = min(period.first, local_day(now))
        self.last = max(period.last, local_day(now))
        self.days_off = days_off
        self._before: dict[date, int] = {}  # working days from `first` up to the day, itself in
        count = 0
        day = first
        while day <= self.last:
            count += is_working_day(day, days_off)
            self._before[day] = count
            day += timedelta(days=1)

    def clock(self, moment: datetime) -> float:
        local = moment.astimezone(local_zone())
        count = self._before[local.date()]
        if not is_working_day(local.date(), self.days_off):
            return float(count)  # the end of the last working day
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return count - 1 + (local - midnight).total_seconds() / SECONDS_A_DAY

    def deadline_clock(self, start: datetime, target: int) -> float:
        """Where the clock stands at add_working_days(start, target): the same time of day,
        `target` working days after the start's day (even one off work)."""
        local = start.astimezone(local_zone())
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        fraction = (local - midnight).total_seconds() / SECONDS_A_DAY
        return self._before[local.date()] + target - 1 + fraction


def percentile(values: Sequence[float], share: float) -> float | None:
    """As percentile_cont: linear between the two nearest ranks of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- The steps, as one query both ways share ---


def _steps_query(period: Period, scope: Scope, settings: Settings) -> Any:
    """One row per step started in the period: its start and end, who ended it, its target,
    and the request's dimensions."""
    event, request = RequestEvent, ServiceRequest
    kind, entered = col(request.kind), col(event.to_status)
    starts = [((kind == s.service) & (entered == s.status), s) for s in timed_steps()]
    step = sa.case(*((when, sa.literal(s.name)) for when, s in starts), else_=sa.null())
    target = sa.case(
        *((when, sa.literal(s.target(settings))) for when, s in starts), else_=sa.null()
    )
    window: dict[str, Any] = {"partition_by": col(event.request_id), "order_by": col(event.id)}
    boundaries = (
        sa.select(
            col(event.request_id).label("request_id"),
            col(event.created_at).label("started_at"),
            step.label("step"),
            target.label("target"),
            sa.func.lead(col(event.created_at), type_=UTCDateTime())
            .over(**window)
            .label("ended_at"),
            sa.func.lead(col(event.actor)).over(**window).label("ended_by"),
            sa.func.lead(col(event.to_status)).over(**window).label("end_status"),
        )
        .join(request, col(request.id) == col(event.request_id))
        .where(
            col(event.created_at) >= period.start,
            sa.or_(*((kind == k) & entered.in_(sorted(s)) for k, s in step_boundaries().items())),
        )
        .subquery("boundaries")
    )
    b = boundaries.c
    channel = channel_of_request()
    holder = sa.case(
        (col(request.assignee_id).is_not(None), "staff:" + sa.cast(request.assignee_id, sa.String)),
        else_=sa.null(),
    )
    query = (
        sa.select(
            b.request_id,
            b.step,
            b.target,
            b.started_at,
            b.ended_at,
            b.end_status,
            col(request.kind).label("service"),
            col(Subscription.city).label("city"),
            col(Subscription.area).label("area"),
            channel.label("channel"),
            sa.func.coalesce(b.ended_by, holder).label("staff"),
            col(request.counter_id).label("counter"),
        )
        .join(request, col(request.id) == b.request_id)
        .join(Subscription, col(Subscription.id) == col(request.subscription_id))
        .where(b.step.is_not(None), b.started_at < period.end)
    )
    return in_scope(query, scope).subquery("steps")


def _key_columns(steps: Any, dimension: Dimension) -> list[Any]:
    if dimension == Dimension.AREA:
        return [steps.c.city, steps.c.area]
    return [steps.c[dimension.value]]


# --- PostgreSQL: all of it in the query ---


def _aggregate_in_sql(
    session: Session,
    period: Period,
    dimensions: Sequence[Dimension],
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkingCalendar,
) -> list[Row]:
    zone = local_zone().key
    steps = _steps_query(period, scope, settings)
    series = (
        sa.func.generate_series(
            sa.cast(calendar.first, sa.Date),
            sa.cast(calendar.last, sa.Date),
            sa.text("interval '1 day'"),
        )
        .table_valued("moment")
        .render_derived("series")
    )
    day = sa.cast(series.c.moment, sa.Date)
    working = sa.and_(
        sa.extract("isodow", day) != 5,  # Friday (ISO: Monday is 1)
        ~sa.exists().where(col(Holiday.day) == day),
    )
    days = (
        sa.select(
            day.label("day"),
            working.label("working"),
            sa.func.sum(sa.case((working, 1), else_=0)).over(order_by=day).label("before"),
        )
        .select_from(series)
        .cte("days")
    )
    start_day, end_day = days.alias("start_day"), days.alias("end_day")

    def local(moment: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.func.timezone(zone, moment)

    def fraction(moment: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        since_midnight = local(moment) - sa.func.date_trunc("day", local(moment))
        return sa.extract("epoch", since_midnight) / SECONDS_A_DAY

    def clock(moment: sa.ColumnElement[Any], on: Any) -> sa.ColumnElement[Any]:
        return sa.case((on.c.working, on.c.before - 1 + fraction(moment)), else_=on.c.before)

    s = steps.c
    deadline = start_day.c.before + s.target - 1 + fraction(s.started_at)
    ended = clock(s.ended_at, end_day)
    done = sa.and_(s.ended_at.is_not(None), s.end_status.not_in(list(NOT_DONE)))
    started_local_day = sa.cast(local(s.started_at), sa.Date)
    week = started_local_day - sa.cast(
        (sa.extract("isodow", started_local_day) + 1) % 7, sa.Integer
    )
    measured = (
        sa.select(
            *(c for c in steps.c if c.name not in ("started_at", "ended_at")),
            week.label("week"),
            done.label("done"),
            (done & (ended <= deadline)).label("on_time"),
            (s.ended_at.is_(None) & (calendar.clock(now) > deadline)).label("overdue"),
            sa.case((done, ended - clock(s.started_at, start_day)), else_=sa.null()).label(
                "duration"
            ),
        )
        .join(start_day, start_day.c.day == started_local_day)
        .outerjoin(end_day, end_day.c.day == sa.cast(local(s.ended_at), sa.Date))
        .subquery("measured")
    )
    m = measured.c
    keys = [c for d in dimensions for c in _key_columns(measured, d)]
    counted = session.execute(
        sa.select(
            *keys,
            sa.func.count(sa.distinct(m.request_id)),
            sa.func.count(),
            sa.func.count().filter(m.done),
            sa.func.count().filter(m.on_time),
            sa.func.count().filter(m.overdue),
            sa.func.avg(m.duration).filter(m.done),
            sa.func.percentile_cont(0.5).within_group(m.duration).filter(m.done),
            sa.func.percentile_cont(0.9).within_group(m.duration).filter(m.done),
        ).group_by(*keys)
    ).all()
    requests = sa.select(*keys, m.request_id).distinct().subquery("requests")
    request_keys = [requests.c[c.name] for c in keys]
    scores = {
        tuple(row[:-2]): (row[-2], row[-1])
        for row in session.execute(
            sa.select(
                *request_keys, sa.func.avg(col(Feedback.score)), sa.func.count(col(Feedback.id))
            )
            .select_from(requests)
            .join(Feedback, col(Feedback.request_id) == requests.c.request_id)
            .group_by(*request_keys)
        ).all()
    }
    rows = []
    for row in counted:
        key = tuple(row[: len(keys)])
        figures = row[len(keys) :]
        average, count = scores.get(key, (None, 0))
        rows.append(
            Row(
                key,
                Figures(
                    *(int(value) for value in figures[:5]),  # type: ignore[misc]
                    mean_days=_float(figures[5]),
                    median_days=_float(figures[6]),
                    p90_days=_float(figures[7]),
                    csat_average=_float(average),
                    csat_count=int(count),
                ),
            )
        )
    return rows


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# --- Elsewhere: the steps fetched and counted here ---


@dataclass(frozen=True)
class StepRow:
    """One step started in the period, measured on the working clock."""

    request_id: int
    step: str
    target: int  # working days
    started_at: datetime
    ended_at: datetime | None
    staff: str | None  # who ended it; the holder of an open one
    done: bool
    on_time: bool
    overdue: bool
    working_days: float | None  # of a step done
    dimensions: Mapping[str, Any]  # the request's: service, city, area, channel, counter, week


def step_rows(
    session: Session,
    *,
    period: Period,
    scope: Scope = EVERYTHING,
    now: datetime,
    settings: Settings | None = None,
) -> list[StepRow]:
    """Each step started in the period, in the order they started (an export's rows: what the
    aggregates count, step by step)."""
    settings = settings or get_settings()
    calendar = WorkingCalendar(period, now, holidays(session))
    return _measured(session, period, scope, now, settings, calendar)


def _measured(
    session: Session,
    period: Period,
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkingCalendar,
) -> list[StepRow]:
    steps = _steps_query(period, scope, settings)
    query = sa.select(steps).order_by(steps.c.started_at, steps.c.request_id)
    now_clock = calendar.clock(now)
    rows = []
    for step in session.execute(query).mappings():
        deadline = calendar.deadline_clock(step["started_at"], step["target"])
        ended = step["ended_at"]
        done = ended is not None and step["end_status"] not in NOT_DONE
        days = calendar.clock(ended) - calendar.clock(step["started_at"]) if done else None
        rows.append(
            StepRow(
                request_id=step["request_id"],
                step=step["step"],
                target=step["target"],
                started_at=step["started_at"],
                ended_at=ended,
                staff=step["staff"],
                done=done,
                on_time=done and calendar.clock(ended) <= deadline,
                overdue=ended is None and now_clock > deadline,
                working_days=days,
                dimensions={
                    "service": step["service"],
                    "city": step["city"],
                    "area": step["area"],
                    "channel": step["channel"],
                    "counter": step["counter"],
                    "step": step["step"],
                    "staff": step["staff"],
                    "week": week_start(local_day(step["started_at"])),
                },
            )
        )
    return rows


def _aggregate_here(
    session: Session,
    period: Period,
    dimensions: Sequence[Dimension],
    scope: Scope,
    now: datetime,
    settings: Settings,
    calendar: WorkingCalendar,
) -> list[Row]:
    measured = _measured(session, period, scope, now, settings, calendar)
    scores = dict(
        session.execute(
            sa.select(col(Feedback.request_id), col(Feedback.score)).where(
                col(Feedback.request_id).in_({step.request_id for step in measured})
            )
        ).all()
    )
    groups: dict[Key, list[StepRow]] = defaultdict(list)
    for step in measured:
        values = step.dimensions
        key = tuple(
            value
            for d in dimensions
            for value in ((values["city"], values["area"]) if d == Dimension.AREA else (values[d],))
        )
        groups[key].append(step)
    rows = []
    for key, members in groups.items():
        durations = [s.working_days for s in members if s.working_days is not None]
        requests = {step.request_id for step in members}
        given = [scores[r] for r in requests if r in scores]
        figures = Figures(
            requests=len(requests),
            steps=len(members),
            done=len(durations),
            on_time=sum(s.on_time for s in members),
            overdue=sum(s.overdue for s in members),
            mean_days=statistics.fmean(durations) if durations else None,
            median_days=percentile(durations, 0.5),
            p90_days=percentile(durations, 0.9),
            csat_average=statistics.fmean(given) if given else None,
            csat_count=len(given),
        )
        rows.append(Row(key, figures))
    return rows


def by_key(rows: Iterable[Row]) -> dict[Key, Figures]:
    return {row.key: row.figures for row in rows}
