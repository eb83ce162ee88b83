"""`python -m bot shell` files a removal, proved by the code the console SMS provider prints."""

import re
from pathlib import Path

import sqlalchemy as sa

from backend.tracking import find_tracking_code
from tests.helpers.shell import DEMO_BILL_ID, Shell
from tests.removal.conftest import JPEG

SMS_CODE = re.compile(r"SMS to \+98\d+ .*\n.*?([0-9]{6})")


def test_a_removal_filed_in_the_terminal_chat_with_the_printed_code(tmp_path: Path) -> None:
    id_card = tmp_path / "id-card.jpg"
    id_card.write_bytes(JPEG)
    shell = Shell(tmp_path)
    try:
        shell.wait_for(re.compile("Demo data loaded"))
        shell.send("3")  # menu: permanent removal of a connection
        shell.send(DEMO_BILL_ID)
        code = shell.wait_for(SMS_CODE).group(1)
        shell.wait_for(re.compile("پیامک شد"))  # the prompt for the code
        for line in (
            code,
            "1",  # reason: the building is demolished
            f"/file {id_card}",
            "1",  # done sending the ID card
            "3",  # neither deed nor lease
            "1",  # I have read and accept that nothing is refunded after paying
            "1",  # file the request
        ):
            shell.send(line)
        shell.wait_for(re.compile("درخواست جمع‌آوری دائم انشعاب شما ثبت شد"))
    finally:
        out = shell.close()
    assert shell.process.returncode == 0, out
    tracking = find_tracking_code(out.split("کد رهگیری:")[-1])
    assert tracking is not None

    db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with db.connect() as connection:
        request = connection.execute(
            sa.text(
                "SELECT r.kind, r.status, r.reason, r.no_refund_acknowledged, s.bill_id"
                " FROM service_request r JOIN subscription s ON s.id = r.subscription_id"
                " WHERE r.tracking_code = :code"
            ),
            {"code": tracking},
        ).one()
        document = connection.execute(sa.text("SELECT doc_type FROM request_document")).one()
        challenge = connection.execute(
            sa.text("SELECT code_hash, verified_at FROM otp_challenge")
        ).one()
    db.dispose()
    assert tuple(request) == ("connection_removal", "submitted", "demolition", True, DEMO_BILL_ID)
    assert document.doc_type == "id_card"
    assert challenge.verified_at is not None and code not in challenge.code_hash
