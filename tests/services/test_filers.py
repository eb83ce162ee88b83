"""Who may file a service defined as data (its `filers`): each way of filing asks its proof, the
one used is recorded with the answers, and SMS, which carries no documents, offers only the
ways that need none (or sends the subscriber to the bots or a counter)."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from backend.constants import Channel, DocumentType
from backend.conversations import verify_phone
from backend.models import Customer, Subscription
from backend.service_requests import DraftDocument
from backend.services.engine import defined_service, file_service
from backend.settings import Settings
from backend.workflows import Refused
from dialogs.documents import DONE
from dialogs.engine import DialogEngine
from dialogs.service_flow import CONFIRM, FILER, PICK
from tests.factories import add_subscription
from tests.helpers.chat import ChatUser
from tests.helpers.samples import METER_PHOTO
from tests.helpers.services import request_by
from tests.helpers.staff import code_texted_to

MOBILE = "+989121234567"  # tests.factories' registered mobile
NOW = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)


def _filed_code(user: ChatUser) -> str:
    assert user.last.key == "service.summary", user.keys
    user.press(CONFIRM)
    filed = next(r.text for r in user.answer.replies if r.text.key == "service.filed")  # type: ignore[union-attr]
    code: str = filed.params["code"].value
    return code


def test_the_filer_chooses_how_and_the_owner_sends_the_deed(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.press("menu:services")
    user.press(f"{PICK}meter_test")
    user.say(subscription.bill_id)
    assert user.last.key == "service.ask_filer"
    assert user.buttons[:3] == [
        f"{FILER}registered_mobile",
        f"{FILER}owner",
        f"{FILER}sole_user",
    ]
    user.press(f"{FILER}owner")
    user.say("کنتور تند می‌چرخد.")
    assert user.last.key == "service.send_document"  # the deed, before the optional photos
    assert user.last.params["document"].key == "service.document.ownership_deed"
    assert DONE not in user.buttons  # not without it
    user.upload("deed.jpg", METER_PHOTO + b"deed", "image/jpeg")
    user.press(DONE)
    user.press(DONE)  # no photo of the meter
    assert "مالک ملک" in user.text()  # the summary says how it is filed
    request = request_by(session, _filed_code(user))
    assert request.answers is not None and request.answers["filer"] == "owner"


def test_the_registered_mobile_s_holder_proves_it_by_a_code(
    user: ChatUser, session: Session, subscription: Subscription, dialog_engine: DialogEngine
) -> None:
    user.press("menu:services")
    user.press(f"{PICK}meter_test")
    user.say(subscription.bill_id)
    user.press(f"{FILER}registered_mobile")
    assert user.last.key == "otp.prompt"
    user.say(code_texted_to(dialog_engine.db, dialog_engine.settings, MOBILE))
    assert user.keys[0] == "removal.owner_proven"
    user.say("کنتور تند می‌چرخد.")
    assert user.last.key == "service.send_optional_document"  # no document proves it
    user.press(DONE)
    request = request_by(session, _filed_code(user))
    assert request.answers is not None
    assert (request.answers["filer"], request.answers["mobile_proven"]) == (
        "registered_mobile",
        True,
    )


def test_a_chat_that_holds_the_registered_mobile_is_not_asked_how_it_files(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    verify_phone(session, channel=user.channel, user_id=user.user_id, phone=MOBILE)
    session.commit()
    user.press("menu:services")
    user.press(f"{PICK}meter_test")
    user.say(subscription.bill_id)
    assert user.last.key == "service.meter_test.ask.description", user.keys


def test_with_no_registered_mobile_the_holder_s_way_is_refused_and_another_asked(
    user: ChatUser, session: Session
) -> None:
    subscription = add_subscription(session, file_number=51234)
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    customer.mobile = None
    session.add(customer)
    session.commit()
    user.press("menu:services")
    user.press(f"{PICK}meter_test")
    user.say(subscription.bill_id)
    user.press(f"{FILER}registered_mobile")
    assert user.keys == ["service.filer_no_mobile", "service.ask_filer"]
    user.press(f"{FILER}sole_user")
    user.say("کنتور تند می‌چرخد.")
    assert user.last.params["document"].key == "service.document.lease"


def test_by_sms_only_the_ways_without_a_document_are_offered(
    dialog_engine: DialogEngine, session: Session, subscription: Subscription
) -> None:
    sms = ChatUser(dialog_engine, user_id=MOBILE, channel=Channel.SMS)
    sms.say("/start")
    sms.press("menu:services")
    sms.press(f"{PICK}change_of_name")  # the owner's deed and ID card cannot come by SMS
    assert sms.keys[0] == "service.sms_needs_document"
    assert "تلگرام" in sms.text() and "پیشخوان" in sms.text()
    assert sms.last.key == "service.pick"
    sms.press(f"{PICK}meter_test")
    sms.say(subscription.bill_id)  # from the registered mobile itself: nothing to ask
    sms.say("کنتور تند می‌چرخد.")
    code = _filed_code(sms)  # no photo asked for, SMS carries none
    request = request_by(session, code)
    assert request.answers is not None and request.answers["filer"] == "registered_mobile"


@pytest.mark.parametrize(
    ("filer", "documents", "refused"),
    [
        ("registered_mobile", [], True),  # not one who may file a change of name
        ("owner", [], True),  # the owner without the deed
        ("owner", [DocumentType.ID_CARD], True),
        ("owner", [DocumentType.OWNERSHIP_DEED], False),
        ("owner", [DocumentType.LEASE], False),  # the definition's deed takes a lease too
    ],
)
def test_the_engine_files_only_a_filer_whose_proof_came(
    session: Session,
    settings: Settings,
    subscription: Subscription,
    filer: str,
    documents: list[DocumentType],
    refused: bool,
) -> None:
    definition = defined_service("change_of_name")
    assert definition is not None and subscription.id is not None
    drafts = [
        DraftDocument(f"k{i}", f"{i}" * 64, 1, "image/jpeg", "scan.jpg", kind)
        for i, kind in enumerate(documents)
    ]

    def file() -> None:
        file_service(
            session,
            definition=definition,
            subscription_id=subscription.id,  # type: ignore[arg-type]
            filer=filer,
            answers={"bill_id": subscription.bill_id, "mobile_proven": True},
            documents=drafts,
            channel=Channel.TELEGRAM,
            user_id="1001",
            locale="fa",
            now=NOW,
            settings=settings,
        )

    if refused:
        with pytest.raises(Refused) as caught:
            file()
        assert caught.value.code == "service_filer_unproven"
    else:
        file()
