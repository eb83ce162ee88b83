"""Translates messenger updates into dialog events, and dialog answers into Bot API calls."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from backend.conversations import set_reachable
from backend.db import session_scope
from backend.storage import FileStorage
from channels.botapi import classify
from channels.keyboards import keyboard
from channels.metrics import UPDATE_SECONDS
from channels.registry import Messenger
from channels.render import split_text
from channels.replies import Reply
from dialogs.engine import APOLOGY, Answer, DialogEngine
from dialogs.events import Event, EventKind, FetchFailed, FileTooLarge, IncomingFile
from locales.values import Msg, render

log = logging.getLogger(__name__)
DOWNLOAD_TIMEOUT = 120  # seconds for getFile and a 20 MB download
PARAGRAPH = "\n\n"  # between replies sent as one message


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


class AnsweredMarks:
    """Records answers as sent: the events whose answers go out while one write is under way
    are written together by the next, in one statement and one thread hop, not one each. Each
    caller still waits until its own is written (before its webhook is answered)."""

    def __init__(self, dialogs: DialogEngine) -> None:
        self._dialogs = dialogs
        self._waiting: list[tuple[Event, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def mark(self, event: Event) -> None:
        written = asyncio.get_running_loop().create_future()
        self._waiting.append((event, written))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        await written

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await asyncio.to_thread(self._dialogs.answered, *(e for e, _ in batch))
                except Exception as error:  # each caller raises it, for its redelivery
                    outcome: BaseException | None = error
                else:
                    outcome = None
                for _, written in batch:
                    if written.done():  # its caller was cancelled meanwhile
                        continue
                    if outcome is None:
                        written.set_result(None)
                    else:
                        written.set_exception(outcome)
        finally:
            self._writer = None


class MessengerAdapter:
    def __init__(
        self, *, messenger: Messenger, dialogs: DialogEngine, storage: FileStorage, db: sa.Engine
    ) -> None:
        self.messenger = messenger
        self.dialogs = dialogs
        self.storage = storage
        self.db = db
        # The database lock serializes a user across processes; this keeps their order here.
        self._locks = KeyedLocks()
        self._answered = AnsweredMarks(dialogs)

    async def on_message(self, bot: Bot, message: Message, update_id: int) -> None:
        if message.from_user is None:  # channel posts and the like: nobody to talk to
            return
        event = self._event(bot, message, str(update_id))

        async def deliver(answer: Answer) -> None:
            await self._send(bot, message.chat.id, event, answer)

        await self._handle(event, deliver)

    async def on_callback(self, bot: Bot, query: CallbackQuery, update_id: int) -> None:
        # The tap's spinner stops while the press is handled, not one round trip before it.
        answering = asyncio.ensure_future(self._quietly(bot.answer_callback_query(query.id)))
        try:
            await self._on_press(bot, query, update_id)
        finally:
            await answering

    async def _on_press(self, bot: Bot, query: CallbackQuery, update_id: int) -> None:
        user_id = str(query.from_user.id)
        event = Event(
            self.messenger.channel,
            user_id,
            EventKind.CHOICE,
            choice=query.data or "",
            event_id=str(update_id),
        )
        pressed = query.message if isinstance(query.message, Message) else None

        async def deliver(answer: Answer) -> None:
            chat_id = pressed.chat.id if pressed is not None else query.from_user.id
            if pressed is None or pressed.reply_markup is None:
                await self._send(bot, chat_id, event, answer)
                return
            # The pressed buttons are spent: taken away (while the answer goes) so that the
            # chat shows only live ones.
            spent = bot.edit_message_reply_markup(
                chat_id=pressed.chat.id, message_id=pressed.message_id, reply_markup=None
            )
            await asyncio.gather(self._quietly(spent), self._send(bot, chat_id, event, answer))

        await self._handle(event, deliver)

    async def _handle(self, event: Event, deliver: Callable[[Answer], Awaitable[None]]) -> None:
        """Handles the event and sends its answer, both under the user's lock here: a
        redelivery that comes meanwhile waits, then finds the answer sent and sends nothing."""
        started = time.monotonic()
        async with self._locks.hold(event.user_id):
            answer = await asyncio.to_thread(self.dialogs.handle, event)
            if answer.replies:  # none: a redelivery whose answer went out already
                await deliver(answer)
        UPDATE_SECONDS.labels(event.channel, answer.step or "replayed").observe(
            time.monotonic() - started
        )

    def _event(self, bot: Bot, message: Message, event_id: str) -> Event:
        assert message.from_user is not None
        sender = message.from_user.id
        channel, user_id = self.messenger.channel, str(sender)
        if message.contact is not None:
            return Event(
                channel,
                user_id,
                EventKind.CONTACT,
                phone=message.contact.phone_number,
                contact_is_own=message.contact.user_id == sender,
                event_id=event_id,
            )
        if message.location is not None:  # Telegram and Bale alike: latitude, longitude
            where = (message.location.latitude, message.location.longitude)
            return Event(channel, user_id, EventKind.LOCATION, location=where, event_id=event_id)
        if message.document is not None:
            document = message.document
            file = IncomingFile(
                name=document.file_name or "document",
                content_type=document.mime_type or "application/octet-stream",
                size_bytes=document.file_size or 0,
                fetch=self._fetcher(bot, document.file_id),
            )
            return Event(channel, user_id, EventKind.FILE, file=file, event_id=event_id)
        if message.photo:
            photo = message.photo[-1]  # the largest size
            file = IncomingFile(
                name="photo.jpg",
                content_type="image/jpeg",
                size_bytes=photo.file_size or 0,
                fetch=self._fetcher(bot, photo.file_id),
            )
            return Event(channel, user_id, EventKind.FILE, file=file, event_id=event_id)
        if message.text is not None:
            return Event(channel, user_id, EventKind.TEXT, text=message.text, event_id=event_id)
        return Event(channel, user_id, EventKind.UNSUPPORTED, event_id=event_id)

    def _fetcher(self, bot: Bot, file_id: str) -> Callable[[], bytes]:
        """A download the dialogs may call from their worker thread, run on this event loop."""
        loop = asyncio.get_running_loop()

        async def download() -> bytes:
            try:
                file = await bot.get_file(file_id)
                if file.file_path is None:
                    raise FileTooLarge(file_id)
                buffer = await bot.download_file(file.file_path, timeout=DOWNLOAD_TIMEOUT)
            except TelegramBadRequest as error:
                if "too big" in error.message:
                    raise FileTooLarge(file_id) from error
                raise
            except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as error:
                raise FetchFailed(type(error).__name__) from error  # the redelivery tries again
            assert buffer is not None
            return buffer.read()

        def fetch() -> bytes:
            future = asyncio.run_coroutine_threadsafe(download(), loop)
            return future.result(timeout=DOWNLOAD_TIMEOUT)

        return fetch

    async def _send(self, bot: Bot, chat_id: int, event: Event, answer: Answer) -> None:
        """Sends the answer, then records it sent. A failure a retry may cure (5xx, network)
        is raised: the answer stays with the event, and its redelivery sends it again."""
        messenger, user_id = self.messenger, event.user_id
        try:
            for reply, text in messages(answer, messenger):
                parts = split_text(text, messenger.max_text)
                for number, part in enumerate(parts, start=1):
                    last = number == len(parts)  # the buttons go with the last part
                    await bot.send_message(
                        chat_id,
                        part,
                        parse_mode=messenger.parse_mode,
                        reply_markup=keyboard(reply, answer.locale) if last else None,
                    )
                for file in reply.files:
                    content = await asyncio.to_thread(self.storage.read, file.storage_key)
                    await bot.send_document(chat_id, BufferedInputFile(content, file.name))
        except TelegramAPIError as error:
            outcome = classify(error)
            if outcome.unreachable:
                # Blocked or deactivated: later notices go by SMS instead.
                log.info("%s user %s is unreachable", messenger.channel, user_id)
                await asyncio.to_thread(self._mark_unreachable, user_id)
            elif outcome.permanent:
                # Refused for good (a bad request): sending it again would fail the same way.
                log.error(
                    "%s refused an answer (%s); apologised", messenger.channel, outcome.raw_code
                )
                await self._apologise(bot, chat_id, answer.locale)
            else:
                raise
        await self._answered.mark(event)

    async def _apologise(self, bot: Bot, chat_id: int, locale: str) -> None:
        try:
            await bot.send_message(chat_id, render(Msg(APOLOGY), locale, self.messenger.markup))
        except TelegramAPIError as error:
            log.warning(
                "%s: no apology either (%s)", self.messenger.channel, classify(error).raw_code
            )

    def _mark_unreachable(self, user_id: str) -> None:
        with session_scope(self.db) as session:
            set_reachable(session, channel=self.messenger.channel, user_id=user_id, reachable=False)

    @staticmethod
    async def _quietly(call: Awaitable[object]) -> None:
        """Cosmetic calls (answering a callback, removing spent buttons) may fail harmlessly."""
        try:
            await call
        except TelegramBadRequest as error:
            log.debug("ignored: %s", error)


def messages(answer: Answer, messenger: Messenger) -> Iterator[tuple[Reply, str]]:
    """The answer's replies, each with its text; bare replies (no keyboard, no files) are
    joined to the next as its first paragraphs where they fit one message: a greeting and
    the menu, or a refusal and the question asked again, read as one and cost one call."""
    markup, limit = messenger.markup, messenger.max_text
    held: tuple[Reply, str] | None = None  # bare replies waiting for the next one
    for number, reply in enumerate(answer.replies, start=1):
        text = render(reply.text, answer.locale, markup)
        if held is not None:
            if len(held[1]) + len(PARAGRAPH) + len(text) <= limit:
                text = held[1] + PARAGRAPH + text
            else:
                yield held
            held = None
        bare = not (reply.buttons or reply.files or reply.request_contact)
        if bare and number < len(answer.replies):
            held = reply, text
        else:
            yield reply, text
