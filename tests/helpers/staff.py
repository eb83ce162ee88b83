"""Staff in the dialogs: a staff member's chat; `hire` (tests/conftest.py) adds them."""

from collections.abc import Callable
from dataclasses import dataclass

from dialogs.events import EventKind
from tests.helpers.chat import ChatUser


@dataclass
class StaffChat(ChatUser):
    """A member of staff in a messenger: binds by sharing their own contact, then types commands."""

    staff_id: int = 0
    phone: str = ""

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"

    def run(self, command: str) -> list[str]:
        """Sends a command; the keys of the replies."""
        self.say(command)
        return self.keys

    @property
    def heads(self) -> list[str]:
        """Each reply's key; for replies of several lines, the first line's."""
        return [
            key.params["first"].key if key.key == "staff.lines" else key.key
            for key in (reply.text for reply in self.answer.replies if self.answer)
        ]

    def share_contact(self, phone: str) -> None:
        self._send(kind=EventKind.CONTACT, phone=phone, contact_is_own=True)

    def bind(self) -> None:
        """The phone step: menu → register my mobile → share own contact (here as 09…)."""
        self.press("menu:phone")
        self.share_contact("0" + self.phone.removeprefix("+98"))


Hire = Callable[..., StaffChat]
