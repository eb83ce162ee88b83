"""Subscribers' feedback (CSAT) on a final request: a score of 1 to 5 and an optional comment,
one answer per request (the unique key), changeable for a day after it was first given; a score
of 1 or 2 is told to the area's supervisors, once per request, and the comment that follows it.

The question itself is a notice queued by the transition that makes the request final
(backend.workflows); by SMS its answer is a digit texted back (`sms_question`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from backend.constants import Channel, DeliveryState, NoticeKind
from backend.identifiers import strip_controls, to_ascii_digits
from backend.models import Feedback, Notice, NoticeDelivery, ServiceRequest
from backend.services.loader import final_steps
from backend.staff_notices import tell_area_supervisors
from backend.workflows import Refused

SCORES = range(1, 6)
LOW_SCORES = frozenset({1, 2})
CHANGE_WINDOW = timedelta(days=1)  # after its first answer, the answer is kept as it is
COMMENT_MAX_CHARS = 1000
# An SMS known to have left (the gateway took it); failures and pending retries are not asked.
SENT_STATES = (DeliveryState.QUEUED, DeliveryState.SENT, DeliveryState.DELIVERED)


@dataclass(frozen=True)
class Scored:
    feedback: Feedback
    previous: int | None  # the score it replaced; None for a first answer


@dataclass(frozen=True)
class SmsQuestion:
    tracking_code: str
    sent_at: datetime


def feedback_of(session: Session, request: ServiceRequest) -> Feedback | None:
    return session.exec(select(Feedback).where(Feedback.request_id == request.id)).first()


def record_score(
    session: Session, request: ServiceRequest, *, score: int, channel: Channel, now: datetime
) -> Scored:
    """The subscriber's score: stored, or changed within CHANGE_WINDOW ("feedback_closed" with
    the score kept after it); a low one is told to the area's supervisors the first time."""
    if score not in SCORES:
        raise Refused("bad_score")
    feedback = _changeable(session, request, now)
    previous = None
    assert request.id is not None  # a stored request
    if feedback is None:
        feedback = Feedback(
            request_id=request.id, score=score, channel=channel, created_at=now, updated_at=now
        )
    else:
        previous = feedback.score
        feedback.score, feedback.channel, feedback.updated_at = score, channel, now
    if score in LOW_SCORES and feedback.flagged_at is None:
        feedback.flagged_at = now
        tell_area_supervisors(session, request, NoticeKind.STAFF_LOW_SCORE, now=now, score=score)
    session.add(feedback)
    session.flush()
    return Scored(feedback, previous)


def record_comment(
    session: Session, request: ServiceRequest, *, comment: str, now: datetime
) -> Feedback:
    """The comment after the score (one replaces another within CHANGE_WINDOW); the comment on
    a low score goes to the area's supervisors as well."""
    text = comment.strip()
    if not text:
        raise Refused("empty_comment")
    if len(text) > COMMENT_MAX_CHARS:
        raise Refused("comment_too_long", max_chars=COMMENT_MAX_CHARS)
    feedback = _changeable(session, request, now)
    if feedback is None:
        raise Refused("no_score")
    feedback.comment, feedback.updated_at = text, now
    session.add(feedback)
    if feedback.score in LOW_SCORES:
        tell_area_supervisors(
            session,
            request,
            NoticeKind.STAFF_LOW_SCORE_COMMENT,
            now=now,
            score=feedback.score,
            comment=text,
        )
    session.flush()
    return feedback


def _changeable(session: Session, request: ServiceRequest, now: datetime) -> Feedback | None:
    """The request's answer so far, under the request's row lock (one answer at a time), if it
    may still change; None before the first. Refused for a request still open, and once the
    answer is older than CHANGE_WINDOW."""
    session.refresh(request, with_for_update=True)
    if request.status not in final_steps():  # a defined service's too
        raise Refused("wrong_status", status=request.status)
    feedback = feedback_of(session, request)
    if feedback is not None and now - feedback.created_at > CHANGE_WINDOW:
        raise Refused("feedback_closed", score=feedback.score)
    return feedback


def parse_score(text: str) -> int | None:
    """A score typed as one digit 1–5 (Persian, Arabic or ASCII), spaces around it or not."""
    typed = to_ascii_digits(strip_controls(text)).strip()
    return int(typed) if len(typed) == 1 and typed in "12345" else None


def sms_question(session: Session, *, mobile: str, now: datetime, hours: int) -> SmsQuestion | None:
    """The feedback question texted to `mobile` last, if it went out within `hours`: the one a
    digit from that mobile answers."""
    row = session.exec(
        select(ServiceRequest.tracking_code, NoticeDelivery.updated_at)
        .join(Notice, col(Notice.id) == col(NoticeDelivery.notice_id))
        .join(ServiceRequest, col(ServiceRequest.id) == col(Notice.request_id))
        .where(
            NoticeDelivery.address == mobile,
            NoticeDelivery.channel == Channel.SMS,
            Notice.kind == NoticeKind.FEEDBACK,
            col(NoticeDelivery.state).in_(SENT_STATES),
            col(NoticeDelivery.next_attempt_at).is_(None),
            col(NoticeDelivery.updated_at) >= now - timedelta(hours=hours),
        )
        .order_by(col(NoticeDelivery.updated_at).desc())
    ).first()
    return SmsQuestion(*row) if row is not None else None
