"""Staff added on the command line bind in the terminal chat, work the queue and decide reviews."""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from backend.actions import SYSTEM, subscriber_actor
from backend.constants import Channel, EventAction, RequestStatus
from backend.models import Bill
from backend.tracking import find_tracking_code
from locales.values import PLAIN, Code, Msg, Rials, render
from tests.helpers.filing import history_of, request_of
from tests.helpers.pdf import pdf_text
from tests.helpers.samples import SHELL_METER_PHOTO as JPEG
from tests.helpers.shell import DEMO_BILL_ID, Shell, after, run_shell
from tests.helpers.subscribers import console_sms
from tests.staff.conftest import run_backend

A, S = EventAction, RequestStatus
SUBSCRIBER = subscriber_actor(Channel.SHELL)
# The console SMS provider's print of the code texted to the staff phone.
TEXTED_CODE = re.compile(r"SMS to \+989351112233 \(reference [0-9]+\):\n[^\n]*?([0-9]{6})")
REVIEWER = Msg("staff.role.billing_reviewer")


def test_staff_added_on_the_command_line_bind_and_work_in_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMS_CONSOLE_PATH", str(tmp_path / "sms.jsonl"))
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(JPEG)
    filed = run_shell(
        tmp_path,
        "\n".join(
            [
                "1",  # menu: dispute a bill
                "6843834777427",  # the demo bill ID
                "1",  # its latest bill
                "1",  # reason: wrong reading
                "رقم کنتور ۱۲۳۴۵ بود",
                f"/file {photo}",
                "پایان ارسال مدارک",
                "1",  # confirm
            ]
        )
        + "\n",
    )
    code = find_tracking_code(filed.split("کد رهگیری:")[1])
    assert code is not None

    added = run_backend(
        tmp_path,
        *("staff", "add", "--name", "مینا رضایی", "--phone", "0935 111 2233"),
        *("--role", "billing_reviewer"),
    )
    assert added.returncode == 0, added.stderr
    assert "+989351112233" in added.stdout

    before = run_shell(tmp_path, "/as mina\n/queue\n")
    assert "این فرمان شناخته نشد" in before  # not bound yet: not staff

    shell = Shell(tmp_path)
    try:
        shell.send("/as mina")
        shell.send("ثبت شماره همراه")  # the menu's button, by its label
        shell.send("/contact +989351112233")
        # Not staff yet: the console SMS provider prints the code texted to the staff phone.
        texted = shell.wait_for(TEXTED_CODE)
        shell.send(texted.group(1))
        for line in ("/queue", f"/show {code}"):
            shell.send(line)
    finally:
        out = shell.close()
    assert said("phone.staff_bound", name="مینا رضایی", role=REVIEWER) in out
    queue = out.split("> /queue")[1].split(f"> /show {code}")[0]
    assert "ارجاع‌نشده — همه خدمات: ۱ درخواست" in queue
    assert code in queue and "اعتراض به صورت‌حساب" in queue
    shown = out.split(f"> /show {code}")[1]
    assert f"درخواست \u2066{code}\u2069 — اعتراض به صورت‌حساب" in shown
    assert "مشترک: " in shown  # a billing reviewer sees the name, not the mobile
    assert "تلفن همراه" not in shown
    assert "ثبت درخواست — مشترک" in shown and "مدارک پیوست: ۱" in shown


def said(key: str, **params: object) -> str:
    """A message as the terminal chat prints it (Persian, plain text)."""
    return render(Msg(key, params), "fa", PLAIN)


def file_review_in_shell(shell: Shell, photo: Path, bill_choice: str, nth: int) -> str:
    """The subscriber files their `nth` review, of the demo subscription's bill `bill_choice`."""
    for line in (
        "1",  # menu: dispute a bill
        DEMO_BILL_ID,
        bill_choice,
        "1",  # reason: wrong reading
        "رقم کنتور ۱۲۳۴۵ بود",
        f"/file {photo}",
        "پایان ارسال مدارک",
        "1",  # confirm
    ):
        shell.send(line)
    # The chat prints the code isolated left-to-right (the console SMS prints it bare).
    filed = rf"(?:.*?کد رهگیری: \u2066([0-9]{{10}})\u2069){{{nth}}}"
    return shell.wait_for(re.compile(filed, re.DOTALL)).group(1)


def test_a_review_upheld_corrected_and_closed_and_one_rejected_in_one_terminal_session(
    tmp_path: Path,
) -> None:
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(JPEG)
    shell = Shell(tmp_path)
    try:
        shell.wait_for(re.compile("Demo data loaded"))
        upheld = file_review_in_shell(shell, photo, "1", 1)  # the latest, suspicious bill
        rejected = file_review_in_shell(shell, photo, "2", 2)  # the one before it

        # An admin adds the reviewer meanwhile; the running chat sees them once they bind.
        added = run_backend(
            tmp_path,
            *("staff", "add", "--name", "مینا رضایی", "--phone", "09351112233"),
            *("--role", "billing_reviewer"),
        )
        assert added.returncode == 0, added.stderr
        found = re.search(r"staff member ([0-9]+) added", added.stdout)
        assert found is not None, added.stdout
        reviewer = f"staff:{found.group(1)}"

        explanation = "عکس کنتور همان رقم صورت‌حساب را نشان می‌دهد."
        for line in ("/as mina", "ثبت شماره همراه", "/contact +989351112233"):
            shell.send(line)
        shell.send(shell.wait_for(TEXTED_CODE).group(1))
        script = [
            f"/take {upheld}",
            f"/decide {upheld}",
            said("staff.decide.upheld"),  # the button, by its label
            "۱٬۵۰۰٬۰۰۰",
            said("staff.confirm.send"),  # what the subscriber is sent, confirmed
            f"/close {upheld}",
            f"/take {rejected}",
            f"/decide {rejected} rejected reading_correct {explanation}",
            said("staff.confirm.send"),
            f"/close {rejected}",
            "/as local",  # the subscriber who filed both: each code typed at the menu
            upheld,
            rejected,
        ]
        for line in script:
            shell.send(line)
    finally:
        out = shell.close()
    assert shell.process.returncode == 0, out

    code_sent = said("phone.staff_code_prompt", phone=Code("0935***2233"), minutes=5)
    assert code_sent in after(out, "/contact +989351112233")
    assert said("phone.staff_bound", name="مینا رضایی", role=REVIEWER) in out
    assert said("staff.taken", code=Code(upheld)) in after(out, f"/take {upheld}")
    assert said("staff.decide.ask_amount", amount=Rials(2_027_000)) in after(
        out, said("staff.decide.upheld")
    )
    assert "این پیام برای مشترک ارسال می‌شود" in after(out, "۱٬۵۰۰٬۰۰۰")
    assert said("staff.corrected", code=Code(upheld), amount=Rials(1_500_000)) in after(
        out, said("staff.confirm.send")
    )
    assert said("staff.closed", code=Code(upheld)) in after(out, f"/close {upheld}")
    reason = Msg("staff.rejection.reading_correct")
    rejecting = out.split(f"> /decide {rejected} ", 1)[1]
    assert said("staff.rejected", code=Code(rejected), reason=reason) in after(
        rejecting, said("staff.confirm.send")
    )
    assert said("staff.closed", code=Code(rejected)) in after(out, f"/close {rejected}")

    db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with Session(db) as session:
        assert history_of(session, upheld) == [
            (A.SUBMITTED, S.SUBMITTED, SUBSCRIBER),
            (A.TAKE, S.UNDER_REVIEW, reviewer),
            (A.UPHOLD, S.UPHELD, reviewer),
            (A.CORRECT, S.BILL_CORRECTED, reviewer),
            (A.ANNOUNCE, S.RESULT_ANNOUNCED, SYSTEM),
            (A.CLOSE, S.CLOSED, reviewer),
        ]
        request = request_of(session, upheld)
        corrected = session.get(Bill, request.corrected_bill_id)
        assert corrected is not None
        original = session.get(Bill, corrected.corrects_bill_id)
        assert original is not None and original.id == request.disputed_bill_id
        assert (original.amount_rials, corrected.amount_rials) == (2_027_000, 1_500_000)
        assert (corrected.subscription_id, corrected.period) == (
            original.subscription_id,
            original.period,
        )
        payment_id = corrected.payment_id

        assert history_of(session, rejected) == [
            (A.SUBMITTED, S.SUBMITTED, SUBSCRIBER),
            (A.TAKE, S.UNDER_REVIEW, reviewer),
            (A.REJECT, S.REJECTED, reviewer),
            (A.ANNOUNCE, S.RESULT_ANNOUNCED, SYSTEM),
            (A.CLOSE, S.CLOSED, reviewer),
        ]
        request = request_of(session, rejected)
        assert (request.decision_reason, request.decision_note) == ("reading_correct", explanation)
        assert request.corrected_bill_id is None
    db.dispose()

    # The subscriber reads the outcome itself: both amounts, both IDs to pay with, the bill.
    shown = after(out, upheld)
    assert "اعتراض شما پذیرفته شد" in shown, shown
    assert "۲٬۰۲۷٬۰۰۰ ریال" in shown and "۱٬۵۰۰٬۰۰۰ ریال" in shown
    assert f"\u2066{DEMO_BILL_ID}\u2069" in shown and f"\u2066{payment_id}\u2069" in shown
    printed = re.search(rf"\(file\) corrected-bill-{upheld}\.pdf: (\S+)", shown)
    assert printed is not None, shown
    paper = pdf_text(Path(printed.group(1)).read_bytes())
    for words in ("صورت‌حساب اصلاح‌شده", "۱٬۵۰۰٬۰۰۰ ریال", DEMO_BILL_ID, payment_id):
        assert words in paper, words
    shown = after(out, rejected)
    assert "اعتراض شما پذیرفته نشد" in shown and explanation in shown, shown
    assert said("staff.rejection.reading_correct") in shown and "(file)" not in shown

    # The results went out in-process, by the console SMS provider, to the registered mobile.
    texts = [sms["text"] for sms in console_sms(tmp_path / "sms.jsonl")]
    assert any(upheld in text and "۱٬۵۰۰٬۰۰۰" in text for text in texts)
    assert any(rejected in text and explanation in text for text in texts)
