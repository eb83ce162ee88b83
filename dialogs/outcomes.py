"""What a finished request gave the subscriber, as the chat shows it: a bill review's result with
its corrected bill as a PDF, a removal's clearance certificate as a PDF.

The PDFs are made from the stored decision each time they are shown (channels.pdf) and kept in
file storage, which holds the same bytes once. SMS carries no files: there, the result's words
only, shorter, and where the document can be had instead.
"""

from dataclasses import dataclass, field

from backend.constants import Channel
from backend.models import ServiceRequest
from backend.otp import vouched_mobile
from backend.outcomes import Clearance, CorrectedBill, Rejection, review_outcome
from backend.service_requests import subscriber_requests
from backend.services.documents import ServiceCertificate
from channels.pdf import (
    CONTENT_TYPE,
    clearance_name,
    clearance_pdf,
    corrected_bill_name,
    corrected_bill_pdf,
    service_paper_name,
    service_paper_pdf,
)
from channels.replies import OutgoingFile
from dialogs.engine import Context
from locales.values import Code, Msg, Rials


@dataclass(frozen=True)
class Shown:
    """A result in words, and the documents that go with it."""

    message: Msg
    files: list[OutgoingFile] = field(default_factory=list)


def by_sms(ctx: Context) -> bool:
    return ctx.event.channel == Channel.SMS


def their_requests(ctx: Context, code: str | None = None, limit: int = 10) -> list[ServiceRequest]:
    """The sender's requests (or the one with `code`, if it is theirs), newest first: filed from
    this chat, or on a subscription whose registered mobile the channel vouches they hold."""
    channel, user_id = ctx.event.channel, ctx.event.user_id
    return subscriber_requests(
        ctx.session,
        channel=channel,
        user_id=user_id,
        mobile=vouched_mobile(ctx.session, channel=channel, user_id=user_id),
        tracking_code=code,
        limit=limit,
    )


def review_result(ctx: Context, request: ServiceRequest) -> Shown | None:
    """The announced result of a bill review: upheld, the amounts, the bill ID and the new
    payment ID (both are needed to pay) and the corrected bill; rejected, the reason and the
    explanation. None before the result is announced, and for a removal."""
    outcome = review_outcome(ctx.session, request)
    if outcome is None:
        return None
    sms = "_sms" if by_sms(ctx) else ""
    if isinstance(outcome, Rejection):
        params = {
            "code": Code(outcome.tracking_code),
            "reason": Msg(f"staff.rejection.{outcome.reason}"),
            "explanation": outcome.explanation,
        }
        return Shown(Msg(f"outcome.rejected{sms}", params))
    key = "outcome.upheld" if outcome.corrected_rials else "outcome.upheld_nothing_due"
    params = {
        "code": Code(outcome.tracking_code),
        "start": outcome.period_start,
        "end": outcome.period_end,
        "original": Rials(outcome.original_rials),
        "corrected": Rials(outcome.corrected_rials),
        "bill_id": Code(outcome.bill_id),
        "payment_id": Code(outcome.payment_id),
    }
    files = [] if sms else [corrected_bill_file(ctx, outcome)]
    return Shown(Msg(key + sms, params), files)


def corrected_bill_file(ctx: Context, bill: CorrectedBill) -> OutgoingFile:
    stored = ctx.storage.save(corrected_bill_pdf(bill, ctx.locale))
    return OutgoingFile(stored.key, corrected_bill_name(bill.tracking_code), CONTENT_TYPE)


def clearance_file(ctx: Context, clearance: Clearance) -> OutgoingFile:
    stored = ctx.storage.save(clearance_pdf(clearance, ctx.locale))
    return OutgoingFile(stored.key, clearance_name(clearance.tracking_code), CONTENT_TYPE)


def service_paper_file(ctx: Context, paper: ServiceCertificate) -> OutgoingFile:
    stored = ctx.storage.save(service_paper_pdf(paper, ctx.locale))
    return OutgoingFile(stored.key, service_paper_name(paper), CONTENT_TYPE)
