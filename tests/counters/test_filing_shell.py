"""In the terminal chat: an admin added on the command line onboards a counter; its operator files
a review for the demo subscriber, reading back the code the console SMS provider printed; the
subscriber, once their mobile is proved, sees it in «درخواست‌های من»."""

import re
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel
from backend.models import Customer, ServiceRequest, Subscription
from tests.helpers.samples import SHELL_METER_PHOTO as JPEG
from tests.helpers.shell import DEMO_BILL_ID, Shell, after
from tests.staff.conftest import run_backend

ADMIN, OPERATOR = "+989351112233", "+989141112233"


def texted(mobile: str) -> re.Pattern[str]:
    """The console SMS provider's print of the latest code texted to `mobile`."""
    return re.compile(rf"SMS to \{mobile} \(reference [0-9]+\):\n[^\n]*?([0-9]{{6}})")


def bind(shell: Shell, name: str, mobile: str) -> None:
    for line in (f"/as {name}", "ثبت شماره همراه", f"/contact {mobile}"):
        shell.send(line)
    shell.send(shell.wait_for(texted(mobile)).group(1))


def test_a_counter_is_onboarded_and_files_for_a_subscriber_in_the_shell(tmp_path: Path) -> None:
    (tmp_path / "letter.pdf").write_bytes(b"%PDF-1.4 the guild association's letter")
    (tmp_path / "agreement.pdf").write_bytes(b"%PDF-1.4 the signed agreement")
    (tmp_path / "meter.jpg").write_bytes(JPEG)

    shell = Shell(tmp_path)
    try:
        shell.wait_for(re.compile("Demo data loaded"))
        staff = (("admin", ADMIN, "admin"), ("sara", OPERATOR, "counter_operator"))
        for name, phone, role in staff:  # added on the command line once the shell migrated
            added = run_backend(
                tmp_path, "staff", "add", "--name", name, "--phone", phone, "--role", role
            )
            assert added.returncode == 0, added.stderr
        db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
        with Session(db) as session:
            subscription = session.exec(
                select(Subscription).where(Subscription.bill_id == DEMO_BILL_ID)
            ).one()
            customer = session.get(Customer, subscription.customer_id)
            assert customer is not None and customer.mobile is not None
            mobile = customer.mobile

        bind(shell, "admin", ADMIN)
        for line in (
            "/counteradd 14010؛ دفتر پیشخوان ولیعصر؛ قم؛ صفاییه؛ قم، خیابان صفاییه؛ "
            "025-33445566؛ رضا محمدی",
            f"/file {tmp_path / 'letter.pdf'}",
            "/counterstep 14010 approve",
            "/counterstep 14010 announce_prerequisites",
            "/counterstep 14010 sign_agreement 1404/01/15",
            f"/file {tmp_path / 'agreement.pdf'}",
            "/counterstep 14010 install_software",
            f"/counterstep 14010 add_operator {OPERATOR}",
            "/counterstep 14010 train_operator",
            "/counterstep 14010 delegate bill_review",
            "/counterstep 14010 activate",
        ):
            shell.send(line)
        shell.wait_for(re.compile(r"اکنون: فعال"))

        bind(shell, "sara", OPERATOR)
        shell.send("/onbehalf removal")
        shell.send("/onbehalf review")
        shell.send(DEMO_BILL_ID)
        shell.send(shell.wait_for(texted(mobile)).group(1))
        for line in (
            "1",  # the latest bill
            "1",  # reason: wrong reading
            "مشترک می‌گوید رقم کنتور ۱۲۳۴۵ بود",
            f"/file {tmp_path / 'meter.jpg'}",
            "پایان ارسال مدارک",
            "1",  # confirm
        ):
            shell.send(line)
        code = shell.wait_for(re.compile("کد رهگیری: \u2066([0-9]{10})\u2069")).group(1)

        for line in ("/as local", "ثبت شماره همراه", f"/contact {mobile}", "درخواست‌های من"):
            shell.send(line)
    finally:
        out = shell.close()
    assert shell.process.returncode == 0, out

    assert "واگذار نشده" in after(out, "/onbehalf removal")
    assert "دفتر پیشخوان ولیعصر" in after(out, "/onbehalf removal")
    assert code in after(out, "درخواست‌های من")
    with Session(db) as session:
        request = session.exec(
            select(ServiceRequest).where(ServiceRequest.tracking_code == code)
        ).one()
        assert (request.channel, request.channel_user_id) == (Channel.COUNTER, "14010")
    db.dispose()
    # The tracking code went to the subscriber's mobile by the console SMS provider.
    assert re.search(rf"SMS to \{mobile} \(reference [0-9]+\):\n[^\n]*{code}", out)
