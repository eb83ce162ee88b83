"""The messenger clients as the rest of the house asks for them, without loading aiogram first:
aiogram takes seconds to import, and the terminal chat needs none of it."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from backend.constants import Channel
from backend.settings import Settings
from channels.outcome import Outcome
from channels.registry import messenger_bots
from channels.replies import Button

if TYPE_CHECKING:
    from channels.messengers import MessengerClients


class BlockingSender(Protocol):
    """Sends to a messenger chat from synchronous code (notice jobs)."""

    def configured(self, channel: Channel) -> bool: ...

    def send_text(
        self,
        channel: Channel,
        chat_id: str,
        text: str,
        *,
        buttons: Sequence[Sequence[Button]] = (),
        locale: str = "",
    ) -> Outcome: ...


def blocking_sender(settings: Settings) -> BlockingSender | None:
    """The messenger clients for synchronous code; None when no bot is configured."""
    if not messenger_bots(settings):
        return None
    from channels.messengers import BlockingMessengers

    return BlockingMessengers(settings)


def messenger_clients(settings: Settings, *, attempts: int = 1) -> "MessengerClients":
    """The messenger clients for code running in one event loop."""
    from channels.messengers import MessengerClients

    return MessengerClients(settings, attempts=attempts)
