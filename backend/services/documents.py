"""The papers a defined service's action issues to the subscriber (`Action.document`), as plain
facts: read from the request, its answers and the event of the action that issued it. The PDF
is made from them each time it is asked for (channels.pdf). Whom it was issued to is kept with
the answers when it is issued (`holder_when_issued`): a paper names the holder of that day, not
one a later change of name brought."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend.models import Customer, RequestEvent, ServiceRequest, Subscription
from backend.services.loader import definitions
from backend.services.schema import Action, Paper

ISSUED_TO = "issued_to"  # the answer keeping the holder's name and address at the issue


def holder_when_issued(session: Session, request: ServiceRequest) -> dict[str, str]:
    """The holder's name and the address, to keep with the answers as the paper is issued."""
    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    return {"name": customer.full_name, "address": subscription.address}


@dataclass(frozen=True)
class ServiceCertificate:
    """A clearance certificate (مفاصاحساب) of a subscription: nothing owed on it once issued."""

    paper: Paper
    tracking_code: str
    customer_name: str
    bill_id: str
    address: str
    number: str  # the certificate's number, as staff typed it with the action
    settled_rials: int  # the debt found and settled before it was issued; 0 for none
    issued_at: datetime


def issuing_action(request: ServiceRequest) -> Action | None:
    """The action of the request's service that issued it a paper, once it has been taken (its
    number, the action's text, is among the answers); None for any other request."""
    definition = definitions().get(request.kind)
    answers = request.answers or {}
    if definition is None:
        return None
    return next(
        (
            action
            for step in definition.steps
            for action in step.actions
            if action.document is not None and action.code in answers
        ),
        None,
    )


def issued_paper(session: Session, request: ServiceRequest) -> ServiceCertificate | None:
    """The paper the request was issued, or None when it has none (yet)."""
    action = issuing_action(request)
    definition = definitions().get(request.kind)
    if action is None or action.document is None or definition is None:
        return None
    issued_at = session.exec(
        select(RequestEvent.created_at)
        .where(RequestEvent.request_id == request.id, RequestEvent.action == action.code)
        .order_by(col(RequestEvent.id).desc())
    ).first()
    subscription = session.get(Subscription, request.subscription_id)
    assert issued_at is not None and subscription is not None  # the action's own event
    answers = request.answers or {}
    holder = answers.get(ISSUED_TO) or holder_when_issued(session, request)
    # What was owed is the service's fee, set by its action (a clearance's: the debt found).
    settled = sum(int(answers.get(fee.set_by_action, 0)) for fee in definition.fees)
    return ServiceCertificate(
        paper=action.document,
        tracking_code=request.tracking_code,
        customer_name=holder["name"],
        bill_id=subscription.bill_id,
        address=holder["address"],
        number=str(answers[action.code]),
        settled_rials=settled,
        issued_at=issued_at,
    )
