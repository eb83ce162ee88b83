"""Outage reports: grouped per feeder within the window, the planned outage named, the dangerous
answered first, a location kept with the area, staff listing and resolving, every reporter told,
and a report's code answering its status."""

import threading
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel, IncidentStatus, NoticeKind, OutageProblem, StaffRole
from backend.db import session_scope
from backend.models import OutageIncident, OutageReport, Subscription, utcnow
from backend.outage_reports import Filed, Where, file_report, report_count
from dialogs.engine import DialogEngine
from dialogs.events import EventKind
from tests.helpers.chat import ChatUser
from tests.helpers.db import waits_for_a_lock
from tests.helpers.staff import Hire
from tests.outages.conftest import add_outage, follow, notices

WINDOW = timedelta(hours=2)


def report(user: ChatUser, subscription: Subscription, problem: str = "no_power") -> str:
    user.press("menu:report_outage")
    assert user.keys == ["report.where_prompt"]
    user.say(subscription.bill_id)
    assert user.keys == ["report.problem_prompt"]
    user.press(f"rep:problem:{problem}")
    code: str = user.answer.replies[-2].text.params["code"].value  # type: ignore[union-attr]
    return code


def test_reports_on_one_feeder_join_one_incident_within_the_window(
    dialog_engine: DialogEngine, session: Session, subscription: Subscription
) -> None:
    first, second = ChatUser(dialog_engine, "2001"), ChatUser(dialog_engine, "2002")
    first.say("/start")
    second.say("/start")
    report(first, subscription)
    assert first.keys == ["report.filed", "menu.prompt"]
    report(second, subscription, "one_phase")
    assert second.keys == ["report.filed_known", "menu.prompt"]
    assert second.answer.replies[0].text.params["count"] == 2  # type: ignore[union-attr]
    (incident,) = session.exec(select(OutageIncident)).all()
    assert incident.feeder == "F-12"
    assert len(session.exec(select(OutageReport)).all()) == 2


def test_a_report_after_the_window_opens_a_new_incident(
    session: Session, subscription: Subscription
) -> None:
    where = Where.of(subscription)
    now = utcnow()

    def filed_at(moment: datetime) -> Filed:
        return file_report(
            session,
            where=where,
            problem=OutageProblem.NO_POWER,
            channel=Channel.TELEGRAM,
            user_id="3001",
            location=None,
            window=WINDOW,
            now=moment,
        )

    first = filed_at(now)
    within = filed_at(now + timedelta(minutes=110))
    after = filed_at(now + timedelta(minutes=110) + WINDOW + timedelta(minutes=1))
    session.commit()
    assert within.joined and within.incident.id == first.incident.id and within.reports == 2
    assert not after.joined and after.incident.id != first.incident.id and after.reports == 1


def test_a_report_in_a_planned_outage_says_when_power_is_back(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    add_outage(session, starts_at=utcnow() - timedelta(hours=1), hours=3, feeder="F-12")
    report(user, subscription)
    assert user.keys[0] == "report.filed_planned"
    assert "تا ساعت" in user.text()


def test_a_fallen_wire_is_answered_first_with_the_safety_advice(
    user: ChatUser, subscription: Subscription
) -> None:
    report(user, subscription, "wire_down")
    assert user.keys == ["report.danger", "report.filed", "menu.prompt"]
    assert "۱۲۱" in user.text()


def test_a_shared_location_is_kept_with_the_area_asked_for(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.press("menu:report_outage")
    user._send(kind=EventKind.LOCATION, location=(34.64, 50.88))
    assert user.keys == ["report.location_kept", "report.place_prompt"]
    user.say("قم/صفايیه")
    assert user.keys == ["report.problem_prompt"]
    user.press("rep:problem:no_power")
    assert user.keys[0] == "report.filed"
    (stored,) = session.exec(select(OutageReport)).all()
    assert (stored.latitude, stored.longitude, stored.subscription_id) == (34.64, 50.88, None)
    (incident,) = session.exec(select(OutageIncident)).all()
    assert (incident.feeder, incident.city, incident.area) == (None, "قم", "صفاییه")


def test_staff_resolve_an_incident_and_every_reporter_is_told(
    dialog_engine: DialogEngine, session: Session, subscription: Subscription, hire: Hire
) -> None:
    reporters = [ChatUser(dialog_engine, f"40{n}") for n in range(3)]
    for reporter in reporters:
        reporter.say("/start")
        report(reporter, subscription)
    report(reporters[0], subscription)  # twice from one chat: told once
    technician = hire(StaffRole.FIELD_TECHNICIAN)
    technician.say("/incidents")
    assert technician.keys == ["incidents.list"]
    assert "۴ گزارش" in technician.text()
    (incident,) = session.exec(select(OutageIncident)).all()
    technician.say(f"/resolve {incident.id}")
    assert technician.keys[0] == "incidents.resolved"
    told = notices(session, NoticeKind.INCIDENT_RESOLVED)
    assert sorted(n.params["to_user"] for n in told) == ["400", "401", "402"]
    session.refresh(incident)
    assert incident.status == IncidentStatus.RESOLVED
    technician.say(f"/resolve {incident.id}")
    assert technician.keys[0] == "refused.incident_resolved"
    assert len(notices(session, NoticeKind.INCIDENT_RESOLVED)) == 3
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say("/incidents")
    assert reviewer.keys[0] == "staff.not_your_role"


def test_a_reports_code_answers_its_status(
    dialog_engine: DialogEngine, session: Session, subscription: Subscription
) -> None:
    reporter = ChatUser(dialog_engine, "5001")
    reporter.say("/start")
    code = report(reporter, subscription)
    texter = ChatUser(dialog_engine, "+989121110000", channel=Channel.SMS)
    texter.say(code)
    assert texter.keys[0] == "track.report_open", texter.keys


def test_the_menu_keeps_its_rows_and_adds_these_after_them(user: ChatUser) -> None:
    user.say("/menu")
    rows = user.buttons
    mine = rows.index("menu:outages")
    assert rows[mine : mine + 3] == ["menu:outages", "menu:report_outage", "menu:self_reading"]
    assert rows.index("menu:language") < mine and rows[0] == "menu:review"


def test_a_follower_reports_by_pressing_their_bill_id(
    user: ChatUser, subscription: Subscription
) -> None:
    follow(user, subscription)
    user.press("menu:report_outage")
    user.press(f"rep:sub:{subscription.id}")
    assert user.keys == ["report.problem_prompt"]


def test_two_first_reports_of_one_feeder_at_once_open_one_incident(
    engine: sa.Engine, session: Session, subscription: Subscription
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite every writing transaction takes the database's write lock first")
    where, now = Where.of(subscription), utcnow()

    def file(db: Session, user_id: str) -> Filed:
        return file_report(
            db,
            where=where,
            problem=OutageProblem.NO_POWER,
            channel=Channel.TELEGRAM,
            user_id=user_id,
            location=None,
            window=WINDOW,
            now=now,
        )

    joined: list[bool] = []

    def second_reporter() -> None:
        with session_scope(engine) as db:
            joined.append(file(db, "3102").joined)

    with session_scope(engine) as db:
        assert not file(db, "3101").joined  # opened, not yet committed, when the second comes
        other = threading.Thread(target=second_reporter)
        other.start()
        deadline = time.monotonic() + 10
        while not joined and not waits_for_a_lock(engine):
            assert time.monotonic() < deadline, "the second report neither waited nor finished"
            time.sleep(0.01)
    other.join(10)
    assert joined == [True]
    (incident,) = session.exec(select(OutageIncident)).all()
    assert report_count(session, incident.id or 0) == 2
