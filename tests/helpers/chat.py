"""A simulated subscriber for dialog tests: sends events, reads replies rendered in their locale."""

from dataclasses import dataclass, field

from backend.constants import Channel
from dialogs.engine import Answer, DialogEngine
from dialogs.events import Event, EventKind, IncomingFile
from locales.values import PLAIN, Msg, render


@dataclass
class ChatUser:
    engine: DialogEngine
    user_id: str = "1001"
    channel: Channel = Channel.TELEGRAM
    answer: Answer | None = None
    fetched: list[str] = field(default_factory=list)

    def _send(self, **kwargs: object) -> Answer:
        event = Event(self.channel, self.user_id, **kwargs)  # type: ignore[arg-type]
        self.answer = self.engine.handle(event)
        for reply in self.answer.replies:  # every reply must render: a missing key fails the test
            render(reply.text, self.answer.locale, PLAIN)
        self.engine.answered(event)  # read, as a channel reports an answer sent
        return self.answer

    def say(self, text: str, event_id: str | None = None) -> Answer:
        return self._send(kind=EventKind.TEXT, text=text, event_id=event_id)

    def press(self, value: str) -> Answer:
        return self._send(kind=EventKind.CHOICE, choice=value)

    def sticker(self) -> Answer:
        return self._send(kind=EventKind.UNSUPPORTED)

    def upload(
        self, name: str, content: bytes, content_type: str, size: int | None = None
    ) -> Answer:
        def fetch() -> bytes:
            self.fetched.append(name)
            return content

        file = IncomingFile(name, content_type, len(content) if size is None else size, fetch)
        return self._send(kind=EventKind.FILE, file=file)

    @property
    def keys(self) -> list[str]:
        assert self.answer is not None
        return [reply.text.key for reply in self.answer.replies]

    @property
    def last(self) -> Msg:
        assert self.answer is not None
        return self.answer.replies[-1].text

    @property
    def buttons(self) -> list[str]:
        assert self.answer is not None
        return [b.value for reply in self.answer.replies for row in reply.buttons for b in row]

    def text(self) -> str:
        """Everything the user reads: the replies and their buttons' labels."""
        assert self.answer is not None
        locale = self.answer.locale
        return "\n".join(
            render(message, locale, PLAIN)
            for reply in self.answer.replies
            for message in [reply.text, *(b.label for row in reply.buttons for b in row)]
        )
