"""The subscriber's later steps: "my requests", paying, the terms, withdrawing, the clearance,
adding documents."""

import hashlib

import pytest
from sqlmodel import Session, col, select

from backend import actions
from backend.constants import (
    Channel,
    DocumentType,
    EventAction,
    PaymentMethod,
    PaymentStatus,
    RemovalReason,
    RequestStatus,
)
from backend.models import (
    Bill,
    Customer,
    RequestDocument,
    RequestEvent,
    ServiceRequest,
    Subscription,
    utcnow,
)
from backend.payments import find_payment
from backend.service_requests import DraftDocument, attach_documents, file_removal
from backend.workflows import Refused
from dialogs.bill_review import CONFIRM
from dialogs.documents import DONE
from dialogs.engine import NAV_BACK, DialogEngine
from dialogs.my_requests import request_buttons
from tests.factories import add_subscription
from tests.removal.conftest import JPEG, MOBILE, PDF, Desk, Subscriber, file_by_contact


def test_my_requests_lists_the_senders_requests_with_what_they_can_do(
    telegram_user: Subscriber, dialog_engine: DialogEngine, subscription: Subscription
) -> None:
    stranger = Subscriber(dialog_engine, user_id="9999", channel=Channel.TELEGRAM)
    stranger.say("/start")
    stranger.press("menu:my_requests")
    assert stranger.keys == ["requests.none"]

    code = file_by_contact(telegram_user, subscription)
    telegram_user.press("menu:my_requests")
    assert telegram_user.last.key == "requests.list"
    telegram_user.press(f"req:show:{code}")
    assert telegram_user.last.key == "requests.detail"
    assert f"req:withdraw:{code}" in telegram_user.buttons
    assert not any(value.startswith("req:pay") for value in telegram_user.buttons)

    stranger.press(f"req:withdraw:{code}")  # a forged or forwarded button: not theirs
    assert stranger.keys == ["requests.not_found", "requests.none"]


def test_the_registered_mobile_sees_the_request_from_another_messenger(
    telegram_user: Subscriber, dialog_engine: DialogEngine, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    bale = Subscriber(dialog_engine, user_id="777", channel=Channel.BALE)
    bale.say("/start")
    bale.press("menu:phone")
    bale.share_contact(MOBILE)
    bale.press("menu:my_requests")
    assert f"req:show:{code}" in bale.buttons


def test_paying_the_fee_gives_a_payment_link(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    reference = desk.announce_fee(code, 2_500_000, utcnow())
    telegram_user.press("menu:my_requests")
    telegram_user.press(f"req:show:{code}")
    assert f"req:pay:{code}" in telegram_user.buttons
    assert "۲٬۵۰۰٬۰۰۰" in telegram_user.text()
    telegram_user.press(f"req:pay:{code}")
    assert telegram_user.keys == ["requests.pay_link", "requests.detail"]
    assert f"http://127.0.0.1:8080/pay/{reference}" in telegram_user.text()


def test_withdrawing_after_the_fee_is_paid_says_nothing_is_refunded(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    now = utcnow()
    desk.pay_at_desk(desk.announce_fee(code, 2_500_000, now), now)
    assert desk.request(code).status == RequestStatus.FEE_PAID

    telegram_user.press(f"req:confirm:{code}")  # no question was put: nothing happens
    assert telegram_user.keys == ["input.button_expired", "menu.prompt"]
    telegram_user.press(f"req:withdraw:{code}")  # e.g. from the fee-received notice
    assert telegram_user.last.key == "requests.confirm_withdraw_no_refund"
    assert "بازگردانده نمی‌شود" in telegram_user.text()
    assert desk.request(code).status == RequestStatus.FEE_PAID
    telegram_user.press(f"req:confirm:{code}")
    assert telegram_user.keys == ["requests.withdrawn", "requests.detail"]
    request = desk.request(code)
    assert request.status == RequestStatus.WITHDRAWN
    assert request.no_refund_acknowledged
    telegram_user.press(f"req:confirm:{code}")  # the same button again
    assert telegram_user.keys == ["input.button_expired", "requests.detail"]


def test_a_fee_paid_while_the_question_was_open_puts_it_again_with_the_notice(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    now = utcnow()
    reference = desk.announce_fee(code, 2_500_000, now)
    telegram_user.press(f"req:withdraw:{code}")
    assert telegram_user.last.key == "requests.confirm_withdraw"  # nothing paid yet
    desk.pay_at_desk(reference, now)
    telegram_user.press(f"req:confirm:{code}")
    assert telegram_user.last.key == "requests.confirm_withdraw_no_refund"
    assert desk.request(code).status == RequestStatus.FEE_PAID
    telegram_user.press(f"req:confirm:{code}")
    assert desk.request(code).status == RequestStatus.WITHDRAWN


def test_withdrawing_before_paying_cancels_the_payment(
    telegram_user: Subscriber, desk: Desk, session: Session, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    reference = desk.announce_fee(code, 2_500_000, utcnow())
    telegram_user.press(f"req:withdraw:{code}")
    telegram_user.press(f"req:confirm:{code}")
    assert desk.request(code).status == RequestStatus.WITHDRAWN
    session.expire_all()
    payment = find_payment(session, reference=reference)
    assert payment is not None and payment.status == PaymentStatus.CANCELLED


def terms_announced(user: Subscriber, desk: Desk, subscription: Subscription) -> str:
    code = file_by_contact(user, subscription)
    now = utcnow()
    desk.pay_at_desk(desk.announce_fee(code, 2_500_000, now), now)
    desk.announce_terms(code, now)
    return code


def test_declining_the_terms_from_the_notices_button_archives_the_request(
    telegram_user: Subscriber, desk: Desk, session: Session, subscription: Subscription
) -> None:
    code = terms_announced(telegram_user, desk, subscription)
    # The terms notice carries the buttons the request allows now.
    values = [b.value for row in request_buttons(session, desk.request(code)) for b in row]
    assert values == [f"req:accept:{code}", f"req:decline:{code}", f"req:withdraw:{code}"]

    telegram_user.press(
        "menu:review"
    )  # somewhere else entirely when the notice's button is pressed
    telegram_user.press(f"req:decline:{code}")
    assert telegram_user.last.key == "requests.confirm_decline_no_refund"
    assert desk.request(code).status == RequestStatus.TERMS_ANNOUNCED
    telegram_user.press(f"req:confirm:{code}")
    assert telegram_user.keys == ["requests.archived", "requests.detail"]
    assert desk.request(code).status == RequestStatus.ARCHIVED
    events = session.exec(select(RequestEvent.action, RequestEvent.actor)).all()
    assert (EventAction.DECLINE_TERMS, "subscriber:telegram") in events


def test_the_detail_shows_the_terms_and_accepting_them_moves_the_request_on(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = terms_announced(telegram_user, desk, subscription)
    telegram_user.press("menu:my_requests")
    telegram_user.press(f"req:show:{code}")
    assert telegram_user.last.key == "requests.detail_terms"
    assert "کنتور سالم است" in telegram_user.text()
    telegram_user.press(f"req:accept:{code}")
    assert telegram_user.keys == ["requests.terms_accepted", "requests.detail"]
    assert desk.request(code).status == RequestStatus.TERMS_ACCEPTED
    telegram_user.press(f"req:decline:{code}")  # an old button: too late now
    assert telegram_user.keys == ["requests.not_now", "requests.detail"]


def test_the_final_clearance_once_the_removal_is_closed(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = terms_announced(telegram_user, desk, subscription)
    telegram_user.press(f"req:accept:{code}")
    now, session, staff, settings = utcnow(), desk.session, desk.staff, desk.settings
    actions.collect(
        session, desk.request(code), staff, final_reading=12_400, now=now, settings=settings
    )
    statement = actions.issue_statement(
        session, desk.request(code), staff, amount_rials=1_200_000, now=now, settings=settings
    )
    session.commit()
    assert statement is not None
    telegram_user.press(f"req:show:{code}")
    assert f"req:pay:{code}" in telegram_user.buttons  # the final statement
    assert "req:clearance" not in " ".join(telegram_user.buttons)
    actions.record_payment(
        session,
        reference=statement.reference,
        method=PaymentMethod.BANK,
        provider_ref="bank-77",
        actor="test",
        now=now,
        settings=settings,
    )
    actions.close(session, desk.request(code), staff, now=now, settings=settings)
    session.commit()

    telegram_user.press(f"req:show:{code}")
    assert telegram_user.buttons[0] == f"req:clearance:{code}"
    telegram_user.press(f"req:clearance:{code}")
    assert telegram_user.keys == ["requests.clearance", "requests.detail"]
    text = telegram_user.text()
    assert "مفاصاحساب" in text and "۱٬۲۰۰٬۰۰۰" in text and subscription.bill_id in text


def test_a_confirm_button_of_another_request_does_not_answer_the_question_on_screen(
    telegram_user: Subscriber, desk: Desk, session: Session, subscription: Subscription
) -> None:
    first = file_by_contact(telegram_user, subscription)
    other = add_subscription(session, file_number=48999, mobile=MOBILE)
    id_card = DraftDocument("k", "0" * 64, 1, "image/jpeg", "id.jpg", DocumentType.ID_CARD)
    second = file_removal(
        session,
        channel=Channel.TELEGRAM,
        channel_user_id=telegram_user.user_id,
        subscription_id=other.id,
        reason=RemovalReason.OTHER,
        documents=[id_card],
        now=utcnow(),
        fee_announcement_working_days=1,
    ).tracking_code
    session.commit()
    telegram_user.press(f"req:withdraw:{first}")
    telegram_user.press(f"req:confirm:{second}")
    assert telegram_user.keys == ["input.button_expired", "requests.confirm_withdraw"]
    telegram_user.press(f"req:confirm:{first}")
    assert desk.request(first).status == RequestStatus.WITHDRAWN
    assert desk.request(second).status == RequestStatus.SUBMITTED


# --- Adding documents to a request already filed ---


def file_review(user: Subscriber, session: Session, subscription: Subscription) -> str:
    """A bill review of the latest bill with one photo, filed in the user's chat; its code."""
    bill = session.exec(
        select(Bill).where(Bill.subscription_id == subscription.id).order_by(col(Bill.id).desc())
    ).first()
    assert bill is not None
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{bill.id}")
    user.press("reason:wrong_reading")
    user.say("رقم کنتور ۱۲۳۴۵ بود")
    user.upload("meter.jpg", JPEG, "image/jpeg")
    user.press(DONE)
    user.press(CONFIRM)
    assert user.keys[0] == "review.filed", user.keys
    return user.answer.replies[0].text.params["code"].value


def test_a_removal_takes_its_papers_by_type_until_the_fee_is_paid(
    telegram_user: Subscriber, session: Session, desk: Desk, subscription: Subscription
) -> None:
    """Which paper first; each stored as that paper (identity papers are kept from most staff),
    never as evidence; offered while the removal is submitted or its fee announced."""
    code = file_by_contact(telegram_user, subscription)  # with its ID card
    telegram_user.press("menu:my_requests")
    telegram_user.press(f"req:show:{code}")
    telegram_user.press(f"req:docs:{code}")
    assert telegram_user.keys == ["requests.ask_paper"]
    papers = ["paper:id_card", "paper:ownership_deed", "paper:lease"]
    assert [value for value in telegram_user.buttons if value.startswith("paper:")] == papers
    telegram_user.press("paper:ownership_deed")
    assert telegram_user.last.key == "requests.ask_papers"
    assert "سند مالکیت" in telegram_user.text()
    telegram_user.upload("deed.pdf", PDF, "application/pdf")
    telegram_user.press("docs:done")
    assert telegram_user.keys == ["requests.documents_added", "requests.detail"]
    documents = documents_of(session, code)
    assert [d.doc_type for d in documents] == [DocumentType.ID_CARD, DocumentType.OWNERSHIP_DEED]
    assert documents[1].original_name == "deed.pdf"
    added = select(RequestEvent.actor).where(RequestEvent.action == EventAction.ADD_DOCUMENTS)
    assert session.exec(added).all() == ["subscriber:telegram"]

    now = utcnow()
    reference = desk.announce_fee(code, 2_500_000, now)
    telegram_user.press(f"req:show:{code}")
    assert f"req:docs:{code}" in telegram_user.buttons  # the fee announced: not yet paid
    desk.pay_at_desk(reference, now)
    telegram_user.press(f"req:show:{code}")
    assert f"req:docs:{code}" not in telegram_user.buttons
    telegram_user.press(f"req:docs:{code}")  # an old button
    assert telegram_user.keys == ["requests.not_now", "requests.detail"]
    late = DraftDocument("k", "4" * 64, 1, "application/pdf", "lease.pdf", DocumentType.LEASE)
    refusal = refused_attaching(session, desk.request(code), late)
    assert refusal.code == "wrong_status"
    assert len(documents_of(session, code)) == 2


def test_files_sent_as_another_paper_are_dropped_on_going_back(
    telegram_user: Subscriber, session: Session, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    telegram_user.press(f"req:docs:{code}")
    telegram_user.press("paper:lease")
    telegram_user.upload("deed.pdf", PDF, "application/pdf")  # the deed, sent as a lease
    telegram_user.press(NAV_BACK)
    assert telegram_user.keys == ["requests.ask_paper"]
    telegram_user.press("paper:ownership_deed")
    assert telegram_user.last.params["count"] == 0
    telegram_user.upload("deed.pdf", PDF, "application/pdf")  # not refused as a duplicate
    assert telegram_user.keys[0] == "review.document_received"
    telegram_user.press("docs:done")
    assert [d.doc_type for d in documents_of(session, code)] == [
        DocumentType.ID_CARD,
        DocumentType.OWNERSHIP_DEED,
    ]


@pytest.mark.parametrize(
    ("kind", "wrong"),
    [
        ("review", DocumentType.ID_CARD),
        ("review", DocumentType.LEASE),
        ("removal", DocumentType.EVIDENCE),
    ],
)
def test_attach_documents_refuses_a_type_the_kind_does_not_take(
    telegram_user: Subscriber,
    session: Session,
    desk: Desk,
    subscription: Subscription,
    kind: str,
    wrong: DocumentType,
) -> None:
    """A review's documents are evidence, seen by every reviewer; a removal's are papers, whose
    identity documents only admins and supervisors see: neither may pass for the other."""
    if kind == "review":
        code = file_review(telegram_user, session, subscription)
        right = DocumentType.EVIDENCE
    else:
        code = file_by_contact(telegram_user, subscription)
        right = DocumentType.LEASE
    fits = DraftDocument("k1", "5" * 64, 1, "application/pdf", "fits.pdf", right)
    misfit = DraftDocument("k2", "6" * 64, 1, "application/pdf", "misfit.pdf", wrong)
    with pytest.raises(Refused) as refused:
        attach_documents(
            session,
            desk.request(code),
            channel=Channel.TELEGRAM,
            documents=[fits, misfit],
            now=utcnow(),
            max_documents=5,
        )
    assert (refused.value.code, refused.value.params) == (
        "wrong_document_type",
        {"doc_type": wrong},
    )
    session.rollback()
    assert len(documents_of(session, code)) == 1  # nothing of the batch was attached
    added = attach_documents(
        session,
        desk.request(code),
        channel=Channel.TELEGRAM,
        documents=[fits],
        now=utcnow(),
        max_documents=5,
    )
    session.commit()
    assert [d.doc_type for d in added] == [right]


def refused_attaching(
    session: Session, request: ServiceRequest, document: DraftDocument
) -> Refused:
    """Why attach_documents refuses `document` (it must refuse)."""
    with pytest.raises(Refused) as refused:
        attach_documents(
            session,
            request,
            channel=Channel.TELEGRAM,
            documents=[document],
            now=utcnow(),
            max_documents=5,
        )
    return refused.value


def documents_of(session: Session, code: str) -> list[RequestDocument]:
    session.expire_all()
    query = (
        select(RequestDocument)
        .join(ServiceRequest, col(ServiceRequest.id) == col(RequestDocument.request_id))
        .where(ServiceRequest.tracking_code == code)
        .order_by(col(RequestDocument.id))
    )
    return list(session.exec(query))


def photo(number: int) -> bytes:
    """A JPEG of its own: each number gives different bytes."""
    return JPEG + f"meter photo {number}".encode()


def open_documents_step(user: Subscriber, code: str) -> None:
    user.press(f"req:show:{code}")
    assert f"req:docs:{code}" in user.buttons
    user.press(f"req:docs:{code}")
    assert user.last.key == "requests.ask_documents", user.keys


def test_a_subscriber_adds_a_document_to_their_open_request(
    telegram_user: Subscriber, session: Session, subscription: Subscription
) -> None:
    code = file_review(telegram_user, session, subscription)  # with one photo
    telegram_user.press("menu:my_requests")
    telegram_user.press(f"req:show:{code}")
    assert all(len(value.encode()) <= 64 for value in telegram_user.buttons)
    open_documents_step(telegram_user, code)
    assert telegram_user.last.params["attached"] == 1
    assert "docs:done" not in telegram_user.buttons  # nothing to add yet
    telegram_user.upload("meter.pdf", PDF, "application/pdf")
    assert telegram_user.keys == ["review.document_received", "requests.ask_documents"]
    telegram_user.upload("again.jpg", JPEG, "image/jpeg")  # attached at filing already
    telegram_user.press("docs:done")
    assert telegram_user.keys == ["requests.documents_added", "requests.detail"]
    assert telegram_user.answer.replies[0].text.params["count"] == 1
    assert telegram_user.last.params["code"].value == code  # the request is shown again

    documents = documents_of(session, code)
    assert [d.doc_type for d in documents] == [DocumentType.EVIDENCE, DocumentType.EVIDENCE]
    added = documents[1]
    assert added.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (added.original_name, added.content_type) == ("meter.pdf", "application/pdf")
    assert added.size_bytes == len(PDF)
    events = session.exec(
        select(RequestEvent).where(RequestEvent.request_id == added.request_id)
    ).all()
    assert [(e.action, e.actor) for e in events] == [
        (EventAction.SUBMITTED, "subscriber:telegram"),
        (EventAction.ADD_DOCUMENTS, "subscriber:telegram"),
    ]


def test_the_button_is_on_the_detail_view_only_not_on_notices(
    telegram_user: Subscriber, session: Session, desk: Desk, subscription: Subscription
) -> None:
    code = file_review(telegram_user, session, subscription)
    values = [b.value for row in request_buttons(session, desk.request(code)) for b in row]
    assert f"req:docs:{code}" not in values


def test_a_closed_request_offers_no_documents_button_and_a_forged_press_is_refused(
    telegram_user: Subscriber, session: Session, desk: Desk, subscription: Subscription
) -> None:
    code = file_review(telegram_user, session, subscription)
    telegram_user.press(f"req:withdraw:{code}")
    telegram_user.press(f"req:confirm:{code}")
    assert desk.request(code).status == RequestStatus.WITHDRAWN
    telegram_user.press(f"req:show:{code}")
    assert telegram_user.last.key == "requests.detail"
    assert f"req:docs:{code}" not in telegram_user.buttons

    telegram_user.press(f"req:docs:{code}")  # forged, or an old message's button
    assert telegram_user.keys == ["requests.not_now", "requests.detail"]
    telegram_user.upload("meter.pdf", PDF, "application/pdf")
    assert telegram_user.keys[0] == "input.file_not_expected"
    assert len(documents_of(session, code)) == 1

    late = DraftDocument("k", "1" * 64, 1, "application/pdf", "late.pdf")
    refusal = refused_attaching(session, desk.request(code), late)
    assert refusal.code == "wrong_status"


def test_a_request_withdrawn_while_documents_were_being_sent_takes_none(
    telegram_user: Subscriber, session: Session, desk: Desk, subscription: Subscription
) -> None:
    code = file_review(telegram_user, session, subscription)
    open_documents_step(telegram_user, code)
    telegram_user.upload("meter.pdf", PDF, "application/pdf")
    actions.withdraw(
        session,
        desk.request(code),
        actor="subscriber:bale",
        no_refund_acknowledged=False,
        now=utcnow(),
        settings=desk.settings,
    )
    session.commit()
    telegram_user.press("docs:done")
    assert telegram_user.keys == ["requests.not_now", "requests.detail"]
    assert len(documents_of(session, code)) == 1
    added = select(RequestEvent).where(RequestEvent.action == EventAction.ADD_DOCUMENTS)
    assert session.exec(added).all() == []


def test_the_document_limit_counts_the_documents_already_attached(
    telegram_user: Subscriber, session: Session, desk: Desk, subscription: Subscription
) -> None:
    assert desk.settings.max_documents == 5
    code = file_review(telegram_user, session, subscription)  # one photo: room for four
    open_documents_step(telegram_user, code)
    for number in range(4):
        telegram_user.upload(f"photo-{number}.jpg", photo(number), "image/jpeg")
        assert telegram_user.keys[0] == "review.document_received"
    telegram_user.upload("photo-4.jpg", photo(4), "image/jpeg")
    assert telegram_user.keys == ["review.documents_full", "requests.ask_documents"]
    telegram_user.press("docs:done")
    assert telegram_user.answer.replies[0].text.params["count"] == 4
    assert len(documents_of(session, code)) == 5

    telegram_user.press(f"req:docs:{code}")  # still open, but full
    assert telegram_user.keys == ["requests.documents_full", "requests.detail"]
    sixth = DraftDocument("k", "2" * 64, 1, "image/jpeg", "sixth.jpg")
    refusal = refused_attaching(session, desk.request(code), sixth)
    assert (refusal.code, refusal.params) == ("too_many_documents", {"attached": 5})


def test_documents_added_meanwhile_from_another_chat_count_at_done(
    telegram_user: Subscriber, session: Session, desk: Desk, subscription: Subscription
) -> None:
    code = file_review(telegram_user, session, subscription)
    open_documents_step(telegram_user, code)
    for number in range(4):
        telegram_user.upload(f"photo-{number}.jpg", photo(number), "image/jpeg")
    # Meanwhile the same subscriber adds one from Bale: five attached now.
    elsewhere = DraftDocument("k", "3" * 64, 1, "application/pdf", "bale.pdf")
    attach_documents(
        session,
        desk.request(code),
        channel=Channel.BALE,
        documents=[elsewhere],
        now=utcnow(),
        max_documents=5,
    )
    session.commit()
    telegram_user.press("docs:done")
    assert telegram_user.keys == ["requests.documents_too_many", "requests.detail"]
    assert telegram_user.answer.replies[0].text.params["attached"] == 2
    assert len(documents_of(session, code)) == 2


def test_someone_elses_request_cannot_be_given_documents(
    telegram_user: Subscriber,
    dialog_engine: DialogEngine,
    session: Session,
    subscription: Subscription,
) -> None:
    code = file_review(telegram_user, session, subscription)
    stranger = Subscriber(dialog_engine, user_id="9999", channel=Channel.TELEGRAM)
    stranger.say("/start")
    stranger.press(f"req:docs:{code}")
    assert stranger.keys == ["requests.not_found", "menu.prompt"]
    stranger.upload("meter.pdf", PDF, "application/pdf")
    assert stranger.keys[0] == "input.file_not_expected"
    assert len(documents_of(session, code)) == 1


def test_ownership_is_checked_again_when_the_documents_are_handed_in(
    telegram_user: Subscriber,
    dialog_engine: DialogEngine,
    session: Session,
    subscription: Subscription,
) -> None:
    code = file_review(telegram_user, session, subscription)
    bale = Subscriber(dialog_engine, user_id="777", channel=Channel.BALE)
    bale.say("/start")
    bale.press("menu:phone")
    bale.share_contact(MOBILE)  # theirs through the subscription's registered mobile
    open_documents_step(bale, code)
    bale.upload("meter.pdf", PDF, "application/pdf")
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    customer.mobile = "+989351112233"  # the registered mobile changes meanwhile (e.g. by 1521)
    session.add(customer)
    session.commit()
    bale.press("docs:done")
    assert bale.keys == ["requests.not_found", "requests.none"]
    assert len(documents_of(session, code)) == 1


def test_over_sms_the_button_explains_where_documents_can_be_added(
    telegram_user: Subscriber,
    dialog_engine: DialogEngine,
    session: Session,
    subscription: Subscription,
) -> None:
    code = file_review(telegram_user, session, subscription)
    by_sms = Subscriber(dialog_engine, user_id=MOBILE, channel=Channel.SMS)
    by_sms.say("/start")
    by_sms.press("menu:my_requests")
    by_sms.press(f"req:show:{code}")
    by_sms.press(f"req:docs:{code}")
    assert by_sms.keys == ["review.documents_later", "requests.detail"]
    assert "پیامک" in by_sms.text() and "درخواست‌های من" in by_sms.text()
    by_sms.say("hello")  # not stuck in a step that wants a file
    assert "requests.ask_documents" not in by_sms.keys
    assert len(documents_of(session, code)) == 1
