"""The supervision checklist, visits item by item, re-checks, and the score formula."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from backend.constants import ChecklistAnswer, CounterStatus, InspectionKind, InspectionStatus
from backend.constants import RejectionReason as Rejection
from backend.constants import StaffRole as R
from backend.counter_inspections import (
    DEFAULT_CHECKLIST,
    REQUESTS_WEIGHT,
    VISITS_WEIGHT,
    ChecklistError,
    answer_item,
    counter_score,
    current_checklist,
    finish_visit,
    install_checklist,
    items_of,
    pause_visit,
    start_visit,
    visit_items,
    visit_score,
)
from backend.models import Checklist, Counter, Inspection, Staff, Subscription
from backend.workflows import Refused
from tests.counters.conftest import NOW, AddStaff, CounterAt, edited_checklist, filed_at

YES, NO, NA = ChecklistAnswer.YES, ChecklistAnswer.NO, ChecklistAnswer.NOT_APPLICABLE
AREA = "تبریز ۲"
# The default checklist's weights add up to 20; the first visit finds three failures
# (weights 2, 3 and 2: the complaints item expects «no») and one item not applicable (1).
FIRST_VISIT = {"internet": NO, "papers_attached": NO, "complaints": YES, "service_list": NA}
FIRST_SCORE = (12, 19)


def fill(session: Session, visit: Inspection, answers: dict[str, ChecklistAnswer]) -> None:
    """Answers every item: as `answers` says, else as expected (a pass)."""
    for entry in visit_items(session, visit):
        answer = answers.get(entry.item.key, entry.item.expected)
        answer_item(session, visit, entry.item, answer, now=NOW, note="دیده شد")


@pytest.fixture
def counter(counter_at: CounterAt) -> Counter:
    return counter_at(CounterStatus.ACTIVE, area=AREA)


@pytest.fixture
def inspector(add_member: AddStaff) -> Staff:
    return add_member(R.HQ_INSPECTOR)


@pytest.fixture
def head(add_member: AddStaff) -> Staff:
    return add_member(R.AREA_HEAD, area=AREA)


def test_a_checklist_version_is_stored_once_and_never_rewritten(
    session: Session, tmp_path: Path
) -> None:
    first = install_checklist(session)
    assert install_checklist(session) == first
    assert [item.key for item in items_of(session, first)][:3] == [
        "internet",
        "software",
        "service_list",
    ]
    changed = json.loads(DEFAULT_CHECKLIST.read_text(encoding="utf-8"))
    changed["topics"][0]["items"][0]["weight"] = 9
    same_version = tmp_path / "changed.json"
    same_version.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ChecklistError, match="pishkhan version 1 is stored with other items"):
        install_checklist(session, same_version)
    second = install_checklist(session, edited_checklist(tmp_path))
    assert (second.version, current_checklist(session)) == (2, second)
    assert len(items_of(session, first)) == 9 and len(items_of(session, second)) == 10


def test_a_visit_is_filled_item_by_item_paused_and_resumed(
    session: Session, counter: Counter, inspector: Staff
) -> None:
    visit = start_visit(session, counter, inspector, now=NOW)
    assert (visit.kind, visit.status) == (InspectionKind.UNANNOUNCED, InspectionStatus.IN_PROGRESS)
    first, second, *_ = visit_items(session, visit)
    answer_item(session, visit, first.item, NO, now=NOW, note="اینترنت قطع بود")
    pause_visit(session, visit, now=NOW)
    with pytest.raises(Refused) as refused:
        answer_item(session, visit, second.item, YES, now=NOW)
    assert (refused.value.code, refused.value.params) == (
        "inspection_not_in_progress",
        {"status": InspectionStatus.PAUSED},
    )
    resumed = start_visit(session, counter, inspector, now=NOW + timedelta(hours=2))
    assert (resumed.id, resumed.status, resumed.paused_at) == (
        visit.id,
        InspectionStatus.IN_PROGRESS,
        None,
    )
    [answered, *_] = visit_items(session, visit)
    assert answered.answer is not None and answered.answer.note == "اینترنت قطع بود"
    with pytest.raises(Refused) as refused:
        finish_visit(session, visit, now=NOW)
    assert (refused.value.code, refused.value.params) == ("inspection_unanswered", {"count": 8})
    fill(session, visit, {"internet": NO})
    finish_visit(session, visit, now=NOW)
    assert visit.status == InspectionStatus.DONE
    with pytest.raises(Refused, match="inspection_not_in_progress"):
        answer_item(session, visit, second.item, YES, now=NOW)


def test_only_the_areas_head_and_hq_inspectors_visit_a_working_counter(
    session: Session, counter_at: CounterAt, counter: Counter, add_member: AddStaff, head: Staff
) -> None:
    assert start_visit(session, counter, head, now=NOW).kind == InspectionKind.ANNOUNCED
    for outsider in (add_member(R.AREA_HEAD, area="مراغه"), add_member(R.BILLING_REVIEWER)):
        with pytest.raises(Refused, match="inspection_not_yours"):
            start_visit(session, counter, outsider, now=NOW)
    new = counter_at(CounterStatus.INTRODUCED, area=AREA)
    with pytest.raises(Refused, match="counter_wrong_status"):
        start_visit(session, new, head, now=NOW)


def test_the_next_visit_rechecks_last_failures_and_the_scores_hold(
    session: Session,
    counter: Counter,
    inspector: Staff,
    head: Staff,
    subscription: Subscription,
    tmp_path: Path,
) -> None:
    unannounced = start_visit(session, counter, inspector, now=NOW)
    fill(session, unannounced, FIRST_VISIT)
    finish_visit(session, unannounced, now=NOW)
    score = visit_score(session, unannounced)
    assert (score.passed_weight, score.applicable_weight) == FIRST_SCORE

    install_checklist(session, edited_checklist(tmp_path))  # edited between the visits
    later = NOW + timedelta(days=30)
    announced = start_visit(session, counter, head, now=later)
    items = visit_items(session, announced)
    assert [(e.item.key, e.recheck_of is not None) for e in items[:4]] == [
        ("internet", True),
        ("papers_attached", True),
        ("complaints", True),
        ("software", False),
    ]
    first_checklist = session.get(Checklist, unannounced.checklist_id)
    assert first_checklist is not None and first_checklist.version == 1
    old_item = items_of(session, first_checklist)[0]
    with pytest.raises(Refused, match="inspection_wrong_item"):
        answer_item(session, announced, old_item, YES, now=later)
    # Internet fixed, papers still not attached, the complaints dealt with.
    fill(session, announced, {"internet": YES, "papers_attached": NO, "complaints": NO})
    finish_visit(session, announced, now=later)
    rechecked = {e.item.key: e for e in visit_items(session, announced) if e.recheck_of}
    assert {key: (e.answer and e.answer.answer) for key, e in rechecked.items()} == {
        "internet": YES,
        "papers_attached": NO,
        "complaints": NO,
    }
    assert all(
        e.answer and e.recheck_of and e.answer.recheck_of_id == e.recheck_of.id
        for e in rechecked.values()
    )
    second = visit_score(session, announced)
    assert (second.passed_weight, second.applicable_weight) == (20, 23)  # fees weigh 5 now
    first = visit_score(session, unannounced)
    assert (first.passed_weight, first.applicable_weight) == FIRST_SCORE  # unchanged

    # Requests filed at the counter: two complete, one without papers, one rejected for
    # missing papers; one older than the window and one filed in the bot do not count.
    for papers in (True, True, False):
        filed_at(session, subscription, counter, papers=papers)
    rejected = filed_at(session, subscription, counter, papers=True)
    rejected.decision_reason = Rejection.NO_EVIDENCE
    old = filed_at(session, subscription, counter)
    old.created_at = later - timedelta(days=91)
    filed_at(session, subscription, None)
    session.add_all([rejected, old])
    session.commit()

    parts = counter_score(session, counter, now=later)
    visits = (20 / 23 + 12 / 19) / 2
    assert parts.visit_scores == [20 / 23, 12 / 19]
    assert parts.visits == pytest.approx(visits)
    assert (parts.requests_filed, parts.requests_complete, parts.requests) == (4, 2, 0.5)
    assert parts.total == pytest.approx(VISITS_WEIGHT * visits + REQUESTS_WEIGHT * 0.5)


def test_a_counter_score_uses_the_part_it_has(
    session: Session, counter: Counter, inspector: Staff, subscription: Subscription
) -> None:
    nothing = counter_score(session, counter, now=NOW)
    assert (nothing.visits, nothing.requests, nothing.total) == (None, None, None)
    filed_at(session, subscription, counter, papers=True)
    only_requests = counter_score(session, counter, now=NOW)
    assert (only_requests.visits, only_requests.total) == (None, 1.0)
    visit = start_visit(session, counter, inspector, now=NOW)
    fill(session, visit, {key: NA for key in [i.item.key for i in visit_items(session, visit)]})
    finish_visit(session, visit, now=NOW)
    assert visit_score(session, visit).score is None  # nothing applied: no score, not zero
    assert counter_score(session, counter, now=NOW).total == 1.0
