"""Filing and looking up service requests; the only code that creates a request."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.constants import (
    FINAL_STATUSES,
    Channel,
    DocumentType,
    EventAction,
    NoticeKind,
    RequestKind,
    RequestStatus,
    ReviewReason,
)
from backend.models import Bill, RequestDocument, RequestEvent, ServiceRequest, Subscription
from backend.notices import queue_notice
from backend.tracking import new_tracking_code
from backend.workdays import add_working_days, holidays

TRACKING_CODE_ATTEMPTS = 8


@dataclass(frozen=True)
class DraftDocument:
    """A document already in file storage, waiting to be attached to a request."""

    storage_key: str
    sha256: str
    size_bytes: int
    content_type: str
    original_name: str
    doc_type: DocumentType = DocumentType.EVIDENCE


class TrackingCodeExhausted(RuntimeError):
    pass


def find_subscription(session: Session, *, bill_id: str) -> Subscription | None:
    return session.exec(select(Subscription).where(Subscription.bill_id == bill_id)).first()


def latest_bills(session: Session, *, subscription_id: int, limit: int) -> list[Bill]:
    query = (
        select(Bill)
        .where(Bill.subscription_id == subscription_id)
        .order_by(col(Bill.current_reading_date).desc(), col(Bill.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def open_review_of_bill(session: Session, *, bill_id: int) -> ServiceRequest | None:
    query = select(ServiceRequest).where(
        ServiceRequest.kind == RequestKind.BILL_REVIEW,
        ServiceRequest.disputed_bill_id == bill_id,
        col(ServiceRequest.status).not_in(list(FINAL_STATUSES)),
    )
    return session.exec(query).first()


def find_request(session: Session, *, tracking_code: str) -> ServiceRequest | None:
    query = select(ServiceRequest).where(ServiceRequest.tracking_code == tracking_code)
    return session.exec(query).first()


def file_bill_review(
    session: Session,
    *,
    channel: Channel,
    channel_user_id: str,
    bill: Bill,
    reason: ReviewReason,
    description: str,
    documents: list[DraftDocument],
    now: datetime,
    review_working_days: int,
) -> ServiceRequest:
    """Files a bill review with its documents, "submitted" event and receipt notice."""
    return file_request(
        session,
        kind=RequestKind.BILL_REVIEW,
        channel=channel,
        channel_user_id=channel_user_id,
        subscription_id=bill.subscription_id,
        disputed_bill_id=bill.id,
        reason=reason,
        description=description,
        documents=documents,
        now=now,
        deadline=add_working_days(now, review_working_days, holidays(session)),
    )


def file_request(
    session: Session,
    *,
    kind: RequestKind,
    channel: Channel,
    channel_user_id: str,
    subscription_id: int,
    reason: str,
    description: str,
    documents: list[DraftDocument],
    now: datetime,
    deadline: datetime,
    disputed_bill_id: int | None = None,
) -> ServiceRequest:
    """Creates a request of any kind, in the caller's transaction, with all that goes with it."""
    request = ServiceRequest(
        kind=kind,
        status=RequestStatus.SUBMITTED,
        channel=channel,
        channel_user_id=channel_user_id,
        subscription_id=subscription_id,
        disputed_bill_id=disputed_bill_id,
        reason=reason,
        description=description,
        created_at=now,
        updated_at=now,
        step_deadline=deadline,
        tracking_code="",
    )
    _insert_with_unique_tracking_code(session, request)
    for document in documents:
        session.add(
            RequestDocument(
                request_id=request.id,
                doc_type=document.doc_type,
                storage_key=document.storage_key,
                content_type=document.content_type,
                size_bytes=document.size_bytes,
                sha256=document.sha256,
                original_name=document.original_name,
                created_at=now,
            )
        )
    session.add(
        RequestEvent(
            request_id=request.id,
            actor=f"subscriber:{channel}",
            action=EventAction.SUBMITTED,
            to_status=RequestStatus.SUBMITTED,
            created_at=now,
        )
    )
    queue_notice(session, request, NoticeKind.RECEIPT, now=now, expected_date=deadline)
    session.flush()
    return request


def _insert_with_unique_tracking_code(session: Session, request: ServiceRequest) -> None:
    # Codes are random, so a clash is rare but possible; the unique index decides, and a
    # savepoint lets us try another code without losing the rest of the transaction.
    for _ in range(TRACKING_CODE_ATTEMPTS):
        request.tracking_code = new_tracking_code()
        try:
            with session.begin_nested():
                session.add(request)
                session.flush()
            return
        except sa.exc.IntegrityError:
            continue  # the savepoint's rollback has already taken `request` out of the session
    raise TrackingCodeExhausted("no free tracking code after several attempts")
