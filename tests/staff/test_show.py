"""/show: who has a request (its column), the history's assignments, and long histories paged."""

import sqlalchemy as sa
from sqlmodel import Session, col

from backend.constants import EventAction, StaffRole
from backend.models import RequestEvent
from channels.registry import BALE_MARKUP
from channels.replies import Reply
from locales.values import HTML, PLAIN, Msg, render
from tests.helpers.chat import ChatUser
from tests.helpers.filing import request_of
from tests.helpers.staff import Hire, StaffChat, lines_of

TELEGRAM_LIMIT = 4096  # characters of one message


def replies(chat: StaffChat) -> list[Reply]:
    assert chat.answer is not None
    return chat.answer.replies


def history_reply(chat: StaffChat) -> Reply:
    (found,) = [r for r in replies(chat) if lines_of(r.text)[0].key.startswith("staff.history.")]
    return found


def assert_each_reply_fits(chat: StaffChat) -> None:
    """Every reply goes as one message: as Telegram's HTML, as Bale's text, as plain text."""
    assert chat.answer is not None
    for reply in chat.answer.replies:
        for markup in (HTML, BALE_MARKUP, PLAIN):
            assert len(render(reply.text, chat.answer.locale, markup)) <= TELEGRAM_LIMIT


def test_show_names_the_assignee_from_the_request_not_from_its_history(
    review: str, hire: Hire, session: Session
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR, "سرپرست")
    reviewer = hire(StaffRole.BILLING_REVIEWER, "مینا رضایی")
    supervisor.say(f"/assign {review}")
    supervisor.press(f"staff_assign:{reviewer.staff_id}")
    assert supervisor.keys[0] == "staff.assigned"

    supervisor.say(f"/show {review}")
    summary = lines_of(replies(supervisor)[0].text)
    assert Msg("staff.show.assignee", {"name": "مینا رضایی"}) in summary
    (assigned,) = [m for m in lines_of(history_reply(supervisor).text) if "assignee" in m.params]
    # Who assigned whom: the event's actor, and the assignee as named when it happened.
    assert (assigned.params["actor"], assigned.params["assignee"]) == ("سرپرست", "مینا رضایی")
    assert assigned.params["action"] == Msg(f"staff.event.{EventAction.ASSIGN}")
    assert "سرپرست: به مینا رضایی" in supervisor.text()

    # The note is only words to read: garbled, the request still knows who has it.
    request_id = request_of(session, review).id
    session.execute(
        sa.update(RequestEvent)
        .where(col(RequestEvent.request_id) == request_id)
        .where(col(RequestEvent.action) == EventAction.ASSIGN)
        .values(note="assigned to staff:999 (garbled)")
    )
    session.commit()
    supervisor.say(f"/show {review}")
    summary = lines_of(replies(supervisor)[0].text)
    assert Msg("staff.show.assignee", {"name": "مینا رضایی"}) in summary
    assert "assigned to staff:999 (garbled)" in supervisor.text()  # shown as written, not read

    # Given to someone else, the request names them; the history keeps both assignments.
    other = hire(StaffRole.BILLING_REVIEWER, "رضا کریمی")
    supervisor.say(f"/assign {review}")
    supervisor.press(f"staff_assign:{other.staff_id}")
    assert request_of(session, review).assignee_id == other.staff_id
    supervisor.say(f"/show {review}")
    assert Msg("staff.show.assignee", {"name": "رضا کریمی"}) in lines_of(
        replies(supervisor)[0].text
    )
    assert "سرپرست: به رضا کریمی" in supervisor.text()


def long_note(number: int) -> str:
    """A note of the longest length a note may have (2,000 characters), words to the end."""
    text = f"یادداشت {number}: " + "رقم کنتور با عکس مشترک مقایسه شد " * 80
    return text[:1999] + str(number)


def test_three_longest_notes_leave_every_reply_of_show_one_message(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER, "مینا رضایی")
    notes = [long_note(number) for number in (1, 2, 3)]
    for note in notes:
        assert reviewer.run(f"/note {review} {note}") == ["staff.noted"]

    reviewer.say(f"/show {review}")
    assert reviewer.heads == ["staff.show.head", "staff.history.head", "staff.show.documents"]
    assert_each_reply_fits(reviewer)
    history = history_reply(reviewer)
    shown = [m.params["note"] for m in lines_of(history.text) if "note" in m.params]
    assert len(shown) == 3 and all(s.endswith("…") and len(s) <= 201 for s in shown)
    assert all(note.startswith(s.removesuffix("…")) for s, note in zip(shown, notes, strict=True))
    request_id = request_of(session, review).id
    assert [b.value for row in history.buttons for b in row] == [f"staff_hist:{request_id}:1"]
    assert f"/history {review}" in reviewer.text()

    # The full history, page after page, has every note whole; each page is one message.
    read = full_history(reviewer, f"staff_hist:{request_id}:1")
    assert all(note in read for note in notes)
    assert read.index(notes[0]) < read.index(notes[1]) < read.index(notes[2])

    # The same pages by command, for a chat without buttons (the terminal).
    reviewer.say(f"/history {review}")
    assert lines_of(reviewer.last)[0].params["page"] == 1
    pages = lines_of(reviewer.last)[0].params["pages"]
    assert pages >= 2
    reviewer.say(f"/history {review} {pages}")
    assert notes[2] in reviewer.text()
    reviewer.say(f"/history {review} ۹۹")  # past the last page: the last
    assert lines_of(reviewer.last)[0].params["page"] == pages
    assert reviewer.run(f"/history {review} last") == ["staff.usage"]


def full_history(chat: StaffChat, first: str) -> str:
    """Presses through the full history from `first`; everything read, each page checked."""
    read, value, seen = [], first, set()
    while value:
        chat.press(value)
        assert chat.keys == ["staff.lines"] and value not in seen
        assert_each_reply_fits(chat)
        seen.add(value)
        read.append(chat.text())
        value = next((v for v in chat.buttons if int(v.rsplit(":", 1)[1]) > len(seen)), "")
    return "\n".join(read)


def test_show_gives_the_latest_events_and_the_full_history_all(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    for number in range(1, 21):
        reviewer.say(f"/note {review} یادداشت کوتاه {number}")
    reviewer.say(f"/show {review}")
    lines = lines_of(history_reply(reviewer).text)
    assert lines[0] == Msg("staff.history.head", {"count": 21})  # filed, then 20 notes
    assert lines[1] == Msg("staff.history.earlier", {"count": 6})
    notes = [m.params["note"] for m in lines if "note" in m.params]
    assert notes == [f"یادداشت کوتاه {number}" for number in range(6, 21)]

    request_id = request_of(session, review).id
    reviewer.press(f"staff_hist:{request_id}:1")
    lines = lines_of(reviewer.last)
    assert [lines[0].params[name] for name in ("count", "page", "pages")] == [21, 1, 1]
    assert lines[1].params["action"] == Msg(f"staff.event.{EventAction.SUBMITTED}")
    assert len(lines) == 22 and reviewer.buttons == []


def test_a_short_history_is_shown_whole_without_a_way_to_more(review: str, hire: Hire) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say(f"/note {review} عکس کنتور خوانا نیست")
    reviewer.say(f"/show {review}")
    history = history_reply(reviewer)
    assert history.buttons == [] and "/history" not in reviewer.text()


def test_the_full_history_buttons_are_for_staff_only(
    review: str, subscriber: ChatUser, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say(f"/note {review} {long_note(1)}")
    request_id = request_of(session, review).id
    subscriber.say("/start")
    subscriber.press(f"staff_hist:{request_id}:1")
    assert subscriber.keys[0] == "input.button_expired"
    assert long_note(1)[:50] not in subscriber.text()
    reviewer.press(f"staff_hist:{request_id}:1:x")  # not a button the desk makes
    assert reviewer.keys[0] == "input.button_expired"
