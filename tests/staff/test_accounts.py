"""Staff accounts, the permission table, official holidays, and their admin commands."""

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import StaffRole
from backend.holidays import import_holidays
from backend.importers import ImportFailed
from backend.models import Holiday, Staff
from backend.staff import COMMANDS, ROLE_COMMANDS, StaffError, add_staff, parse_amount
from backend.workdays import add_working_days, holidays
from backend.workflows import Refused
from dialogs.staff import HANDLERS
from locales.catalogs import message_ids
from tests.staff.conftest import run_backend

TEHRAN = ZoneInfo("Asia/Tehran")  # the default TIMEZONE


def test_add_staff_normalizes_the_phone(session: Session) -> None:
    staff = add_staff(session, full_name=" زهرا  کریمی ", phone="۰۹۱۲ ۳۴۵ ۶۷۸۹", role="finance")
    assert (staff.full_name, staff.phone, staff.role) == ("زهرا کریمی", "+989123456789", "finance")


@pytest.mark.parametrize(
    ("name", "phone", "role", "error"),
    [
        ("علی", "021-88776655", "finance", "not an Iranian mobile number"),
        ("علی", "09123456789", "cashier", "unknown role 'cashier'"),
        ("  ", "09123456789", "finance", "the name is empty"),
        ("علی", "+98 912 345 6789", "admin", "already has the phone +989123456789"),
    ],
)
def test_add_staff_says_what_is_wrong(
    session: Session, name: str, phone: str, role: str, error: str
) -> None:
    add_staff(session, full_name="زهرا کریمی", phone="09123456789", role="finance")
    with pytest.raises(StaffError, match=re.escape(error)):
        add_staff(session, full_name=name, phone=phone, role=role)


def test_the_permission_table_covers_every_command_and_role() -> None:
    assert set(HANDLERS) <= set(COMMANDS)  # the broadcast commands are dialogs/broadcast.py's
    assert {f"staff.help.{command}" for command in COMMANDS} <= message_ids("fa")
    assert set(ROLE_COMMANDS) == set(StaffRole)
    assert all(commands <= set(COMMANDS) for commands in ROLE_COMMANDS.values())
    assert ROLE_COMMANDS[StaffRole.SUPERVISOR] == set(COMMANDS)
    assert "approve" not in ROLE_COMMANDS[StaffRole.BILLING_REVIEWER]


def test_every_refusal_of_the_backend_has_a_message() -> None:
    raised = {
        code
        for path in Path("backend").rglob("*.py")
        for code in re.findall(r'\bRefused\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8"))
    }
    assert {"wrong_status", "statement_unpaid", "nothing_to_pay"} <= raised
    assert {f"refused.{code}" for code in raised} <= message_ids("fa")


@pytest.mark.parametrize(
    ("text", "signed", "amount"),
    [
        ("1250000", False, 1_250_000),
        ("۱٬۲۵۰٬۰۰۰", False, 1_250_000),
        ("١،٢٥٠،٠٠٠", False, 1_250_000),
        ("1,250,000", False, 1_250_000),
        ("+250,000", True, 250_000),
        ("\u2212۲۵۰۰۰۰", True, -250_000),
        ("-0", True, 0),
    ],
)
def test_amounts_as_staff_type_them(text: str, signed: bool, amount: int) -> None:
    assert parse_amount(text, signed=signed) == amount


@pytest.mark.parametrize("text", ["", "12,34", "-5", "1.5", "۱۲۰۰ ریال", "12,3456"])
def test_amounts_that_are_not(text: str) -> None:
    with pytest.raises(Refused):
        parse_amount(text)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_holidays_are_imported_and_deadlines_skip_them(session: Session, tmp_path: Path) -> None:
    csv = write(
        tmp_path / "holidays.csv",
        "date,name\n۱۴۰۴/۰۱/۰۱,نوروز\n1404/01/02,نوروز\n1404/01/12,روز جمهوری اسلامی\n",
    )
    result = import_holidays(session, csv)
    session.commit()
    assert (result.created, result.updated) == (3, 0)
    assert holidays(session) == {date(2025, 3, 21), date(2025, 3, 22), date(2025, 4, 1)}

    # Wednesday 19 March 2025 (1403/12/29), noon in Tehran: Thursday the 20th is a working
    # day; Friday, then the two Nowruz holidays are skipped.
    start = datetime(2025, 3, 19, 12, tzinfo=TEHRAN)
    assert add_working_days(start, 2, holidays(session)).astimezone(TEHRAN).date() == date(
        2025, 3, 23
    )

    again = write(
        tmp_path / "again.csv", "date,name\n1404/01/12,روز جمهوری\n1404/01/13,سیزده به در\n"
    )
    result = import_holidays(session, again)
    assert (result.created, result.updated) == (1, 1)
    assert session.get(Holiday, date(2025, 4, 1)).name == "روز جمهوری"  # type: ignore[union-attr]


def test_a_bad_holiday_file_imports_nothing(session: Session, tmp_path: Path) -> None:
    csv = write(
        tmp_path / "holidays.csv",
        "date,name\n1404/01/01,نوروز\n2025/03/22,نوروز\n1404/01/01,تکراری\n1404/13/01,\n",
    )
    with pytest.raises(ImportFailed) as failed:
        import_holidays(session, csv)
    assert [str(error) for error in failed.value.errors] == [
        "line 3: date 2025/03/22: year out of range (dates are Jalali, YYYY/MM/DD)",
        "line 4: date 1404/01/01 repeats line 2",
        "line 5: date 1404/13/01: no such Jalali date",
        "line 5: name is empty",
    ]
    assert session.exec(select(Holiday)).all() == []


def test_the_admin_commands(tmp_path: Path) -> None:
    assert run_backend(tmp_path, "migrate").returncode == 0
    added = run_backend(
        tmp_path,
        "staff",
        "add",
        "--name",
        "رضا موسوی",
        "--phone",
        "09351112233",
        "--role",
        "field_technician",
    )
    assert added.returncode == 0, added.stderr
    assert "+989351112233" in added.stdout
    again = run_backend(
        tmp_path, "staff", "add", "--name", "رضا", "--phone", "+989351112233", "--role", "finance"
    )
    assert again.returncode == 1
    assert "already has the phone +989351112233" in again.stderr
    wrong_role = run_backend(
        tmp_path, "staff", "add", "--name", "رضا", "--phone", "09350000000", "--role", "boss"
    )
    assert wrong_role.returncode == 2 and "invalid choice: 'boss'" in wrong_role.stderr

    bad = write(tmp_path / "bad.csv", "date,name\n1404/01/01,نوروز\n1404/02/31,\n")
    failed = run_backend(tmp_path, "holidays", "import", str(bad))
    assert failed.returncode == 1
    assert "line 3: name is empty" in failed.stderr and "nothing imported" in failed.stderr
    good = write(tmp_path / "good.csv", "date,name\n1404/01/01,نوروز\n1404/01/02,نوروز\n")
    imported = run_backend(tmp_path, "holidays", "import", str(good))
    assert imported.returncode == 0 and "2 created" in imported.stdout

    db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with Session(db) as session:
        staff = session.exec(select(Staff)).one()
        assert (staff.full_name, staff.role, staff.active) == (
            "رضا موسوی",
            "field_technician",
            True,
        )
        assert len(session.exec(select(Holiday)).all()) == 2
    db.dispose()
