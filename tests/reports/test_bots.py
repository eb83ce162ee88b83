"""Through the real bots and the fake Bot API: /report sends the chart as a PNG with the key
figures beside it; /export sends a workbook that openpyxl reads back (its rows, right-to-left
sheets, a description that looks like a formula kept as text); the weekly report's button."""

import io

import openpyxl
from matplotlib.image import imread

from backend.constants import StaffRole
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.messenger_user import MessengerUser
from tests.helpers.staff import Hire
from tests.reports.conftest import FORMULA, Desk

WEEK_TYPED = "۱۴۰۵/۰۷/۲۹-۱۴۰۵/۰۸/۰۶"  # Persian digits, as a supervisor types them


def _documents(replies: list[dict]) -> list:  # type: ignore[type-arg]
    return [reply["document"] for reply in replies if "document" in reply]


def test_report_sends_the_chart_and_its_figures(
    polling_bots: None, fake_api: FakeBotAPI, week: Desk, hire: Hire
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR, "سرپرست")
    chat = MessengerUser(fake_api, TELEGRAM_TOKEN, int(supervisor.user_id))
    replies = chat.say(f"/report {WEEK_TYPED}")
    (png,) = _documents(replies)
    assert png.filename == "report-14050729-14050806.png"
    assert png.content.startswith(b"\x89PNG")
    assert imread(io.BytesIO(png.content), format="png").shape[:2] == (1000, 800)
    text = replies[-1]["caption"] if "caption" in replies[-1] else replies[0]["text"]
    # Now is long after the week: the open review and the meter test are overdue too.
    assert "همه خدمات: ۷ درخواست؛" in text
    assert "اعتراض به صورت‌حساب: ۶ درخواست؛" in text


def test_a_bad_period_or_filter_is_said(
    polling_bots: None, fake_api: FakeBotAPI, week: Desk, hire: Hire
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    chat = MessengerUser(fake_api, TELEGRAM_TOKEN, int(supervisor.user_id))
    chat.say("/report 1405/13/01")
    assert "خوانده نشد" in chat.text and not _documents(chat.replies)
    chat.say("/report این ماه ناکجاآباد")
    assert "«ناکجاآباد» شناخته نشد" in chat.text


def test_export_sends_a_workbook(
    polling_bots: None, fake_api: FakeBotAPI, week: Desk, hire: Hire
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    chat = MessengerUser(fake_api, TELEGRAM_TOKEN, int(supervisor.user_id))
    replies = chat.say(f"/export {WEEK_TYPED}")
    (xlsx,) = _documents(replies)
    assert xlsx.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["درخواست‌ها", "مراحل", "رعایت مهلت", "رضایت"]
    assert all(sheet.sheet_view.rightToLeft for sheet in book.worksheets)
    requests = list(book["درخواست‌ها"].iter_rows(values_only=True))
    assert requests[0][0] == "کد رهگیری"
    assert len(requests) == 1 + 7  # filed in the week (not the one of the day before)
    (formula,) = [c for c in book["درخواست‌ها"]["M"] if c.value == FORMULA]
    assert formula.data_type == "s"  # text, never run
    # A supervisor sees the mobile in full; the filed time is Jalali.
    assert requests[1][10] == "09121234567"
    assert requests[1][7] == "1405/07/29 10:00"
    steps = list(book["مراحل"].iter_rows(values_only=True))
    assert len(steps) == 1 + 11
    answers = list(book["رضایت"].iter_rows(values_only=True))
    assert sorted(row[2] for row in answers[1:]) == [2, 4, 5]


def test_area_heads_and_technicians(
    polling_bots: None, fake_api: FakeBotAPI, week: Desk, hire: Hire
) -> None:
    technician = hire(StaffRole.FIELD_TECHNICIAN)
    chat = MessengerUser(fake_api, TELEGRAM_TOKEN, int(technician.user_id))
    chat.say("/report")
    assert not _documents(chat.replies)  # not their command: the roles that run it are named
    assert "/report" in chat.text
