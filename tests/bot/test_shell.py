"""The terminal chat, driven through a pipe as a person's script would be."""

import hashlib
from pathlib import Path

import sqlalchemy as sa

from backend.tracking import find_tracking_code
from tests.helpers.samples import SHELL_METER_PHOTO as JPEG
from tests.helpers.shell import run_shell


def test_a_piped_script_files_a_bill_review_on_first_run(tmp_path: Path) -> None:
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(JPEG)
    lines = [
        "1",  # menu: dispute a bill
        "٦٨٤٣٨٣٤٧٧٧٤٢٧",  # the demo bill ID, typed with Arabic-Indic digits
        "1",  # the latest bill
        "/sticker",  # something that is not text: re-prompted, nothing lost
        "1",  # reason: wrong reading
        "",  # an empty line is ignored
        "رقم کنتور ۱۲۳۴۵ بود",
        f"/file {photo}",
        "پایان ارسال مدارک",  # a button chosen by its label
        "1",  # confirm
    ]
    out = run_shell(tmp_path, "\n".join(lines) + "\n")
    assert "Demo data loaded" in out
    assert "این نوع پیام" in out  # the sticker's re-prompt
    code = find_tracking_code(out.split("کد رهگیری:")[1])
    assert code is not None

    db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with db.connect() as connection:
        request = connection.execute(
            sa.text(
                "SELECT r.id, r.status, r.reason, r.description, s.bill_id, b.amount_rials"
                " FROM service_request r JOIN subscription s ON s.id = r.subscription_id"
                " JOIN bill b ON b.id = r.disputed_bill_id WHERE r.tracking_code = :code"
            ),
            {"code": code},
        ).one()
        document = connection.execute(
            sa.text("SELECT sha256, original_name FROM request_document")
        ).one()
        event = connection.execute(sa.text("SELECT action FROM request_event")).one()
    assert request.status == "submitted"
    assert request.reason == "wrong_reading"
    assert request.description == "رقم کنتور ۱۲۳۴۵ بود"
    assert request.bill_id == "6843834777427"
    assert request.amount_rials == 2_027_000  # the latest, suspicious bill
    assert document.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert (tmp_path / "files" / document.sha256[:2] / document.sha256).read_bytes() == JPEG
    assert event.action == "submitted"


def test_second_run_continues_without_seeding_again(tmp_path: Path) -> None:
    run_shell(tmp_path, "1\n")
    out = run_shell(tmp_path, "/as someone-else\n2\n1234567890\n")
    assert "Demo data loaded" not in out
    assert "now chatting as someone-else" in out
    assert "کد رهگیری ۱۰ رقمی" in out  # the follow-up prompt
