"""Online payment: a provider makes the payment link and vouches for its callback, recorded once.

The link always opens our own `/pay/<reference>` (payment_link): the dev provider's page, or,
for a gateway with pages of its own (GatewayProvider; the real ones are in channels/payments/,
which the web app serves), the start of a transaction there, whose callback must name a
transaction opened for that payment (PaymentAttempt).
"""

import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.actions import record_event, record_payment
from backend.constants import EventAction, PaymentMethod, PaymentPurpose, PaymentStatus
from backend.db import session_scope
from backend.models import Payment, PaymentAttempt, RequestEvent, ServiceRequest
from backend.services.engine import record_fee_payment
from backend.settings import Settings
from backend.workflows import Refused

PAY_PATH = "/pay"
CALLBACK = "callback"  # a gateway returns the payer to PAY_PATH/<reference>/CALLBACK


class UnknownPayment(LookupError):
    """No payment has this reference: a mistyped or guessed link."""


class InvalidCallback(ValueError):
    """A callback that does not say what became of the payment, or names a transaction that
    was never opened for it."""


class GatewayUnavailable(RuntimeError):
    """The gateway did not answer, or refused us (not the payer): nothing was recorded, and
    the same callback may be tried again."""


class PaymentClosed(Exception):
    """Nothing to open a gateway for: the payment is paid already, or no longer due."""

    def __init__(self, outcome: "CallbackOutcome") -> None:
        super().__init__(outcome)
        self.outcome = outcome


class CallbackOutcome(StrEnum):
    PAID = "paid"
    ALREADY_PAID = "already_paid"  # a repeated callback: nothing changed
    FAILED = "failed"  # the attempt failed; the payment can be tried again
    NOT_PAYABLE = "not_payable"  # cancelled (the request was withdrawn) or no longer due


@dataclass(frozen=True)
class Verdict:
    paid: bool
    provider_ref: str  # the provider's own id of the transaction


class PaymentProvider(ABC):
    """A payment gateway: where the subscriber pays, and what its callback means."""

    name: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def actor(self) -> str:
        return f"provider:{self.name}"

    @abstractmethod
    def verify(self, payment: Payment, form: Mapping[str, str]) -> Verdict:
        """What the provider says of a callback; a real gateway is asked over the network, so
        no database session is open while this runs. InvalidCallback if it says nothing."""


class GatewayProvider(PaymentProvider):
    """A real gateway: our link opens a transaction there (start) and sends the payer to its
    page; its callback names the transaction (attempt_of), which must be one opened for the
    payment."""

    def callback_url(self, payment: Payment) -> str:
        return f"{payment_link(self.settings, payment)}/{CALLBACK}"

    @abstractmethod
    def start(self, payment: Payment) -> str:
        """Opens a transaction for the payment at the gateway: its id (over the network, with
        no database session open). GatewayUnavailable when the gateway does not open one."""

    @abstractmethod
    def page(self, attempt: str) -> str:
        """The gateway's page where the payer pays the transaction `attempt`."""

    @abstractmethod
    def attempt_of(self, form: Mapping[str, str]) -> str:
        """The transaction a callback names; InvalidCallback if it names none."""


class DevProvider(PaymentProvider):
    """For development and tests: a page on our own web app where one presses "pay" or "fail".

    Each showing of the page's form is one attempt, named by the form's `attempt` field (as a
    real gateway names its transactions): the same attempt posted again is the same callback.
    """

    name = "dev"
    ATTEMPT = re.compile(r"[0-9a-f]{16}")

    @staticmethod
    def new_attempt() -> str:
        return secrets.token_hex(8)

    def verify(self, payment: Payment, form: Mapping[str, str]) -> Verdict:
        outcome = form.get("outcome")
        if outcome not in ("pay", "fail"):
            raise InvalidCallback(f"outcome {outcome!r}")
        attempt = form.get("attempt") or ""
        if not self.ATTEMPT.fullmatch(attempt):
            raise InvalidCallback(f"attempt {attempt!r}")
        return Verdict(paid=outcome == "pay", provider_ref=f"dev-{attempt}")


def payment_link(settings: Settings, payment: Payment) -> str:
    """The address the subscriber opens to pay, whichever the provider: our own page for the
    payment, which shows the dev page or sends the payer on to the gateway."""
    return f"{settings.public_base_url.rstrip('/')}{PAY_PATH}/{payment.reference}"


def find_payment(session: Session, *, reference: str) -> Payment | None:
    return session.exec(select(Payment).where(Payment.reference == reference)).first()


def open_gateway(db: sa.Engine, provider: GatewayProvider, *, reference: str, now: datetime) -> str:
    """Opens a transaction at the gateway for a payment still due, kept as one of its attempts;
    the gateway's page to send the payer to. UnknownPayment, PaymentClosed, GatewayUnavailable.
    """
    with session_scope(db) as session:
        payment = find_payment(session, reference=reference)
    if payment is None:
        raise UnknownPayment(reference)
    if payment.status != PaymentStatus.PENDING:
        paid = payment.status == PaymentStatus.PAID
        raise PaymentClosed(CallbackOutcome.ALREADY_PAID if paid else CallbackOutcome.NOT_PAYABLE)
    attempt = provider.start(payment)  # outside any transaction: it is a call to the gateway
    assert payment.id is not None  # a stored payment
    with session_scope(db) as session:
        session.add(
            PaymentAttempt(
                payment_id=payment.id, provider=provider.name, attempt=attempt, created_at=now
            )
        )
    return provider.page(attempt)


def _check_attempt(
    db: sa.Engine, provider: PaymentProvider, payment: Payment, form: Mapping[str, str]
) -> None:
    """A gateway's callback must name a transaction opened for this very payment: another
    payment's (of the same amount, say) would otherwise be verified as paying this one."""
    if not isinstance(provider, GatewayProvider):
        return
    attempt = provider.attempt_of(form)
    with session_scope(db) as session:
        opened = session.exec(
            select(PaymentAttempt.id).where(
                PaymentAttempt.provider == provider.name,
                PaymentAttempt.attempt == attempt,
                PaymentAttempt.payment_id == payment.id,
            )
        ).first()
    if opened is None:
        raise InvalidCallback(f"no such {provider.name} transaction for this payment")


def complete_online_payment(
    db: sa.Engine,
    provider: PaymentProvider,
    *,
    reference: str,
    form: Mapping[str, str],
    now: datetime,
    settings: Settings,
) -> CallbackOutcome:
    """Handles the provider's callback for one payment; a repeat of it changes nothing: a
    payment is recorded once, and a failed attempt (the provider's id of it) is noted once.

    Raises UnknownPayment for a reference we never gave out, InvalidCallback for a callback
    that says nothing or names another payment's transaction, GatewayUnavailable when the
    gateway could not be asked.
    """
    with session_scope(db) as session:
        payment = find_payment(session, reference=reference)
    if payment is None:
        raise UnknownPayment(reference)
    if payment.status == PaymentStatus.PAID:
        return CallbackOutcome.ALREADY_PAID
    if payment.status != PaymentStatus.PENDING:
        return CallbackOutcome.NOT_PAYABLE
    _check_attempt(db, provider, payment, form)
    verdict = provider.verify(payment, form)  # outside any transaction: it may be slow
    try:
        with session_scope(db) as session:
            if not verdict.paid:
                return _note_failure(session, payment, provider, verdict, now)
            # A defined service's fee moves its request by the definition's action.
            record = (
                record_fee_payment
                if payment.purpose == PaymentPurpose.SERVICE_FEE
                else record_payment
            )
            changed = record(
                session,
                reference=reference,
                method=PaymentMethod.ONLINE,
                provider_ref=verdict.provider_ref,
                actor=provider.actor,
                now=now,
                settings=settings,
            )
    except Refused:  # cancelled meanwhile, or the request has moved on: all of it rolled back
        return CallbackOutcome.NOT_PAYABLE
    return CallbackOutcome.PAID if changed else CallbackOutcome.ALREADY_PAID


def _note_failure(
    session: Session,
    payment: Payment,
    provider: PaymentProvider,
    verdict: Verdict,
    now: datetime,
) -> CallbackOutcome:
    """A failed attempt changes no status (the payment stays due) but staff see it happened,
    once per attempt: the same attempt reported again adds nothing to the history."""
    # Locked, so that two reports of one attempt at once cannot both find it unrecorded.
    locked = session.exec(select(Payment).where(Payment.id == payment.id).with_for_update()).one()
    if locked.status == PaymentStatus.PAID:  # paid meanwhile, by another attempt
        return CallbackOutcome.ALREADY_PAID
    if locked.status != PaymentStatus.PENDING:
        return CallbackOutcome.NOT_PAYABLE
    if payment.request_id is None:  # a bill's: no request whose history staff read
        return CallbackOutcome.FAILED
    noted = session.exec(
        select(RequestEvent.id).where(
            RequestEvent.request_id == payment.request_id,
            RequestEvent.action == EventAction.PAYMENT_FAILED,
            RequestEvent.note == verdict.provider_ref,
        )
    ).first()
    if noted is not None:
        return CallbackOutcome.FAILED
    request = session.get(ServiceRequest, payment.request_id)
    assert request is not None
    record_event(
        session,
        request,
        EventAction.PAYMENT_FAILED,
        actor=provider.actor,
        now=now,
        note=verdict.provider_ref,  # the provider's id of the attempt, to trace it with them
    )
    return CallbackOutcome.FAILED
