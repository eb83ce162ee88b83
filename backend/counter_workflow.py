"""A pishkhan counter's lifecycle (seed 002 §3-§4) as an explicit state machine: the only way
its status changes. Each step writes an event (actor, date, reason, note) and sets the deadline
the company owes for the next step, in working days."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from backend.constants import (
    CounterAction,
    CounterDocumentType,
    CounterReason,
    CounterStatus,
    StaffRole,
)
from backend.models import Counter, CounterDocument, CounterEvent, CounterService, Staff
from backend.settings import local_zone
from backend.storage import FileStorage, detect_content_type, document_name
from backend.workdays import add_working_days, holidays
from backend.workflows import Refused

S = CounterStatus
A = CounterAction
LETTER, AGREEMENT = CounterDocumentType.INTRODUCTION_LETTER, CounterDocumentType.AGREEMENT

# The area office's inquiry with the other bodies (seed 002 §4-2-2) takes the longest.
VETTING_WORKING_DAYS = 10


@dataclass(frozen=True)
class CounterTransition:
    action: CounterAction
    sources: frozenset[CounterStatus]
    target: CounterStatus
    # Working days the company has for the next step; None when the next step is the
    # counter's (getting the prerequisites ready) or nothing more is owed.
    deadline_days: int | None
    needs_reason: bool = False
    document: CounterDocumentType | None = None  # a paper the step is not done without


def _t(
    action: CounterAction,
    sources: set[CounterStatus],
    target: CounterStatus,
    deadline_days: int | None,
    *,
    needs_reason: bool = False,
    document: CounterDocumentType | None = None,
) -> CounterTransition:
    return CounterTransition(
        action, frozenset(sources), target, deadline_days, needs_reason, document
    )


TRANSITIONS: tuple[CounterTransition, ...] = (
    _t(A.APPROVE, {S.INTRODUCED}, S.APPROVED, 2),  # then the prerequisites are announced
    _t(A.REJECT, {S.INTRODUCED}, S.REJECTED, None, needs_reason=True),
    _t(A.ANNOUNCE_PREREQUISITES, {S.APPROVED}, S.PREREQUISITES_ANNOUNCED, None),
    # HQ's experts install the software once (§4-3-3), then the operator is trained (§4-3-4).
    _t(A.SIGN_AGREEMENT, {S.PREREQUISITES_ANNOUNCED}, S.AGREEMENT_SIGNED, 5, document=AGREEMENT),
    _t(A.INSTALL_SOFTWARE, {S.AGREEMENT_SIGNED}, S.SOFTWARE_INSTALLED, 5),
    _t(A.TRAIN_OPERATOR, {S.SOFTWARE_INSTALLED}, S.OPERATOR_TRAINED, 1),
    _t(A.ACTIVATE, {S.OPERATOR_TRAINED}, S.ACTIVE, None),
    _t(A.SUSPEND, {S.ACTIVE}, S.SUSPENDED, None, needs_reason=True),
    _t(A.REINSTATE, {S.SUSPENDED}, S.ACTIVE, None),
    _t(A.TERMINATE, {S.ACTIVE, S.SUSPENDED}, S.TERMINATED, None, needs_reason=True),
)


@dataclass(frozen=True)
class Paper:
    """A scanned document as it arrived: its bytes and the name its sender gave it."""

    content: bytes
    name: str


def find_transition(counter: Counter, action: CounterAction) -> CounterTransition:
    """The transition `action` makes from the counter's status, or Refused saying why not."""
    for transition in TRANSITIONS:
        if transition.action == action and counter.status in transition.sources:
            return transition
    raise Refused("counter_wrong_status", status=S(counter.status))


def allowed_actions(counter: Counter) -> list[CounterAction]:
    return [t.action for t in TRANSITIONS if counter.status in t.sources]


def _store(
    session: Session,
    storage: FileStorage,
    counter: Counter,
    kind: CounterDocumentType,
    paper: Paper,
) -> None:
    content_type = detect_content_type(paper.content)
    if content_type is None:
        raise Refused("counter_bad_document")
    stored = storage.save(paper.content)
    assert counter.id is not None
    session.add(
        CounterDocument(
            counter_id=counter.id,
            doc_type=kind,
            storage_key=stored.key,
            content_type=content_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            original_name=document_name(paper.name, content_type),
        )
    )


def record_event(
    session: Session,
    counter: Counter,
    action: CounterAction,
    *,
    actor: str,
    now: datetime,
    from_status: CounterStatus | None = None,
    to_status: CounterStatus | None = None,
    reason: CounterReason | None = None,
    note: str | None = None,
) -> None:
    """A row of the counter's history; a change to its record leaves both statuses None."""
    assert counter.id is not None
    session.add(
        CounterEvent(
            counter_id=counter.id,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            note=note,
            created_at=now,
        )
    )


def record_introduction(
    session: Session,
    counter: Counter,
    letter: Paper | None,
    *,
    storage: FileStorage,
    actor: str,
    now: datetime,
) -> None:
    """The counter's first step: the guild association's letter is in, the area office vets it."""
    if letter is None:
        raise Refused("counter_document_required", document=LETTER)
    counter.status = S.INTRODUCED
    counter.created_at = counter.updated_at = now
    counter.step_deadline = add_working_days(now, VETTING_WORKING_DAYS, holidays(session))
    session.add(counter)
    session.flush()
    _store(session, storage, counter, LETTER, letter)
    record_event(session, counter, A.INTRODUCE, actor=actor, now=now, to_status=S.INTRODUCED)
    session.flush()


def _check_ready(session: Session, counter: Counter, action: CounterAction) -> None:
    """Training needs an operator to train; a counter starts work with services to file."""
    if action == A.TRAIN_OPERATOR:
        operator = session.exec(
            select(Staff.id).where(
                Staff.counter_id == counter.id,
                Staff.role == StaffRole.COUNTER_OPERATOR,
                col(Staff.active),
            )
        ).first()
        if operator is None:
            raise Refused("counter_no_operator")
    if action == A.ACTIVATE:
        service = session.exec(
            select(CounterService.kind).where(CounterService.counter_id == counter.id)
        ).first()
        if service is None:
            raise Refused("counter_no_services")


def apply(
    session: Session,
    counter: Counter,
    action: CounterAction,
    *,
    actor: str,
    now: datetime,
    storage: FileStorage | None = None,
    reason: CounterReason | None = None,
    note: str | None = None,
    document: Paper | None = None,
    signed_on: date | None = None,
) -> CounterTransition:
    """Moves the counter on: status, deadline, its paper and an event, in the caller's
    transaction; Refused (nothing changed) when the step does not fit or lacks what it needs."""
    transition = find_transition(counter, action)
    if transition.needs_reason and reason is None:
        raise Refused("counter_reason_required")
    paper: tuple[FileStorage, CounterDocumentType, Paper] | None = None
    if transition.document is not None:
        if document is None or storage is None:
            raise Refused("counter_document_required", document=transition.document)
        if signed_on is None:
            raise Refused("counter_date_required")
        if signed_on > now.astimezone(local_zone()).date():
            raise Refused("counter_date_in_future")
        paper = storage, transition.document, document
    _check_ready(session, counter, action)
    previous = counter.status
    counter.status = transition.target
    counter.updated_at = now
    if transition.needs_reason:
        counter.status_reason = reason
    elif transition.target == S.ACTIVE:
        counter.status_reason = None  # reinstated: the suspension's reason is history now
    if transition.document == AGREEMENT:
        counter.agreement_signed_on = signed_on
    counter.step_deadline = (
        None
        if transition.deadline_days is None
        else add_working_days(now, transition.deadline_days, holidays(session))
    )
    session.add(counter)
    if paper is not None:
        _store(session, paper[0], counter, paper[1], paper[2])
    record_event(
        session,
        counter,
        action,
        actor=actor,
        now=now,
        from_status=previous,
        to_status=transition.target,
        reason=reason,
        note=note,
    )
    session.flush()
    return transition
