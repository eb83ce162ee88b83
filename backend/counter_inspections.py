"""Supervising the counters (seed 002 §4-4): the checklist as versioned data, visits filled in
item by item (pausable; last visit's failures first, re-checked), and the scores, whose formula
is written here once."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session, col, select

from backend.constants import (
    ChecklistAnswer,
    CounterStatus,
    InspectionKind,
    InspectionStatus,
    RejectionReason,
    StaffRole,
)
from backend.counters import may_see_counter
from backend.models import (
    Checklist,
    ChecklistItem,
    Counter,
    Inspection,
    InspectionAnswer,
    RequestDocument,
    ServiceRequest,
    Staff,
)
from backend.workflows import Refused

DEFAULT_CHECKLIST = Path(__file__).parent / "checklists" / "pishkhan.json"
NA = ChecklistAnswer.NOT_APPLICABLE
VISIBLE_STATUSES = frozenset({CounterStatus.ACTIVE, CounterStatus.SUSPENDED})  # at work, or was
VISIT_KINDS = {StaffRole.AREA_HEAD: InspectionKind.ANNOUNCED}  # an HQ inspector comes unannounced

# The counter's score: its last visits, and how completely it files its recent requests.
RECENT_VISITS = 3
REQUEST_WINDOW = timedelta(days=90)
VISITS_WEIGHT = 0.7
REQUESTS_WEIGHT = 0.3


def _id(value: int | None) -> int:
    assert value is not None  # a stored row
    return value


class ChecklistError(ValueError):
    """A checklist file that cannot be stored as given; the message says why."""


# --- The checklist ---


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1, max_length=40)
    text_fa: str = Field(min_length=1, max_length=500)
    text_en: str = Field(min_length=1, max_length=500)
    weight: int = Field(ge=1)
    expected: Literal[ChecklistAnswer.YES, ChecklistAnswer.NO]  # never "not applicable"


class _Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic_fa: str = Field(min_length=1, max_length=100)
    topic_en: str = Field(min_length=1, max_length=100)
    items: list[_Item] = Field(min_length=1)


class _ChecklistFile(BaseModel):
    """A checklist file's schema: every text in Persian and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=40)
    version: int = Field(ge=1)
    title_fa: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    topics: list[_Topic] = Field(min_length=1)


# An item as stored and compared: (key, topic_fa, topic_en, text_fa, text_en, weight, expected).
_ItemRow = tuple[str, str, str, str, str, int, ChecklistAnswer]


def read_checklist_file(path: Path) -> tuple[_ChecklistFile, list[_ItemRow]]:
    """The file checked against the schema, and its items in order; ChecklistError says what
    is wrong and where."""
    try:
        data = _ChecklistFile.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        raise ChecklistError(f"{path.name}: {error}") from None
    items = [
        (i.key, t.topic_fa, t.topic_en, i.text_fa, i.text_en, i.weight, ChecklistAnswer(i.expected))
        for t in data.topics
        for i in t.items
    ]
    keys = [item[0] for item in items]
    if len(set(keys)) != len(keys):
        raise ChecklistError(f"{path.name}: an item key repeats")
    return data, items


def _stored_row(item: ChecklistItem) -> _ItemRow:
    return (
        item.key,
        item.topic,
        item.topic_en,
        item.text,
        item.text_en,
        item.weight,
        item.expected,
    )


def install_checklist(session: Session, path: Path = DEFAULT_CHECKLIST) -> Checklist:
    """The checklist version the file holds, stored once. A version is never rewritten (past
    visits were scored on it): a changed file must carry a new version number."""
    data, items = read_checklist_file(path)
    stored = session.exec(
        select(Checklist).where(Checklist.code == data.code, Checklist.version == data.version)
    ).first()
    if stored is not None:
        if [_stored_row(item) for item in items_of(session, stored)] != items:
            raise ChecklistError(f"{data.code} version {data.version} is stored with other items")
        return stored
    checklist = Checklist(
        code=data.code, version=data.version, title=data.title_fa, title_en=data.title_en
    )
    session.add(checklist)
    session.flush()
    assert checklist.id is not None
    for position, (key, topic, topic_en, text, text_en, weight, expected) in enumerate(items):
        session.add(
            ChecklistItem(
                checklist_id=checklist.id,
                position=position,
                key=key,
                topic=topic,
                topic_en=topic_en,
                text=text,
                text_en=text_en,
                weight=weight,
                expected=expected,
            )
        )
    session.flush()
    return checklist


def current_checklist(session: Session, code: str = "pishkhan") -> Checklist:
    query = select(Checklist).where(Checklist.code == code)
    checklist = session.exec(query.order_by(col(Checklist.version).desc())).first()
    return checklist if checklist is not None else install_checklist(session)


def items_of(session: Session, checklist: Checklist) -> list[ChecklistItem]:
    query = select(ChecklistItem).where(ChecklistItem.checklist_id == checklist.id)
    return list(session.exec(query.order_by(col(ChecklistItem.position))))


# --- Visits ---


def _answers(session: Session, visit: Inspection) -> dict[int, InspectionAnswer]:
    query = select(InspectionAnswer).where(InspectionAnswer.inspection_id == visit.id)
    return {answer.item_id: answer for answer in session.exec(query)}


def finished_visits(session: Session, counter: Counter) -> list[Inspection]:
    """The counter's finished visits, the latest first."""
    query = select(Inspection).where(
        Inspection.counter_id == counter.id, Inspection.status == InspectionStatus.DONE
    )
    return list(session.exec(query.order_by(col(Inspection.finished_at).desc())))


def open_visit_at(session: Session, counter: Counter) -> Inspection | None:
    """The counter's visit not finished yet, in progress or paused: one at a time."""
    query = select(Inspection).where(
        Inspection.counter_id == counter.id, Inspection.status != InspectionStatus.DONE
    )
    return session.exec(query).first()


def start_visit(
    session: Session, counter: Counter, inspector: Staff, *, now: datetime
) -> Inspection:
    """The visit this inspector has open at the counter (resumed), or a new one on the current
    checklist: announced by the area's head, unannounced by an HQ inspector. A visit someone
    else has open is theirs to finish. The caller holds the counter's row (counter_by_code)."""
    if inspector.role not in (StaffRole.AREA_HEAD, StaffRole.HQ_INSPECTOR) or not (
        may_see_counter(session, inspector, counter)
    ):
        raise Refused("inspection_not_yours")
    if counter.status not in VISIBLE_STATUSES:
        raise Refused("counter_wrong_status", status=CounterStatus(counter.status))
    open_visit = open_visit_at(session, counter)
    if open_visit is not None and open_visit.inspector_id != inspector.id:
        other = session.get(Staff, open_visit.inspector_id)
        assert other is not None
        raise Refused("inspection_open_by_other", name=other.full_name, since=open_visit.started_at)
    if open_visit is not None:
        open_visit.status = InspectionStatus.IN_PROGRESS
        open_visit.paused_at = None
        session.add(open_visit)
        session.flush()
        return open_visit
    assert counter.id is not None and inspector.id is not None
    visit = Inspection(
        counter_id=counter.id,
        checklist_id=_id(current_checklist(session).id),
        inspector_id=inspector.id,
        kind=VISIT_KINDS.get(inspector.role, InspectionKind.UNANNOUNCED),
        status=InspectionStatus.IN_PROGRESS,
        started_at=now,
    )
    session.add(visit)
    session.flush()
    return visit


@dataclass(frozen=True)
class VisitItem:
    item: ChecklistItem
    answer: InspectionAnswer | None  # given on this visit so far
    recheck_of: InspectionAnswer | None  # the previous visit's failed answer for the same key


def passed(item: ChecklistItem, answer: InspectionAnswer) -> bool:
    return answer.answer == item.expected


def answer_meaning(item: ChecklistItem, *, passes: bool) -> ChecklistAnswer:
    """The answer that passes the item (its expected one), or the one that fails it."""
    if passes:
        return item.expected
    return ChecklistAnswer.NO if item.expected == ChecklistAnswer.YES else ChecklistAnswer.YES


def failed_items(session: Session, visit: Inspection) -> dict[str, InspectionAnswer]:
    """By item key: the visit's answers that failed their item (not applicable never fails)."""
    checklist = session.get(Checklist, visit.checklist_id)
    assert checklist is not None
    answers = _answers(session, visit)
    failed = {}
    for item in items_of(session, checklist):
        answer = answers.get(_id(item.id))
        if answer is not None and answer.answer != NA and not passed(item, answer):
            failed[item.key] = answer
    return failed


def _failed_last_time(session: Session, visit: Inspection) -> dict[str, InspectionAnswer]:
    """By item key: what failed on the counter's visit finished before this one began (on
    whatever checklist version)."""
    counter = session.get(Counter, visit.counter_id)
    assert counter is not None
    earlier = (
        v
        for v in finished_visits(session, counter)
        if v.id != visit.id and v.finished_at is not None and v.finished_at <= visit.started_at
    )
    previous = next(earlier, None)
    return {} if previous is None else failed_items(session, previous)


def visit_items(session: Session, visit: Inspection) -> list[VisitItem]:
    """The visit's items in the order they are asked: last visit's failures first."""
    checklist = session.get(Checklist, visit.checklist_id)
    assert checklist is not None
    answers = _answers(session, visit)
    failed = _failed_last_time(session, visit)
    items = [
        VisitItem(item, answers.get(_id(item.id)), failed.get(item.key))
        for item in items_of(session, checklist)
    ]
    return sorted(items, key=lambda entry: entry.recheck_of is None)  # stable: file order kept


def answer_item(
    session: Session,
    visit: Inspection,
    item: ChecklistItem,
    answer: ChecklistAnswer,
    *,
    now: datetime,
    note: str | None = None,
    photo_key: str | None = None,
) -> InspectionAnswer:
    """Records (or corrects) the answer to an item while the visit is in progress."""
    if visit.status != InspectionStatus.IN_PROGRESS:
        raise Refused("inspection_not_in_progress", status=InspectionStatus(visit.status))
    if item.checklist_id != visit.checklist_id:
        raise Refused("inspection_wrong_item")
    assert visit.id is not None and item.id is not None
    recheck = _failed_last_time(session, visit).get(item.key)
    row = _answers(session, visit).get(item.id) or InspectionAnswer(
        inspection_id=visit.id, item_id=item.id, answer=answer
    )
    row.answer, row.note, row.photo_key, row.answered_at = answer, note, photo_key, now
    row.recheck_of_id = None if recheck is None else recheck.id
    session.add(row)
    session.flush()
    return row


def pause_visit(session: Session, visit: Inspection, *, now: datetime) -> None:
    if visit.status != InspectionStatus.IN_PROGRESS:
        raise Refused("inspection_not_in_progress", status=InspectionStatus(visit.status))
    visit.status, visit.paused_at = InspectionStatus.PAUSED, now
    session.add(visit)
    session.flush()


def finish_visit(session: Session, visit: Inspection, *, now: datetime) -> None:
    """Closes the visit once every item has an answer (not applicable is one)."""
    if visit.status != InspectionStatus.IN_PROGRESS:
        raise Refused("inspection_not_in_progress", status=InspectionStatus(visit.status))
    left = sum(1 for entry in visit_items(session, visit) if entry.answer is None)
    if left:
        raise Refused("inspection_unanswered", count=left)
    visit.status, visit.finished_at = InspectionStatus.DONE, now
    session.add(visit)
    session.flush()


# --- Scores: the formula, in one place ---


@dataclass(frozen=True)
class VisitScore:
    passed_weight: int
    applicable_weight: int

    @property
    def score(self) -> float | None:
        """The weighted share of the applicable items that passed (None: nothing applied)."""
        return self.passed_weight / self.applicable_weight if self.applicable_weight else None


def visit_score(session: Session, visit: Inspection) -> VisitScore:
    passed_weight = applicable = 0
    for entry in visit_items(session, visit):
        if entry.answer is None or entry.answer.answer == NA:
            continue
        applicable += entry.item.weight
        if passed(entry.item, entry.answer):
            passed_weight += entry.item.weight
    return VisitScore(passed_weight, applicable)


@dataclass(frozen=True)
class CounterScore:
    """A counter's score and its parts, as shown to staff; every share is 0..1 or None."""

    visit_scores: Sequence[float]  # the last RECENT_VISITS finished visits, the latest first
    visits: float | None  # their mean
    requests_filed: int  # at the counter within REQUEST_WINDOW
    requests_complete: int  # with papers attached and not rejected for missing papers
    requests: float | None
    total: float | None


def counter_score(session: Session, counter: Counter, *, now: datetime) -> CounterScore:
    """VISITS_WEIGHT × the mean of the recent visits' scores + REQUESTS_WEIGHT × the share of
    its recent requests filed completely; either part alone when the other has nothing yet."""
    scores = [
        score
        for visit in finished_visits(session, counter)[:RECENT_VISITS]
        if (score := visit_score(session, visit).score) is not None
    ]
    visits = sum(scores) / len(scores) if scores else None
    filed = list(
        session.exec(
            select(ServiceRequest).where(
                ServiceRequest.counter_id == counter.id,
                col(ServiceRequest.created_at) >= now - REQUEST_WINDOW,
            )
        )
    )
    with_papers = set(
        session.exec(
            select(RequestDocument.request_id).where(
                col(RequestDocument.request_id).in_([r.id for r in filed])
            )
        )
    )
    complete = sum(
        1 for r in filed if r.id in with_papers and r.decision_reason != RejectionReason.NO_EVIDENCE
    )
    requests = complete / len(filed) if filed else None
    if visits is None or requests is None:
        total = visits if requests is None else requests
    else:
        total = VISITS_WEIGHT * visits + REQUESTS_WEIGHT * requests
    return CounterScore(scores, visits, len(filed), complete, requests, total)
