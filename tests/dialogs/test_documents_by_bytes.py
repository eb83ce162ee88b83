"""Documents are what their bytes are: the type is detected, the name kept is safe to show."""

import pytest
from sqlmodel import Session, col, select

from backend.models import RequestDocument, Subscription
from backend.storage import detect_content_type, document_name, safe_file_name
from dialogs.bill_review import CONFIRM, DONE
from locales.values import HTML, PLAIN, render
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, walk_to_documents
from tests.helpers.samples import METER_PHOTO as JPEG

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"meter" * 40
PDF = b"%PDF-1.4\n" + b"invoice" * 40
RLO = "\u202e"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        (b"MZ\x90\x00", None),
        (b"PK\x03\x04", None),
        (b"", None),
        (b"\x89PNG", None),  # cut short
    ],
)
def test_the_type_comes_from_the_bytes(content: bytes, expected: str | None) -> None:
    assert detect_content_type(content) == expected


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("../../x", "x.pdf"),
        ("..\\..\\windows\\x.exe", "x.pdf"),
        ("invoice.bat", "invoice.pdf"),
        (f"invoice{RLO}fdp.bat", "invoicefdp.pdf"),
        ("scan\x00\x1b[31m\x07.pdf", "scan[31m.pdf"),
        ("قبض\u200cبرق.PDF", "قبض\u200cبرق.pdf"),  # the ZWNJ of Persian words stays
        ("a:b*c?.pdf", "a_b_c_.pdf"),
        ("...", "document.pdf"),
        ("", "document.pdf"),
        ("x" * 300 + ".pdf", "x" * 100 + ".pdf"),
    ],
)
def test_the_name_kept_is_safe_with_the_detected_extension(name: str, kept: str) -> None:
    assert document_name(name, "application/pdf") == kept
    shown = safe_file_name(name)
    assert "/" not in shown and "\\" not in shown and RLO not in shown
    assert not any(ord(c) < 32 for c in shown)


def filed_documents(session: Session) -> list[tuple[str, str]]:
    query = select(RequestDocument).order_by(col(RequestDocument.id))
    return [(d.original_name, d.content_type) for d in session.exec(query)]


def test_documents_are_kept_as_their_bytes_say_under_safe_names(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    walk_to_documents(user, subscription, latest_bill(session, subscription))
    # A messenger's photo is announced as a JPEG whatever it is: a PNG one is taken as a PNG.
    user.upload("photo.jpg", PNG, "image/jpeg")
    assert user.keys[0] == "review.document_received"
    assert user.answer is not None
    assert user.answer.replies[0].text.params["name"] == "photo.png"
    # A PDF named and declared as something else is a PDF; the name shows no path and no bidi.
    user.upload("../../invoice.bat", PDF, "application/x-msdownload")
    assert user.answer.replies[0].text.params["name"] == "invoice.pdf"
    user.upload(f"scan{RLO}gpj.exe", JPEG, "application/octet-stream")
    assert user.keys == ["review.document_received", "review.ask_documents"]
    # Bytes of no accepted type are refused, named safely, whatever the declared type.
    user.upload(f"../evil{RLO}fdp.exe", b"MZ\x90\x00 a program", "application/pdf")
    assert user.keys == ["review.document_bad_type", "review.ask_documents"]
    assert user.answer.replies[0].text.params["name"] == "evilfdp.exe"
    for markup in (HTML, PLAIN):
        assert RLO not in render(user.answer.replies[0].text, "fa", markup)
    user.press(DONE)
    user.press(CONFIRM)
    assert user.keys[0] == "review.filed"
    assert filed_documents(session) == [
        ("photo.png", "image/png"),
        ("invoice.pdf", "application/pdf"),
        ("scangpj.jpg", "image/jpeg"),
    ]
