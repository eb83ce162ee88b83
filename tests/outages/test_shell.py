"""In the terminal chat (a real `python -m bot shell` on SQLite): the demo subscriber sees the
planned outage of their feeder and gets its reminder (by the console SMS), reports a cut that
a neighbour's report joins and is told when it is resolved, and a lower reading is refused."""

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import OutageSource, StaffRole
from backend.models import OutageIncident, PlannedOutage, Subscription, utcnow
from backend.outage_reports import resolve_incident
from backend.staff import add_staff
from tests.helpers.shell import DEMO_BILL_ID, after, run_shell


def test_outages_reports_and_readings_in_the_terminal_chat(tmp_path: Path) -> None:
    run_shell(tmp_path, "/quit\n")  # the demo data
    db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with Session(db) as session:
        sample = session.exec(
            select(Subscription).where(Subscription.bill_id == DEMO_BILL_ID)
        ).one()
        soon = utcnow() + timedelta(minutes=30)
        session.add(
            PlannedOutage(
                feeder=sample.feeder,
                starts_at=soon,
                ends_at=soon + timedelta(hours=2),
                reason="maintenance",
                source=OutageSource.IMPORT,
            )
        )
        session.commit()
    script = [
        DEMO_BILL_ID,
        "دریافت اطلاعیه‌های این شناسه",
        "بدون نام",
        "/menu",
        "خاموشی‌های برنامه‌ریزی‌شده",
        "1",  # the reminder of the first (and only) outage
        "/menu",
        "گزارش قطعی برق",
        "1",  # the followed bill ID
        "برق کاملاً قطع است",
        "/as neighbour",
        "گزارش قطعی برق",
        DEMO_BILL_ID,
        "یک فاز قطع است (برق ضعیف یا نیمه)",
        "/as local",
        "خوداظهاری کارکرد کنتور",
        "1",
        "۱۲۳",  # far below the last bill's reading
    ]
    out = run_shell(tmp_path, "\n".join(script) + "\n")
    listed = after(out, "خاموشی‌های برنامه‌ریزی‌شده")
    assert "تعمیرات و نگهداری شبکه" in listed
    assert "یادآوری خاموشی" in after(out, "1")  # the console SMS, at once
    assert "کد رهگیری" in after(out, "برق کاملاً قطع است")
    assert "پیش‌تر گزارش شده" in after(out, "یک فاز قطع است (برق ضعیف یا نیمه)")
    assert "کمتر از آخرین کارکرد" in after(out, "۱۲۳")

    with Session(db) as session:
        (incident,) = session.exec(select(OutageIncident)).all()
        staff = add_staff(
            session, full_name="تکنسین", phone="+989350000001", role=StaffRole.FIELD_TECHNICIAN
        )
        assert incident.id is not None
        resolve_incident(session, incident.id, staff, now=utcnow())
        session.commit()
    out = run_shell(tmp_path, "/menu\n")
    assert after(out, "/menu").count("برطرف شد") == 2  # each reporter, by SMS here
    db.dispose()
