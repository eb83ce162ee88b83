"""Filing and looking up service requests; the only code that creates a request."""

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from backend.actions import record_event, staff_actor, subscriber_actor
from backend.constants import (
    FINAL_STATUSES,
    Channel,
    DocumentType,
    EventAction,
    NoticeKind,
    RemovalReason,
    RequestKind,
    RequestStatus,
    ReviewReason,
    SubscriptionStatus,
)
from backend.counters import counter_for_filing
from backend.db import insert_on_conflict
from backend.models import (
    Bill,
    Customer,
    RequestDocument,
    RequestEvent,
    ServiceRequest,
    Staff,
    Subscription,
)
from backend.notices import link_to_request, queue_notice
from backend.staff_notices import step_reached
from backend.tracking import new_tracking_code
from backend.workdays import add_working_days, holidays
from backend.workflows import Refused

TRACKING_CODE_ATTEMPTS = 8
# Where an address stops naming the street: what follows (alley, plate, unit) is masked.
STREET_WORDS = ("خیابان", "بلوار", "بزرگراه", "میدان", "جاده", "street", "st.", "blvd", "avenue")
ADDRESS_SEPARATORS = re.compile(r"\s*[،,]\s*")
MASKED = "…"  # the rest of an address; no asterisks, which Bale shows as ∗


@dataclass(frozen=True)
class DraftDocument:
    """A document already in file storage, waiting to be attached to a request."""

    storage_key: str
    sha256: str
    size_bytes: int
    content_type: str
    original_name: str
    doc_type: DocumentType = DocumentType.EVIDENCE


@dataclass(frozen=True)
class AtCounter:
    """A request filed at a pishkhan counter by its operator, for the subscriber standing there,
    who consented by reading out the code texted to the registered mobile of `subscription_id`
    (its notice, `consent_notice_id`, is counted among the request's notices)."""

    operator: Staff
    subscription_id: int
    consent_notice_id: int | None = None


class TrackingCodeExhausted(RuntimeError):
    pass


def find_subscription(session: Session, *, bill_id: str) -> Subscription | None:
    return session.exec(select(Subscription).where(Subscription.bill_id == bill_id)).first()


@dataclass(frozen=True)
class BillChoice:
    """A period's bill as it stands: its latest correction if it has one (the bill to pay), and
    the original bill that correction replaced (no longer to be paid, nor reviewed)."""

    bill: Bill
    replaced: Bill | None = None


def latest_bills(
    session: Session, *, subscription_id: int, limit: int, read_by: date | None = None
) -> list[BillChoice]:
    """The bills of the latest `limit` periods (read by `read_by`, if given), newest first, each
    period's correction in place of its original."""
    periods = select(Bill.jalali_year, Bill.period).where(
        Bill.subscription_id == subscription_id, col(Bill.corrects_bill_id).is_(None)
    )
    if read_by is not None:
        periods = periods.where(Bill.current_reading_date <= read_by)
    periods = periods.order_by(col(Bill.current_reading_date).desc(), col(Bill.id).desc())
    # Those periods' originals and corrections in one query.
    bills = session.exec(
        select(Bill).where(
            Bill.subscription_id == subscription_id,
            sa.tuple_(col(Bill.jalali_year), col(Bill.period)).in_(periods.limit(limit)),
        )
    ).all()
    originals = sorted(
        (bill for bill in bills if bill.corrects_bill_id is None),
        key=lambda bill: (bill.current_reading_date, bill.id or 0),
        reverse=True,
    )
    # A correction keeps its original's period (actions._correct), and the latest one stands.
    latest = {
        (bill.jalali_year, bill.period): bill
        for bill in sorted(bills, key=lambda bill: bill.id or 0)
        if bill.corrects_bill_id is not None
    }
    choices = []
    for original in originals:
        correction = latest.get((original.jalali_year, original.period))
        choices.append(BillChoice(correction, original) if correction else BillChoice(original))
    return choices


def replacement_of(session: Session, bill: Bill) -> Bill | None:
    """The latest correction of the bill's period if the bill is not it: the bill to pay and to
    review instead. None for a bill that stands."""
    query = select(Bill).where(
        Bill.subscription_id == bill.subscription_id,
        Bill.jalali_year == bill.jalali_year,
        Bill.period == bill.period,
        col(Bill.corrects_bill_id).is_not(None),
    )
    latest = session.exec(query.order_by(col(Bill.id).desc())).first()
    return latest if latest is not None and latest.id != bill.id else None


@dataclass(frozen=True)
class MaskedHolder:
    """Enough of a subscription's holder for them to see it is theirs, too little for anyone
    else to learn who lives where: «محمد ر.», «قم، صفاییه، خیابان صفاییه، …»."""

    name: str
    address: str


def masked_holder(session: Session, subscription: Subscription) -> MaskedHolder:
    customer = session.get(Customer, subscription.customer_id)
    words = customer.full_name.split() if customer is not None else []
    if len(words) > 1:  # the given name (or names, with a title), the family name's initial
        name = f"{' '.join(words[:-1])} {words[-1][0]}."
    else:
        name = f"{words[0][0]}." if words else MASKED
    return MaskedHolder(name, _street_level(subscription.address))


def _street_level(address: str) -> str:
    """The address up to its street, the rest masked; without a street named, its first two
    parts (city, area)."""
    parts = [part for part in ADDRESS_SEPARATORS.split(address.strip()) if part]
    street = next(
        (i for i, part in enumerate(parts) if part.casefold().startswith(STREET_WORDS)), None
    )
    kept = parts[: street + 1] if street is not None else parts[:2]
    if len(kept) >= len(parts):  # all of it would show who lives where: its end is masked
        kept = parts[:-1]
    return "، ".join([*kept, MASKED])


def refuse_if_removed(subscription: Subscription) -> None:
    """Neither service takes a subscription whose connection was removed for good."""
    if subscription.status == SubscriptionStatus.REMOVED:
        raise Refused("subscription_removed", bill_id=subscription.bill_id)


def open_review_of_bill(session: Session, *, bill_id: int) -> ServiceRequest | None:
    query = select(ServiceRequest).where(
        ServiceRequest.kind == RequestKind.BILL_REVIEW,
        ServiceRequest.disputed_bill_id == bill_id,
        col(ServiceRequest.status).not_in(list(FINAL_STATUSES)),
    )
    return session.exec(query).first()


def open_removal_of(session: Session, *, subscription_id: int) -> ServiceRequest | None:
    query = select(ServiceRequest).where(
        ServiceRequest.kind == RequestKind.CONNECTION_REMOVAL,
        ServiceRequest.subscription_id == subscription_id,
        col(ServiceRequest.status).not_in(list(FINAL_STATUSES)),
    )
    return session.exec(query).first()


def registered_mobile(session: Session, subscription: Subscription) -> str | None:
    """The mobile on file for the subscription's customer (E.164), the one that proves ownership."""
    customer = session.get(Customer, subscription.customer_id)
    return customer.mobile if customer is not None else None


def find_request(session: Session, *, tracking_code: str) -> ServiceRequest | None:
    query = select(ServiceRequest).where(ServiceRequest.tracking_code == tracking_code)
    return session.exec(query).first()


def subscriber_requests(
    session: Session,
    *,
    channel: Channel,
    user_id: str,
    mobile: str | None,
    tracking_code: str | None = None,
    limit: int = 10,
) -> list[ServiceRequest]:
    """The requests a subscriber may follow and act on, newest first: those filed from this chat,
    and those on subscriptions whose registered mobile is `mobile` (one the channel vouched for).
    """
    theirs = sa.and_(
        col(ServiceRequest.channel) == channel, col(ServiceRequest.channel_user_id) == user_id
    )
    if mobile is not None:
        owned = select(Subscription.id).join(Customer).where(Customer.mobile == mobile)
        theirs = sa.or_(theirs, col(ServiceRequest.subscription_id).in_(owned))
    query = select(ServiceRequest).where(theirs)
    if tracking_code is not None:
        query = query.where(ServiceRequest.tracking_code == tracking_code)
    query = query.order_by(col(ServiceRequest.created_at).desc(), col(ServiceRequest.id).desc())
    return list(session.exec(query.limit(limit)))


def document_count(session: Session, request: ServiceRequest) -> int:
    """How many documents are attached to the request."""
    query = select(sa.func.count()).where(RequestDocument.request_id == request.id)
    return session.exec(query).one()


# What a subscriber may add to a request after filing, by kind: a review's documents are evidence,
# which every reviewer may see; a removal's are identity papers, kept to admins and supervisors
# (backend.staff), each stored as the paper it is.
DOCUMENT_TYPES: dict[RequestKind, tuple[DocumentType, ...]] = {
    RequestKind.BILL_REVIEW: (DocumentType.EVIDENCE,),
    RequestKind.CONNECTION_REMOVAL: (
        DocumentType.ID_CARD,
        DocumentType.OWNERSHIP_DEED,
        DocumentType.LEASE,
    ),
}
# A removal takes papers until its fee is paid: the ID card must come before the fee can be
# announced (actions.announce_fee), and a deed or lease asked for with the fee can still come and
# be checked before any money is paid, which is not refunded (seed 001 §4). Once paid, the field
# work is under way on the papers the request has.
REMOVAL_PAPERS_STATUSES = frozenset({RequestStatus.SUBMITTED, RequestStatus.FEE_ANNOUNCED})
# A review takes evidence until it is decided: after that, evidence would change nothing.
REVIEW_EVIDENCE_STATUSES = frozenset({RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW})


def takes_documents(request: ServiceRequest) -> bool:
    """Whether the subscriber may add documents to the request now (of DOCUMENT_TYPES' types)."""
    if request.kind == RequestKind.CONNECTION_REMOVAL:
        return request.status in REMOVAL_PAPERS_STATUSES
    return request.kind in DOCUMENT_TYPES and request.status in REVIEW_EVIDENCE_STATUSES


def attach_documents(
    session: Session,
    request: ServiceRequest,
    *,
    channel: Channel,
    documents: list[DraftDocument],
    now: datetime,
    max_documents: int,
) -> list[RequestDocument]:
    """Attaches documents a subscriber sends after filing, with an event in the request's history.

    What each kind takes is DOCUMENT_TYPES: a bill review not yet decided, evidence only; a
    removal not yet past its fee (REMOVAL_PAPERS_STATUSES), its ID card, ownership deed or lease
    only, typed as such, never as evidence (which every reviewer sees). The caller has made sure
    the request is the subscriber's. Refused for another kind ("wrong_kind"), in a status that
    takes no documents ("wrong_status"), with nothing to attach ("no_documents"), with a document
    of a type the kind does not take ("wrong_document_type"), or when the request would hold
    more than `max_documents` ("too_many_documents", with how many it holds). A document
    already attached (the same bytes) is not attached twice: the ones added are returned.
    """
    # Locked, so two chats of one subscriber adding at once take turns at the limit.
    session.refresh(request, with_for_update=True)
    allowed = DOCUMENT_TYPES.get(request.kind)
    if allowed is None:
        raise Refused("wrong_kind", kind=request.kind)
    if not takes_documents(request):
        raise Refused("wrong_status", status=request.status)
    if not documents:
        raise Refused("no_documents")
    for document in documents:
        if document.doc_type not in allowed:
            raise Refused("wrong_document_type", doc_type=document.doc_type)
    query = select(RequestDocument.sha256).where(RequestDocument.request_id == request.id)
    attached = list(session.exec(query))
    seen = set(attached)
    new = []
    for document in documents:
        if document.sha256 not in seen:
            seen.add(document.sha256)
            new.append(document)
    if len(attached) + len(new) > max_documents:
        raise Refused("too_many_documents", attached=len(attached))
    added = [_document_row(request, document, now) for document in new]
    session.add_all(added)
    if added:
        actor = subscriber_actor(channel)
        record_event(session, request, EventAction.ADD_DOCUMENTS, actor=actor, now=now, note=None)
    session.flush()
    return added


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
    locale: str | None = None,
    at_counter: AtCounter | None = None,
) -> ServiceRequest:
    """Files a bill review with its documents, "submitted" event and receipt notice.
    `locale`: the language the subscriber chose in the filing chat (its SMS are written in it).
    `at_counter`: filed by a counter's operator (file_request).

    Refused for a subscription removed for good ("subscription_removed") and for a bill that a
    correction has replaced ("bill_replaced": its correction is the one to review).
    """
    subscription = session.get(Subscription, bill.subscription_id)
    assert subscription is not None  # subscriptions are never deleted
    refuse_if_removed(subscription)
    if replacement_of(session, bill) is not None:
        raise Refused("bill_replaced")
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
        locale=locale,
        at_counter=at_counter,
    )


def file_removal(
    session: Session,
    *,
    channel: Channel,
    channel_user_id: str,
    subscription_id: int,
    reason: RemovalReason,
    documents: list[DraftDocument],
    now: datetime,
    fee_announcement_working_days: int,
    code_notice_id: int | None = None,
    description: str = "",
    locale: str | None = None,
    at_counter: AtCounter | None = None,
) -> ServiceRequest:
    """Files a permanent removal (جمع‌آوری دائم انشعاب) by a subscriber who has proved they hold
    the registered mobile and acknowledged that a paid fee is not refunded (seed 001 §4).
    `code_notice_id`: the one-time code's notice, when a code proved it (staff see it with the
    request's notices). `description`: the reason in the subscriber's words when it is "other";
    `locale` and `at_counter` as for file_bill_review (at a counter, the consent code read out
    by the subscriber is the proof of the mobile).

    Refused when the connection is removed already ("subscription_removed"), when a removal of
    the subscription is open, or without an ID card among the documents
    ("id_card_required") unless filed by SMS, which carries no files: the ID card follows from
    "my requests" (attach_documents), and no fee is announced before it has come.
    """
    has_id_card = any(document.doc_type == DocumentType.ID_CARD for document in documents)
    if not has_id_card and channel != Channel.SMS:
        raise Refused("id_card_required")
    # The subscription's row lock makes two chats filing at once take turns at this check.
    subscription = session.exec(
        select(Subscription).where(Subscription.id == subscription_id).with_for_update()
    ).one()
    refuse_if_removed(subscription)
    existing = open_removal_of(session, subscription_id=subscription_id)
    if existing is not None:
        raise Refused("removal_open", tracking_code=existing.tracking_code)
    request = file_request(
        session,
        kind=RequestKind.CONNECTION_REMOVAL,
        channel=channel,
        channel_user_id=channel_user_id,
        subscription_id=subscription_id,
        reason=reason,
        description=description,
        documents=documents,
        now=now,
        deadline=add_working_days(now, fee_announcement_working_days, holidays(session)),
        locale=locale,
        at_counter=at_counter,
    )
    request.no_refund_acknowledged = True
    session.add(request)
    session.flush()
    if code_notice_id is not None:
        link_to_request(session, code_notice_id, request)
    return request


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
    locale: str | None = None,
    at_counter: AtCounter | None = None,
) -> ServiceRequest:
    """Creates a request of any kind, in the caller's transaction, with all that goes with it.

    `at_counter`: its operator files it (Refused unless their counter is at work and delegated
    the kind, backend.counters.counter_for_filing, and "counter_no_consent" for a subscription
    other than the one consented for). The counter is then the request's channel and the
    operator who filed it its first actor; `channel` and `channel_user_id`, the operator's own
    chat, are not kept, so that every notice goes to the subscriber.
    """
    actor = subscriber_actor(channel)
    counter_id = filed_by_id = None
    if at_counter is not None:
        if at_counter.subscription_id != subscription_id:
            raise Refused("counter_no_consent")
        counter = counter_for_filing(session, at_counter.operator, kind)
        channel, channel_user_id = Channel.COUNTER, counter.code
        counter_id, filed_by_id = counter.id, at_counter.operator.id
        actor = staff_actor(at_counter.operator)
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
        locale=locale,
        counter_id=counter_id,
        filed_by_id=filed_by_id,
    )
    _insert_with_unique_tracking_code(session, request)
    assert request.id is not None  # flushed by the insert
    for document in documents:
        session.add(_document_row(request, document, now))
    session.add(
        RequestEvent(
            request_id=request.id,
            actor=actor,
            action=EventAction.SUBMITTED,
            to_status=RequestStatus.SUBMITTED,
            created_at=now,
        )
    )
    queue_notice(session, request, NoticeKind.RECEIPT, now=now, expected_date=deadline)
    if at_counter is not None and at_counter.consent_notice_id is not None:
        link_to_request(session, at_counter.consent_notice_id, request)
    step_reached(session, request, actor=actor, now=now)  # staff's queue
    session.flush()
    return request


def _document_row(
    request: ServiceRequest, document: DraftDocument, now: datetime
) -> RequestDocument:
    assert request.id is not None
    return RequestDocument(
        request_id=request.id,
        doc_type=document.doc_type,
        storage_key=document.storage_key,
        content_type=document.content_type,
        size_bytes=document.size_bytes,
        sha256=document.sha256,
        original_name=document.original_name,
        created_at=now,
    )


def _insert_with_unique_tracking_code(session: Session, request: ServiceRequest) -> None:
    # Codes are random, so a clash is rare but possible; the unique index decides. An insert
    # that meets a taken code does nothing, and another code is tried: one round trip a try,
    # where a savepoint around an ORM flush took three. The row is then the session's, as if
    # loaded.
    table = ServiceRequest.__table__  # type: ignore[attr-defined]  # SQLModel leaves it out
    values = {column.key: getattr(request, column.key) for column in table.columns}
    del values["id"]
    statement = (
        insert_on_conflict(session, table)
        .on_conflict_do_nothing(index_elements=[table.c.tracking_code])
        .returning(table.c.id)
    )
    for _ in range(TRACKING_CODE_ATTEMPTS):
        code = new_tracking_code()
        request_id = session.execute(statement, {**values, "tracking_code": code}).scalar()
        if request_id is not None:
            request.id, request.tracking_code = request_id, code
            make_transient_to_detached(request)
            session.add(request)
            return
    raise TrackingCodeExhausted("no free tracking code after several attempts")


def keep_filing_language(session: Session, *, channel: Channel, user_id: str, locale: str) -> None:
    """The subscriber chose another language in a chat: the requests filed from it follow, so
    that their SMS are read in the language last chosen where they were filed."""
    session.execute(
        sa.update(ServiceRequest)
        .where(
            col(ServiceRequest.channel) == channel,
            col(ServiceRequest.channel_user_id) == user_id,
        )
        .values(locale=locale)
    )
