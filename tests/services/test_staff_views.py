"""Staff see every service defined as data in /queue, /show and /overdue as they see the two
built ones, with no code of its own: its name, its step, its deadline, what to do next."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from backend.constants import DocumentType, StaffRole
from backend.models import ServiceRequest, Subscription, utcnow
from backend.service_requests import DraftDocument
from backend.services.engine import act, data_services, defined_service
from backend.settings import Settings
from backend.workflows import Refused
from locales.values import PLAIN, Msg, render
from tests.helpers.chat import ChatUser
from tests.helpers.services import filed_directly
from tests.helpers.staff import Hire

ANSWERS = {
    "change_of_name": {"new_holder_national_id": "0499370899", "new_holder_name": "رضا کریمی"},
    "meter_test": {"description": "کنتور تند می‌چرخد", "mobile_proven": True},
    "debt_instalments": {
        "amount": 9_000_000,
        "instalments": 3,
        "description": "بیماری",
        "mobile_proven": True,
    },
    "clearance_certificate": {"purpose": "sale"},
    "mobile_change": {"national_id": "0499370899", "new_mobile": "+989361238866"},
}
# The owner alone files a change of name, with the deed; the others the mobile's holder.
DEED = DraftDocument("k", "0" * 64, 1, "image/jpeg", "deed.jpg", DocumentType.OWNERSHIP_DEED)


def _filed(
    session: Session, settings: Settings, subscription: Subscription, service: str
) -> ServiceRequest:
    owner = service == "change_of_name"
    return filed_directly(
        session,
        settings,
        subscription,
        service,
        ANSWERS[service],
        filer="owner" if owner else "registered_mobile",
        documents=(DEED,) if owner else (),
        now=utcnow() - timedelta(days=12),  # its first step is long overdue
    )


def _text(key: str, **params: object) -> str:
    return render(Msg(key, params), "fa", PLAIN)


def test_every_data_service_is_tested_here() -> None:
    assert sorted(d.code for d in data_services()) == sorted(ANSWERS)


@pytest.mark.parametrize("service", sorted(ANSWERS))
def test_a_data_service_is_listed_shown_and_overdue_like_the_built_ones(
    service: str, session: Session, settings: Settings, subscription: Subscription, hire: Hire
) -> None:
    request = _filed(session, settings, subscription, service)
    code = request.tracking_code
    supervisor = hire(StaffRole.SUPERVISOR)
    name = _text(f"kind.{service}")

    supervisor.say("/queue")
    assert code in supervisor.text() and name in supervisor.text()
    supervisor.say("/overdue")
    assert code in supervisor.text() and name in supervisor.text()
    assert "روز کاری تأخیر" in supervisor.text()

    supervisor.say(f"/show {code}")
    shown = supervisor.text()
    assert name in shown and _text("status.submitted") in shown
    filer = request.answers["filer"]  # type: ignore[index]
    assert (
        _text(
            "service.answer",
            question=_text("service.label_filer"),
            answer=_text(f"service.filer.{filer}"),
        )
        in shown
    )
    first = defined_service(service).steps[0].actions[0].code  # type: ignore[union-attr]
    assert f"/act {code} {first}" in shown  # what comes next, as for the built services


def test_a_request_at_a_final_step_leaves_the_queue(
    session: Session, settings: Settings, subscription: Subscription, hire: Hire
) -> None:
    request = _filed(session, settings, subscription, "debt_instalments")
    finance = hire(StaffRole.FINANCE)
    finance.say("/queue")
    assert request.tracking_code in finance.text()
    assert finance.run(f"/act {request.tracking_code} refuse بدهی قبلی تسویه نشده") == [
        "staff.service.done"
    ]
    finance.say("/queue")
    assert request.tracking_code not in finance.text()
    session.expire_all()
    assert session.get(ServiceRequest, request.id).step_deadline is None  # type: ignore[union-attr]


def test_the_subscriber_cannot_take_a_staff_step(
    session: Session, settings: Settings, subscription: Subscription
) -> None:
    request = _filed(session, settings, subscription, "meter_test")
    with pytest.raises(Refused) as refused:
        act(session, request, "set_fee", staff=None, value=1, now=utcnow(), settings=settings)
    assert refused.value.code == "service_not_yours"


@pytest.mark.parametrize("service", sorted(ANSWERS))
def test_the_subscriber_follows_a_data_service_like_the_built_ones(
    service: str,
    session: Session,
    settings: Settings,
    subscription: Subscription,
    user: ChatUser,
) -> None:
    request = _filed(session, settings, subscription, service)  # filed from user 1001's chat
    user.say(request.tracking_code)  # its code typed at the menu: where it stands
    assert user.keys[0] == "track.status", user.keys
    assert _text(f"kind.{service}") in user.text()
    user.press("menu:my_requests")
    assert request.tracking_code in user.text() and "error.unexpected" not in user.keys
