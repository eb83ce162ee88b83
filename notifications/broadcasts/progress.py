"""The staff's progress message of a broadcast: sent first, edited every few seconds by one
process at a time, and a final report. A courtesy: its failures never stop the sending."""

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, col

from backend.broadcasts import delivery_counts
from backend.constants import MESSENGER_CHANNELS, Channel
from backend.db import session_scope
from backend.models import Broadcast, Conversation
from backend.settings import Settings
from channels.clients import messenger_clients
from channels.registry import messenger_bot
from channels.render import render_for_channel
from locales.values import Msg
from notifications.broadcasts.coordination import Coordination

if TYPE_CHECKING:
    from channels.messengers import MessengerClients

log = logging.getLogger(__name__)


class Progress:
    def __init__(
        self,
        settings: Settings,
        db: sa.Engine,
        coordination: Coordination,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.db = db
        self.coordination = coordination
        self.clock = clock

    async def tick(self, broadcast_id: int, clients: "MessengerClients") -> None:
        """Updates the progress message if it is this process's turn."""
        every = self.settings.broadcast_progress_seconds
        if self.coordination.turn(f"{broadcast_id}:progress", every):
            await self.show(broadcast_id, final=False, clients=clients)

    def show_now(self, broadcast_id: int, *, final: bool) -> None:
        """The same from synchronous code, with clients of its own."""
        if self._target(broadcast_id) is None:
            return

        async def show() -> None:
            clients = messenger_clients(self.settings)
            try:
                await self.show(broadcast_id, final=final, clients=clients)
            finally:
                await clients.close()

        asyncio.run(show())

    async def show(self, broadcast_id: int, *, final: bool, clients: "MessengerClients") -> None:
        """Sends the progress message (first), edits it, and sends the final report."""
        found = await asyncio.to_thread(self._view, broadcast_id, final)
        if found is None:
            return
        channel, chat, text, message_id = found
        if message_id is None:
            outcome = await clients.send_text(channel, chat, text, locale="")
            if outcome.sent and outcome.provider_id:
                await asyncio.to_thread(self._remember, broadcast_id, int(outcome.provider_id))
        else:
            outcome = await clients.edit_text(channel, chat, message_id, text)
            if final:
                outcome = await clients.send_text(channel, chat, text, locale="")
        if not outcome.sent:
            log.info("broadcast %s: progress message not updated (%s)", broadcast_id, outcome)

    def _target(self, broadcast_id: int) -> tuple[Channel, str] | None:
        with session_scope(self.db) as session:
            broadcast = session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            channel = Channel(broadcast.progress_channel) if broadcast.progress_channel else None
            chat = broadcast.progress_chat_id
        if channel not in MESSENGER_CHANNELS or chat is None:
            return None
        if messenger_bot(self.settings, channel) is None:
            return None
        return channel, chat

    def _view(self, broadcast_id: int, final: bool) -> tuple[Channel, str, str, int | None] | None:
        """Where the staff's message goes and what it says; None when nowhere to send it."""
        target = self._target(broadcast_id)
        if target is None:
            return None
        channel, chat = target
        with session_scope(self.db) as session:
            broadcast = session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            conversation = session.get(Conversation, (channel, chat))
            locale = conversation.locale if conversation else self.settings.default_locale
            message = self.text(session, broadcast, final=final)
            text = render_for_channel(message, channel, locale, self.settings.sms_max_parts)
            return channel, chat, text, broadcast.progress_message_id

    def _remember(self, broadcast_id: int, message_id: int) -> None:
        with session_scope(self.db) as session:
            session.execute(
                sa.update(Broadcast)
                .where(col(Broadcast.id) == broadcast_id)
                .values(progress_message_id=message_id)
            )

    def text(self, session: Session, broadcast: Broadcast, *, final: bool) -> Msg:
        """Sent, failed, remaining, the rate since sending began and the time still needed."""
        now = self.clock()
        doubt = now - timedelta(seconds=self.settings.broadcast_lease_seconds)
        assert broadcast.id is not None  # a stored broadcast
        counts = delivery_counts(session, broadcast.id, doubt_before=doubt)
        done = counts.sent + counts.failed
        elapsed = max((now - broadcast.send_at).total_seconds(), 1.0)
        rate = done / elapsed
        eta = math.ceil(counts.remaining / rate / 60) if rate > 0 else 0
        params = {
            "id": broadcast.id,
            "status": Msg(f"broadcast.status.{broadcast.status}"),
            "sent": counts.sent,
            "failed": counts.failed,
            "cancelled": counts.cancelled,
            "remaining": counts.remaining,
            "in_doubt": counts.in_doubt,
            "rate": round(rate),
            "eta": eta,
        }
        return Msg("broadcast.report" if final else "broadcast.progress", params)
