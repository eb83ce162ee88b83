"""Issue 12's checks: hidden papers said to exist, /overdue's holder and lateness, the binding's
reply, and the admin command line's list, deactivate and role change."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel, ReviewReason, StaffRole
from backend.models import Bill, Staff, Subscription, utcnow
from backend.service_requests import file_bill_review
from backend.settings import Settings
from backend.staff import working_days_late
from dialogs.staff import listed
from locales.values import PLAIN, Code, Msg, render
from tests.helpers.filing import request_of
from tests.helpers.staff import Hire, lines_of
from tests.staff.conftest import file_removal, run_backend

TEHRAN = ZoneInfo("Asia/Tehran")


def test_show_tells_finance_that_identity_papers_exist_and_who_sees_them(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code = file_removal(session, subscription, settings)  # with its ID card
    finance = hire(StaffRole.FINANCE)
    finance.say(f"/show {code}")
    assert finance.answer is not None
    documents = finance.answer.replies[-1]
    assert documents.files == []  # the card itself is not theirs to see
    hidden = lines_of(documents.text)[1]
    assert hidden.key == "staff.show.documents_hidden" and hidden.params["count"] == 1
    assert "مدرک هویتی" in finance.text() and "مدیر سامانه" in finance.text()
    assert "مدیر سامانه و سرپرست آن را می‌بینند" in finance.text()  # a list, as it is said

    admin = hire(StaffRole.ADMIN)
    admin.say(f"/show {code}")
    assert admin.answer is not None
    assert len(admin.answer.replies[-1].files) == 1
    assert admin.answer.replies[-1].text.key == "staff.show.documents"  # nothing hidden from them


def test_working_days_late_counts_whole_working_days_in_tehran() -> None:
    due = datetime(2026, 11, 28, 10, 0, tzinfo=TEHRAN)  # a Saturday
    assert working_days_late(due, due + timedelta(hours=3), set()) == 0
    assert working_days_late(due, datetime(2026, 11, 30, 9, 0, tzinfo=TEHRAN), set()) == 1
    assert working_days_late(due, datetime(2026, 11, 30, 11, 0, tzinfo=TEHRAN), set()) == 2
    # A Friday is no working day, nor is a holiday.
    thursday = datetime(2026, 11, 26, 10, 0, tzinfo=TEHRAN)
    assert working_days_late(thursday, datetime(2026, 11, 28, 11, 0, tzinfo=TEHRAN), set()) == 1
    holiday = {datetime(2026, 11, 28).date()}
    assert working_days_late(thursday, datetime(2026, 11, 28, 11, 0, tzinfo=TEHRAN), holiday) == 0


def test_overdue_shows_who_holds_each_request_and_how_late_it_is(
    hire: Hire, session: Session, subscription: Subscription
) -> None:
    bill = session.exec(select(Bill).where(Bill.subscription_id == subscription.id)).first()
    assert bill is not None
    filed = utcnow() - timedelta(days=12)
    late = file_bill_review(
        session,
        channel=Channel.TELEGRAM,
        channel_user_id="1001",
        bill=bill,
        reason=ReviewReason.HIGH_CONSUMPTION,
        description="مصرف زیاد",
        documents=[],
        now=filed,
        review_working_days=1,
    )
    session.commit()
    reviewer = hire(StaffRole.BILLING_REVIEWER, "مینا رضایی")
    supervisor = hire(StaffRole.SUPERVISOR)

    supervisor.say("/overdue")
    (item,) = lines_of(supervisor.last)[1:]
    assert item.key == "staff.queue.item_overdue"
    assert item.params["holder"] == Msg("staff.queue.held_by_nobody")
    deadline = request_of(session, late.tracking_code).step_deadline
    assert deadline is not None
    days = working_days_late(deadline, utcnow(), set())
    assert days >= 8  # twelve days, at most two Fridays among them, less the one to the deadline
    assert item.params["late"] == Msg("staff.queue.late_days", {"days": days})

    reviewer.run(f"/take {late.tracking_code}")
    supervisor.say("/overdue")
    (item,) = lines_of(supervisor.last)[1:]
    assert item.params["holder"] == Msg("staff.queue.holder", {"name": "مینا رضایی"})
    assert "در دست مینا رضایی" in supervisor.text() and "روز کاری تأخیر" in supervisor.text()


def test_binding_replies_that_the_account_is_bound_as_staff(hire: Hire) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER, "مینا رضایی", bind=False)
    reviewer.bind()
    assert "به‌عنوان حساب کارمند به نام مینا رضایی" in reviewer.text()


def test_the_staff_admin_commands_on_a_clean_database_say_to_migrate_first(
    tmp_path: Path,
) -> None:
    listed = run_backend(tmp_path, "staff", "list")
    assert listed.returncode == 1 and "run `migrate` first" in listed.stderr
    assert "Traceback" not in listed.stderr
    assert run_backend(tmp_path, "migrate").returncode == 0
    assert "no staff members yet" in run_backend(tmp_path, "staff", "list").stdout


def test_the_staff_admin_commands_list_deactivate_and_change_roles(tmp_path: Path) -> None:
    assert run_backend(tmp_path, "migrate").returncode == 0
    add = ("staff", "add", "--name", "رضا موسوی", "--phone", "09351112233", "--role")
    added = run_backend(tmp_path, *add, "field_technician")
    assert added.returncode == 0, added.stderr
    assert "رضا موسوی, +989351112233, field technician" in added.stdout
    wrong = run_backend(tmp_path, *add, "boss")
    assert wrong.returncode == 2 and "StaffRole" not in wrong.stderr
    assert "'admin', 'billing_reviewer'" in wrong.stderr

    listed = run_backend(tmp_path, "staff", "list")
    assert listed.returncode == 0 and "field technician" in listed.stdout
    assert "StaffRole" not in listed.stdout

    changed = run_backend(
        tmp_path, "staff", "role", "--phone", "+98 935 111 2233", "--role", "finance"
    )
    assert changed.returncode == 0 and "role changed" in changed.stdout, changed.stderr
    assert "finance" in changed.stdout
    stopped = run_backend(tmp_path, "staff", "deactivate", "--phone", "۰۹۳۵۱۱۱۲۲۳۳")
    assert stopped.returncode == 0 and "deactivated" in stopped.stdout
    again = run_backend(tmp_path, "staff", "deactivate", "--phone", "09351112233")
    assert again.returncode == 0 and "already deactivated" in again.stdout
    nobody = run_backend(tmp_path, "staff", "deactivate", "--phone", "09350000000")
    assert nobody.returncode == 1 and "no staff member has the phone" in nobody.stderr
    assert "deactivated" in run_backend(tmp_path, "staff", "list").stdout

    db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with Session(db) as session:
        staff = session.exec(select(Staff)).one()
        assert (staff.role, staff.active) == ("finance", False)
    db.dispose()


def test_listed_codes_are_separated_as_the_readers_language_separates_a_list() -> None:
    commands = listed([Code("/take 1234567890"), Code("/decide 1234567890")])
    english, persian = render(commands, "en", PLAIN), render(commands, "fa", PLAIN)
    assert ", " in english and "،" not in english
    assert "، " in persian
    assert all("/take 1234567890" in text for text in (english, persian))
