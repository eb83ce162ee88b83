"""Staff in the dialogs: a staff member's chat; `hire` (tests/conftest.py) adds them."""

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.constants import NoticeKind
from backend.models import Notice, utcnow
from backend.notices import opened_params
from backend.settings import Settings
from dialogs.events import EventKind
from dialogs.staff import CONFIRM_SEND
from locales.values import Msg
from tests.helpers.chat import ChatUser


def code_texted_to(
    db: sa.Engine, settings: Settings, mobile: str, kind: NoticeKind = NoticeKind.ONE_TIME_CODE
) -> str:
    """The latest one-time code queued for `mobile`, opened from its seal (as its SMS says it);
    `kind`: the code's notice (a counter's consent code is worded as one of its own)."""
    with Session(db) as session:
        notice = session.exec(
            select(Notice)
            .where(Notice.kind == kind, Notice.to_mobile == mobile)
            .order_by(col(Notice.id).desc())
        ).first()
    assert notice is not None, f"no code for {mobile}"
    code: str = opened_params(notice.params, settings=settings, now=utcnow())["code"]
    return code


@dataclass
class StaffChat(ChatUser):
    """A member of staff in a messenger: binds by sharing their own contact and typing the code
    texted to their phone, then types commands."""

    staff_id: int = 0
    phone: str = ""

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"

    def run(self, command: str) -> list[str]:
        """Sends a command; the keys of the replies."""
        self.say(command)
        return self.keys

    def confirmed(self, command: str) -> list[str]:
        """Sends a command that sends the subscriber something (/decide, /fee, /statement) and
        presses «تأیید و ارسال» under what it shows; the keys of the replies to the last of them."""
        keys = self.run(command)
        if keys[-1:] == ["staff.confirm.prompt"]:
            self.press(CONFIRM_SEND)
            return self.keys
        return keys

    @property
    def heads(self) -> list[str]:
        """Each reply's key; for replies of several lines, the first line's."""
        return [
            key.params["first"].key if key.key == "staff.lines" else key.key
            for key in (reply.text for reply in self.answer.replies if self.answer)
        ]

    def share_contact(self, phone: str) -> None:
        self._send(kind=EventKind.CONTACT, phone=phone, contact_is_own=True)

    def texted_code(self) -> str:
        """The code the staff phone was texted last."""
        return code_texted_to(self.engine.db, self.engine.settings, self.phone)

    def bind(self) -> None:
        """The phone step: menu → register my mobile → share own contact (here as 09…) → the
        code texted to the staff phone."""
        self.press("menu:phone")
        self.share_contact("0" + self.phone.removeprefix("+98"))
        assert self.last.key == "phone.staff_code_prompt", self.keys
        self.say(self.texted_code())
        assert self.keys[0] == "phone.staff_bound", self.keys


Hire = Callable[..., StaffChat]


def lines_of(message: Msg) -> list[Msg]:
    """The lines of a stacked staff message (dialogs.staff.lines.stacked_lines)."""
    if message.key != "staff.lines":
        return [message]
    return [message.params["first"], *lines_of(message.params["rest"])]
