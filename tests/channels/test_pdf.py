"""The PDFs given to subscribers: Persian shaped, in the Vazirmatn font shipped with the code,
every label and ID found again in the text, numbers in the right order, the same bytes twice."""

import logging
from datetime import UTC, date, datetime

import pytest

from backend.outcomes import Clearance, CorrectedBill
from backend.services.documents import ServiceCertificate
from channels.pdf import FONTS_DIR, clearance_pdf, corrected_bill_pdf, service_paper_pdf
from tests.helpers.pdf import pages, pdf_text

BILL = CorrectedBill(
    tracking_code="4829105637",
    customer_name="مریم احمدی",
    address="قم، خیابان صفاییه، کوچه ۱۲، پلاک ۴",
    bill_id="6843834777427",
    payment_id="52000140438",
    jalali_year=1404,
    period=3,
    period_start=date(2025, 7, 22),
    period_end=date(2025, 9, 21),
    consumption_kwh=380,
    original_rials=585_000,
    corrected_rials=520_000,
    issued_at=datetime(2025, 10, 1, 8, 30, tzinfo=UTC),
)
CLEARANCE = Clearance(
    tracking_code="4829105637",
    customer_name="مریم احمدی",
    bill_id="6843834777427",
    address="قم، خیابان صفاییه، کوچه ۱۲، پلاک ۴",
    final_reading=12_400,
    statement_rials=250_000,
    closed_on=date(2025, 10, 2),
    seal="4821-0934-1187",
)

CERTIFICATE = ServiceCertificate(
    paper="clearance_certificate",
    tracking_code="5938104726",
    customer_name="مریم احمدی",
    bill_id="6843834777427",
    address="قم، خیابان صفاییه، کوچه ۱۲، پلاک ۴",
    number="م/۱۴۰۵/۷۷۸",
    settled_rials=3_400_000,
    issued_at=datetime(2025, 10, 1, 21, 0, tzinfo=UTC),  # 2 October in Tehran
)


@pytest.fixture
def glyph_warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """fpdf2 warns of every character the font has no glyph for (a box on the page)."""
    caplog.set_level(logging.WARNING, logger="fpdf")
    return caplog


def missing_glyphs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "missing" in r.getMessage()]


def test_the_corrected_bill_in_persian(glyph_warnings: pytest.LogCaptureFixture) -> None:
    content = corrected_bill_pdf(BILL, "fa")
    assert content.startswith(b"%PDF-") and pages(content) == 1
    assert b"Vazirmatn" in content  # the shipped font, embedded
    text = pdf_text(content)
    for words in (
        "صورت‌حساب اصلاح‌شده برق",
        "شرکت توزیع نیروی برق",
        "نام مشترک",
        "مریم احمدی",
        "قم، خیابان صفاییه، کوچه ۱۲، پلاک ۴",
        "شناسه قبض",
        "شناسه پرداخت",
        "مبلغ صورت‌حساب پیشین",
        "مبلغ اصلاح‌شده",
        "صورت‌حساب پیشین را نپردازید",
    ):
        assert words in text, words
    # The IDs as they are typed to pay, the amounts in Persian digits with their separators,
    # the period and the day issued in Jalali (1 October 2025 is 1404/07/09).
    for value in ("6843834777427", "52000140438", "4829105637", "۵۸۵٬۰۰۰", "۵۲۰٬۰۰۰"):
        assert value in text, value
    assert "۱۴۰۴/۰۴/۳۱" in text and "۱۴۰۴/۰۶/۳۰" in text and "۱۴۰۴/۰۷/۰۹" in text
    assert missing_glyphs(glyph_warnings) == []


def test_the_clearance_in_persian(glyph_warnings: pytest.LogCaptureFixture) -> None:
    text = pdf_text(clearance_pdf(CLEARANCE, "fa"))
    for words in (
        "مفاصاحساب جمع‌آوری دائم انشعاب",
        "مریم احمدی",
        "آخرین رقم کنتور",
        "بدهی ۲۵۰٬۰۰۰ ریال، پرداخت‌شده",
        "کد تأیید",
        "6843834777427",
        "4829105637",
        "4821-0934-1187",
        "۱۴۰۴/۰۷/۱۰",
    ):
        assert words in text, words
    # A meter reading is a number read digit by digit: never grouped.
    assert "۱۲۴۰۰" in text and "۱۲٬۴۰۰" not in text
    assert missing_glyphs(glyph_warnings) == []


def test_a_service_s_clearance_certificate(glyph_warnings: pytest.LogCaptureFixture) -> None:
    content = service_paper_pdf(CERTIFICATE, "fa")
    assert pages(content) == 1
    text = pdf_text(content)
    for words in (
        "گواهی مفاصاحساب",
        "مریم احمدی",
        "شماره گواهی",
        "بدهی ۳٬۴۰۰٬۰۰۰ ریال، پرداخت‌شده",
        "هیچ بدهی پرداخت‌نشده‌ای",
        "6843834777427",
        "5938104726",
        "۱۴۰۴/۰۷/۱۰",  # the day it was issued in Tehran
    ):
        assert words in text, words
    assert "۷۷۸" in text  # the number as staff typed it
    assert missing_glyphs(glyph_warnings) == []
    none_owed = ServiceCertificate(**{**CERTIFICATE.__dict__, "settled_rials": 0})
    text = pdf_text(service_paper_pdf(none_owed, "en"))
    assert "Clearance certificate" in text and "No debt" in text and "owed the company" in text


def test_in_english_and_with_nothing_to_pay() -> None:
    nothing = CorrectedBill(**{**BILL.__dict__, "corrected_rials": 0, "payment_id": ""})
    text = pdf_text(corrected_bill_pdf(nothing, "en"))
    assert "Corrected electricity bill" in text and "nothing to pay" in text
    assert "585,000 rials" in text and "6843834777427" in text
    assert "مریم احمدی" in text  # the name as the company holds it
    credit = Clearance(**{**CLEARANCE.__dict__, "statement_rials": -90_000})
    text = pdf_text(clearance_pdf(credit, "en"))
    assert "a credit of 90,000 rials to the subscriber" in text and "12400" in text


def test_the_same_facts_make_the_same_bytes() -> None:
    """File storage is content-addressed: a document shown twice is stored once."""
    assert corrected_bill_pdf(BILL, "fa") == corrected_bill_pdf(BILL, "fa")
    assert clearance_pdf(CLEARANCE, "fa") != clearance_pdf(CLEARANCE, "en")


def test_the_font_ships_with_its_licence() -> None:
    licence = (FONTS_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL Open Font License" in licence and "Vazirmatn" in licence
    assert (FONTS_DIR / "Vazirmatn-Regular.ttf").stat().st_size > 50_000
