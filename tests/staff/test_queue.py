"""The work queue, overdue requests and what was sent to the subscriber."""

from datetime import timedelta

from sqlmodel import Session, select

from backend.constants import Channel, DeliveryState, NoticeKind, StaffRole
from backend.models import Notice, NoticeDelivery, Subscription, utcnow
from backend.staff import QUEUE_PAGE_SIZE
from dialogs.staff import QUEUE_SHOW
from tests.helpers.filing import file_reviews, request_of
from tests.helpers.staff import Hire, StaffChat


def shown(chat: StaffChat) -> list[str]:
    """The codes of the requests on the queue page shown, in order."""
    return [
        request_of_id(chat, value.removeprefix(QUEUE_SHOW))
        for value in chat.buttons
        if value.startswith(QUEUE_SHOW)
    ]


def request_of_id(chat: StaffChat, request_id: str) -> str:
    assert chat.answer is not None
    labels = [
        button.label.params["code"].value
        for reply in chat.answer.replies
        for row in reply.buttons
        for button in row
        if button.value == f"{QUEUE_SHOW}{request_id}"
    ]
    return labels[0]


def head(chat: StaffChat) -> dict[str, object]:
    assert chat.answer is not None
    return dict(chat.answer.replies[-1].text.params["first"].params)


def test_queue_is_paginated_and_filtered(
    hire: Hire, session: Session, subscription: Subscription
) -> None:
    codes = file_reviews(session, subscription, QUEUE_PAGE_SIZE + 2)
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say("/queue")  # nothing is theirs yet: the unassigned are shown
    assert head(reviewer)["total"] == 7 and head(reviewer)["pages"] == 2
    assert shown(reviewer) == codes[:QUEUE_PAGE_SIZE]
    assert "staff_q:p:1" in reviewer.buttons and "staff_q:p:-1" not in reviewer.buttons
    reviewer.press("staff_q:p:1")
    assert shown(reviewer) == codes[QUEUE_PAGE_SIZE:]
    assert head(reviewer)["page"] == 2
    assert "staff_q:p:0" in reviewer.buttons and "staff_q:p:2" not in reviewer.buttons

    reviewer.press(f"{QUEUE_SHOW}{request_of(session, codes[-1]).id}")
    assert reviewer.heads == ["staff.show.head", "staff.history.head", "staff.show.documents"]
    reviewer.press("staff_q:p:0")  # the queue's buttons still work after a file was shown
    assert shown(reviewer) == codes[:QUEUE_PAGE_SIZE]

    reviewer.press("staff_q:k:connection_removal")
    assert head(reviewer)["total"] == 0 and shown(reviewer) == []
    assert "درخواستی در این بخش نیست" in reviewer.text()
    reviewer.say(f"/take {codes[3]}")
    reviewer.say("/queue")
    assert shown(reviewer) == [codes[3]]
    assert "ارجاع‌شده به من (۱)" in reviewer.text() and "ارجاع‌نشده (۶)" in reviewer.text()
    reviewer.press("staff_q:s:unassigned")
    assert len(shown(reviewer)) == QUEUE_PAGE_SIZE and codes[3] not in shown(reviewer)


def test_overdue_lists_a_request_past_its_deadline(
    review: str, hire: Hire, session: Session
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say("/overdue")
    assert head(supervisor)["total"] == 0

    deadline = request_of(session, review).step_deadline
    assert deadline is not None
    supervisor.engine.clock = lambda: deadline + timedelta(hours=1)
    supervisor.say("/overdue")
    assert head(supervisor)["total"] == 1 and shown(supervisor) == [review]
    assert supervisor.answer is not None
    item = supervisor.answer.replies[-1].text.params["rest"]
    assert item.key == "staff.queue.item_overdue"
    supervisor.say(f"/show {review}")
    assert "مهلت مرحله فعلی گذشته است" in supervisor.text()


def test_notices_shows_what_was_sent_and_how_it_went(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say(f"/take {review}")
    reviewer.say(f"/notices {review}")
    assert reviewer.heads == ["staff.notices.head"]
    assert "رسید ثبت درخواست" in reviewer.text() and "هنوز فرستاده نشده" in reviewer.text()

    receipt = session.exec(select(Notice).where(Notice.kind == NoticeKind.RECEIPT)).one()
    receipt.relayed_at = utcnow()
    session.add(receipt)
    for channel, address, state, attempts in [
        (Channel.TELEGRAM, "1001", DeliveryState.DELIVERED, 1),
        (Channel.SMS, "+989121234567", DeliveryState.PERMANENT_FAILURE, 2),
    ]:
        session.add(
            NoticeDelivery(
                notice_id=receipt.id,
                channel=channel,
                address=address,
                state=state,
                attempts=attempts,
            )
        )
    session.commit()
    reviewer.say(f"/notices {review}")
    text = reviewer.text()
    assert "تلگرام: تحویل شد" in text and "پیامک: ناموفق" in text
    assert "+989121234567" not in text  # addresses are not shown
