"""A member of staff added on the command line binds in the terminal chat and works the queue."""

from pathlib import Path

import pytest

from backend.tracking import find_tracking_code
from tests.bot.test_shell import JPEG, run_shell
from tests.staff.conftest import run_backend


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

    out = run_shell(
        tmp_path,
        "\n".join(
            [
                "/as mina",
                "ثبت شماره همراه",  # the menu's button, by its label
                "/contact +989351112233",
                "/queue",
                f"/show {code}",
            ]
        )
        + "\n",
    )
    queue = out.split("> /queue")[1].split(f"> /show {code}")[0]
    assert "بدون کارشناس — همه خدمات: ۱ درخواست" in queue
    assert code in queue and "بررسی صورت‌حساب" in queue
    shown = out.split(f"> /show {code}")[1]
    assert f"درخواست \u2066{code}\u2069 — بررسی صورت‌حساب" in shown
    assert "مشترک: " in shown  # a billing reviewer sees the name, not the mobile
    assert "تلفن همراه" not in shown
    assert "ثبت درخواست — مشترک" in shown and "مدارک پیوست: ۱" in shown
