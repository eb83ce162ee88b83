"""Text from users and imports is shown neutralized: no control characters (ESC, BEL) reach a
staff member's messenger or terminal, no bidi override reorders what they read."""

import io

import sqlalchemy as sa
from sqlmodel import Session, col

from backend import actions
from backend.constants import Channel, StaffRole
from backend.models import RequestDocument, Staff, utcnow
from bot.shell import print_answer
from channels.registry import MESSENGERS
from locales.values import LRI, PDI, PLAIN, Code, Msg, neutralize, render
from tests.helpers.filing import request_of
from tests.helpers.staff import Hire

ESC, BEL, RLO, LRO, FSI = "\x1b", "\x07", "\u202e", "\u202d", "\u2068"
HOSTILE = f"مشترک{ESC}[2J{BEL} گفت{RLO}fdp.exe{LRO} و{FSI} رفت\nخط دوم\x9b"


def test_neutralize_keeps_words_and_line_breaks_only() -> None:
    assert neutralize(HOSTILE + "\x00") == "مشترک[2J گفتfdp.exe و رفت\nخط دوم"
    assert neutralize("a\tb\u200cc") == "a b\u200cc"  # ZWNJ is part of Persian words
    shown = render(Msg("staff.show.name", {"name": HOSTILE}), "fa", PLAIN)
    assert not set(shown) & {ESC, BEL, RLO, LRO, FSI, "\x9b"}
    # A code keeps its own isolates around what it holds, and nothing else.
    code = render(Msg("track.not_found", {"code": Code(f"12{RLO}34")}), "fa", PLAIN)
    assert f"{LRI}1234{PDI}" in code


def test_a_hostile_note_in_show_reaches_no_screen_raw(
    review: str, hire: Hire, session: Session
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    request = request_of(session, review)
    staff = session.get(Staff, supervisor.staff_id)
    assert staff is not None
    # Stored as it came (an import, a row from before the input was cleaned): shown neutralized.
    actions.add_note(session, request, staff, text=HOSTILE, now=utcnow())
    session.commit()
    supervisor.say(f"/show {review}")
    assert supervisor.answer is not None
    telegram, bale = MESSENGERS[Channel.TELEGRAM].markup, MESSENGERS[Channel.BALE].markup
    screens = [
        "\n".join(render(reply.text, "fa", markup) for reply in supervisor.answer.replies)
        for markup in (telegram, bale)
    ]
    terminal = io.StringIO()
    print_answer(supervisor.answer, terminal)
    screens.append(terminal.getvalue())
    for screen in screens:
        assert "fdp.exe" in screen  # the note is there…
        assert not set(screen) & {ESC, BEL, RLO, LRO, FSI, "\x9b"}  # …and harmless
    assert f"{LRI}{review}{PDI}" in screens[1]  # Bale's code keeps its isolates


def test_a_document_name_kept_raw_before_is_sent_to_staff_made_safe(
    review: str, hire: Hire, session: Session
) -> None:
    request_id = request_of(session, review).id
    session.execute(
        sa.update(RequestDocument)
        .where(col(RequestDocument.request_id) == request_id)
        .values(original_name=f"../../invoice{RLO}fdp.bat")
    )
    session.commit()
    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say(f"/show {review}")
    assert supervisor.answer is not None
    files = [f.name for reply in supervisor.answer.replies for f in reply.files]
    assert files == ["invoicefdp.bat"]
