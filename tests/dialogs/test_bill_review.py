"""The bill review flow, step by step, with the inputs real subscribers send."""

import hashlib
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from backend.constants import Channel, EventAction, RequestKind, RequestStatus
from backend.models import (
    Conversation,
    RequestDocument,
    RequestEvent,
    ServiceRequest,
    Subscription,
)
from backend.storage import StoredFile
from backend.tracking import is_valid_tracking_code
from dialogs import states
from dialogs.bill_review import CONFIRM, DONE, EDIT
from dialogs.engine import NAV_BACK, DialogEngine
from dialogs.events import EventKind, FileTooLarge, IncomingFile
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, walk_to_documents
from tests.helpers.samples import METER_PHOTO as JPEG

PDF = b"%PDF-1.4\n" + b"lease" * 40
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def state(session: Session, user: ChatUser) -> Conversation:
    session.expire_all()
    return session.exec(select(Conversation).where(Conversation.user_id == user.user_id)).one()


def test_files_a_bill_review_with_a_document(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    bill = latest_bill(session, subscription)
    walk_to_documents(user, subscription, bill)
    user.upload("meter.jpg", JPEG, "image/jpeg")
    assert user.keys[0] == "review.document_received"
    assert user.last.params["count"] == 1
    user.press(DONE)
    assert user.last.key == "review.summary"
    user.press(CONFIRM)
    assert user.keys[0] == "review.filed"
    code = user.answer.replies[0].text.params["code"].value
    assert is_valid_tracking_code(code)
    assert user.last.key == "menu.prompt"

    request = session.exec(select(ServiceRequest)).one()
    assert request.tracking_code == code
    assert request.kind == RequestKind.BILL_REVIEW
    assert request.status == RequestStatus.SUBMITTED
    assert request.disputed_bill_id == bill.id
    assert request.reason == "wrong_reading"
    assert request.description == "رقم کنتور در روز قرائت ۱۲۳۴۵ بود، نه ۱۳۰۰۰."
    assert request.step_deadline > request.created_at
    document = session.exec(select(RequestDocument)).one()
    assert document.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert document.size_bytes == len(JPEG)
    assert document.original_name == "meter.jpg"
    assert dialog_storage_read(user.engine, document.storage_key) == JPEG
    events = session.exec(select(RequestEvent)).all()
    assert [(e.action, e.to_status) for e in events] == [
        (EventAction.SUBMITTED, RequestStatus.SUBMITTED)
    ]
    assert state(session, user).data.get("draft") is None


def dialog_storage_read(engine: DialogEngine, key: str) -> bytes:
    return engine.storage.read(key)


@pytest.mark.parametrize("digits", [PERSIAN, ARABIC_INDIC])
def test_bill_id_in_persian_or_arabic_digits_is_accepted(
    user: ChatUser, subscription: Subscription, digits: dict[int, str]
) -> None:
    user.press("menu:review")
    user.say(" " + subscription.bill_id.translate(digits) + "\u200f")
    assert user.last.key == "review.ask_bill"


def test_wrong_check_digit_is_explained_and_asked_again(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.press("menu:review")
    wrong = subscription.bill_id[:-1] + str((int(subscription.bill_id[-1]) + 1) % 10)
    user.say(wrong)
    assert user.keys == ["review.bill_id_checksum", "review.ask_bill_id"]
    assert state(session, user).state == states.REVIEW_BILL_ID


def test_unknown_bill_id_says_what_to_check(user: ChatUser, subscription: Subscription) -> None:
    from backend.identifiers import make_bill_id

    user.press("menu:review")
    user.say(make_bill_id(99999, 774))
    assert user.keys == ["review.bill_id_unknown", "review.ask_bill_id"]
    assert "شناسه پرداخت" in user.text()


def test_a_sticker_or_unknown_command_mid_flow_keeps_the_draft(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    bill = latest_bill(session, subscription)
    walk_to_documents(user, subscription, bill)
    before = state(session, user).data["draft"]
    user.sticker()
    assert user.keys == ["input.unsupported", "review.ask_documents"]
    user.say("/frobnicate")
    assert user.keys == ["input.unknown_command", "review.ask_documents"]
    user.say("سلام")
    assert user.keys == ["review.documents_send_file", "review.ask_documents"]
    assert state(session, user).data["draft"] == before


def test_cancel_during_upload_drops_the_draft_and_files_nothing(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    user.upload("meter.jpg", JPEG, "image/jpeg")
    user.say("/cancel")
    assert user.keys == ["draft.cancelled", "menu.prompt"]
    assert session.exec(select(ServiceRequest)).first() is None
    assert state(session, user).state == states.MENU


def test_oversized_file_is_refused_before_download(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    user.upload("scan.pdf", PDF, "application/pdf", size=30 * 1024 * 1024)
    assert user.keys == ["review.document_too_large", "review.ask_documents"]
    assert user.fetched == []
    assert user.last.params["count"] == 0


def test_a_file_that_is_not_what_it_claims_is_refused(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    user.upload("virus.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    assert user.keys == ["review.document_bad_type", "review.ask_documents"]
    user.upload("notes.docx", b"PK\x03\x04", "application/msword")
    assert user.keys == ["review.document_bad_type", "review.ask_documents"]
    user.upload("meter.jpg", JPEG, "image/jpeg")
    user.upload("meter-again.jpg", JPEG, "image/jpeg")
    assert user.keys == ["review.document_duplicate", "review.ask_documents"]
    assert user.last.params["count"] == 1


def test_at_most_five_documents(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    for index in range(5):
        user.upload(f"p{index}.pdf", PDF + bytes([index]), "application/pdf")
    user.upload("p5.pdf", PDF + b"5", "application/pdf")
    assert user.keys == ["review.documents_full", "review.ask_documents"]
    assert user.last.params["count"] == 5


@pytest.mark.parametrize("blank", ["", "   ", "\u200c\u200c", "\n\n"])
def test_empty_description_is_required(
    user: ChatUser, session: Session, subscription: Subscription, blank: str
) -> None:
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{latest_bill(session, subscription).id}")
    user.press("reason:other")
    user.say(blank)
    assert user.keys == ["review.description_empty", "review.ask_description"]


def test_too_long_description_is_given_back_whole_with_how_much_to_cut(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{latest_bill(session, subscription).id}")
    user.press("reason:other")
    long_text = "کنتور ما را اشتباه خوانده‌اند. " * 40  # 1,239 characters, once stripped
    user.say(long_text)
    assert user.keys == [
        "review.description_too_long",
        "review.description_kept",
        "review.ask_description",
    ]
    assert user.answer.replies[0].text.params["length"] == len(long_text.strip())
    kept = user.answer.replies[1].text.params
    assert kept["text"] == long_text.strip() and kept["over"] == len(long_text.strip()) - 1000
    assert long_text.strip() in user.text() and "۲۳۹ حرف" in user.text()
    assert state(session, user).state == states.REVIEW_DESCRIPTION


def test_back_at_every_step_keeps_what_was_entered(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    bill = latest_bill(session, subscription)
    walk_to_documents(user, subscription, bill)
    user.press(DONE)
    expected_prompts = [
        "review.ask_documents",
        "review.ask_description",
        "review.ask_reason",
        "review.ask_bill",
        "review.ask_bill_id",
        "menu.prompt",
    ]
    draft = state(session, user).data["draft"]
    for prompt in expected_prompts:
        assert NAV_BACK in user.buttons
        user.press(NAV_BACK)
        assert user.keys == [prompt]
    assert state(session, user).data["draft"] == draft


def test_edit_from_the_summary_returns_to_the_summary(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    user.press(DONE)
    user.press(EDIT)
    user.press("edit:reason")
    user.press("reason:meter_fault")
    assert user.last.key == "review.summary"
    assert user.last.params["reason"].key == "reason.meter_fault"
    user.press(EDIT)
    user.press("edit:description")
    user.say("کنتور صدا می‌دهد")
    assert user.last.params["description"] == "کنتور صدا می‌دهد"


def test_typing_a_buttons_number_or_label_chooses_it(
    user: ChatUser, subscription: Subscription
) -> None:
    user.say("۱")  # the first button of the menu, typed in Persian digits
    assert user.last.key == "review.ask_bill_id"
    user.say("بازگشت")
    assert user.last.key == "menu.prompt"


def test_double_click_on_confirm_files_once(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    user.press(DONE)
    user.press(CONFIRM)
    user.press(CONFIRM)
    assert user.keys == ["input.button_expired", "menu.prompt"]
    assert len(session.exec(select(ServiceRequest)).all()) == 1


def test_a_second_review_of_the_same_bill_points_to_the_open_one(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    bill = latest_bill(session, subscription)
    walk_to_documents(user, subscription, bill)
    user.press(DONE)
    user.press(CONFIRM)
    code = user.answer.replies[0].text.params["code"].value
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{bill.id}")
    assert user.keys == ["review.already_open", "review.ask_bill"]
    assert user.answer.replies[0].text.params["code"].value == code


def test_a_redelivered_event_is_handled_once(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.press("menu:review")
    user.say(subscription.bill_id, event_id="42")
    assert user.last.key == "review.ask_bill"
    user.say(subscription.bill_id, event_id="42")
    assert user.answer.replies == []
    assert state(session, user).state == states.REVIEW_BILL


def test_a_stale_draft_expires_with_a_message(
    user: ChatUser, session: Session, subscription: Subscription, dialog_engine: DialogEngine
) -> None:
    user.press("menu:review")
    user.say(subscription.bill_id)
    later = dialog_engine.clock() + timedelta(minutes=dialog_engine.settings.draft_ttl_minutes + 1)
    dialog_engine.clock = lambda: later
    user.press(f"bill:{latest_bill(session, subscription).id}")
    assert user.keys == ["draft.expired", "menu.prompt"]
    assert state(session, user).data.get("draft") is None


def test_another_process_continues_the_same_conversation(
    user: ChatUser, session: Session, subscription: Subscription, dialog_engine: DialogEngine
) -> None:
    from dialogs.app import make_dialog_engine

    user.press("menu:review")
    other = make_dialog_engine(
        db=dialog_engine.db, settings=dialog_engine.settings, storage=dialog_engine.storage
    )
    ChatUser(other, user_id=user.user_id).say(subscription.bill_id)
    user.press(f"bill:{latest_bill(session, subscription).id}")
    assert user.last.key == "review.ask_reason"


def test_one_users_events_never_run_at_once(
    user: ChatUser, session: Session, subscription: Subscription, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    spans: list[tuple[float, float]] = []
    storage = user.engine.storage
    save = storage.save

    def slow_save(content: bytes) -> StoredFile:  # inside the event's transaction
        start = time.monotonic()
        time.sleep(0.3)
        stored = save(content)
        spans.append((start, time.monotonic()))
        return stored

    monkeypatch.setattr(storage, "save", slow_save)
    threads = [
        threading.Thread(target=ChatUser(user.engine, user_id=user.user_id).upload, args=args)
        for args in [
            ("a.pdf", PDF + b"1", "application/pdf"),
            ("b.pdf", PDF + b"2", "application/pdf"),
        ]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (_, first_end), (second_start, _) = sorted(spans)
    assert second_start >= first_end
    assert len(state(session, user).data["draft"]["documents"]) == 2


def test_a_file_is_downloaded_with_no_transaction_open(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    """A download may take minutes: it must hold neither a connection nor the conversation."""
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    pool = user.engine.db.pool
    held_while_fetching: list[int] = []

    def fetch() -> bytes:
        held_while_fetching.append(pool.checkedout())
        return PDF

    user._send(kind=EventKind.FILE, file=IncomingFile("a.pdf", "application/pdf", len(PDF), fetch))
    assert held_while_fetching == [0]
    assert user.keys[0] == "review.document_received"
    assert len(state(session, user).data["draft"]["documents"]) == 1


def test_a_file_refused_by_the_platform_is_told_too_large(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))

    def fetch() -> bytes:
        raise FileTooLarge("file-1")

    user._send(kind=EventKind.FILE, file=IncomingFile("a.pdf", "application/pdf", 10, fetch))
    assert user.keys[0] == "review.document_too_large"
    assert state(session, user).data["draft"].get("documents", []) == []


def test_english_speaker_sees_the_flow_in_english(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.say("/language")
    user.press("lang:en")
    assert user.answer.locale == "en"
    user.press("menu:review")
    user.say(subscription.bill_id)
    assert "Which bill" in user.text()
    assert "rials" in user.text()


def test_follow_up_by_tracking_code(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    user.press(DONE)
    user.press(CONFIRM)
    code = user.answer.replies[0].text.params["code"].value
    user.press("menu:track")
    user.say(f"کد من {code.translate(PERSIAN)} است")
    assert user.keys == ["track.status", "menu.prompt"]
    assert "ثبت شده، در انتظار بررسی" in user.text()
    # Two different neighbours swapped, past the first digit (a code never starts with 0).
    i = next(i for i in range(1, len(code) - 1) if code[i] != code[i + 1])
    wrong = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    user.press("menu:track")
    user.say(wrong)
    assert user.keys == ["track.invalid_checksum", "track.prompt"]
    user.say("لغو")  # the cancel button's label, typed
    assert user.keys == ["draft.nothing", "menu.prompt"]


def test_back_from_the_summary_by_sms_skips_the_document_step(
    dialog_engine: DialogEngine, session: Session, subscription: Subscription
) -> None:
    user = ChatUser(dialog_engine, user_id="+989121234567", channel=Channel.SMS)
    user.say("/start")
    bill = latest_bill(session, subscription)
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{bill.id}")
    user.press("reason:wrong_reading")
    user.say("رقم کنتور ۱۲۳۴۵ بود")
    assert user.keys == ["review.summary_sms"]  # the filed reply says where documents go
    user.press(NAV_BACK)
    assert user.keys == ["review.ask_description"]
