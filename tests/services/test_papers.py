"""A paper a defined service issues names whom it was issued to on that day: the clearance
certificate asked for again after the subscription changed hands still names the holder then."""

from sqlmodel import Session

from backend.constants import StaffRole
from backend.models import Customer, Staff, Subscription, utcnow
from backend.services.documents import issued_paper
from backend.services.engine import act
from backend.settings import Settings
from tests.helpers.services import filed_directly
from tests.helpers.staff import Hire


def test_a_certificate_names_the_holder_of_its_day(
    session: Session, settings: Settings, subscription: Subscription, hire: Hire
) -> None:
    request = filed_directly(
        session, settings, subscription, "clearance_certificate", {"purpose": "sale"}
    )
    finance = session.get(Staff, hire(StaffRole.FINANCE).staff_id)
    for code, value in (("no_debt", None), ("issue_certificate", "۱۴۰۵-۷۷۸")):
        act(session, request, code, staff=finance, value=value, now=utcnow(), settings=settings)
    holder = session.get(Customer, subscription.customer_id)
    assert holder is not None
    issued_to = holder.full_name
    holder.full_name = "خریدار تازه"  # the property sold, the name changed after
    session.add(holder)
    session.commit()

    paper = issued_paper(session, request)
    assert paper is not None
    assert (paper.customer_name, paper.number, paper.settled_rials) == (issued_to, "۱۴۰۵-۷۷۸", 0)
