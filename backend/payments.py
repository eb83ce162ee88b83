"""Online payment: a provider makes the payment link and vouches for its callback, recorded once."""

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
from backend.constants import EventAction, PaymentMethod, PaymentStatus
from backend.db import session_scope
from backend.models import Payment, RequestEvent, ServiceRequest
from backend.settings import Settings
from backend.workflows import Refused

PAY_PATH = "/pay"


class UnknownPayment(LookupError):
    """No payment has this reference: a mistyped or guessed link."""


class InvalidCallback(ValueError):
    """A callback that does not say what became of the payment."""


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
        self.base_url = settings.public_base_url.rstrip("/")

    @property
    def actor(self) -> str:
        return f"provider:{self.name}"

    @abstractmethod
    def link(self, payment: Payment) -> str:
        """The address the subscriber opens to pay."""

    @abstractmethod
    def verify(self, payment: Payment, form: Mapping[str, str]) -> Verdict:
        """What the provider says of a callback; a real gateway is asked over the network, so
        no database session is open while this runs. InvalidCallback if it says nothing."""


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

    def link(self, payment: Payment) -> str:
        return f"{self.base_url}{PAY_PATH}/{payment.reference}"

    def verify(self, payment: Payment, form: Mapping[str, str]) -> Verdict:
        outcome = form.get("outcome")
        if outcome not in ("pay", "fail"):
            raise InvalidCallback(f"outcome {outcome!r}")
        attempt = form.get("attempt") or ""
        if not self.ATTEMPT.fullmatch(attempt):
            raise InvalidCallback(f"attempt {attempt!r}")
        return Verdict(paid=outcome == "pay", provider_ref=f"dev-{attempt}")


PROVIDERS: dict[str, type[PaymentProvider]] = {DevProvider.name: DevProvider}


def make_payment_provider(settings: Settings) -> PaymentProvider:
    name = settings.payment_provider.strip().lower()
    if name not in PROVIDERS:
        raise ValueError(f"unknown payment provider {name!r} (known: {', '.join(PROVIDERS)})")
    return PROVIDERS[name](settings)


def find_payment(session: Session, *, reference: str) -> Payment | None:
    return session.exec(select(Payment).where(Payment.reference == reference)).first()


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
    that says nothing.
    """
    with session_scope(db) as session:
        payment = find_payment(session, reference=reference)
    if payment is None:
        raise UnknownPayment(reference)
    if payment.status == PaymentStatus.PAID:
        return CallbackOutcome.ALREADY_PAID
    if payment.status != PaymentStatus.PENDING:
        return CallbackOutcome.NOT_PAYABLE
    verdict = provider.verify(payment, form)  # outside any transaction: it may be slow
    try:
        with session_scope(db) as session:
            if not verdict.paid:
                return _note_failure(session, payment, provider, verdict, now)
            changed = record_payment(
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
