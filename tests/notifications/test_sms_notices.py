"""Every notice by SMS keeps its action line whole within the parts allowed, however long the
terms, explanations and names that follow it: the action comes first, and only what follows it
is cut."""

import pytest

from backend.actions import MAX_AMOUNT_RIALS
from backend.constants import ESSENTIAL_NOTICES, STAFF_NOTICES, Channel, NoticeKind
from backend.settings import Settings
from channels.render import SMS_MARKUP, notice_message, render_for_channel
from channels.sms.text import parts_needed
from locales.catalogs import LOCALES
from locales.values import Msg, Rials, render

MAX_PARTS = Settings.model_fields["sms_max_parts"].default
CODE = "9876543210"
DEADLINE = "2026-09-22T20:29:00+00:00"
LONG_PERSIAN = (
    "کنتور در بازدید میدانی سالم بود و رقم آن با رقم قرائت‌شده در صورت‌حساب یکی است؛ "
    "افزایش مبلغ از مصرف بیشتر در ماه‌های گرم سال است. "
) * 20  # past the 2,000 characters staff may write
# The longest values each notice can carry (what backend/actions.py and staff.py pass).
PARAMS: dict[NoticeKind, dict[str, object]] = {
    NoticeKind.RECEIPT: {"expected_date": DEADLINE},
    NoticeKind.UNDER_REVIEW: {},
    NoticeKind.RESULT_CORRECTED: {
        "original_rials": MAX_AMOUNT_RIALS,
        "corrected_rials": MAX_AMOUNT_RIALS - 1_000,
        "bill_id": "9999999999999",
        "payment_id": "9999999990125",
    },
    NoticeKind.RESULT_REJECTED: {"rejection": "reading_correct", "explanation": LONG_PERSIAN},
    NoticeKind.FEE_DUE: {"fee_rials": MAX_AMOUNT_RIALS, "payment_reference": "f" * 24},
    NoticeKind.FEE_RECEIVED: {"amount_rials": MAX_AMOUNT_RIALS},
    NoticeKind.METER_TESTED: {"result": "faulty", "reading": 9_999_999},
    NoticeKind.TERMS: {"terms": LONG_PERSIAN},
    NoticeKind.ARCHIVED: {},
    NoticeKind.COLLECTED: {"reading": 9_999_999},
    NoticeKind.STATEMENT: {
        "debt_rials": MAX_AMOUNT_RIALS,
        "credit_rials": 0,
        "payment_reference": "f" * 24,
    },
    NoticeKind.STATEMENT_CORRECTED: {
        "reason": LONG_PERSIAN,
        "debt_rials": MAX_AMOUNT_RIALS,
        "credit_rials": 0,
        "payment_reference": "f" * 24,
    },
    NoticeKind.CLEARANCE: {},
    NoticeKind.WITHDRAWN: {},
    NoticeKind.CLOSED: {},
    NoticeKind.FEEDBACK: {"service": "connection_removal"},
    NoticeKind.ONE_TIME_CODE: {"code": "048213", "minutes": 5},
    NoticeKind.COUNTER_CODE: {
        "code": "048213",
        "minutes": 5,
        "counter": "دفتر پیشخوان دولت " + "ولیعصر " * 26,  # at most 200 characters
        "service": "connection_removal",
    },
    NoticeKind.STAFF_BOUND: {
        "name": "سیده فاطمه‌زهرا " * 12,  # as long as a staff name may be
        "role": "billing_reviewer",
        "channel": "telegram",
        "bound_at": DEADLINE,
    },
}
PARAMS[NoticeKind.OUTAGE_REMINDER] = {
    "place": "قم، " + "شهرک صنعتی " * 9,  # an area's name near the 100 characters it may be
    "starts_at": DEADLINE,
    "ends_at": DEADLINE,
    "outage_reason": LONG_PERSIAN[:200],
}
PARAMS[NoticeKind.INCIDENT_RESOLVED] = {"reported_at": DEADLINE, "resolved_at": DEADLINE}
# A step of a service defined as data (backend.services): the longest that one says.
PARAMS[NoticeKind.SERVICE_STEP] = {
    "notice": "refused",
    "service": "mobile_change",
    "text": LONG_PERSIAN,
}
# What each notice asks or tells the reader to do, in its first line, by locale.
ACTION: dict[NoticeKind, dict[str, str]] = {
    NoticeKind.RESULT_CORRECTED: {"fa": "9999999990125", "en": "9999999990125"},
    NoticeKind.RESULT_REJECTED: {"fa": "۱۵۲۱", "en": "1521"},
    NoticeKind.FEE_DUE: {"fa": "بپردازید", "en": "pay"},
    NoticeKind.TERMS: {"fa": "«درخواست‌های من»", "en": '"My requests"'},
    NoticeKind.STATEMENT: {"fa": "بدهی", "en": "you owe"},
    NoticeKind.STATEMENT_CORRECTED: {"fa": "نپردازید", "en": "do not pay"},
    NoticeKind.CLEARANCE: {"fa": "«درخواست‌های من»", "en": '"My requests"'},
    NoticeKind.ONE_TIME_CODE: {"fa": "048213", "en": "048213"},
    NoticeKind.COUNTER_CODE: {"fa": "048213", "en": "048213"},
    NoticeKind.STAFF_BOUND: {"fa": "فوراً پیگیری کنید", "en": "look into it at once"},
    NoticeKind.OUTAGE_REMINDER: {"fa": "یادآوری خاموشی", "en": "Planned outage reminder"},
}
# A money notice by SMS ends with the link to pay (notifications.delivery), kept whole.
PAYS = {NoticeKind.FEE_DUE, NoticeKind.STATEMENT, NoticeKind.STATEMENT_CORRECTED}
# Staff's own notices go to their bound messenger accounts only, never by SMS.
BY_SMS = [kind for kind in NoticeKind if kind not in STAFF_NOTICES]
LINK = "https://barq-desk.tavanir-qom.ir/pay/" + "0f" * 12


def _message(kind: NoticeKind) -> Msg:
    params = PARAMS[kind]
    codeless = (NoticeKind.STAFF_BOUND, NoticeKind.ONE_TIME_CODE, NoticeKind.COUNTER_CODE)
    code = {} if kind in codeless else {"code": CODE}
    return notice_message(kind, {**code, **params})


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", BY_SMS)
def test_every_sms_notice_keeps_its_action_line_whole(kind: NoticeKind, locale: str) -> None:
    message = _message(kind)
    whole = render(message, locale, SMS_MARKUP)
    action_line = whole.split("\n")[0]
    tail = None
    if kind in PAYS:
        assert kind in ESSENTIAL_NOTICES
        tail = Msg("requests.pay_link", {"amount": Rials(MAX_AMOUNT_RIALS), "link": LINK})
    sms = render_for_channel(message, Channel.SMS, locale, MAX_PARTS, tail)
    assert parts_needed(sms) <= MAX_PARTS, sms
    assert sms.startswith(action_line), sms  # the first line, whole
    default = CODE if "code" in message.params and kind != NoticeKind.ONE_TIME_CODE else ""
    marker = ACTION.get(kind, {}).get(locale, default)
    assert marker and marker in action_line, action_line
    if tail is not None:
        assert sms.endswith(LINK)
    if kind == NoticeKind.RESULT_CORRECTED:  # paying takes both IDs: both in the action line
        assert "9999999999999" in action_line


@pytest.mark.parametrize("locale", LOCALES)
def test_the_terms_say_how_to_answer_before_the_terms_themselves(locale: str) -> None:
    """The finding: the terms SMS was cut before its last line, the one saying how to answer."""
    sms = render_for_channel(_message(NoticeKind.TERMS), Channel.SMS, locale, MAX_PARTS)
    answer = ACTION[NoticeKind.TERMS][locale]
    assert sms.index(answer) < sms.index(LONG_PERSIAN[:20])
    assert sms.endswith("…")  # the terms are what was cut
