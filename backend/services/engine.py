"""Filing and working a service defined only as data: its definition's steps are the workflow.

The two built services (bill review, connection removal) keep their code (backend.workflows);
their definitions describe them and are checked against it. Every change here, as there, is
an event row and the subscriber's notice in the caller's transaction.
"""

from datetime import datetime
from typing import Any, cast

from sqlmodel import Session

from backend.actions import mark_paid, staff_actor
from backend.constants import Channel, NoticeKind, PaymentMethod, RequestKind, StaffRole
from backend.models import RequestEvent, ServiceRequest, Staff
from backend.notices import queue_notice
from backend.service_requests import AtCounter, DraftDocument, file_request
from backend.services.documents import ISSUED_TO, holder_when_issued
from backend.services.effects import EFFECTS
from backend.services.fees import fee_awaited_at, keep_fees_in_step
from backend.services.filers import check_filer
from backend.services.loader import definitions
from backend.services.schema import SUBSCRIBER, Action, ServiceDefinition, Step
from backend.settings import Settings
from backend.staff_notices import defined_step_reached
from backend.workdays import add_working_days, holidays
from backend.workflows import Refused

OVERSEERS = frozenset({StaffRole.SUPERVISOR})  # may act at any staff step, as at the built


def data_services() -> list[ServiceDefinition]:
    """The services that have no code of their own, in the order their names sort."""
    built = set(RequestKind)
    return [d for code, d in sorted(definitions().items()) if code not in built]


def service_kinds() -> list[str]:
    """Every service a pishkhan counter may be delegated: the built ones, then these."""
    return [*RequestKind, *(definition.code for definition in data_services())]


def defined_service(kind: str) -> ServiceDefinition | None:
    """The definition of a request's kind when it is a service defined only as data."""
    return None if kind in set(RequestKind) else definitions().get(kind)


def step_of(definition: ServiceDefinition, code: str) -> Step:
    return next(step for step in definition.steps if step.code == code)


def _deadline(
    session: Session, step: Step, *, now: datetime, settings: Settings, running: datetime | None
) -> datetime | None:
    if step.keeps_deadline:
        return running
    days = step.working_days
    if step.working_days_setting is not None:
        days = getattr(settings, step.working_days_setting)
    return None if days is None else add_working_days(now, days, holidays(session))


def file_service(
    session: Session,
    *,
    definition: ServiceDefinition,
    subscription_id: int,
    filer: str,
    answers: dict[str, Any],
    documents: list[DraftDocument],
    channel: Channel,
    user_id: str,
    locale: str | None,
    now: datetime,
    settings: Settings,
    at_counter: AtCounter | None = None,
) -> ServiceRequest:
    """Files a request of a defined service, with its answers and documents, at its first
    step; the receipt goes out with the tracking code, as for every request. `filer`: how
    the filer may file it (backend.services.filers), recorded with the answers; Refused
    unless the definition lets them and their proof came with it. `at_counter`: filed by a
    pishkhan counter's operator, as backend.service_requests.file_request says."""
    answers = {**answers, "filer": check_filer(definition, filer, answers, _types(documents))}
    first = step_of(definition, definition.first_step)
    deadline = _deadline(session, first, now=now, settings=settings, running=None)
    assert deadline is not None  # the loader: a first step has its own target
    request = file_request(
        session,
        # Stored in the same String(30) column; it is a definition's code, not a RequestKind.
        kind=cast(RequestKind, definition.code),
        channel=channel,
        channel_user_id=user_id,
        subscription_id=subscription_id,
        reason="",
        description="",
        documents=documents,
        now=now,
        deadline=deadline,
        locale=locale,
        at_counter=at_counter,
    )
    request.answers = answers
    session.add(request)
    filed_by = staff_actor(at_counter.operator) if at_counter else SUBSCRIBER
    _tell_staff(session, request, first, actor=filed_by, now=now)
    session.flush()
    return request


def _types(documents: list[DraftDocument]) -> set[str]:
    return {document.doc_type for document in documents}


def actor_of(step: Step, action: Action) -> str:
    """Who takes the action: a staff role, or the subscriber."""
    return str(action.by or step.role)


def may_take(staff: Staff | None, step: Step, action: Action) -> bool:
    """A member of the acting role, or an overseer for a staff step; None is the subscriber."""
    acting = actor_of(step, action)
    if staff is None:
        return acting == SUBSCRIBER
    return acting != SUBSCRIBER and (staff.role == acting or staff.role in OVERSEERS)


def act(
    session: Session,
    request: ServiceRequest,
    code: str,
    *,
    staff: Staff | None,
    actor: str | None = None,
    value: int | str | None = None,
    now: datetime,
    settings: Settings,
    paid_online: bool = False,
) -> Action:
    """Takes the action `code` of the request's step: a member of staff, or (staff None) the
    subscriber, as `actor`; with `paid_online`, the payment gateway (a fee's paid_by_action).
    Refused when the step has no such action, it is another's to take, or a value it needs
    is missing."""
    definition = defined_service(request.kind)
    if definition is None:
        raise Refused("wrong_kind", kind=request.kind)
    step = step_of(definition, request.status)
    action = next((a for a in step.actions if a.code == code), None)
    if action is None:
        raise Refused("wrong_status", status=request.status)
    if not paid_online and not may_take(staff, step, action):
        raise Refused("service_not_yours")
    if action.value is not None and value in (None, ""):
        raise Refused("service_value_needed")
    if action.value == "choice" and value not in action.options:
        raise Refused("service_value_needed")
    previous = request.status
    target = step_of(definition, action.to)
    request.status = cast(Any, action.to)  # a definition's step, stored as a status is
    request.updated_at = now
    running = request.step_deadline
    request.step_deadline = _deadline(session, target, now=now, settings=settings, running=running)
    if value is not None:
        # A new dict: the JSON column is saved only when it is assigned.
        request.answers = {**(request.answers or {}), action.code: value}
    if action.document is not None:
        request.answers = {
            **(request.answers or {}),
            ISSUED_TO: holder_when_issued(session, request),
        }
    if action.effect is not None:
        EFFECTS[action.effect](session, request)
    taken_by = actor or (staff_actor(staff) if staff else SUBSCRIBER)
    keep_fees_in_step(
        session,
        request,
        definition,
        left=previous,
        action=action,
        value=value,
        actor=taken_by,
        now=now,
    )
    if staff is not None and request.assignee_id is None and not target.final:
        request.assignee_id = staff.id  # whoever worked a step holds the request from then
    session.add(request)
    assert request.id is not None
    session.add(
        RequestEvent(
            request_id=request.id,
            actor=taken_by,
            action=action.code,
            from_status=previous,
            to_status=action.to,
            note=None if value is None else str(value),
            created_at=now,
        )
    )
    if action.notice is not None:
        queue_notice(
            session,
            request,
            NoticeKind.SERVICE_STEP,
            now=now,
            **_notice_params(definition, action, value),
        )
    if target.final:
        queue_notice(session, request, NoticeKind.FEEDBACK, now=now, service=request.kind)
    _tell_staff(session, request, target, actor=taken_by, now=now)
    session.flush()
    return action


def _tell_staff(
    session: Session, request: ServiceRequest, step: Step, *, actor: str, now: datetime
) -> None:
    """Those who do the staff step the request reached hear of it, as for the built services."""
    if step.role in set(StaffRole):
        role = StaffRole(step.role)
        defined_step_reached(session, request, role=role, overseers=OVERSEERS, actor=actor, now=now)


def _notice_params(
    definition: ServiceDefinition, action: Action, value: int | str | None
) -> dict[str, Any]:
    """The notice's text is the catalog's `service.notice.<notice>`, with what was entered."""
    assert action.notice is not None
    params: dict[str, Any] = {"notice": action.notice, "service": definition.code}
    if action.value == "amount":
        params["amount_rials"] = value
    elif action.value in ("text", "reading"):
        params["text"] = value
    return params


def record_fee_payment(
    session: Session,
    *,
    reference: str,
    method: PaymentMethod,
    provider_ref: str,
    actor: str,
    now: datetime,
    settings: Settings,
) -> bool:
    """A defined service's fee paid: the payment marked (once: False if it already was) and
    the request moved on by the fee's paid_by_action, as the gateway."""
    payment = mark_paid(
        session, reference=reference, method=method, provider_ref=provider_ref, actor=actor, now=now
    )
    if payment is None:
        return False
    request = session.get(ServiceRequest, payment.request_id, with_for_update=True)
    assert request is not None
    definition = defined_service(request.kind)
    fee = None if definition is None else fee_awaited_at(definition, request.status)
    if fee is None or fee.paid_by_action is None:
        raise Refused("payment_cancelled")  # the request has moved on: rolled back
    act(
        session,
        request,
        fee.paid_by_action,
        staff=None,
        actor=actor,
        value=None,
        now=now,
        settings=settings,
        paid_online=True,
    )
    return True
