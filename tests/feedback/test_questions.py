"""Every transition that makes a request final queues the feedback question, exactly once, in
its own transaction; none other does."""

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from backend.constants import FINAL_STATUSES, NoticeKind, RequestKind
from backend.models import Feedback, ServiceRequest, Subscription, utcnow
from backend.settings import Settings
from backend.workflows import TRANSITIONS, Transition, apply
from tests.feedback.conftest import notices
from tests.helpers.filing import request_of
from tests.staff.conftest import file_removal

FINAL = [t for t in TRANSITIONS if t.target in FINAL_STATUSES]


def test_the_final_transitions_are_every_way_a_request_ends() -> None:
    ends = {(t.kind, t.action, t.target) for t in FINAL}
    review, removal = RequestKind.BILL_REVIEW, RequestKind.CONNECTION_REMOVAL
    assert ends == {
        (review, "close", "closed"),
        (review, "withdraw", "withdrawn"),
        (removal, "close", "closed"),
        (removal, "withdraw", "withdrawn"),
        (removal, "decline_terms", "archived"),
    }


def _request(session: Session, subscription: Subscription, settings: Settings) -> ServiceRequest:
    return request_of(session, file_removal(session, subscription, settings))


@pytest.mark.parametrize("transition", FINAL, ids=lambda t: f"{t.kind}-{t.action}")
def test_a_final_transition_queues_exactly_one_question(
    transition: Transition,
    engine: sa.Engine,
    session: Session,
    subscription: Subscription,
    settings: Settings,
) -> None:
    request = _request(session, subscription, settings)
    for source in sorted(transition.sources):
        # Each status it may end from: the request put there, as the steps before would.
        request.kind, request.status = transition.kind, source
        session.add(request)
        session.commit()
        before = len(notices(session, NoticeKind.FEEDBACK))
        with Session(engine) as own:
            mine = own.get(ServiceRequest, request.id)
            assert mine is not None
            apply(own, mine, transition.action, actor="system", now=utcnow(), settings=settings)
            own.commit()
        (question,) = notices(session, NoticeKind.FEEDBACK)[before:]
        assert question.request_id == request.id and not question.essential
        assert question.params == {"code": request.tracking_code, "service": transition.kind}
    assert session.get(Feedback, 1) is None  # asked, not answered


def test_a_step_that_leaves_the_request_open_asks_nothing(
    session: Session, subscription: Subscription, settings: Settings
) -> None:
    request = _request(session, subscription, settings)
    open_steps = [t for t in TRANSITIONS if t.kind == request.kind and t not in FINAL]
    for transition in open_steps:
        request.status = sorted(transition.sources)[0]
        apply(session, request, transition.action, actor="system", now=utcnow(), settings=settings)
    session.commit()
    assert notices(session, NoticeKind.FEEDBACK) == []
