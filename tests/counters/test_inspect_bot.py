"""/inspect in the chat: an unannounced visit by HQ with failures (one with a photo), paused and
resumed; the checklist edited; an announced visit by the area head re-checking the failures;
the visits' and the counter's scores with their parts, as /counter and /counters show them."""

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from backend.constants import ChecklistAnswer, CounterStatus, InspectionKind, InspectionStatus
from backend.constants import StaffRole as R
from backend.counter_inspections import REQUESTS_WEIGHT, VISITS_WEIGHT, install_checklist
from backend.counter_views import month_start
from backend.models import (
    Checklist,
    ChecklistItem,
    Counter,
    Inspection,
    InspectionAnswer,
    Staff,
    Subscription,
    utcnow,
)
from backend.settings import Settings
from backend.storage import LocalFileStorage
from dialogs.staff.inspection import NEXT, PAUSE
from locales.values import Msg
from tests.counters.conftest import CounterAt, edited_checklist, filed_at
from tests.helpers.samples import METER_PHOTO
from tests.helpers.staff import Hire, StaffChat, lines_of

AREA = "تبریز ۲"
ITEM_PROMPTS = ("staff.inspect.item", "staff.inspect.recheck_item")


@pytest.fixture
def counter(counter_at: CounterAt) -> Counter:
    return counter_at(CounterStatus.ACTIVE, area=AREA)


def area_head(hire: Hire, session: Session, area: str = AREA) -> StaffChat:
    chat = hire(R.AREA_HEAD)
    staff = session.get(Staff, chat.staff_id)
    assert staff is not None
    staff.area = area
    session.add(staff)
    session.commit()
    return chat


@dataclass
class Walk:
    """What a walk through the checklist met: each item's key and whether it was a re-check."""

    asked: list[tuple[str, bool]] = field(default_factory=list)


def shown_item(chat: StaffChat, session: Session) -> ChecklistItem:
    value = next(v for v in chat.buttons if v.startswith("insp:pass:"))
    item = session.get(ChecklistItem, int(value.rsplit(":", 1)[1]))
    assert item is not None
    return item


def walk(
    chat: StaffChat,
    session: Session,
    verdicts: dict[str, str],
    *,
    notes: dict[str, str] | None = None,
    photos: set[str] = frozenset(),  # type: ignore[assignment]
    stop_before: str | None = None,
) -> Walk:
    """Answers the items as they come (pass unless `verdicts` says fail or na); after a failure
    the note and photo given for it; «توقف» before the item `stop_before`."""
    seen = Walk()
    while chat.last.key in ITEM_PROMPTS:
        item = shown_item(chat, session)
        if item.key == stop_before:
            chat.press(PAUSE)
            return seen
        seen.asked.append((item.key, chat.last.key == "staff.inspect.recheck_item"))
        verdict = verdicts.get(item.key, "pass")
        chat.press(f"insp:{verdict}:{item.id}")
        if verdict != "fail":
            continue
        assert chat.last.key == "staff.inspect.ask_extra", chat.keys
        if notes and item.key in notes:
            chat.say(notes[item.key])
            assert chat.keys == ["staff.inspect.noted", "staff.inspect.ask_extra"]
        if item.key in photos:
            chat.upload("shop.jpg", METER_PHOTO, "image/jpeg")
            assert chat.keys == ["staff.inspect.photo_kept", "staff.inspect.ask_extra"]
        chat.press(NEXT)
    return seen


def visits_of(session: Session, counter: Counter) -> list[Inspection]:
    session.expire_all()
    query = select(Inspection).where(Inspection.counter_id == counter.id)
    return list(session.exec(query.order_by(col(Inspection.id))))


def percent(share: float) -> Msg:
    return Msg("staff.counter.percent", {"value": round(share * 100)})


def said(chat: StaffChat) -> Msg:
    """The first reply to the chat's last message (a prompt may follow it)."""
    assert chat.answer is not None
    return chat.answer.replies[0].text


def line(message: Msg, key: str) -> Msg:
    return next(m for m in lines_of(message) if m.key == key)


def test_an_unannounced_visit_then_an_announced_one_that_rechecks_it(
    hire: Hire,
    session: Session,
    counter: Counter,
    subscription: Subscription,
    settings: Settings,
    tmp_path: Path,
) -> None:
    hq = hire(R.HQ_INSPECTOR)
    head = area_head(hire, session)

    # HQ comes unannounced: three failures (the internet one with a note and a photo), one item
    # not applicable; paused before the fourth item and resumed there.
    assert hq.run(f"/inspect {counter.code}") == ["staff.inspect.started", "staff.inspect.item"]
    assert hq.answer is not None
    started = hq.answer.replies[0].text.params
    assert started["kind"] == Msg("staff.inspect.kind.unannounced") and started["rechecks"] == 0
    failures = {"internet": "fail", "papers_attached": "fail", "complaints": "fail"}
    verdicts = {**failures, "service_list": "na"}
    first = walk(
        hq,
        session,
        verdicts,
        notes={"internet": "مودم خاموش بود"},
        photos={"internet"},
        stop_before="complete_records",
    )
    assert first.asked == [("internet", False), ("software", False), ("service_list", False)]
    assert hq.keys == ["staff.inspect.paused", "menu.prompt"]
    [visit] = visits_of(session, counter)
    assert (visit.kind, visit.status) == (InspectionKind.UNANNOUNCED, InspectionStatus.PAUSED)

    assert hq.run(f"/inspect {counter.code}") == ["staff.inspect.resumed", "staff.inspect.item"]
    assert shown_item(hq, session).key == "complete_records"
    walk(hq, session, verdicts)
    assert hq.keys == ["staff.lines", "menu.prompt"]
    finished = lines_of(said(hq))
    assert finished[0].key == "staff.inspect.finished"
    assert finished[0].params["score"].params | {"score": None} == {
        "score": None,
        "passed": 12,  # of the 20, internet 2, papers 3 and complaints 2 failed
        "applicable": 19,  # the service list (1) did not apply
    }
    [visit] = visits_of(session, counter)
    assert visit.status == InspectionStatus.DONE
    answers = {
        item.key: answer
        for answer, item in session.exec(
            select(InspectionAnswer, ChecklistItem)
            .join(ChecklistItem, col(ChecklistItem.id) == col(InspectionAnswer.item_id))
            .where(InspectionAnswer.inspection_id == visit.id)
        )
    }
    internet = answers["internet"]
    assert (internet.answer, internet.note) == (ChecklistAnswer.NO, "مودم خاموش بود")
    assert internet.photo_key is not None
    assert LocalFileStorage(settings.files_dir).read(internet.photo_key) == METER_PHOTO
    assert answers["complaints"].answer == ChecklistAnswer.YES  # it expects «no»: failed
    assert all(a.photo_key is None for key, a in answers.items() if key != "internet")

    # The checklist is edited between the visits; requests are filed at the counter.
    install_checklist(session, edited_checklist(tmp_path))
    filed_at(session, subscription, counter, papers=True)
    filed_at(session, subscription, counter, papers=False)

    # The area's head comes announced: last visit's failures first, marked as re-checks.
    assert head.run(f"/inspect {counter.code}") == [
        "staff.inspect.started",
        "staff.inspect.recheck_item",
    ]
    assert head.answer is not None
    started = head.answer.replies[0].text.params
    assert (started["kind"], started["rechecks"], started["total"]) == (
        Msg("staff.inspect.kind.announced"),
        3,
        10,  # version 2 has one item more
    )
    second = walk(head, session, {"papers_attached": "fail"})  # still failing; the rest fixed
    assert second.asked[:4] == [
        ("internet", True),
        ("papers_attached", True),
        ("complaints", True),
        ("software", False),
    ]
    assert len(second.asked) == 10
    finished = lines_of(said(head))
    assert finished[0].params["score"].params["passed"] == 20  # the fees item weighs 5 now
    assert finished[0].params["score"].params["applicable"] == 23
    visits = visits_of(session, counter)
    assert [v.kind for v in visits] == [InspectionKind.UNANNOUNCED, InspectionKind.ANNOUNCED]
    versions = [session.get(Checklist, v.checklist_id) for v in visits]
    assert [c.version for c in versions if c] == [1, 2]

    # The counter's score, part by part: the visits' mean and the complete requests' share.
    mean = (20 / 23 + 12 / 19) / 2
    expected_total = VISITS_WEIGHT * mean + REQUESTS_WEIGHT * 0.5
    assert line(said(head), "staff.counter.part_visits").params["mean"] == percent(mean)
    requests = line(said(head), "staff.counter.part_requests").params
    assert (requests["complete"], requests["filed"], requests["share"]) == (1, 2, percent(0.5))
    assert line(said(head), "staff.counter.total").params["score"] == percent(expected_total)

    # The first visit's score is as it was, on its own checklist, in the counter's profile.
    head.run(f"/counter {counter.code}")
    shown_visits = [m for m in lines_of(head.last) if m.key == "staff.counter.visit"]
    assert [v.params["score"].params["score"] for v in shown_visits] == [
        percent(20 / 23),
        percent(12 / 19),
    ]
    assert [v.params["rechecked"] for v in shown_visits] == [3, 0]
    assert line(head.last, "staff.counter.total").params["score"] == percent(expected_total)
    text = head.text()
    assert "بازدید اعلام‌شده" in text and "بازدید سرزده" in text
    assert "۸۷٪" in text and "۶۳٪" in text  # 20/23 and 12/19

    # /counters: better than the visit before; the failure left waits for the next visit.
    hq.run("/counters")
    [item] = [m for m in lines_of(hq.last) if m.key == "staff.counters.item"]
    assert item.params["trend"] == Msg("staff.counters.trend_up")
    assert item.params["score"] == percent(expected_total)
    assert item.params["rechecks"].key == "staff.counters.rechecks_due"
    assert item.params["rechecks"].params["count"] == 1

    # Two months on, that re-check is overdue.
    for moved in visits:
        assert moved.finished_at is not None
        moved.finished_at -= timedelta(days=60)
        session.add(moved)
    session.commit()
    hq.run("/counters")
    [item] = [m for m in lines_of(hq.last) if m.key == "staff.counters.item"]
    assert item.params["rechecks"].key == "staff.counters.rechecks_overdue"
    assert "عقب افتاده" in hq.text()


def test_inspections_and_profiles_refused_in_words(
    hire: Hire, session: Session, counter: Counter, counter_at: CounterAt
) -> None:
    hq = hire(R.HQ_INSPECTOR)
    head = area_head(hire, session)
    elsewhere = area_head(hire, session, "مراغه")
    supervisor = hire(R.SUPERVISOR)
    reviewer = hire(R.BILLING_REVIEWER)

    assert elsewhere.run(f"/counter {counter.code}")[0] == "staff.counter.not_in_scope"
    assert elsewhere.run(f"/inspect {counter.code}")[0] == "staff.counter.not_in_scope"
    elsewhere.run("/counters")
    assert lines_of(elsewhere.last)[1].key == "staff.counters.none"
    assert hq.run("/counter 99999")[0] == "staff.counter.unknown"
    assert hq.run("/inspect")[0] == "staff.usage"
    assert reviewer.run("/counters")[0] == "staff.not_your_role"
    assert supervisor.run(f"/inspect {counter.code}")[0] == "refused.inspection_not_yours"
    onboarding = counter_at(CounterStatus.APPROVED, area=AREA)
    assert head.run(f"/inspect {onboarding.code}")[0] == "refused.counter_wrong_status"
    assert "تأییدشده" in head.text()  # the counter's status, in words

    hq.run(f"/inspect {counter.code}")
    assert head.run(f"/inspect {counter.code}")[0] == "refused.inspection_open_by_other"
    assert head.answer is not None
    hq_staff = session.get(Staff, hq.staff_id)
    assert hq_staff is not None and hq_staff.full_name in head.text()
    assert len(visits_of(session, counter)) == 1  # none opened for the head

    head.run("/staffhelp")
    helps = [m.key for m in lines_of(head.last)]
    assert {"staff.help.counters", "staff.help.counter", "staff.help.inspect"} <= set(helps)


def test_a_profile_lists_services_operators_and_this_months_requests(
    hire: Hire, session: Session, counter: Counter, subscription: Subscription
) -> None:
    head = area_head(hire, session)
    now = utcnow()
    this_month = filed_at(session, subscription, counter, papers=True)
    last_month = filed_at(session, subscription, counter, papers=True)
    this_month.created_at, last_month.created_at = now, month_start(now) - timedelta(hours=1)
    session.add_all([this_month, last_month])
    session.commit()
    head.run(f"/counter {counter.code}")
    keys = [m.key for m in lines_of(head.last)]
    assert keys[:5] == [
        "staff.counter.head",
        "staff.counter.place",
        "staff.counter.contact",
        "staff.counter.operators",
        "staff.counter.services",
    ]
    assert line(head.last, "staff.counter.filed_this_month").params["filed"] == Msg(
        "staff.counter.filed_kind", {"kind": Msg("kind.bill_review"), "count": 1}
    )
    requests = line(head.last, "staff.counter.part_requests").params
    assert (requests["complete"], requests["filed"]) == (2, 2)  # the 90 days hold both
    assert line(head.last, "staff.counter.total").params["score"] == percent(1.0)
    text = head.text()
    assert "دفتر پیشخوان دولت ولیعصر" in text and "خیابان ولیعصر" in text
    assert "خدمات واگذارشده: اعتراض به صورت‌حساب" in text
    assert "هنوز بازدیدی ثبت نشده" in text
