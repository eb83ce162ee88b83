"""The removal flow through the dialog engine: proof of ownership, documents, no-refund, filing."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from backend.constants import Channel, DocumentType, RemovalReason, RequestKind, RequestStatus
from backend.models import (
    ChannelIdentity,
    OtpChallenge,
    RequestDocument,
    ServiceRequest,
    Subscription,
    utcnow,
)
from backend.service_requests import DraftDocument, file_removal
from backend.tracking import is_valid_tracking_code
from backend.workflows import Refused
from dialogs.engine import NAV_BACK, DialogEngine
from tests.removal.conftest import (
    JPEG,
    MOBILE,
    PDF,
    SmsOutbox,
    Subscriber,
    file_by_contact,
    walk_to_summary,
)

OTHER_MOBILE = "+989351112233"


def filed(session: Session) -> list[ServiceRequest]:
    session.expire_all()
    return list(session.exec(select(ServiceRequest)))


def test_files_a_removal_in_a_messenger_with_the_senders_own_contact(
    telegram_user: Subscriber, session: Session, subscription: Subscription
) -> None:
    user = telegram_user
    user.press("menu:removal")
    assert "تنها استفاده‌کننده از انشعاب" in user.text()  # only the sole user may ask
    user.say(subscription.bill_id)
    assert user.last.key == "removal.ask_contact"
    assert user.answer.replies[-1].request_contact
    assert "0912***4567" in user.text()  # which number, masked
    user.share_contact("09121234567")  # as Telegram gives it: a national number is fine
    assert user.keys == ["removal.owner_proven", "removal.ask_reason"]
    user.press("removal_reason:demolition")
    assert user.last.key == "removal.ask_id_card"
    assert "docs:done" not in user.buttons  # no going on without the ID card
    user.press("docs:done")
    assert user.keys == ["input.button_expired", "removal.ask_id_card"]
    user.upload("id-front.jpg", JPEG, "image/jpeg")
    assert user.keys == ["review.document_received", "removal.ask_id_card"]
    user.press("docs:done")
    user.press("property:ownership_deed")
    assert user.last.key == "removal.ask_property_documents"
    user.say("سند دارم")
    assert user.keys == ["removal.send_file", "removal.ask_property_documents"]
    user.upload("deed.pdf", PDF, "application/pdf")
    user.press("docs:done")
    assert user.last.key == "removal.no_refund"
    assert "removal:confirm" not in user.buttons
    user.press("removal:acknowledge")
    assert user.last.key == "removal.summary"
    summary = user.text()
    assert "بازگردانده نمی‌شود" in summary and "تنها استفاده‌کننده از این انشعاب" in summary
    assert user.last.params["id_cards"] == 1 and user.last.params["property_documents"] == 1
    user.press("removal:confirm")
    assert user.keys == ["removal.filed", "menu.prompt"]
    code = user.answer.replies[0].text.params["code"].value
    assert is_valid_tracking_code(code)

    (request,) = filed(session)
    assert (request.tracking_code, request.kind) == (code, RequestKind.CONNECTION_REMOVAL)
    assert request.status == RequestStatus.SUBMITTED
    assert (request.channel, request.channel_user_id) == ("telegram", "5001")
    assert request.reason == "demolition"
    assert request.no_refund_acknowledged
    assert request.step_deadline > request.created_at
    documents = session.exec(select(RequestDocument)).all()
    assert sorted(d.doc_type for d in documents) == [
        DocumentType.ID_CARD,
        DocumentType.OWNERSHIP_DEED,
    ]
    identity = session.exec(select(ChannelIdentity)).one()
    assert (identity.phone, identity.phone_verified) == (MOBILE, True)


def test_someone_elses_contact_is_refused(
    telegram_user: Subscriber, subscription: Subscription
) -> None:
    telegram_user.press("menu:removal")
    telegram_user.say(subscription.bill_id)
    telegram_user.share_contact(MOBILE, own=False)  # forwarded: the registered number, not theirs
    assert telegram_user.keys == ["phone.not_yours", "removal.ask_contact"]
    telegram_user.say(MOBILE)  # and typing it proves nothing either
    assert telegram_user.keys == ["phone.use_button", "removal.ask_contact"]


def test_an_own_number_that_is_not_the_registered_mobile_is_refused(
    telegram_user: Subscriber, session: Session, subscription: Subscription
) -> None:
    telegram_user.press("menu:removal")
    telegram_user.say(subscription.bill_id)
    telegram_user.share_contact(OTHER_MOBILE)
    assert telegram_user.keys == ["removal.not_registered_mobile", "removal.ask_contact"]
    assert "1521" in telegram_user.text() or "۱۵۲۱" in telegram_user.text()
    telegram_user.press(NAV_BACK)
    telegram_user.press(NAV_BACK)
    assert filed(session) == []


def test_a_verified_phone_needs_no_second_proof(
    telegram_user: Subscriber, subscription: Subscription
) -> None:
    telegram_user.press("menu:phone")
    telegram_user.share_contact(MOBILE)
    telegram_user.press("menu:removal")
    telegram_user.say(subscription.bill_id)
    assert telegram_user.keys == ["removal.owner_proven", "removal.ask_reason"]


def walk_to_code(user: Subscriber, subscription: Subscription, sms: SmsOutbox) -> str:
    user.press("menu:removal")
    user.say(subscription.bill_id)
    assert user.last.key == "otp.prompt"
    assert len(sms.sent) == 1
    return sms.last_code()


def test_in_the_terminal_chat_a_code_sent_by_sms_proves_the_mobile(
    shell_user: Subscriber, session: Session, subscription: Subscription, sms: SmsOutbox
) -> None:
    code = walk_to_code(shell_user, subscription, sms)
    assert "۵ دقیقه" in sms.sent[0][1]
    challenge = session.exec(select(OtpChallenge)).one()
    assert code not in challenge.code_hash and len(challenge.code_hash) == 64
    shell_user.say(code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")))
    assert shell_user.keys == ["removal.owner_proven", "follow.auto_added", "removal.ask_reason"]
    shell_user.press(NAV_BACK)
    shell_user.say(subscription.bill_id)  # coming back: proved once is enough
    assert shell_user.keys == ["removal.owner_proven", "removal.ask_reason"]
    assert len(sms.sent) == 1


def later(engine: DialogEngine, **delta: float) -> None:
    moment = engine.clock() + timedelta(**delta)
    engine.clock = lambda: moment


def test_five_wrong_codes_bring_a_cool_down_for_that_mobile(
    shell_user: Subscriber,
    subscription: Subscription,
    sms: SmsOutbox,
    dialog_engine: DialogEngine,
) -> None:
    code = walk_to_code(shell_user, subscription, sms)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        shell_user.say(wrong)
        assert shell_user.keys == ["otp.wrong", "otp.prompt"]
        assert shell_user.answer.replies[0].text.params["left"] == left
    shell_user.say(wrong)
    assert shell_user.keys == ["otp.locked", "menu.prompt"]

    shell_user.press("menu:removal")
    shell_user.say(subscription.bill_id)
    assert shell_user.keys == ["otp.cooling_down", "removal.ask_bill_id"]
    other_chat = Subscriber(dialog_engine, user_id="someone-else", channel=shell_user.channel)
    other_chat.say("/start")
    other_chat.press("menu:removal")
    other_chat.say(subscription.bill_id)  # another chat cannot start guessing afresh either
    assert other_chat.keys == ["otp.cooling_down", "removal.ask_bill_id"]
    assert len(sms.sent) == 1

    later(dialog_engine, minutes=dialog_engine.settings.otp_cooldown_minutes)
    shell_user.say(subscription.bill_id)
    assert shell_user.last.key == "otp.prompt"
    assert len(sms.sent) == 2
    shell_user.say(sms.last_code())
    assert shell_user.keys == ["removal.owner_proven", "follow.auto_added", "removal.ask_reason"]


def test_a_code_expires_after_five_minutes_and_a_new_one_can_be_asked_for(
    shell_user: Subscriber,
    subscription: Subscription,
    sms: SmsOutbox,
    dialog_engine: DialogEngine,
) -> None:
    code = walk_to_code(shell_user, subscription, sms)
    shell_user.press("otp:resend")  # at once: the code just sent is still on its way
    assert shell_user.keys == ["otp.too_soon", "otp.prompt"]
    assert len(sms.sent) == 1
    later(dialog_engine, minutes=4, seconds=59)
    shell_user.say("000000" if code != "000000" else "111111")
    assert shell_user.keys == ["otp.wrong", "otp.prompt"]  # still valid: a wrong try counts
    later(dialog_engine, seconds=1)
    shell_user.say(code)
    assert shell_user.keys == ["otp.expired", "otp.prompt"]
    shell_user.press("otp:resend")
    assert shell_user.keys == ["otp.sent_again", "otp.prompt"]
    assert len(sms.sent) == 2
    shell_user.say(sms.last_code())
    assert shell_user.keys == ["removal.owner_proven", "follow.auto_added", "removal.ask_reason"]


def test_an_sms_from_the_registered_mobile_is_proof_enough(
    dialog_engine: DialogEngine, subscription: Subscription, sms: SmsOutbox
) -> None:
    user = Subscriber(dialog_engine, user_id=MOBILE, channel=Channel.SMS)
    user.say("/start")
    user.press("menu:removal")
    user.say(subscription.bill_id)
    assert user.keys == ["removal.owner_proven", "removal.ask_reason"]
    assert sms.sent == []
    stranger = Subscriber(dialog_engine, user_id=OTHER_MOBILE, channel=Channel.SMS)
    stranger.say("/start")
    stranger.press("menu:removal")
    stranger.say(subscription.bill_id)
    assert (
        stranger.last.key == "otp.prompt"
    )  # from another number: the code goes to the registered one
    assert sms.sent[0][0] == MOBILE


def test_by_sms_the_document_steps_are_skipped_and_the_id_card_is_to_follow(
    dialog_engine: DialogEngine, session: Session, subscription: Subscription
) -> None:
    user = Subscriber(dialog_engine, user_id=MOBILE, channel=Channel.SMS)
    user.say("/start")
    user.press("menu:removal")
    user.say(subscription.bill_id)
    user.press("removal_reason:not_needed")
    assert user.keys == ["removal.no_refund_sms"]  # no ID card, no deed or lease asked for
    assert "بازگردانده نمی‌شود" in user.text()
    user.press(NAV_BACK)  # back leads to the reason, not to the deed-or-lease question
    assert user.keys == ["removal.ask_reason"]
    user.press("removal_reason:demolition")
    user.press("removal:acknowledge")
    assert user.keys == ["removal.summary_sms"]
    summary = user.text()
    assert "کارت ملی: هنوز نرسیده" in summary and subscription.bill_id in summary
    assert "تخریب ساختمان" in summary
    user.press("removal:confirm")
    assert user.keys == ["removal.filed_sms", "menu.prompt"]
    code = user.answer.replies[0].text.params["code"].value

    (request,) = filed(session)
    assert (request.tracking_code, request.channel, request.reason) == (
        code,
        Channel.SMS,
        RemovalReason.DEMOLITION,
    )
    assert request.no_refund_acknowledged
    assert session.exec(select(RequestDocument)).all() == []
    identity = session.exec(select(ChannelIdentity)).one()  # the proof of the mobile is kept
    assert (identity.channel, identity.phone, identity.phone_verified) == ("sms", MOBILE, True)


def test_by_sms_the_flow_reads_in_english_too(
    dialog_engine: DialogEngine, subscription: Subscription
) -> None:
    user = Subscriber(dialog_engine, user_id=MOBILE, channel=Channel.SMS)
    user.say("/start")
    user.say("/language")
    user.press("lang:en")
    user.press("menu:removal")
    user.say(subscription.bill_id)
    user.press("removal_reason:merge")
    assert "nothing is refunded" in user.text()
    user.press("removal:acknowledge")
    assert "National ID card: still to come" in user.text()
    user.press("removal:confirm")
    filed_text = user.text()
    assert "My requests > Add documents" in filed_text and "pishkhan" not in filed_text


def test_an_open_removal_of_the_subscription_is_refused(
    telegram_user: Subscriber,
    dialog_engine: DialogEngine,
    session: Session,
    subscription: Subscription,
) -> None:
    code = file_by_contact(telegram_user, subscription)
    telegram_user.press("menu:removal")
    telegram_user.say(subscription.bill_id)
    assert telegram_user.keys == ["removal.already_open", "removal.ask_bill_id"]
    assert telegram_user.answer.replies[0].text.params["code"].value == code
    assert len(filed(session)) == 1


def test_the_open_removal_check_is_made_again_on_confirming(
    telegram_user: Subscriber,
    dialog_engine: DialogEngine,
    session: Session,
    subscription: Subscription,
) -> None:
    second = Subscriber(dialog_engine, user_id="5002", channel=telegram_user.channel)
    second.say("/start")
    walk_to_summary(second, subscription)
    code = file_by_contact(telegram_user, subscription)  # meanwhile, from another chat
    second.press("removal:confirm")
    assert second.keys == ["removal.already_open", "menu.prompt"]
    assert second.answer.replies[0].text.params["code"].value == code
    assert len(filed(session)) == 1


def test_choosing_no_property_document_drops_those_sent_as_one(
    telegram_user: Subscriber, session: Session, subscription: Subscription
) -> None:
    user = telegram_user
    user.press("menu:removal")
    user.say(subscription.bill_id)
    user.share_contact(MOBILE)
    user.press("removal_reason:merge")
    user.upload("id.jpg", JPEG, "image/jpeg")
    user.press("docs:done")
    user.press("property:lease")
    user.upload("lease.pdf", PDF, "application/pdf")
    user.press(NAV_BACK)
    user.press("property:none")
    user.press("removal:acknowledge")
    assert user.last.params["property_documents"] == 0
    user.press("removal:confirm")
    documents = session.exec(select(RequestDocument)).all()
    assert [d.doc_type for d in documents] == [DocumentType.ID_CARD]


def test_the_flow_reads_in_english_too(
    telegram_user: Subscriber, subscription: Subscription
) -> None:
    telegram_user.say("/language")
    telegram_user.press("lang:en")
    telegram_user.press("menu:removal")
    assert "sole user" in telegram_user.text()
    telegram_user.say(subscription.bill_id)
    telegram_user.share_contact(MOBILE)
    assert "Why should the connection be removed" in telegram_user.text()


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.BALE, Channel.SHELL])
def test_filing_without_an_id_card_is_refused_but_by_sms(
    session: Session, subscription: Subscription, channel: Channel
) -> None:
    lease = DraftDocument("k", "0" * 64, 1, "application/pdf", "lease.pdf", DocumentType.LEASE)

    def file(channel: Channel) -> ServiceRequest:
        return file_removal(
            session,
            channel=channel,
            channel_user_id="5001",
            subscription_id=subscription.id,
            reason=RemovalReason.OTHER,
            documents=[lease],
            now=utcnow(),
            fee_announcement_working_days=1,
        )

    with pytest.raises(Refused) as refused:
        file(channel)
    assert refused.value.code == "id_card_required"
    assert filed(session) == []
    # SMS carries no files: the ID card is to follow (and no fee is announced before it).
    request = file(Channel.SMS)
    session.commit()
    assert [r.tracking_code for r in filed(session)] == [request.tracking_code]
