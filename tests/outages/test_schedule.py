"""The planned-outage schedule: written with a broadcast, entered from a CSV (errors by line),
shown for a follower's feeder or a typed place, and its reminder sent once by the clock's round."""

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from backend.broadcast_audience import Audience, AudienceKind
from backend.broadcasts import OUTAGE_KEY, create_broadcast, outage_params
from backend.constants import BroadcastChannels, BroadcastTopic, Channel, NoticeKind, StaffRole
from backend.importers import ImportFailed
from backend.models import Broadcast, OutageReminder, PlannedOutage, Subscription, utcnow
from backend.outage_schedule import import_planned_outages, reminders_round
from tests.helpers.chat import ChatUser
from tests.helpers.staff import Hire
from tests.outages.conftest import add_outage, notices


def test_a_planned_outage_broadcast_is_kept_as_schedule_entries(
    session: Session, subscription: Subscription
) -> None:
    now = utcnow()
    params = outage_params(
        place="صفاییه", day=date(2030, 1, 5), start=time(9), end=time(12), reason="trees"
    )
    broadcast = create_broadcast(
        session,
        topic=BroadcastTopic.OUTAGE,
        message_key=OUTAGE_KEY,
        params=params,
        audience=Audience(AudienceKind.FEEDERS, feeders=("F-12", "F-13")),
        channels=BroadcastChannels.MESSENGER,
        send_at=now,
        created_by=None,
        progress_to=None,
        now=now,
        dispatch=lambda _: None,
    )
    session.rollback()  # the same transaction: no broadcast, no entries
    assert session.exec(select(PlannedOutage)).all() == []
    broadcast = create_broadcast(
        session,
        topic=BroadcastTopic.OUTAGE,
        message_key=OUTAGE_KEY,
        params=params,
        audience=Audience(AudienceKind.PLACE, city="قم", area="صفاییه"),
        channels=BroadcastChannels.MESSENGER,
        send_at=now,
        created_by=None,
        progress_to=None,
        now=now,
        dispatch=lambda _: None,
    )
    session.commit()
    (entry,) = session.exec(select(PlannedOutage)).all()
    assert (entry.feeder, entry.city, entry.area, entry.broadcast_id) == (
        None,
        "قم",
        "صفاییه",
        broadcast.id,
    )
    assert entry.starts_at.hour == 5 and entry.starts_at.minute == 30  # 09:00 in Tehran
    assert entry.reason == "trees"


def test_a_follower_sees_their_feeders_outage_and_is_reminded_once(
    follower: ChatUser, session: Session, subscription: Subscription
) -> None:
    soon = utcnow() + timedelta(minutes=40)
    later = utcnow() + timedelta(days=2)
    add_outage(session, starts_at=later, feeder="F-12")
    first = add_outage(session, starts_at=soon, city="قم", area="صفاییه")
    add_outage(session, starts_at=soon, feeder="F-99")  # another feeder: not shown
    follower.press("menu:outages")
    assert follower.keys == ["outages.mine"]
    shown = follower.text()
    assert shown.count("•") == 2 and "تعمیرات" in shown
    assert follower.buttons[0] == f"out:remind:{first.id}"  # the soonest first
    follower.press(f"out:remind:{first.id}")
    assert follower.keys[0] == "outages.reminder_set"
    follower.press(f"out:remind:{first.id}")
    assert follower.keys[0] == "outages.reminder_already"
    assert len(session.exec(select(OutageReminder)).all()) == 1

    with Session(session.get_bind()) as clock:
        assert reminders_round(clock, now=utcnow()) == 1
        clock.commit()
    with Session(session.get_bind()) as clock:  # the clock's next round: nothing again
        assert reminders_round(clock, now=utcnow()) == 0
        clock.commit()
    (reminder,) = notices(session, NoticeKind.OUTAGE_REMINDER)
    assert reminder.params["to_channel"] == Channel.TELEGRAM
    assert reminder.params["to_user"] == follower.user_id
    assert reminder.params["place"] == "قم، صفاییه"


def test_a_reminder_is_not_sent_before_the_hour(
    follower: ChatUser, session: Session, subscription: Subscription
) -> None:
    outage = add_outage(session, starts_at=utcnow() + timedelta(hours=3), feeder="F-12")
    follower.press("menu:outages")
    follower.press(f"out:remind:{outage.id}")
    with Session(session.get_bind()) as clock:
        assert reminders_round(clock, now=utcnow()) == 0
        assert reminders_round(clock, now=utcnow() + timedelta(hours=2, minutes=5)) == 1
        clock.commit()


def test_a_typed_place_finds_its_outages_however_it_is_spelled(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    add_outage(session, starts_at=utcnow() + timedelta(days=1), feeder="F-12")
    user.press("menu:outages")
    assert user.keys == ["outages.no_bill_ids"]
    user.say("صفايي\u200cه")  # Arabic ي, a ZWNJ inside
    assert user.keys == ["outages.in_place"], user.keys
    assert "F-12" not in user.text() and "صفاییه" in user.text()
    user.say("تهران")
    assert user.keys[0] == "outages.place_unknown"


CSV_HEAD = "feeder,city,area,date,start,end,reason\n"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "import-formats.md"


def test_the_documented_example_enters_its_two_entries(
    session: Session, subscription: Subscription, tmp_path: Path
) -> None:
    documented = DOCS.read_text(encoding="utf-8").split("## Planned outages")[1]
    (tmp_path / "schedule.csv").write_text(
        documented.split("```csv\n")[1].split("```")[0], encoding="utf-8"
    )
    result = import_planned_outages(session, tmp_path / "schedule.csv", now=utcnow())
    assert (result.created, result.updated) == (2, 0)
    entries = session.exec(select(PlannedOutage).order_by(PlannedOutage.id)).all()
    assert [(e.feeder, e.city, e.area) for e in entries] == [
        ("F-12", None, None),
        (None, "قم", "صفاییه"),
    ]


def test_a_schedule_csv_is_refused_whole_with_its_errors_by_line(
    session: Session, subscription: Subscription, tmp_path: Path
) -> None:
    path = tmp_path / "schedule.csv"
    path.write_text(
        CSV_HEAD
        + "F-12,,,1409/01/05,09:00,12:00,تعمیرات\n"
        + "F-99,,,1409/01/05,09:00,12:00,\n"
        + ",,,1409/01/05,09:00,12:00,\n"
        + ",قم,صفاییه,1409/01/05,12:00,09:00,\n"
        + ",قم,,1409/13/05,۰۸:۰۰,10,\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as failed:
        import_planned_outages(session, path, now=utcnow())
    session.rollback()
    assert [str(e) for e in failed.value.errors] == [
        "line 3: feeder F-99: no subscription is on it",
        "line 4: either feeder or city is required",
        "line 5: end must be after start",
        "line 6: date 1409/13/05: no such Jalali date",
    ]
    assert session.exec(select(PlannedOutage)).all() == []


def test_a_schedule_csv_is_entered_and_again_changes_nothing_but_reasons(
    session: Session, subscription: Subscription, tmp_path: Path
) -> None:
    path = tmp_path / "schedule.csv"
    rows = "F-12,,,1409/01/05,9,12:00,تعمیرات\n,قم,صفايیه,1409/01/06,۰۸:۰۰,10:30,هرس\n"
    path.write_text(CSV_HEAD + rows, encoding="utf-8")
    result = import_planned_outages(session, path, now=utcnow())
    session.commit()
    assert (result.created, result.updated) == (2, 0)
    again = import_planned_outages(session, path, now=utcnow())
    session.commit()
    assert (again.created, again.updated) == (0, 2)
    entries = session.exec(select(PlannedOutage).order_by(PlannedOutage.id)).all()
    assert [(e.feeder, e.city, e.area, e.reason_text) for e in entries] == [
        ("F-12", None, None, "تعمیرات"),
        (None, "قم", "صفاییه", "هرس"),
    ]


def test_a_supervisor_enters_a_schedule_csv_in_the_chat_without_broadcasting(
    hire: Hire, session: Session, subscription: Subscription
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say("/outages")
    assert supervisor.keys == ["outages.csv_prompt"]
    bad = (CSV_HEAD + "F-99,,,1409/01/05,09:00,12:00,\n").encode()
    supervisor.upload("schedule.csv", bad, "text/csv")
    assert supervisor.heads[0] == "outages.csv_refused"
    assert "سطر ۲" in supervisor.text() and "F-99" in supervisor.text()
    good = (CSV_HEAD + "F-12,,,1409/01/05,09:00,12:00,تعمیرات\n").encode()
    supervisor.upload("schedule.csv", good, "text/csv")
    assert supervisor.keys[0] == "outages.csv_imported"
    assert len(session.exec(select(PlannedOutage)).all()) == 1
    assert session.exec(select(Broadcast)).all() == []
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    assert reviewer.run("/outages")[0] == "staff.not_your_role"
