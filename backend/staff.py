"""Staff: accounts, who may run which command, what each role sees, and the staff-side queries."""

import logging
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from backend import actions
from backend.constants import (
    Channel,
    DocumentType,
    NoticeKind,
    PaymentMethod,
    PaymentStatus,
    StaffRole,
)
from backend.db import lock_until_commit
from backend.identifiers import (
    CHECKSUM,
    InvalidIdentifier,
    display_mobile,
    mask_national_id,
    normalize_code,
    normalize_mobile,
    normalize_text,
    parse_bill_id,
    parse_national_id,
    strip_invisible,
    to_ascii_digits,
)
from backend.models import (
    Customer,
    Payment,
    RequestDocument,
    RequestEvent,
    ServiceRequest,
    Staff,
    StaffBinding,
    Subscription,
)
from backend.notices import queue_direct_notice
from backend.permissions import COMMANDS as COMMANDS
from backend.permissions import ROLE_COMMANDS as ROLE_COMMANDS
from backend.permissions import STEP_COMMANDS as STEP_COMMANDS
from backend.permissions import WORKING_ROLES, commands_for
from backend.permissions import commands_of as commands_of
from backend.permissions import may as may
from backend.services.loader import final_steps
from backend.settings import Settings, local_zone
from backend.workdays import holidays, is_working_day
from backend.workflows import Refused, allowed_actions

log = logging.getLogger(__name__)

R = StaffRole
TEXT_MAX_CHARS = 2000  # notes, terms and explanations: the columns' length
REFERENCE_MAX_CHARS = 100  # Payment.provider_ref
QUEUE_PAGE_SIZE = 5  # requests per page of /queue: one screen of a phone

# --- Who may run which command: backend.permissions, the one place it is decided ---


def step_commands(request: ServiceRequest) -> list[str]:
    """The commands that move the request on from where it stands (none: it waits on others)."""
    return commands_for(allowed_actions(request))


# --- Accounts ---


class StaffError(ValueError):
    """A staff account that cannot be added; the message says why."""


def add_staff(session: Session, *, full_name: str, phone: str, role: str) -> Staff:
    name = normalize_text(full_name)
    if not name:
        raise StaffError("the name is empty")
    if len(name) > 200:
        raise StaffError(f"the name is too long ({len(name)} characters, at most 200)")
    try:
        mobile = normalize_mobile(phone)
    except InvalidIdentifier:
        raise StaffError(f"not an Iranian mobile number: {phone}") from None
    staff_role = _role(role)
    if session.exec(select(Staff.id).where(Staff.phone == mobile)).first() is not None:
        raise StaffError(f"a staff member already has the phone {mobile}")
    staff = Staff(full_name=name, phone=mobile, role=staff_role)
    session.add(staff)
    session.flush()
    log.info("staff:%s added as %s", staff.id, staff_role)  # no phone in logs
    return staff


# Roles in words, for the admin command line (the bots say them from the catalogs).
ROLE_WORDS: Mapping[StaffRole, str] = {
    R.ADMIN: "admin",
    R.BILLING_REVIEWER: "billing reviewer",
    R.FIELD_TECHNICIAN: "field technician",
    R.FINANCE: "finance",
    R.SUPERVISOR: "supervisor",
    R.COUNTER_OPERATOR: "counter operator",
    R.AREA_HEAD: "area head of customer service",
    R.HQ_INSPECTOR: "HQ inspector",
}


def _role(role: str) -> StaffRole:
    try:
        return StaffRole(role)
    except ValueError:
        raise StaffError(f"unknown role {role!r}: one of {', '.join(StaffRole)}") from None


def all_staff(session: Session) -> list[Staff]:
    """Everyone, active first, by name."""
    query = select(Staff).order_by(col(Staff.active).desc(), col(Staff.full_name))
    return list(session.exec(query))


def staff_by_phone(session: Session, phone: str) -> Staff:
    """The staff member (active or not) with this phone, in any form it is typed."""
    try:
        mobile = normalize_mobile(phone)
    except InvalidIdentifier:
        raise StaffError(f"not an Iranian mobile number: {phone}") from None
    staff = session.exec(select(Staff).where(Staff.phone == mobile).with_for_update()).first()
    if staff is None:
        raise StaffError(f"no staff member has the phone {mobile}")
    return staff


def deactivate(session: Session, staff: Staff) -> int:
    """Stops the account: its bindings no longer act as staff. The open requests it holds (their
    number is returned) stay assigned until someone gives them to another (/assign)."""
    staff.active = False
    session.add(staff)
    session.flush()
    log.info("staff:%s deactivated", staff.id)
    held = select(func.count()).where(
        ServiceRequest.assignee_id == staff.id,
        col(ServiceRequest.status).not_in(list(final_steps())),
    )
    return session.exec(held).one()


def change_role(session: Session, staff: Staff, role: str) -> None:
    staff.role = _role(role)
    session.add(staff)
    session.flush()
    log.info("staff:%s is now %s", staff.id, staff.role)


def staff_for(session: Session, *, channel: Channel, user_id: str) -> Staff | None:
    """The active staff member this messenger account is bound to (bind_account).

    Sharing a staff phone as one's own contact is not enough: a forged update can claim any
    contact. Only the binding, made once the code texted to that phone came back, counts.
    """
    query = (
        select(Staff)
        .join(StaffBinding, col(StaffBinding.staff_id) == col(Staff.id))
        .where(
            StaffBinding.channel == channel,
            StaffBinding.external_user_id == user_id,
            col(Staff.active),
        )
    )
    return session.exec(query).first()


def staff_with_phone(session: Session, mobile: str) -> Staff | None:
    """The active staff member whose phone `mobile` (E.164) is."""
    return session.exec(select(Staff).where(Staff.phone == mobile, col(Staff.active))).first()


def bind_account(
    session: Session,
    staff: Staff,
    *,
    channel: Channel,
    user_id: str,
    now: datetime,
    settings: Settings,
) -> bool:
    """Makes this messenger account act as `staff` from now on; False if it already did.

    Only for an account that has proved it holds the staff phone by the one-time code texted
    to it (dialogs.phone): a contact alone can be forged. Every active admin is told, by an
    essential SMS to their phone (STAFF_BOUND) written in this same transaction, who was bound
    on which channel and when; a binding they did not expect is theirs to look into.
    """
    binding = session.exec(
        select(StaffBinding)
        .where(StaffBinding.channel == channel, StaffBinding.external_user_id == user_id)
        .with_for_update()
    ).first()
    if binding is not None and binding.staff_id == staff.id:
        return False
    assert staff.id is not None  # a stored staff member
    if binding is None:
        binding = StaffBinding(staff_id=staff.id, channel=channel, external_user_id=user_id)
    binding.staff_id, binding.bound_at = staff.id, now  # an account moved to another member
    session.add(binding)
    admins = session.exec(
        select(Staff).where(Staff.role == R.ADMIN, col(Staff.active)).order_by(col(Staff.id))
    )
    for admin in admins:
        queue_direct_notice(
            session,
            NoticeKind.STAFF_BOUND,
            to_mobile=admin.phone,
            locale=settings.default_locale,
            now=now,
            name=staff.full_name,
            role=staff.role,
            channel=channel,
            bound_at=now,
        )
    session.flush()
    log.info("staff:%s bound on %s", staff.id, channel)  # no phone, no account id
    return True


def authorize(session: Session, *, channel: Channel, user_id: str, command: str) -> Staff | None:
    """The staff member if this account may run `command`; None for everyone else."""
    staff = staff_for(session, channel=channel, user_id=user_id)
    return staff if staff is not None and may(staff, command) else None


def request_by_code(session: Session, code: str) -> ServiceRequest | None:
    """The request, locked until the transaction ends: two staff acting on it take turns."""
    query = select(ServiceRequest).where(ServiceRequest.tracking_code == code)
    return session.exec(query.with_for_update()).first()


def locked_request(session: Session, request_id: int) -> ServiceRequest:
    request = session.get(ServiceRequest, request_id, with_for_update=True)
    assert request is not None  # requests are never deleted
    return request


def staff_by_actor(session: Session, actors: Iterable[str]) -> dict[str, Staff]:
    """The staff member behind each "staff:ID" actor of the history (actions.staff_actor)."""
    ids = {int(a.partition(":")[2]) for a in actors if re.fullmatch(r"staff:[0-9]+", a)}
    found = session.exec(select(Staff).where(col(Staff.id).in_(ids))).all() if ids else []
    return {actions.staff_actor(staff): staff for staff in found}


def eligible_assignees(session: Session, request: ServiceRequest) -> list[Staff]:
    """Active staff who may take the request's next step; when it waits on the subscriber, the
    members of the roles that work its kind, and supervisors. Only they are read: a province's
    counters bring thousands of operators to the staff, who never hold a request."""
    wanted = step_commands(request)
    if wanted:
        roles = [role for role, commands in ROLE_COMMANDS.items() if commands.intersection(wanted)]
    else:
        roles = [*WORKING_ROLES[request.kind], R.SUPERVISOR]
    return list(
        session.exec(
            select(Staff)
            .where(col(Staff.active), col(Staff.role).in_(roles))
            .order_by(col(Staff.full_name), col(Staff.id))
        )
    )


def ensure_open(request: ServiceRequest) -> None:
    if request.status in final_steps():
        raise Refused("wrong_status", status=request.status)


# --- What each role sees of the subscriber ---


class Detail(StrEnum):
    NAME = "name"
    MOBILE = "mobile"
    ADDRESS = "address"
    BILL = "bill"  # the bills' figures and the money asked
    FULL_NATIONAL_ID = "full_national_id"  # others see it masked
    IDENTITY_DOCUMENTS = "identity_documents"  # ID card, deed, lease


ROLE_SEES: Mapping[StaffRole, frozenset[Detail]] = {
    R.ADMIN: frozenset(Detail),
    R.SUPERVISOR: frozenset(Detail),
    R.BILLING_REVIEWER: frozenset({Detail.NAME, Detail.BILL}),
    # Field work needs to find the place and call ahead.
    R.FIELD_TECHNICIAN: frozenset({Detail.NAME, Detail.MOBILE, Detail.ADDRESS}),
    R.FINANCE: frozenset({Detail.NAME, Detail.BILL}),
    # At a counter the subscriber stands there; supervisors of counters judge how it filed.
    R.COUNTER_OPERATOR: frozenset({Detail.NAME, Detail.BILL}),
    R.AREA_HEAD: frozenset({Detail.NAME, Detail.BILL}),
    R.HQ_INSPECTOR: frozenset({Detail.NAME, Detail.BILL}),
}


def sees(staff: Staff, detail: Detail) -> bool:
    return detail in ROLE_SEES[staff.role]


@dataclass(frozen=True)
class SubscriberView:
    """The subscriber as one staff member may see them; None where their role does not."""

    bill_id: str
    name: str | None
    mobile: str | None
    national_id: str | None
    address: str | None


def subscriber_view(session: Session, request: ServiceRequest, staff: Staff) -> SubscriberView:
    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    national_id = customer.national_id
    if national_id and not sees(staff, Detail.FULL_NATIONAL_ID):
        national_id = mask_national_id(national_id)
    return SubscriberView(
        bill_id=subscription.bill_id,
        name=customer.full_name if sees(staff, Detail.NAME) else None,
        mobile=customer.mobile if sees(staff, Detail.MOBILE) else None,
        national_id=national_id,
        address=subscription.address if sees(staff, Detail.ADDRESS) else None,
    )


def roles_seeing(detail: Detail) -> list[StaffRole]:
    return [role for role in StaffRole if detail in ROLE_SEES[role]]


def documents_for(session: Session, request: ServiceRequest, staff: Staff) -> list[RequestDocument]:
    """The request's documents; identity papers only for roles that see full identities."""
    query = select(RequestDocument).where(RequestDocument.request_id == request.id)
    if not sees(staff, Detail.IDENTITY_DOCUMENTS):
        query = query.where(RequestDocument.doc_type == DocumentType.EVIDENCE)
    return list(session.exec(query.order_by(col(RequestDocument.id))))


def hidden_documents(session: Session, request: ServiceRequest, staff: Staff) -> int:
    """How many of the request's papers `staff` may not see (identity papers, for most roles):
    they are told these exist, so that «none attached» never misleads them."""
    if sees(staff, Detail.IDENTITY_DOCUMENTS):
        return 0
    query = select(func.count()).where(
        RequestDocument.request_id == request.id,
        RequestDocument.doc_type != DocumentType.EVIDENCE,
    )
    return session.exec(query).one()


# --- Queue, history, notices ---


class QueueSection(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    OVERDUE = "overdue"  # anyone's: the supervisors' view


@dataclass(frozen=True)
class QueueView:
    counts: dict[QueueSection, int]  # open requests in each section
    section: QueueSection
    requests: list[ServiceRequest]  # one page of the section
    page: int  # from 0, within range
    pages: int
    holders: dict[int, Staff]  # who holds the requests shown, by staff id
    days_late: dict[int, int]  # by request id, for those past their deadline: working days


def working_days_late(deadline: datetime, now: datetime, days_off: Collection[date]) -> int:
    """Whole working days from `deadline` to `now` (0: late by less than one), counted in the
    desk's TIMEZONE as deadlines are set (backend.workdays)."""
    zone = local_zone()
    due, at = deadline.astimezone(zone), now.astimezone(zone)
    late = sum(
        is_working_day(due.date() + timedelta(days=offset), days_off)
        for offset in range(1, (at.date() - due.date()).days + 1)
    )
    if late and is_working_day(at.date(), days_off) and at.timetz() < due.timetz():
        late -= 1  # the last working day is not over yet
    return late


def _queue(
    staff: Staff, section: QueueSection, kind: str | None, now: datetime
) -> SelectOfScalar[ServiceRequest]:
    # The final steps of services defined as data too (backend.services).
    finals = list(final_steps())
    query = select(ServiceRequest).where(col(ServiceRequest.status).not_in(finals))
    if kind is not None:
        query = query.where(ServiceRequest.kind == kind)
    if section == QueueSection.MINE:
        return query.where(ServiceRequest.assignee_id == staff.id)
    if section == QueueSection.UNASSIGNED:
        return query.where(col(ServiceRequest.assignee_id).is_(None))
    return query.where(col(ServiceRequest.step_deadline) < now)


def queue_view(
    session: Session,
    *,
    staff: Staff,
    section: QueueSection | None,
    kind: str | None,  # a service: a definition's code
    page: int,
    now: datetime,
) -> QueueView:
    """One page of a section's open requests, the nearest deadline first (those waiting on
    nobody last). Without a section: their own requests, or the unassigned when they have none."""
    counts = {
        each: session.exec(
            select(func.count()).select_from(_queue(staff, each, kind, now).subquery())
        ).one()
        for each in QueueSection
    }
    if section is None:
        section = QueueSection.MINE if counts[QueueSection.MINE] else QueueSection.UNASSIGNED
    pages = max(1, math.ceil(counts[section] / QUEUE_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    deadline = col(ServiceRequest.step_deadline)
    query = _queue(staff, section, kind, now).order_by(
        deadline.is_(None), deadline, col(ServiceRequest.id)
    )
    requests = list(session.exec(query.offset(page * QUEUE_PAGE_SIZE).limit(QUEUE_PAGE_SIZE)))
    held = {r.assignee_id for r in requests if r.assignee_id is not None}
    found = session.exec(select(Staff).where(col(Staff.id).in_(held))).all() if held else []
    holders = {staff.id: staff for staff in found if staff.id is not None}
    days_off = holidays(session)
    days_late = {
        r.id: working_days_late(r.step_deadline, now, days_off)
        for r in requests
        if r.id is not None and r.step_deadline is not None and r.step_deadline < now
    }
    return QueueView(counts, section, requests, page, pages, holders, days_late)


def history(session: Session, request: ServiceRequest) -> list[RequestEvent]:
    query = select(RequestEvent).where(RequestEvent.request_id == request.id)
    return list(session.exec(query.order_by(col(RequestEvent.id))))


# --- Finding requests by what people quote: a bill ID, a mobile, a national ID ---


class FindBy(StrEnum):
    BILL_ID = "bill_id"
    MOBILE = "mobile"
    NATIONAL_ID = "national_id"


FIND_PAGE_SIZE = 5  # requests per page of /find, as of /queue


def parse_find(text: str) -> tuple[FindBy, str]:
    """What a staff member quotes, in any form (Persian digits, +98, spaces, dashes): a national
    ID is 10 digits with its check digit, a mobile has a mobile's shape, a bill ID its mod-11
    check digit. Refused when it is none of them, or its check digit is wrong."""
    digits = normalize_code(text).removeprefix("+")
    if not digits.isdigit():
        raise Refused("find_unreadable")
    if len(digits) == 10:
        try:
            return FindBy.NATIONAL_ID, parse_national_id(digits)
        except InvalidIdentifier as error:
            national_id_error = error  # unless it is a bill ID of ten digits
    else:
        national_id_error = None
        try:
            return FindBy.MOBILE, normalize_mobile(text)
        except InvalidIdentifier:
            pass
    try:
        return FindBy.BILL_ID, parse_bill_id(digits)
    except InvalidIdentifier as error:
        mistyped = national_id_error is not None and national_id_error.reason == CHECKSUM
        if mistyped or error.reason == CHECKSUM:
            raise Refused("find_checksum") from None
        raise Refused("find_unreadable") from None


@dataclass(frozen=True)
class FindView:
    requests: list[ServiceRequest]  # one page, the newest first
    total: int
    page: int  # from 0, within range
    pages: int


def find_requests(session: Session, by: FindBy, value: str, *, page: int) -> FindView:
    """One page of the requests on the subscriptions that `value` names, the newest first.

    Every look-up is on an index: the bill ID and the national ID are unique, a customer's
    mobile and a subscription's customer are indexed, and so are a request's subscription.
    """
    column = {
        FindBy.BILL_ID: col(Subscription.bill_id),
        FindBy.MOBILE: col(Customer.mobile),
        FindBy.NATIONAL_ID: col(Customer.national_id),
    }[by]
    matching = (
        select(ServiceRequest)
        .join(Subscription, col(Subscription.id) == col(ServiceRequest.subscription_id))
        .join(Customer, col(Customer.id) == col(Subscription.customer_id))
        .where(column == value)
    )
    total = session.exec(select(func.count()).select_from(matching.subquery())).one()
    pages = max(1, math.ceil(total / FIND_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    newest = matching.order_by(col(ServiceRequest.created_at).desc(), col(ServiceRequest.id).desc())
    found = session.exec(newest.offset(page * FIND_PAGE_SIZE).limit(FIND_PAGE_SIZE)).all()
    return FindView(list(found), total, page, pages)


def quoted(staff: Staff, by: FindBy, value: str) -> str:
    """What was searched for, as the staff member's role sees such data (masked otherwise)."""
    if by == FindBy.MOBILE and not sees(staff, Detail.MOBILE):
        return display_mobile(value)
    if by == FindBy.NATIONAL_ID and not sees(staff, Detail.FULL_NATIONAL_ID):
        return mask_national_id(value)
    return value


# --- Payments at the desk or the bank ---


DESK_METHODS = (PaymentMethod.IN_PERSON, PaymentMethod.BANK)
RECEIPT_LOCKS = 7301  # the advisory-lock space of receipt references (any fixed number)


def payable(session: Session, request: ServiceRequest, provider_ref: str) -> Payment | None:
    """The payment a receipt pays; None when that receipt is already recorded for the request
    (a repeated /paid must not pay the next payment too). A receipt pays one payment only: one
    recorded for another request is refused, naming that request."""
    lock_until_commit(session, RECEIPT_LOCKS, provider_ref)  # two desks, one receipt
    recorded = session.exec(
        select(Payment.request_id).where(
            Payment.provider_ref == provider_ref, Payment.status == PaymentStatus.PAID
        )
    ).first()
    if recorded == request.id:
        return None
    if recorded is not None:
        other = session.get(ServiceRequest, recorded)
        assert other is not None  # requests are never deleted
        raise Refused("reference_used", paid_code=other.tracking_code, reference=provider_ref)
    pending = actions.pending_payment_of(session, request)
    if pending is None:
        raise Refused("nothing_to_pay")
    return pending


def record_desk_payment(
    session: Session,
    request: ServiceRequest,
    staff: Staff,
    *,
    provider_ref: str,
    method: PaymentMethod,
    now: datetime,
    settings: Settings,
) -> Payment | None:
    """Records the pending payment as paid at the desk or a bank; None if that receipt was."""
    if method not in DESK_METHODS:
        raise Refused("bad_method")
    payment = payable(session, request, provider_ref)
    if payment is None:
        return None
    actions.record_payment(
        session,
        reference=payment.reference,
        method=method,
        provider_ref=provider_ref,
        actor=actions.staff_actor(staff),
        now=now,
        settings=settings,
    )
    return payment


# --- Reading what staff type ---

# Digits, grouped by thousands with "," "٬" or "،" or not at all; an optional sign.
_AMOUNT = re.compile(r"([+-]?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)", re.ASCII)
_SEPARATORS = str.maketrans({"٬": ",", "،": ",", "\u2212": "-", "\u066b": "."})


# Far more digits than any amount or reading may have (backend.actions bounds them, naming the
# bounds), and few enough for int(), which refuses strings of more than 4,300.
_NUMBER_MAX_DIGITS = 100


def _number(text: str) -> tuple[str, int] | None:
    cleaned = to_ascii_digits(strip_invisible(text)).translate(_SEPARATORS).replace(" ", "")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        return None
    digits = match.group(2).replace(",", "").lstrip("0") or "0"
    return (match.group(1), int(digits)) if len(digits) <= _NUMBER_MAX_DIGITS else None


def parse_amount(text: str, *, signed: bool = False) -> int:
    """Rials as staff type them: Persian, Arabic or ASCII digits, with separators; a sign only
    where `signed` (a statement: + the subscriber owes, - the company owes)."""
    parsed = _number(text)
    if parsed is None or (parsed[0] and not signed):
        raise Refused("bad_amount")
    sign, value = parsed
    return -value if sign == "-" else value


def parse_reading(text: str) -> int:
    parsed = _number(text)
    if parsed is None or parsed[0]:
        raise Refused("bad_reading")
    return parsed[1]


def clean_text(text: str) -> str:
    """Free text for the history and the subscriber: normalized, not empty, within the column."""
    cleaned = normalize_text(text)
    if not strip_invisible(cleaned).strip():
        raise Refused("empty_text")
    if len(cleaned) > TEXT_MAX_CHARS:
        raise Refused("text_too_long", max_chars=TEXT_MAX_CHARS, length=len(cleaned))
    return cleaned


def clean_reference(text: str) -> str:
    """A receipt's reference as typed, the same however its letters were cased."""
    reference = to_ascii_digits(strip_invisible(text)).strip().upper()
    if not reference or len(reference) > REFERENCE_MAX_CHARS:
        raise Refused("bad_reference", max_chars=REFERENCE_MAX_CHARS)
    return reference
