"""A defined service's own final steps (refused, declined) end a request as the built ones'
do: its subscriber is asked for, and may give, a score."""

from sqlmodel import Session

from backend.constants import Channel, StaffRole
from backend.feedback import record_score
from backend.models import Staff, Subscription, utcnow
from backend.services.engine import act
from backend.settings import Settings
from tests.helpers.services import filed_directly
from tests.helpers.staff import Hire


def test_a_refused_request_takes_a_score(
    session: Session, settings: Settings, subscription: Subscription, hire: Hire
) -> None:
    request = filed_directly(
        session,
        settings,
        subscription,
        "debt_instalments",
        {"amount": 9_000_000, "instalments": 3},
    )
    finance = session.get(Staff, hire(StaffRole.FINANCE).staff_id)
    act(
        session,
        request,
        "refuse",
        staff=finance,
        value="بدهی پیشین هنوز باز است",
        now=utcnow(),
        settings=settings,
    )
    assert request.status == "refused"
    scored = record_score(session, request, score=4, channel=Channel.TELEGRAM, now=utcnow())
    assert scored.feedback.score == 4
