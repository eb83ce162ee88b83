"""Numbers staff type are bounded where they are typed: refused with the bounds, never stored to
fail later (at /approve, or in the database as "bigint out of range"); text loses its controls."""

import pytest
from sqlmodel import Session, select

from backend.actions import (
    MAX_AMOUNT_RIALS,
    MAX_READING,
    MIN_AMOUNT_RIALS,
    answer_terms,
    subscriber_actor,
)
from backend.constants import EventAction, RequestStatus, StaffRole
from backend.models import RequestEvent, Subscription, utcnow
from backend.settings import Settings
from locales.values import Rials
from tests.helpers.filing import request_of
from tests.helpers.staff import Hire, StaffChat
from tests.staff.conftest import file_removal

THIRTY_DIGITS = "9" * 30
AMOUNT_BOUNDS = {"min_rials": Rials(MIN_AMOUNT_RIALS), "max_rials": Rials(MAX_AMOUNT_RIALS)}


def refusal(chat: StaffChat) -> tuple[str, dict[str, object]]:
    """The one reply's key and parameters."""
    assert chat.answer is not None
    (reply,) = chat.answer.replies
    return reply.text.key, dict(reply.text.params)


def test_a_correction_too_large_for_a_payment_id_is_refused_and_the_review_goes_on(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    first, second = hire(StaffRole.SUPERVISOR), hire(StaffRole.SUPERVISOR)
    assert reviewer.run(f"/take {review}") == ["staff.taken"]
    reviewer.say(f"/decide {review} upheld 100000000000")
    assert refusal(reviewer) == ("refused.amount_out_of_range", AMOUNT_BOUNDS)
    assert "۱۰٬۰۰۰٬۰۰۰٬۰۰۰" in reviewer.text()  # the bounds, in the staff member's digits
    assert request_of(session, review).status == RequestStatus.UNDER_REVIEW
    for typed in ("500", THIRTY_DIGITS):
        assert reviewer.run(f"/decide {review} upheld {typed}") == ["refused.amount_out_of_range"]

    # Within the bounds but above the bill: an upheld objection lowers it.
    assert first.run(f"/decide {review} upheld {MAX_AMOUNT_RIALS}") == [
        "refused.correction_not_lower"
    ]
    # The smallest amount allowed is one a supervisor can approve: a payment ID is made for it.
    typed = f"/decide {review} upheld {MIN_AMOUNT_RIALS}"
    assert first.confirmed(typed)[0] == "staff.awaiting_approval"
    assert second.run(f"/approve {review}") == ["staff.approved"]
    corrected = request_of(session, review)
    assert corrected.status == RequestStatus.RESULT_ANNOUNCED
    assert corrected.proposed_amount_rials == MIN_AMOUNT_RIALS


def test_the_amount_typed_in_the_decide_dialog_is_bounded_and_asked_again(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.run(f"/take {review}")
    reviewer.say(f"/decide {review}")
    reviewer.press("staff_decide:upheld")
    assert reviewer.run(THIRTY_DIGITS) == ["refused.amount_out_of_range", "staff.decide.ask_amount"]
    assert request_of(session, review).status == RequestStatus.UNDER_REVIEW


def test_every_number_a_removal_takes_is_bounded(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    """A 30-digit number in each field gets its message, on PostgreSQL as on SQLite."""
    code = file_removal(session, subscription, settings)
    finance = hire(StaffRole.FINANCE)
    technician = hire(StaffRole.FIELD_TECHNICIAN)
    for typed in (THIRTY_DIGITS, "999", str(MAX_AMOUNT_RIALS + 1)):
        finance.confirmed(f"/fee {code} {typed}")
        assert refusal(finance) == ("refused.amount_out_of_range", AMOUNT_BOUNDS)
    assert finance.run(f"/fee {code} {'9' * 5000}") == ["refused.bad_amount"]  # not a number
    assert finance.confirmed(f"/fee {code} {MAX_AMOUNT_RIALS}")[0] == "staff.fee_announced"
    finance.run(f"/paid {code} R-1 bank")
    assert request_of(session, code).status == RequestStatus.FEE_PAID

    for typed in (THIRTY_DIGITS, str(MAX_READING + 1)):
        technician.say(f"/metertest {code} ok {typed}")
        assert refusal(technician) == ("refused.reading_out_of_range", {"max_reading": MAX_READING})
    assert "۹۹۹۹۹۹۹۹" in technician.text()
    assert technician.run(f"/metertest {code} ok {MAX_READING - 1}") == ["staff.meter_tested"]
    finance.run(f"/terms {code} شرایط جمع‌آوری")
    answer_terms(
        session,
        request_of(session, code),
        accept=True,
        actor=subscriber_actor("telegram"),
        now=utcnow(),
        settings=settings,
    )
    session.commit()

    assert technician.run(f"/collected {code} {THIRTY_DIGITS}") == ["refused.reading_out_of_range"]
    assert technician.run(f"/collected {code} {MAX_READING}") == ["staff.collected"]
    for typed in (THIRTY_DIGITS, f"-{THIRTY_DIGITS}", "-999"):
        finance.confirmed(f"/statement {code} {typed}")
        assert refusal(finance) == ("refused.amount_out_of_range", AMOUNT_BOUNDS)
    assert (
        finance.confirmed(f"/statement {code} -{MAX_AMOUNT_RIALS}")[0] == "staff.statement_issued"
    )
    assert request_of(session, code).statement_rials == -MAX_AMOUNT_RIALS


def test_a_zero_statement_is_still_even(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code = file_removal(session, subscription, settings)
    request = request_of(session, code)
    request.status = RequestStatus.COLLECTED
    session.add(request)
    session.commit()
    finance = hire(StaffRole.FINANCE)
    assert finance.confirmed(f"/statement {code} 0")[0] == "staff.statement_issued"


@pytest.mark.parametrize("page", [THIRTY_DIGITS, "۹" * 5000, "x"])
def test_a_history_page_out_of_bounds_gets_the_usage(review: str, hire: Hire, page: str) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    assert supervisor.run(f"/history {review} {page}") == ["staff.usage"]
    assert supervisor.run(f"/history {review} ۰۰۰۲") == ["staff.lines"]  # past the last: the last


@pytest.mark.parametrize(
    "value",
    [
        f"staff_hist:{THIRTY_DIGITS}:1",
        f"staff_hist:1:{THIRTY_DIGITS}",
        "staff_hist:2147483648:1",
        "staff_hist:1",
        "staff_hist:a:1",
    ],
)
def test_a_forged_history_button_is_only_expired(
    review: str, hire: Hire, session: Session, value: str
) -> None:
    """The history's buttons work from any message, so their values come from any client."""
    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.press(value)
    assert supervisor.keys[0] == "input.button_expired"


def test_a_note_with_a_nul_is_kept_without_it(review: str, hire: Hire, session: Session) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    assert supervisor.run(f"/note {review} قبض\x00 دوباره\x1b[2J بررسی شود\x07") == ["staff.noted"]
    query = select(RequestEvent.note).where(
        RequestEvent.request_id == request_of(session, review).id,
        RequestEvent.action == EventAction.NOTE,
    )
    assert session.exec(query).all() == ["قبض دوباره[2J بررسی شود"]
