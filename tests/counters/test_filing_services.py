"""A counter delegated a service defined as data files it for the subscriber at the counter as
it files the built ones: the consent code texted to the registered mobile (which also proves
the subscriber holds it), then the service's own questions; the request is the counter's."""

import pytest
from sqlmodel import Session, select

from backend.constants import (
    Channel,
    CounterStatus,
    EventAction,
    RequestKind,
    StaffRole,
    SubscriptionStatus,
)
from backend.counters import CounterError, delegate, parse_kinds, services_of
from backend.models import Counter, RequestDocument, ServiceRequest, Subscription
from backend.services.engine import service_kinds
from dialogs.documents import DONE
from dialogs.engine import DialogEngine
from dialogs.service_flow import CONFIRM
from tests.counters.conftest import ADMIN, NOW, CounterAt
from tests.counters.test_filing import consent_code, mobile_of, operator_at
from tests.helpers.filing import history_of
from tests.helpers.samples import SHELL_METER_PHOTO as JPEG
from tests.helpers.staff import Hire, StaffChat


def _consented(
    operator: StaffChat, session: Session, subscription: Subscription, service: str
) -> None:
    operator.run("/onbehalf")
    assert f"onbehalf:{service}" in operator.buttons, operator.buttons
    operator.press(f"onbehalf:{service}")
    operator.say(subscription.bill_id)
    assert operator.last.key == "counter_filing.code_prompt", operator.keys
    db, settings = operator.engine.db, operator.engine.settings
    operator.say(consent_code(db, settings, mobile_of(session, subscription)))
    assert operator.keys[0] == "counter_filing.consented", operator.keys


def _filed(operator: StaffChat, session: Session) -> ServiceRequest:
    assert operator.last.key == "service.summary", operator.keys
    operator.press(CONFIRM)
    assert operator.keys == ["counter_filing.filed", "menu.prompt"], operator.keys
    assert "0912***4567" in operator.text()  # the subscriber is texted the code and notices
    return session.exec(select(ServiceRequest)).one()


def test_a_meter_test_is_filed_at_a_counter_with_the_consent_code_as_the_proof(
    session: Session,
    dialog_engine: DialogEngine,
    counter_at: CounterAt,
    subscription: Subscription,
    hire: Hire,
) -> None:
    counter = counter_at(CounterStatus.ACTIVE, services=("meter_test",))
    operator = operator_at(session, counter, hire)
    _consented(operator, session, subscription, "meter_test")
    # The code proved the registered mobile: no filer to choose, no bill ID asked again.
    assert operator.last.key == "service.meter_test.ask.description", operator.keys
    operator.press("nav:back")  # back to the counter's bill ID, not the subscriber's list
    assert operator.last.key == "counter_filing.ask_bill_id"
    operator.say(subscription.bill_id)  # the same subscriber: consented already
    assert operator.last.key == "service.meter_test.ask.description"
    operator.say("مشترک می‌گوید کنتور تند می‌چرخد.")
    assert operator.last.key == "service.send_optional_document"
    operator.upload("meter-scan.jpg", JPEG, "image/jpeg")
    operator.press(DONE)
    request = _filed(operator, session)

    assert (request.kind, request.status) == ("meter_test", "submitted")
    assert (request.channel, request.channel_user_id) == (Channel.COUNTER, counter.code)
    assert (request.counter_id, request.filed_by_id) == (counter.id, operator.staff_id)
    assert request.answers == {
        "bill_id": subscription.bill_id,
        "description": "مشترک می‌گوید کنتور تند می‌چرخد.",
        "mobile_proven": True,
        "filer": "registered_mobile",
    }
    assert history_of(session, request.tracking_code) == [
        (EventAction.SUBMITTED, "submitted", f"staff:{operator.staff_id}")
    ]


def test_a_change_of_name_at_a_counter_still_takes_the_owner_s_deed(
    session: Session,
    dialog_engine: DialogEngine,
    counter_at: CounterAt,
    subscription: Subscription,
    hire: Hire,
) -> None:
    counter = counter_at(CounterStatus.ACTIVE, services=("change_of_name",))
    operator = operator_at(session, counter, hire)
    _consented(operator, session, subscription, "change_of_name")
    operator.say("0499370899")
    operator.say("رضا کریمی")
    assert operator.last.key == "service.send_document"  # the owner alone files it: the deed
    assert DONE not in operator.buttons
    operator.upload("deed-scan.jpg", JPEG, "image/jpeg")
    operator.press(DONE)
    operator.upload("id-scan.jpg", JPEG + b"id", "image/jpeg")
    operator.press(DONE)
    request = _filed(operator, session)
    assert request.counter_id == counter.id
    assert request.answers is not None and request.answers["filer"] == "owner"
    scans = session.exec(select(RequestDocument).where(RequestDocument.request_id == request.id))
    assert sorted(d.doc_type for d in scans) == ["id_card", "ownership_deed"]


def test_a_defined_service_not_delegated_to_the_counter_is_refused(
    session: Session, counter_at: CounterAt, subscription: Subscription, hire: Hire
) -> None:
    counter = counter_at(CounterStatus.ACTIVE, services=(RequestKind.BILL_REVIEW,))
    operator = operator_at(session, counter, hire)
    operator.run("/onbehalf")
    assert "onbehalf:meter_test" not in operator.buttons
    operator.run("/onbehalf meter_test")  # typed by its code
    assert operator.keys == ["counter_filing.not_delegated", "menu.prompt"]
    assert session.exec(select(ServiceRequest)).all() == []


def test_a_counter_is_delegated_defined_services_after_the_built_ones(
    session: Session, counter_at: CounterAt
) -> None:
    counter: Counter = counter_at(CounterStatus.ACTIVE)
    with pytest.raises(CounterError):  # a defined service is known where definitions are read
        parse_kinds("meter_test")
    kinds = parse_kinds("meter_test;bill_review;debt_instalments", service_kinds())
    assert delegate(session, counter, kinds, actor=ADMIN, now=NOW) == [
        RequestKind.BILL_REVIEW,
        "debt_instalments",
        "meter_test",
    ]
    assert services_of(session, counter) == ["bill_review", "debt_instalments", "meter_test"]
    with pytest.raises(CounterError):
        parse_kinds("no_such_service", service_kinds())


def test_a_removed_connection_gets_no_defined_service_at_a_counter(
    session: Session,
    counter_at: CounterAt,
    subscription: Subscription,
    hire: Hire,
) -> None:
    counter = counter_at(CounterStatus.ACTIVE, services=("meter_test",))
    operator = operator_at(session, counter, hire)
    subscription.status = SubscriptionStatus.REMOVED
    session.add(subscription)
    session.commit()
    operator.run("/onbehalf meter_test")
    operator.say(subscription.bill_id)
    assert operator.keys[0] == "service.subscription_removed"
    assert operator.last.key == "counter_filing.ask_bill_id"


def test_an_admin_delegates_a_defined_service_from_the_bot(
    session: Session, counter_at: CounterAt, hire: Hire
) -> None:
    counter = counter_at(CounterStatus.ACTIVE)
    admin = hire(StaffRole.ADMIN)
    admin.run(f"/counterstep {counter.code} delegate bill_review meter_test")
    assert admin.keys[0] == "staff.counter_steps.delegated", admin.keys
    assert "درخواست آزمایش کنتور" in admin.text()
    session.expire_all()
    assert services_of(session, counter) == ["bill_review", "meter_test"]
