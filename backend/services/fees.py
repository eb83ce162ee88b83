"""A defined service's fees paid online, through the payment links and gateways the built
services use (backend.payments): the amount a fee's `set_by_action` sets becomes a payment the
subscriber is asked for (the «پرداخت» button and the link, as for a collection fee); the gateway's
callback takes the fee's `paid_by_action`. Any way out of the step that waits on the fee closes
that payment: paid when staff record it received at the office, cancelled on a withdrawal, so
that the link takes no money after."""

from datetime import datetime

from sqlmodel import Session, select

from backend.actions import mark_paid, new_payment
from backend.constants import PaymentMethod, PaymentPurpose, PaymentStatus
from backend.models import Payment, ServiceRequest
from backend.services.schema import Action, Fee, ServiceDefinition


def fee_set_by(definition: ServiceDefinition, step: str, action: str) -> Fee | None:
    """The fee that `action` at `step` sets, if it sets one."""
    return next(
        (fee for fee in definition.fees if fee.at_step == step and fee.set_by_action == action),
        None,
    )


def fee_awaited_at(definition: ServiceDefinition, step: str) -> Fee | None:
    """The fee a request at `step` waits on: the one whose setting led there."""
    for fee in definition.fees:
        setting = next(s for s in definition.steps if s.code == fee.at_step)
        if any(a.code == fee.set_by_action and a.to == step for a in setting.actions):
            return fee
    return None


def pending_fee(session: Session, request: ServiceRequest) -> Payment | None:
    query = select(Payment).where(
        Payment.request_id == request.id,
        Payment.purpose == PaymentPurpose.SERVICE_FEE,
        Payment.status == PaymentStatus.PENDING,
    )
    return session.exec(query.with_for_update()).first()


def keep_fees_in_step(
    session: Session,
    request: ServiceRequest,
    definition: ServiceDefinition,
    *,
    left: str,
    action: Action,
    value: int | str | None,
    actor: str,
    now: datetime,
) -> None:
    """After `action` moved the request from the step `left`: a fee it set is due online, and a
    fee that step waited on is closed (paid by its `paid_by_action`, else cancelled)."""
    awaited = fee_awaited_at(definition, left)
    payment = pending_fee(session, request) if awaited is not None else None
    if payment is not None:
        assert awaited is not None
        if action.code == awaited.paid_by_action:  # received at the office or the bank
            mark_paid(
                session,
                reference=payment.reference,
                method=PaymentMethod.IN_PERSON,
                provider_ref="",
                actor=actor,
                now=now,
            )
        else:
            payment.status = PaymentStatus.CANCELLED
            session.add(payment)
    fee = fee_set_by(definition, left, action.code)
    if fee is not None and fee.paid_by_action is not None:
        assert isinstance(value, int)  # the loader: a fee's action takes an amount
        new_payment(session, request, PaymentPurpose.SERVICE_FEE, value, now)
