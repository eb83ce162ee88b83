"""A counter's lifecycle step past its deadline: the clock tells the area's head once a step."""

from datetime import timedelta

from sqlmodel import Session, col, select

from backend.constants import Channel, CounterAction, CounterStatus, NoticeKind
from backend.constants import StaffRole as R
from backend.models import Counter, Notice
from backend.staff_notices import counter_overdue_round
from backend.storage import LocalFileStorage
from channels.render import notice_message, render_for_channel
from channels.staff_buttons import staff_buttons
from tests.counters.conftest import AddStaff, CounterAt, take_step


def notices(session: Session) -> list[Notice]:
    query = select(Notice).where(Notice.kind == NoticeKind.STAFF_COUNTER_OVERDUE)
    return list(session.exec(query.order_by(col(Notice.id))))


def test_a_late_step_tells_the_areas_head_once_per_step(
    session: Session, counter_at: CounterAt, add_member: AddStaff, storage: LocalFileStorage
) -> None:
    head = add_member(R.AREA_HEAD, area="تبریز ۲")
    add_member(R.AREA_HEAD, area="مراغه")
    supervisor = add_member(R.SUPERVISOR)
    counter = counter_at(CounterStatus.INTRODUCED, area="تبریز ۲")
    at_work = counter_at(CounterStatus.ACTIVE, area="تبریز ۲")  # owes no step
    assert at_work.step_deadline is None and counter.step_deadline is not None
    deadline = counter.step_deadline

    assert counter_overdue_round(session, now=deadline - timedelta(minutes=1)) == 0
    assert counter_overdue_round(session, now=deadline + timedelta(minutes=1)) == 1
    assert counter_overdue_round(session, now=deadline + timedelta(days=3)) == 0  # told already
    session.commit()
    [notice] = notices(session)
    assert notice.params["staff_id"] == head.id
    assert (notice.params["code"], notice.params["counter_step"]) == (counter.code, "introduced")
    assert staff_buttons(session, notice.params) == []  # no request to act on

    # The next step has a deadline of its own: missed, it is told again; with no head in the
    # area, to the supervisors.
    take_step(session, counter, CounterAction.APPROVE, storage)
    head.active = False
    session.add(head)
    session.commit()
    fresh = session.get(Counter, counter.id)
    assert fresh is not None and fresh.step_deadline is not None
    assert counter_overdue_round(session, now=fresh.step_deadline + timedelta(hours=1)) == 1
    session.commit()
    assert [n.params["staff_id"] for n in notices(session)] == [head.id, supervisor.id]


def test_the_notice_reads_in_both_languages() -> None:
    params = {
        "code": "14010",
        "counter": "دفتر پیشخوان دولت ولیعصر",
        "counter_step": "approved",
        "due": "2026-12-09T20:30:00+00:00",
    }
    message = notice_message(NoticeKind.STAFF_COUNTER_OVERDUE, params)
    persian = render_for_channel(message, Channel.BALE, "fa", 3)
    assert "دفتر پیشخوان" in persian and "تأییدشده" in persian and "14010" in persian
    english = render_for_channel(message, Channel.TELEGRAM, "en", 3)
    assert "<code>14010</code>" in english and "approved" in english
