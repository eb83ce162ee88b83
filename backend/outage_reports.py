"""Outage reports (as 121 takes them): each with a tracking code, grouped into one incident per
feeder (an area, for a report without a bill ID) while they keep coming; a planned outage going
on there is named in the answer; staff resolve an incident and every reporter is told."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.constants import Channel, IncidentStatus, NoticeKind, OutageProblem
from backend.db import lock_until_commit
from backend.models import OutageIncident, OutageReport, PlannedOutage, Staff, Subscription
from backend.notices import queue_chat_notice
from backend.outage_schedule import covers_place, covers_subscription, current_outage
from backend.tracked_codes import unused_tracking_code
from backend.workflows import Refused

INCIDENTS_SHOWN = 30
INCIDENT_LOCKS = 7302  # the advisory-lock space of incidents' places (any fixed number)


@dataclass(frozen=True)
class Where:
    """Where the power is out: a bill ID's feeder and place, or a place alone (a location
    shared without a bill ID: no feeder can be known from coordinates without the GIS)."""

    city: str
    area: str | None
    subscription: Subscription | None = None

    @property
    def feeder(self) -> str | None:
        return self.subscription.feeder if self.subscription is not None else None

    @property
    def key(self) -> str:
        """The place its incidents are grouped by, as one string."""
        return (
            f"feeder:{self.feeder}" if self.feeder is not None else f"area:{self.city}/{self.area}"
        )

    @classmethod
    def of(cls, subscription: Subscription) -> "Where":
        return cls(subscription.city, subscription.area, subscription)


@dataclass(frozen=True)
class Filed:
    report: OutageReport
    incident: OutageIncident
    reports: int  # in the incident, this one included
    joined: bool  # an open incident had it reported already
    planned: PlannedOutage | None  # a planned outage going on there now


def _same_place(where: Where) -> sa.ColumnElement[bool]:
    if where.feeder is not None:
        return col(OutageIncident.feeder) == where.feeder
    area = (
        col(OutageIncident.area) == where.area
        if where.area is not None
        else col(OutageIncident.area).is_(None)
    )
    return sa.and_(
        col(OutageIncident.feeder).is_(None), col(OutageIncident.city) == where.city, area
    )


def _open_incident(session: Session, where: Where, *, since: datetime) -> OutageIncident | None:
    """The open incident of that feeder (or area) whose last report came after `since`,
    under its row lock: reports joining it are counted one at a time."""
    return session.exec(
        select(OutageIncident)
        .where(
            OutageIncident.status == IncidentStatus.OPEN,
            _same_place(where),
            col(OutageIncident.last_report_at) >= since,
        )
        .order_by(col(OutageIncident.id).desc())
        .with_for_update()
    ).first()


def report_count(session: Session, incident_id: int) -> int:
    count = session.scalar(
        sa.select(sa.func.count()).where(col(OutageReport.incident_id) == incident_id)
    )
    return int(count or 0)


def file_report(
    session: Session,
    *,
    where: Where,
    problem: OutageProblem,
    channel: Channel,
    user_id: str,
    location: tuple[float, float] | None,
    window: timedelta,
    now: datetime,
) -> Filed:
    """Stores the report with a new tracking code, in the incident of its feeder (or area)
    that had a report within `window`, or a new one."""
    # Two first reports of one feeder at once would otherwise each open an incident.
    lock_until_commit(session, INCIDENT_LOCKS, where.key)
    incident = _open_incident(session, where, since=now - window)
    joined = incident is not None
    if incident is None:
        incident = OutageIncident(
            feeder=where.feeder,
            city=where.city,
            area=where.area,
            status=IncidentStatus.OPEN,
            opened_at=now,
            last_report_at=now,
        )
        session.add(incident)
        session.flush()
    assert incident.id is not None
    incident.last_report_at = now
    report = OutageReport(
        tracking_code=unused_tracking_code(session),
        incident_id=incident.id,
        problem=problem,
        channel=channel,
        user_id=user_id,
        subscription_id=where.subscription.id if where.subscription is not None else None,
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        created_at=now,
    )
    session.add_all([incident, report])
    session.flush()
    covers = (
        covers_subscription(where.subscription)
        if where.subscription is not None
        else covers_place(where.city, where.area)
    )
    return Filed(
        report,
        incident,
        report_count(session, incident.id),
        joined,
        current_outage(session, covers, now=now),
    )


def open_incidents(session: Session) -> list[tuple[OutageIncident, int]]:
    """The open incidents, the most reported first, with their report counts."""
    count = sa.func.count(col(OutageReport.id)).label("reports")
    rows = session.exec(
        select(OutageIncident, count)
        .join(OutageReport, col(OutageReport.incident_id) == col(OutageIncident.id))
        .where(OutageIncident.status == IncidentStatus.OPEN)
        .group_by(col(OutageIncident.id))
        .order_by(count.desc(), col(OutageIncident.opened_at))
        .limit(INCIDENTS_SHOWN)
    ).all()
    return [(incident, int(reports)) for incident, reports in rows]


def resolve_incident(
    session: Session, incident_id: int, staff: Staff, *, now: datetime
) -> tuple[OutageIncident, int]:
    """Marks the incident resolved and tells each reporter (their chat, their language), once
    per chat; the incident and how many were told. Refused if it is not open."""
    incident = session.get(OutageIncident, incident_id, with_for_update=True)
    if incident is None:
        raise Refused("incident_unknown", id=incident_id)
    if incident.status != IncidentStatus.OPEN:
        raise Refused("incident_resolved", id=incident_id, resolved_at=incident.resolved_at)
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at, incident.resolved_by = now, staff.id
    session.add(incident)
    reports = session.exec(
        select(OutageReport)
        .where(OutageReport.incident_id == incident_id)
        .order_by(col(OutageReport.id))
    ).all()
    told: set[tuple[str, str]] = set()
    for report in reports:
        if (report.channel, report.user_id) in told:
            continue
        told.add((report.channel, report.user_id))
        queue_chat_notice(
            session,
            NoticeKind.INCIDENT_RESOLVED,
            channel=report.channel,
            user_id=report.user_id,
            subscription_id=report.subscription_id,
            now=now,
            code=report.tracking_code,
            reported_at=report.created_at,
            resolved_at=now,
        )
    session.flush()
    return incident, len(told)


def report_by_code(session: Session, code: str) -> OutageReport | None:
    return session.exec(select(OutageReport).where(OutageReport.tracking_code == code)).first()
