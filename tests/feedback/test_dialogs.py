"""The answer in the dialogs: a score pressed under the question, an optional comment, changed
within a day and refused kindly after; the request must be the sender's and final."""

from datetime import timedelta

from sqlmodel import Session

from backend.constants import NoticeKind, StaffRole
from backend.models import Staff, Subscription
from backend.settings import Settings
from channels.render import feedback_buttons, feedback_value
from dialogs.engine import DialogEngine
from dialogs.feedback import SKIP
from tests.feedback.conftest import feedback_of, notices
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, request_of
from tests.helpers.staff import Hire
from tests.staff.conftest import file_review


def test_the_question_offers_five_scores_best_first() -> None:
    values = [row[0].value for row in feedback_buttons("1234567890")]
    assert values == [f"fb:{score}:1234567890" for score in (5, 4, 3, 2, 1)]


def test_a_score_then_a_comment_is_one_answer(
    subscriber: ChatUser, closed: str, session: Session
) -> None:
    subscriber.press(feedback_value(4, closed))
    assert subscriber.keys == ["feedback.scored", "feedback.comment_prompt"]
    assert subscriber.buttons == [SKIP]
    assert "امتیاز ۴ از ۵" in subscriber.text() and "بدون توضیح" in subscriber.text()

    subscriber.say("کارشناس با حوصله توضیح داد.")
    assert subscriber.keys == ["feedback.commented", "menu.prompt"]
    feedback = feedback_of(session, closed)
    assert feedback is not None
    assert (feedback.score, feedback.comment, feedback.channel) == (
        4,
        "کارشناس با حوصله توضیح داد.",
        "telegram",
    )
    assert feedback.flagged_at is None and notices(session, NoticeKind.STAFF_LOW_SCORE) == []


def test_the_comment_may_be_skipped(subscriber: ChatUser, closed: str, session: Session) -> None:
    subscriber.press(feedback_value(5, closed))
    subscriber.press(SKIP)
    assert subscriber.keys == ["feedback.thanks", "menu.prompt"]
    feedback = feedback_of(session, closed)
    assert feedback is not None and (feedback.score, feedback.comment) == (5, None)


def test_a_comment_too_long_is_asked_again(
    subscriber: ChatUser, closed: str, session: Session
) -> None:
    subscriber.press(feedback_value(3, closed))
    subscriber.say("خ" * 1001)
    assert subscriber.keys == ["feedback.comment_too_long", "feedback.comment_prompt"]
    feedback = feedback_of(session, closed)
    assert feedback is not None and feedback.comment is None


def test_a_second_press_within_a_day_changes_the_score_and_after_it_is_refused(
    subscriber: ChatUser, closed: str, session: Session
) -> None:
    subscriber.press(feedback_value(5, closed))
    subscriber.press(SKIP)
    subscriber.press(feedback_value(3, closed))
    assert subscriber.keys == ["feedback.changed", "feedback.comment_prompt"]
    assert "به ۳ از ۵ تغییر کرد" in subscriber.text()
    feedback = feedback_of(session, closed)
    assert feedback is not None and feedback.score == 3

    # A day and a minute after the first answer: kept as it is, and said so kindly.
    feedback.created_at -= timedelta(days=1, minutes=1)
    session.add(feedback)
    session.commit()
    subscriber.press(SKIP)  # the comment step was left open: still asked there
    subscriber.press(feedback_value(1, closed))
    assert subscriber.keys == ["feedback.closed", "menu.prompt"]
    assert "امتیاز ۳ از ۵" in subscriber.text() and "گذشته است" in subscriber.text()
    feedback = feedback_of(session, closed)
    assert feedback is not None and feedback.score == 3
    assert notices(session, NoticeKind.STAFF_LOW_SCORE) == []


def test_a_comment_after_the_day_is_refused_too(
    subscriber: ChatUser, closed: str, session: Session
) -> None:
    subscriber.press(feedback_value(4, closed))
    feedback = feedback_of(session, closed)
    assert feedback is not None
    feedback.created_at -= timedelta(days=2)
    session.add(feedback)
    session.commit()
    subscriber.say("دیر نوشتم.")
    assert subscriber.keys == ["feedback.closed", "menu.prompt"]
    feedback = feedback_of(session, closed)
    assert feedback is not None and feedback.comment is None


def test_only_the_requester_answers_and_only_about_a_final_request(
    dialog_engine: DialogEngine,
    subscriber: ChatUser,
    closed: str,
    session: Session,
    subscription: Subscription,
    settings: Settings,
) -> None:
    stranger = ChatUser(dialog_engine, user_id="2002")
    stranger.say("/start")
    stranger.press(feedback_value(1, closed))
    assert stranger.keys == ["input.button_expired", "menu.prompt"]
    assert feedback_of(session, closed) is None

    # A value no question carried: the request is still open, or the score out of range.
    still_open = file_review(subscriber, subscription, latest_bill(session, subscription))
    subscriber.press(feedback_value(5, still_open))
    assert subscriber.keys[0] == "input.button_expired"
    subscriber.press(f"fb:7:{closed}")
    assert subscriber.keys[0] == "input.button_expired"
    assert feedback_of(session, still_open) is None and feedback_of(session, closed) is None


def test_a_low_score_is_told_to_the_supervisors_once_with_the_comment_after_it(
    subscriber: ChatUser, closed: str, session: Session, hire: Hire
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR, "سرپرست منطقه")
    hire(StaffRole.BILLING_REVIEWER)  # not told
    subscriber.press(feedback_value(2, closed))
    subscriber.say("سه بار تماس گرفتم و کسی پاسخ نداد.")
    subscriber.press(feedback_value(1, closed))  # lower still: told once already

    request = request_of(session, closed)
    (low,) = notices(session, NoticeKind.STAFF_LOW_SCORE)
    assert low.request_id is None  # a staff notice: the subscriber's /notices stay theirs
    assert (low.params["staff_id"], low.params["request_id"]) == (supervisor.staff_id, request.id)
    assert (low.params["code"], low.params["score"]) == (closed, 2)
    (comment,) = notices(session, NoticeKind.STAFF_LOW_SCORE_COMMENT)
    assert comment.params["staff_id"] == supervisor.staff_id
    assert comment.params["comment"] == "سه بار تماس گرفتم و کسی پاسخ نداد."
    feedback = feedback_of(session, closed)
    assert feedback is not None and feedback.score == 1 and feedback.flagged_at is not None

    # Its button shows the request to the supervisor, in one tap.
    supervisor.press(f"staff_do:show:{request.id}")
    assert supervisor.heads[0] == "staff.show.head"


def test_the_area_head_is_the_one_told_where_the_area_has_one(
    subscriber: ChatUser, closed: str, session: Session, hire: Hire
) -> None:
    hire(StaffRole.SUPERVISOR)
    head = hire(StaffRole.AREA_HEAD, "رئیس امور صفاییه", bind=False)
    hire(StaffRole.AREA_HEAD, "رئیس امور دیگر", bind=False)  # another area's
    staff = session.get(Staff, head.staff_id)
    assert staff is not None
    staff.area = "صفاییه"  # the subscription's area (tests/factories.py)
    session.add(staff)
    session.commit()
    subscriber.press(feedback_value(1, closed))
    assert [n.params["staff_id"] for n in notices(session, NoticeKind.STAFF_LOW_SCORE)] == [
        head.staff_id
    ]
