"""What a subscriber can do about a request now, as buttons: on its detail view and on notices.

Each is `req:<action>:<tracking code>`, which the dialogs answer wherever it is pressed.
"""

from sqlmodel import Session

from backend.actions import pending_payment_of
from backend.constants import EventAction, RequestKind, RequestStatus
from backend.models import ServiceRequest
from backend.outcomes import RESULT_STATUSES
from backend.services.documents import issuing_action
from backend.workflows import allowed_actions
from channels.replies import Button
from locales.values import Msg, Rials

PREFIX = "req"
PAPER = "paper"  # the PDF a defined service's action issued (backend.services.documents)


def button_value(action: str, request: ServiceRequest) -> str:
    return f"{PREFIX}:{action}:{request.tracking_code}"


def request_buttons(
    session: Session, request: ServiceRequest, *, withdraw: bool = True
) -> list[list[Button]]:
    """What the subscriber can do about the request now, as buttons (the corrected bill, the
    clearance and a defined service's paper to be had as documents among them). Notices carry
    these too, but not "withdraw": a tap on a receipt should not look like the way to go on."""
    allowed = allowed_actions(request)
    rows = []
    payment = pending_payment_of(session, request)
    if payment is not None:
        label = Msg(f"requests.pay_{payment.purpose}", {"amount": Rials(payment.amount_rials)})
        rows.append([Button(label, button_value("pay", request))])
    if EventAction.ACCEPT_TERMS in allowed:
        rows.append(
            [
                Button(Msg("requests.accept"), button_value("accept", request)),
                Button(Msg("requests.decline"), button_value("decline", request)),
            ]
        )
    if withdraw and EventAction.WITHDRAW in allowed:
        rows.append([Button(Msg("requests.withdraw"), button_value("withdraw", request))])
    if request.kind == RequestKind.CONNECTION_REMOVAL and request.status == RequestStatus.CLOSED:
        rows.append([Button(Msg("requests.clearance_button"), button_value("clearance", request))])
    if request.corrected_bill_id is not None and request.status in RESULT_STATUSES:
        label = Msg("requests.corrected_bill_button")
        rows.append([Button(label, button_value("bill", request))])
    action = issuing_action(request)
    if action is not None:
        label = Msg(f"requests.{action.document}_button")
        rows.append([Button(label, button_value(PAPER, request))])
    return rows
