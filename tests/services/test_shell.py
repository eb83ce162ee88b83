"""Each service defined only as data, filed, worked and closed in the terminal chat (a real
`python -m bot shell` process): the subscriber files it, a supervisor (who may take any staff
step) works it with /act, and the subscriber answers where a step waits on them."""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from backend.tracking import find_tracking_code
from locales.values import PLAIN, Msg, render
from tests.helpers.samples import SHELL_METER_PHOTO as JPEG
from tests.helpers.shell import DEMO_BILL_ID, Shell, run_shell
from tests.staff.conftest import run_backend

STAFF_PHONE = "+989351112233"


def said(key: str, **params: object) -> str:
    return render(Msg(key, params), "fa", PLAIN)


def texted_code(phone: str) -> re.Pattern[str]:
    """The console SMS provider's print of the one-time code texted to `phone`."""
    return re.compile(rf"SMS to \{phone} \(reference [0-9]+\):\n[^\n]*?([0-9]{{6}})")


DONE = said("review.documents_done")
# What the subscriber types after choosing the service ("OTP": the code texted to the
# registered mobile; "NATIONAL_ID": the holder's; "DEED", "ID_CARD": a paper sent with /file),
# then what the supervisor runs after `/act CODE`.
SCRIPTS = {
    "change_of_name": (
        [DEMO_BILL_ID, "0499370899", "رضا کریمی", "DEED", DONE, "ID_CARD", DONE],
        ["set_fee 1500000", "receive_fee", "change_name"],
    ),
    "meter_test": (
        # Filed as the registered mobile's holder, chosen by its label; then the photo.
        [
            DEMO_BILL_ID,
            said("service.filer.registered_mobile"),
            "OTP",
            "کنتور تندتر از مصرف ما می‌چرخد.",
            "DEED",
            DONE,
        ],
        ["set_fee 250000", "receive_fee", "meter_sound 12345"],
    ),
    "debt_instalments": (
        [DEMO_BILL_ID, "OTP", "12000000", "6", "هزینه درمان داشتیم."],
        ["approve_instalments", "send_schedule قسط نخست ۱۴۰۵/۰۹/۰۱"],
    ),
    "clearance_certificate": (
        [DEMO_BILL_ID, "OTP", said("service.clearance_certificate.purpose.sale"), DONE],
        ["no_debt", "issue_certificate شماره ۱۴۰۵-۷۷۸"],
    ),
    "mobile_change": (
        [DEMO_BILL_ID, said("service.mobile_lost"), "NATIONAL_ID", "09361238866"],
        ["ask_counter", "confirm_identity دفتر ۱۲ قم", "change_mobile"],
    ),
}


def _demo_holder(db: sa.Engine) -> sa.Row[tuple[str, str]]:
    with db.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT c.mobile, c.national_id FROM customer c JOIN subscription s"
                " ON s.customer_id = c.id WHERE s.bill_id = :bill_id"
            ),
            {"bill_id": DEMO_BILL_ID},
        ).one()


@pytest.mark.parametrize("service", sorted(SCRIPTS))
def test_a_data_service_is_filed_worked_and_closed_in_the_terminal_chat(
    service: str, tmp_path: Path
) -> None:
    papers = {"DEED": tmp_path / "deed.jpg", "ID_CARD": tmp_path / "id.jpg"}
    papers["DEED"].write_bytes(JPEG)
    papers["ID_CARD"].write_bytes(JPEG + b"id card")
    run_shell(tmp_path, "\n")  # the demo data, loaded on the first run
    db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    mobile, national_id = _demo_holder(db)
    added = run_backend(
        tmp_path,
        *("staff", "add", "--name", "مینا رضایی", "--phone", STAFF_PHONE, "--role", "supervisor"),
    )
    assert added.returncode == 0, added.stderr
    answers, steps = SCRIPTS[service]

    shell = Shell(tmp_path)
    try:
        shell.send(said("menu.services"))  # the menu's button, by its label
        shell.send(said(f"kind.{service}"))
        for line in answers:
            if line == "OTP":
                line = shell.wait_for(texted_code(mobile)).group(1)
            elif line in papers:
                line = f"/file {papers[line]}"
            shell.send(national_id if line == "NATIONAL_ID" else line)
        shell.send(said("service.confirm"))
        filed = shell.wait_for(re.compile(r"کد رهگیری: \S*?([0-9]{10})"))
        code = filed.group(1)
        shell.send("/as mina")
        shell.send(said("menu.phone"))
        shell.send(f"/contact {STAFF_PHONE}")
        shell.send(shell.wait_for(texted_code(STAFF_PHONE)).group(1))
        shell.send("/queue")
        for step in steps:
            shell.send(f"/act {code} {step}")
        shell.send(f"/show {code}")
        shell.wait_for(re.compile(re.escape(f"> /show {code}")))
    finally:
        out = shell.close()
    assert find_tracking_code(code) == code
    assert code in out.split("> /queue")[1] and said(f"kind.{service}") in out
    assert "متأسفیم" not in out  # no event failed
    assert said("status.closed") in out.split(f"> /show {code}")[1]
    with db.connect() as connection:
        status, actions = connection.execute(
            sa.text(
                "SELECT r.status, group_concat(e.action, ' ') FROM service_request r"
                " JOIN request_event e ON e.request_id = r.id WHERE r.tracking_code = :code"
                " GROUP BY r.status"
            ),
            {"code": code},
        ).one()
    db.dispose()
    assert status == "closed"
    assert actions.split() == ["submitted", *(step.split()[0] for step in steps)]
