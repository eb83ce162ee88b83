"""The five services defined only as data, each filed by a subscriber in the dialogs, worked
by staff with /act and closed: the steps, the notices, the records they change."""

from sqlmodel import Session, select

from backend.constants import StaffRole
from backend.models import Customer, RequestEvent, Subscription
from dialogs.documents import DONE
from dialogs.service_flow import LOST
from locales.values import PLAIN, Msg, render
from tests.helpers.chat import ChatUser
from tests.helpers.samples import METER_PHOTO
from tests.helpers.services import file, request_by, service_notices
from tests.helpers.staff import Hire, code_texted_to

R = StaffRole


def _history(session: Session, code: str) -> list[tuple[str, str | None]]:
    request = request_by(session, code)
    events = session.exec(
        select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)
    ).all()
    return [(event.action, event.to_status) for event in events]


def _said(notices: list[dict[str, object]]) -> list[object]:
    return [notice["notice"] for notice in notices]


def _holder_with_national_id(
    session: Session, subscription: Subscription, national_id: str
) -> Customer:
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    customer.national_id = national_id
    session.add(customer)
    session.commit()
    return customer


def test_a_meter_test_found_faulty_ends_with_the_bills_corrected(
    user: ChatUser, subscription: Subscription, session: Session, hire: Hire
) -> None:
    user.press("menu:services")
    user.press("svc:meter_test")
    user.say(subscription.bill_id)
    assert user.last.key == "service.ask_filer"  # the chat holds no proof of the mobile
    user.press("svcfiler:sole_user")  # the tenant, who sends the lease
    user.say("x" * 501)  # too long: said so, asked again
    assert user.keys[0] == "service.text_too_long"
    user.say("کنتور تندتر از مصرف ما می‌چرخد.")
    assert user.last.key == "service.send_document"
    user.upload("lease.jpg", METER_PHOTO + b"lease", "image/jpeg")
    user.press(DONE)
    assert user.last.key == "service.send_optional_document"
    user.upload("meter.jpg", METER_PHOTO, "image/jpeg")
    user.press(DONE)
    assert user.last.key == "service.summary"
    user.press("svcok:file")
    code = user.answer.replies[0].text.params["code"].value  # type: ignore[union-attr]
    request = request_by(session, code)
    assert (request.kind, request.status) == ("meter_test", "submitted")
    assert request.answers == {
        "bill_id": subscription.bill_id,
        "description": "کنتور تندتر از مصرف ما می‌چرخد.",
        "filer": "sole_user",
    }
    assert request.step_deadline is not None

    finance, technician = hire(R.FINANCE), hire(R.FIELD_TECHNICIAN)
    reviewer = hire(R.BILLING_REVIEWER)
    assert technician.run(f"/act {code} set_fee 250000") == ["staff.service.not_yours"]
    assert finance.run(f"/act {code} set_fee") == ["refused.service_value_needed"]
    assert finance.run(f"/act {code} set_fee 250000") == ["staff.service.done"]
    assert finance.run(f"/act {code} receive_fee") == ["staff.service.done"]
    assert technician.run(f"/act {code} meter_faulty 12345") == ["staff.service.done"]
    assert request_by(session, code).status == "meter_faulty"
    assert reviewer.run(f"/act {code} correct_bills 1200000") == ["staff.service.done"]

    request = request_by(session, code)
    assert request.status == "closed" and request.step_deadline is None
    assert request.answers["correct_bills"] == 1_200_000  # type: ignore[index]
    assert _history(session, code) == [
        ("submitted", "submitted"),
        ("set_fee", "service_fee_due"),
        ("receive_fee", "service_fee_paid"),
        ("meter_faulty", "meter_faulty"),
        ("correct_bills", "closed"),
    ]
    notices = service_notices(session, request)
    assert _said(notices) == ["fee_due", "fee_received", "meter_faulty", "bills_corrected"]
    assert notices[0]["amount_rials"] == 250_000 and notices[2]["text"] == 12345


def test_a_change_of_name_passes_the_subscription_to_the_new_holder(
    user: ChatUser, subscription: Subscription, session: Session, hire: Hire
) -> None:
    user.press("menu:services")
    user.press("svc:change_of_name")
    user.say(subscription.bill_id)
    user.say("0012345678")  # a national ID with a wrong check digit
    assert user.keys[0] == "service.national_id_invalid"
    user.say("0499370899")
    user.say("رضا کریمی")
    assert user.last.key == "service.send_document"
    assert DONE not in user.buttons  # a deed or a lease is required
    user.upload("deed.jpg", METER_PHOTO, "image/jpeg")
    user.press(DONE)
    user.upload("id.jpg", METER_PHOTO + b"id", "image/jpeg")
    user.press(DONE)
    assert user.last.key == "service.summary"
    user.press("svcok:file")
    code = user.answer.replies[0].text.params["code"].value  # type: ignore[union-attr]

    finance, reviewer = hire(R.FINANCE), hire(R.BILLING_REVIEWER)
    assert finance.run(f"/act {code} set_fee 1500000") == ["staff.service.done"]
    assert finance.run(f"/act {code} receive_fee") == ["staff.service.done"]
    assert reviewer.run(f"/act {code} change_name") == ["staff.service.done"]

    request = request_by(session, code)
    assert request.status == "closed"
    session.refresh(subscription)
    holder = session.get(Customer, subscription.customer_id)
    assert holder is not None
    assert (holder.national_id, holder.full_name) == ("0499370899", "رضا کریمی")
    assert _said(service_notices(session, request))[-1] == "name_changed"


def test_instalments_counter_proposed_and_accepted_end_with_the_schedule(
    user: ChatUser, subscription: Subscription, session: Session, hire: Hire, dialog_engine: object
) -> None:
    user.press("menu:services")
    user.press("svc:debt_instalments")
    user.say(subscription.bill_id)  # the registered mobile is proven by a code
    assert user.last.key == "otp.prompt"
    user.say(code_texted_to(user.engine.db, user.engine.settings, "+989121234567"))
    user.say("۱۲٬۰۰۰٬۰۰۰")  # the amount, in Persian digits with separators
    user.say("24")  # more instalments than allowed
    assert user.keys[0] == "service.number_invalid"
    user.say("2")  # two instalments, though «لغو» is the second button shown
    user.say("هزینه درمان داشتیم و نمی‌توانیم یکجا بپردازیم.")
    assert user.last.key == "service.summary"
    user.press("svcok:file")
    code = user.answer.replies[0].text.params["code"].value  # type: ignore[union-attr]
    request = request_by(session, code)
    assert request.answers is not None
    assert request.answers["amount"] == 12_000_000 and request.answers["instalments"] == 2
    assert request.answers["mobile_proven"] is True

    finance = hire(R.FINANCE)
    assert finance.run(f"/act {code} counter_propose ۴ قسط ۳ میلیون ریالی") == [
        "staff.service.done"
    ]
    assert finance.run(f"/act {code} accept_proposal") == ["staff.service.not_yours"]
    user.press("menu:services")  # the subscriber's answer waits there, as buttons
    assert f"svcact:{code}:accept_proposal" in user.buttons
    user.press(f"svcact:{code}:accept_proposal")
    assert user.keys[0] == "service.acted"
    assert finance.run(f"/act {code} send_schedule قسط اول ۱۴۰۵/۰۹/۰۱") == ["staff.service.done"]
    request = request_by(session, code)
    assert request.status == "closed"
    assert [step for _, step in _history(session, code)] == [
        "submitted",
        "counter_proposed",
        "instalments_approved",
        "closed",
    ]
    assert _said(service_notices(session, request)) == ["instalments_proposed", "schedule"]


def test_a_clearance_certificate_after_the_debt_is_settled(
    user: ChatUser, subscription: Subscription, session: Session, hire: Hire
) -> None:
    user.press("menu:services")
    user.press("svc:clearance_certificate")
    user.say(subscription.bill_id)
    user.say(code_texted_to(user.engine.db, user.engine.settings, "+989121234567"))
    user.say("فروش")  # a choice is pressed, not typed
    assert user.keys[0] == "input.use_buttons"
    user.press("svcopt:sale")
    assert user.last.key == "service.send_optional_document"
    user.press(DONE)
    user.press("svcok:file")
    code = user.answer.replies[0].text.params["code"].value  # type: ignore[union-attr]

    finance = hire(R.FINANCE)
    assert finance.run(f"/act {code} debt_found 3400000") == ["staff.service.done"]
    assert finance.run(f"/act {code} settle") == ["staff.service.done"]
    assert finance.run(f"/act {code} issue_certificate شماره ۱۴۰۵-۷۷۸") == ["staff.service.done"]
    request = request_by(session, code)
    assert request.status == "closed"
    assert _said(service_notices(session, request)) == ["debt_due", "debt_settled", "certificate"]


def test_a_lost_mobile_is_changed_after_a_counter_confirms_the_holder(
    user: ChatUser, subscription: Subscription, session: Session, hire: Hire
) -> None:
    customer = _holder_with_national_id(session, subscription, "0499370899")
    code = file(user, "mobile_change", subscription.bill_id, (LOST,), "0499370899", "0936 123 8866")
    request = request_by(session, code)
    assert request.answers is not None and request.answers["mobile_proven"] is False

    reviewer = hire(R.BILLING_REVIEWER)
    reviewer.run(f"/show {code}")
    shown = reviewer.text()  # a reviewer sees the IDs masked, and that the mobile is unproven
    assert "8866" in shown and "09361238866" not in shown and "0499370899" not in shown
    assert render(Msg("staff.service.mobile_not_proven"), "fa", PLAIN) in shown
    assert f"/act {code} change_mobile" in shown
    assert reviewer.run(f"/act {code} ask_counter") == ["staff.service.done"]
    assert reviewer.run(f"/act {code} confirm_identity دفتر ۱۲ قم") == ["staff.service.done"]
    assert reviewer.run(f"/act {code} change_mobile") == ["staff.service.done"]
    session.refresh(customer)
    assert customer.mobile == "+989361238866"
    assert _said(service_notices(session, request_by(session, code))) == [
        "counter_needed",
        "mobile_changed",
    ]


def test_a_mobile_change_for_another_holder_is_refused(
    user: ChatUser, subscription: Subscription, session: Session, hire: Hire
) -> None:
    customer = _holder_with_national_id(session, subscription, "0499370899")
    code = file(user, "mobile_change", subscription.bill_id, (LOST,), "0012345679", "09361238866")
    reviewer = hire(R.BILLING_REVIEWER)
    assert reviewer.run(f"/act {code} change_mobile") == ["refused.service_national_id_mismatch"]
    session.refresh(customer)
    assert customer.mobile == "+989121234567"  # nothing changed
    assert request_by(session, code).status == "submitted"
