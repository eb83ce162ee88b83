"""`python -m bot shell` files a removal, proved by the code the console SMS provider prints."""

import re
from pathlib import Path

import sqlalchemy as sa

from locales.values import Code, Msg, render
from tests.helpers.pdf import pdf_text
from tests.helpers.shell import DEMO_BILL_ID, Shell, after
from tests.helpers.subscribers import console_sms
from tests.removal.conftest import JPEG
from tests.staff.conftest import run_backend

SMS_CODE = re.compile(r"SMS to \+98\d+ .*\n.*?([0-9]{6})")


def file_removal_in_shell(shell: Shell, id_card: Path) -> str:
    """The demo subscriber files a removal, proved by the printed code; its tracking code."""
    shell.send("3")  # menu: permanent removal of a connection
    shell.send(DEMO_BILL_ID)
    texted = shell.wait_for(SMS_CODE).group(1)
    shell.wait_for(re.compile("پیامک شد"))  # the prompt for the code
    for line in (
        texted,
        "1",  # reason: the building is demolished
        f"/file {id_card}",
        "1",  # done sending the ID card
        "3",  # neither deed nor lease
        "1",  # I have read and accept that nothing is refunded after paying
        "1",  # file the request
    ):
        shell.send(line)
    filed = shell.wait_for(re.compile("ثبت شد.\nکد رهگیری: \u2066([0-9]{10})\u2069"))
    return filed.group(1)


def test_a_removal_filed_in_the_terminal_chat_with_the_printed_code(tmp_path: Path) -> None:
    id_card = tmp_path / "id-card.jpg"
    id_card.write_bytes(JPEG)
    shell = Shell(tmp_path)
    try:
        shell.wait_for(re.compile("Demo data loaded"))
        tracking = file_removal_in_shell(shell, id_card)
    finally:
        out = shell.close()
    assert shell.process.returncode == 0, out
    assert "درخواست جمع‌آوری دائم انشعاب شما ثبت شد" in out
    code = SMS_CODE.findall(out)[0]

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


def bind_in_shell(shell: Shell, user: str, phone: str) -> None:
    """`user` binds the staff phone `phone` (+98…) with the code the console SMS prints."""
    for line in (f"/as {user}", "ثبت شماره همراه", f"/contact {phone}"):
        shell.send(line)
    texted = re.compile(rf"SMS to \{phone} \(reference [0-9]+\):\n[^\n]*?([0-9]{{6}})")
    shell.send(shell.wait_for(texted).group(1))


def test_a_removal_closed_in_the_terminal_chat_ends_the_subscription(tmp_path: Path) -> None:
    id_card = tmp_path / "id-card.jpg"
    id_card.write_bytes(JPEG)
    shell = Shell(tmp_path)
    try:
        shell.wait_for(re.compile("Demo data loaded"))
        code = file_removal_in_shell(shell, id_card)
        for name, phone, role in (
            ("علی کریمی", "09351112244", "finance"),
            ("رضا نوری", "09351112266", "field_technician"),
        ):
            added = run_backend(
                tmp_path, "staff", "add", "--name", name, "--phone", phone, "--role", role
            )
            assert added.returncode == 0, added.stderr
        bind_in_shell(shell, "ali", "+989351112244")
        bind_in_shell(shell, "reza", "+989351112266")
        confirm = "تأیید و ارسال"
        for line in (
            "/as ali",
            f"/fee {code} ۱٬۵۰۰٬۰۰۰",
            confirm,
            f"/paid {code} R-1 بانک",
            "/as reza",
            f"/metertest {code} سالم 1234000",
            "/as ali",
            f"/terms {code} کنتور سالم است و بدهی دیگری ندارید.",
            "/as local",
            "درخواست‌های من",
            "1",  # the removal
            "شرایط را می‌پذیرم",
            "/as reza",
            f"/collected {code} ۱۲۳۹۰۰۰",
            "/as ali",
            f"/statement {code} +250000",
            confirm,
            f"/paid {code} R-2 حضوری",
            f"/close {code}",
            "/as local",
            "درخواست‌های من",
            "1",
            "مفاصاحساب",
            "/cancel",
            "جمع‌آوری دائم انشعاب",
            DEMO_BILL_ID,
            "/cancel",
            "اعتراض به صورت‌حساب",
            DEMO_BILL_ID,
        ):
            shell.send(line)
    finally:
        out = shell.close()
    assert shell.process.returncode == 0, out

    clearance = after(out, "مفاصاحساب")
    assert "آخرین رقم کنتور: ۱۲۳۹۰۰۰" in clearance and "۲۵۰٬۰۰۰ ریال" in clearance, clearance
    printed = re.search(rf"\(file\) clearance-{code}\.pdf: (\S+)", clearance)
    assert printed is not None, clearance
    paper = pdf_text(Path(printed.group(1)).read_bytes())
    for words in ("مفاصاحساب", "سمیه جعفری", DEMO_BILL_ID, code, "۱۲۳۹۰۰۰"):
        assert words in paper, words
    # Once closed, neither service takes the bill ID, and no one-time code is sent for it.
    refused = render(Msg("removal.subscription_removed", {"bill_id": Code(DEMO_BILL_ID)}), "fa")
    assert refused in after(out.split(f"> /close {code}")[1], DEMO_BILL_ID)
    refused = render(Msg("review.subscription_removed", {"bill_id": Code(DEMO_BILL_ID)}), "fa")
    assert refused in out.split("> اعتراض به صورت‌حساب\n")[-1]
    texted_codes = [sms for sms in console_sms(tmp_path / "sms.jsonl") if "کد تأیید" in sms["text"]]
    assert len(texted_codes) == 3  # the filing's, and the two staff bindings'

    db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with db.connect() as connection:
        status, removed_at = connection.execute(
            sa.text("SELECT status, removed_at FROM subscription WHERE bill_id = :bill_id"),
            {"bill_id": DEMO_BILL_ID},
        ).one()
        request = connection.execute(
            sa.text("SELECT status FROM service_request WHERE tracking_code = :code"),
            {"code": code},
        ).one()
    db.dispose()
    assert (status, request.status) == ("removed", "closed") and removed_at is not None
