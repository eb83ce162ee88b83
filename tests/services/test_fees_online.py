"""A defined service's fee paid online: the amount finance sets is a payment with the «پرداخت»
button and link the built services have; the gateway's callback takes the fee's paid_by_action
once; received at the office or withdrawn, the link takes no money after."""

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.constants import PaymentMethod, PaymentPurpose, PaymentStatus, StaffRole
from backend.models import Payment, RequestEvent, ServiceRequest, Subscription
from backend.payments import CallbackOutcome, DevProvider, complete_online_payment
from backend.services.loader import DefinitionError, load_definition
from backend.settings import Settings
from channels.request_buttons import button_value, request_buttons
from dialogs.documents import DONE
from dialogs.service_flow import CONFIRM
from tests.helpers.chat import ChatUser
from tests.helpers.samples import METER_PHOTO
from tests.helpers.services import filed_code, request_by
from tests.helpers.staff import Hire

DEFINITIONS = Path(__file__).resolve().parents[2] / "backend" / "services" / "definitions"


def _meter_test_with_fee(user: ChatUser, subscription: Subscription, hire: Hire) -> str:
    user.press("menu:services")
    user.press("svc:meter_test")
    user.say(subscription.bill_id)
    user.press("svcfiler:sole_user")  # the tenant, who sends the lease
    user.say("کنتور تندتر از مصرف ما می‌چرخد.")
    user.upload("lease.jpg", METER_PHOTO, "image/jpeg")
    user.press(DONE)
    user.press(DONE)  # no photo of the meter
    user.press(CONFIRM)
    code = filed_code(user)
    assert hire(StaffRole.FINANCE).run(f"/act {code} set_fee ۲۵۰۰۰۰") == ["staff.service.done"]
    return code


def _fee(session: Session, request: ServiceRequest) -> Payment:
    session.expire_all()
    return session.exec(select(Payment).where(Payment.request_id == request.id)).one()


def _pay(engine: sa.Engine, settings: Settings, payment: Payment) -> CallbackOutcome:
    form = {"outcome": "pay", "attempt": DevProvider.new_attempt()}
    return complete_online_payment(
        engine,
        DevProvider(settings),
        reference=payment.reference,
        form=form,
        now=payment.created_at,
        settings=settings,
    )


def test_a_fee_set_by_finance_is_paid_online_once(
    user: ChatUser,
    subscription: Subscription,
    session: Session,
    engine: sa.Engine,
    settings: Settings,
    hire: Hire,
) -> None:
    code = _meter_test_with_fee(user, subscription, hire)
    request = request_by(session, code)
    fee = _fee(session, request)
    assert (fee.purpose, fee.amount_rials, fee.status) == (
        PaymentPurpose.SERVICE_FEE,
        250_000,
        PaymentStatus.PENDING,
    )
    pay = button_value("pay", request)
    assert pay in [button.value for row in request_buttons(session, request) for button in row]
    user.press(pay)
    assert "requests.pay_link" in user.keys, user.keys
    (said,) = [r.text for r in user.answer.replies if r.text.key == "requests.pay_link"]
    assert fee.reference in str(said.params["link"])

    assert _pay(engine, settings, fee) == CallbackOutcome.PAID
    assert _pay(engine, settings, fee) == CallbackOutcome.ALREADY_PAID  # a repeated callback
    request = request_by(session, code)
    assert request.status == "service_fee_paid"
    fee = _fee(session, request)
    assert (fee.status, fee.method) == (PaymentStatus.PAID, PaymentMethod.ONLINE)
    taken = session.exec(
        select(RequestEvent.action, RequestEvent.actor)
        .where(RequestEvent.request_id == request.id)
        .order_by(col(RequestEvent.id))
    ).all()
    assert [action for action, _ in taken] == ["submitted", "set_fee", "receive_fee"]
    assert taken[-1][1] == DevProvider(settings).actor


def test_a_fee_received_at_the_office_closes_its_link(
    user: ChatUser,
    subscription: Subscription,
    session: Session,
    engine: sa.Engine,
    settings: Settings,
    hire: Hire,
) -> None:
    code = _meter_test_with_fee(user, subscription, hire)
    finance = hire(StaffRole.FINANCE)
    assert finance.run(f"/act {code} receive_fee") == ["staff.service.done"]
    request = request_by(session, code)
    fee = _fee(session, request)
    assert (fee.status, fee.method, fee.recorded_by) == (
        PaymentStatus.PAID,
        PaymentMethod.IN_PERSON,
        finance.actor,
    )
    assert _pay(engine, settings, fee) == CallbackOutcome.ALREADY_PAID
    assert request_by(session, code).status == "service_fee_paid"


def test_a_withdrawal_cancels_the_fee(
    user: ChatUser,
    subscription: Subscription,
    session: Session,
    engine: sa.Engine,
    settings: Settings,
    hire: Hire,
) -> None:
    code = _meter_test_with_fee(user, subscription, hire)
    user.say("/menu")
    user.press("menu:services")
    user.press(f"svcact:{code}:withdraw")
    request = request_by(session, code)
    assert request.status == "withdrawn"
    fee = _fee(session, request)
    assert fee.status == PaymentStatus.CANCELLED
    assert _pay(engine, settings, fee) == CallbackOutcome.NOT_PAYABLE
    assert request_by(session, code).status == "withdrawn"


def test_a_fee_paid_by_an_action_its_step_lacks_is_refused(tmp_path: Path) -> None:
    definition = json.loads((DEFINITIONS / "meter_test.json").read_text(encoding="utf-8"))
    definition["fees"][0]["paid_by_action"] = "meter_sound"  # the technician's, a step later
    path = tmp_path / "meter_test.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    with pytest.raises(DefinitionError) as refused:
        load_definition(path)
    assert (refused.value.path, refused.value.field) == (path, "fees[0].paid_by_action")
