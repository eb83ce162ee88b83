"""Every notice kind renders in both languages on every channel, with the parameters it is given."""

from datetime import date

import pytest

from backend.constants import Channel, NoticeKind
from channels.render import notice_message, render_for_channel, typed_param
from channels.sms.text import parts_needed
from locales.catalogs import LOCALES
from locales.values import Code, Rials

DEADLINE = "2026-03-20T21:30:00+00:00"  # already 1 Farvardin 1405 in Tehran
# What backend/actions.py passes with each kind (queue_notice adds `code`).
PARAMS: dict[NoticeKind, dict[str, object]] = {
    NoticeKind.RECEIPT: {"expected_date": DEADLINE},
    NoticeKind.UNDER_REVIEW: {},
    NoticeKind.RESULT_CORRECTED: {
        "original_rials": 4_850_000,
        "corrected_rials": 1_200_000,
        "bill_id": "6843834777427",
        "payment_id": "120000140510",
    },
    NoticeKind.RESULT_REJECTED: {
        "rejection": "reading_correct",
        "explanation": "رقم کنتور در بازدید دوباره همان رقم قبض بود." * 3,
    },
    NoticeKind.FEE_DUE: {"fee_rials": 2_500_000, "payment_reference": "p-1"},
    NoticeKind.FEE_RECEIVED: {"amount_rials": 2_500_000},
    NoticeKind.METER_TESTED: {"result": "ok", "reading": 12_345},
    NoticeKind.TERMS: {"terms": "کنتور سالم است؛ هزینه جمع‌آوری پرداخت شده است."},
    NoticeKind.ARCHIVED: {},
    NoticeKind.COLLECTED: {"reading": 12_400},
    NoticeKind.STATEMENT: {"debt_rials": 0, "credit_rials": 300_000, "payment_reference": None},
    NoticeKind.CLEARANCE: {},
    NoticeKind.WITHDRAWN: {},
    NoticeKind.CLOSED: {},
    NoticeKind.ONE_TIME_CODE: {"minutes": 5},  # `code`: the one-time code, opened from its seal
    # The same at a counter (dialogs.counter_filing), naming the counter and the service.
    NoticeKind.COUNTER_CODE: {
        "minutes": 5,
        "counter": "دفتر پیشخوان دولت ولیعصر",
        "service": "connection_removal",
    },
    # What backend/staff.py passes; it is about a staff account, with no tracking code.
    NoticeKind.STAFF_BOUND: {
        "name": "مینا رضایی",
        "role": "supervisor",
        "channel": "bale",
        "bound_at": DEADLINE,
    },
    NoticeKind.STATEMENT_CORRECTED: {
        "reason": "خسارت کنتور در صورت‌حساب قبلی دو بار حساب شده بود.",
        "debt_rials": 1_200_000,
        "credit_rials": 0,
        "payment_reference": "p-2",
    },
    # What backend/staff_notices.py passes (besides the staff member's and request's ids).
    **{
        kind: {"service": "bill_review", "step": "under_review", "due": DEADLINE, "by": "سرپرست"}
        for kind in (NoticeKind.STAFF_ASSIGNED, NoticeKind.STAFF_QUEUE, NoticeKind.STAFF_OVERDUE)
    },
    NoticeKind.STAFF_ESCALATED: {
        "service": "connection_removal",
        "step": "fee_paid",
        "due": "",
        "holder": "مینا رضایی",
    },
}
# What backend/staff_notices.py passes of a counter's step past its deadline (`code`: its code).
PARAMS[NoticeKind.STAFF_COUNTER_OVERDUE] = {
    "counter": "دفتر پیشخوان دولت ولیعصر",
    "counter_step": "approved",
    "due": DEADLINE,
}
# What backend/workflows.py and backend/feedback.py pass.
PARAMS[NoticeKind.FEEDBACK] = {"service": "bill_review"}
for kind, extra in (
    (NoticeKind.STAFF_LOW_SCORE, {}),
    (NoticeKind.STAFF_LOW_SCORE_COMMENT, {"comment": "کسی پاسخ تلفن را نداد."}),
):
    PARAMS[kind] = {"service": "bill_review", "step": "closed", "due": "", "score": 2, **extra}
# What backend/outage_schedule.py and backend/outage_reports.py pass (a chat notice's address
# too, which the message does not show).
CHAT = {"to_channel": "telegram", "to_user": "7501", "subscription_id": 1}
PARAMS[NoticeKind.OUTAGE_REMINDER] = {
    **CHAT,
    "place": "قم، صفاییه",
    "starts_at": DEADLINE,
    "ends_at": DEADLINE,
    "outage_reason": "maintenance",
}
PARAMS[NoticeKind.INCIDENT_RESOLVED] = {**CHAT, "reported_at": DEADLINE, "resolved_at": DEADLINE}
PARAMS[NoticeKind.SERVICE_STEP] = {"notice": "fee_due", "service": "meter_test", "amount_rials": 1}
# What backend/reports.py passes of the weekly report (about no request: no tracking code).
PARAMS[NoticeKind.STAFF_WEEKLY_REPORT] = {
    "first_date": "2026-03-07",
    "last_date": "2026-04-03",
    "requests": 1204,
    "on_time_percent": 87,
    "overdue": 12,
    "csat_score": 4.2,
    "csat_count": 318,
}
NO_TRACKING_CODE = {
    NoticeKind.STAFF_BOUND,
    NoticeKind.OUTAGE_REMINDER,
    NoticeKind.STAFF_WEEKLY_REPORT,
}


def test_parameters_take_the_type_their_name_says() -> None:
    assert typed_param("code", "1234567890") == Code("1234567890")
    assert typed_param("fee_rials", 2_500_000) == Rials(2_500_000)
    assert typed_param("expected_date", DEADLINE) == date(2026, 3, 21)
    assert typed_param("due_date", "2026-03-20") == date(2026, 3, 20)
    assert typed_param("terms", "متن") == "متن"
    assert typed_param("payment_reference", None) is None


@pytest.mark.parametrize("kind", list(NoticeKind))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_notice_kind_renders_everywhere(kind: NoticeKind, locale: str) -> None:
    code = {} if kind in NO_TRACKING_CODE else {"code": "1234567890"}
    message = notice_message(kind, {**code, **PARAMS[kind]})
    telegram = render_for_channel(message, Channel.TELEGRAM, locale, 3)
    bale = render_for_channel(message, Channel.BALE, locale, 3)
    sms = render_for_channel(message, Channel.SMS, locale, 3)
    if kind in NO_TRACKING_CODE:
        assert parts_needed(sms) <= 3 and "{" not in telegram + bale + sms
        return
    assert "<code>1234567890</code>" in telegram
    assert "<code>" not in bale and "1234567890" in bale
    assert "1234567890" in sms and parts_needed(sms) <= 3


def test_a_staff_binding_names_the_member_role_channel_and_time_in_words() -> None:
    message = notice_message(NoticeKind.STAFF_BOUND, PARAMS[NoticeKind.STAFF_BOUND])
    sms = render_for_channel(message, Channel.SMS, "fa", 3)
    # 21:30 UTC on 20 March 2026 is 01:00 on 1 Farvardin 1405 in Tehran.
    assert "مینا رضایی" in sms and "(سرپرست)" in sms and "حساب بله" in sms
    assert "۱۴۰۵/۰۱/۰۱ ۰۱:۰۰" in sms
    english = render_for_channel(message, Channel.SMS, "en", 3)
    assert "a Bale account was bound as مینا رضایی (supervisor) at 1405/01/01 01:00" in english


def test_a_receipt_reads_well_in_persian() -> None:
    message = notice_message(
        NoticeKind.RECEIPT, {"code": "1234567890", **PARAMS[NoticeKind.RECEIPT]}
    )
    sms = render_for_channel(message, Channel.SMS, "fa", 3)
    assert "کد رهگیری: 1234567890" in sms and "۱۴۰۵/۰۱/۰۱" in sms


def test_a_long_notice_is_cut_between_words_for_sms() -> None:
    params = {"code": "1234567890", **PARAMS[NoticeKind.RESULT_REJECTED]}
    sms = render_for_channel(
        notice_message(NoticeKind.RESULT_REJECTED, params), Channel.SMS, "fa", 2
    )
    assert parts_needed(sms) == 2 and sms.endswith("…") and "1234567890" in sms


def test_amounts_in_persian_with_separators() -> None:
    params = {"code": "1234567890", **PARAMS[NoticeKind.STATEMENT]}
    text = render_for_channel(notice_message(NoticeKind.STATEMENT, params), Channel.BALE, "fa", 3)
    assert "۳۰۰٬۰۰۰ ریال" in text
