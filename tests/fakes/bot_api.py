"""Fake Telegram/Bale Bot API server on 127.0.0.1 that the real aiogram Bot can talk to in tests."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import math
import mimetypes
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from aiogram.client.telegram import TelegramAPIServer

Shape = Literal["telegram", "bale"]
ChatId = int | str

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses bigger files ("file is too big")
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
FIRST_UPDATE_ID = 1000  # not 0, so code that assumes small ids or falsy offsets shows up
FAKE_KEY = "_fake"  # builder metadata (shape, file bytes), stripped before an update is served

_TOKEN_RE = re.compile(r"^\d+:[\w-]+$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_BOT_COMMAND_IN_TEXT = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@\w+)?")
_FILE_FIELDS = frozenset(
    {"document", "photo", "audio", "video", "voice", "animation", "sticker", "video_note"}
    | {"thumbnail", "certificate"}
)
# Free text is never JSON-decoded: a message "123" or "true" must stay a string.
_TEXT_FIELDS = frozenset(
    {"text", "caption", "url", "secret_token", "callback_query_id", "inline_message_id"}
    | {"description", "short_description", "name", "title", "parse_mode", "language_code"}
    | {"ip_address", "action", "emoji", "question", "payload", "file_id", "query"}
    | {"business_connection_id", "message_effect_id", "performer", "first_name", "last_name"}
)
_UNLIMITED = frozenset({"getupdates", "file"})  # long polls and downloads are not sends
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@dataclass
class RecordedCall:
    """One request the fake received; `time` is time.monotonic() on arrival."""

    token: str
    method: str
    params: dict[str, Any]
    time: float
    status: int = 0  # HTTP status answered; 0 while the request is still in flight
    content_type: str = ""  # how the parameters came: application/json, multipart/form-data…


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part the bot uploaded (what `params["document"]` holds)."""

    filename: str
    content: bytes
    content_type: str


@dataclass
class FakeFile:
    """A file known to the server; `content=None` means size only (downloads yield zeros)."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_size: int
    content: bytes | None = None
    file_name: str = ""  # to name the document again when the bot re-sends it by file_id

    def as_telegram_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass
class _Fault:
    method: str  # lower-case
    token: str | None
    status: int
    description: str
    retry_after: int | None
    remaining: int | None  # None: until clear_faults()
    body: str | None


@dataclass
class _RateLimit:
    per_second: int
    with_retry_after: bool
    methods: frozenset[str] | None  # lower-case; None: every method but getUpdates and files
    stamps: deque[float] = field(default_factory=deque)

    def wait_needed(self, now: float) -> float:
        """Sliding one-second window: accept and return 0, or return seconds until a slot frees."""
        stamps = self.stamps
        while stamps and stamps[0] <= now - 1.0:
            stamps.popleft()
        if len(stamps) >= self.per_second:
            return stamps[0] + 1.0 - now
        stamps.append(now)
        return 0.0


@dataclass(eq=False)
class _Queued:
    """A pushed update and what became of it: served by getUpdates, then handled or dropped."""

    update: dict[str, Any]
    waited: bool = False  # pushed by push_update_and_wait: followed until handled
    served: bool = False
    fate: Literal["handled", "dropped"] | None = None
    error: str | None = None  # how the handling failed, as the bot side reported it

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class _BotState:
    token: str
    user: dict[str, Any]
    shape: Shape
    updates: list[_Queued] = field(default_factory=list)  # pending, ascending update_id
    # Served and not yet reported handled, oldest first per update_id (ids may repeat).
    in_hand: dict[int, deque[_Queued]] = field(default_factory=dict)
    last_update_id: int = FIRST_UPDATE_ID
    allowed_updates: list[str] | None = None
    webhook: dict[str, Any] | None = None
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    last_message_id: dict[ChatId, int] = field(default_factory=dict)
    messages: dict[tuple[ChatId, int], dict[str, Any]] = field(default_factory=dict)
    sent: dict[ChatId, list[int]] = field(default_factory=dict)
    chats: dict[ChatId, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, FakeFile] = field(default_factory=dict)
    file_paths: dict[str, FakeFile] = field(default_factory=dict)
    open_callbacks: set[str] = field(default_factory=set)
    poll_generation: int = 0
    wake: asyncio.Event | None = None
    rate: _RateLimit | None = None

    def add_file(self, fake: FakeFile) -> None:
        self.files[fake.file_id] = fake
        self.file_paths[fake.file_path] = fake

    def next_message_id(self, chat_id: ChatId) -> int:
        # Private-chat message ids are one sequence per (bot, chat), shared by user and bot.
        self.last_message_id[chat_id] = self.last_message_id.get(chat_id, 0) + 1
        return self.last_message_id[chat_id]


def _now() -> int:
    return int(time.time())


def _utf16_len(text: str) -> int:
    # Telegram entity offsets and lengths count UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _decode_value(name: str, value: Any, files: dict[str, UploadedFile]) -> Any:
    if not isinstance(value, str):
        return value
    if name in _FILE_FIELDS:
        if value.startswith("attach://"):
            part = files.get(value.removeprefix("attach://"))
            if part is None:
                raise _ApiError(400, f"Bad Request: file for {name} not found in the request")
            return part
        return value
    if name in _TEXT_FIELDS:
        return value
    try:
        return json.loads(value, parse_constant=_reject_constant)
    except ValueError:
        return value


def _bot_user(token: str, username: str | None, first_name: str | None) -> dict[str, Any]:
    bot_id = int(token.split(":", 1)[0])
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": first_name or f"Fake Bot {bot_id}",
        "username": username or f"fake{bot_id}_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _sender(bot_user: dict[str, Any]) -> dict[str, Any]:
    # A Message's `from` carries only the basic User fields, not getMe's capabilities.
    return {k: bot_user[k] for k in ("id", "is_bot", "first_name", "username")}


def _default_chat(chat_id: ChatId) -> dict[str, Any]:
    if isinstance(chat_id, str):
        return {"id": chat_id, "type": "channel", "title": chat_id}
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _update_kind(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _error_response(
    status: int, description: str, retry_after: int | None = None, body: str | None = None
) -> web.Response:
    if body is not None:  # e.g. the HTML page nginx serves on a real 502
        return web.Response(status=status, text=body, content_type="text/html")
    payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        payload["parameters"] = {"retry_after": retry_after}
    return web.json_response(payload, status=status)


def _ok(result: Any, description: str | None = None) -> web.Response:
    payload: dict[str, Any] = {"ok": True, "result": result}
    if description:
        payload["description"] = description
    return web.json_response(payload, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


_Handler = Callable[[_BotState, dict[str, Any]], Awaitable[Any]]


class FakeBotAPI:
    """Bot API for any number of tokens on 127.0.0.1; tests/fakes/test_bot_api.py shows use.

    Test-side helpers may be called from any thread; server state sits behind one lock.
    """

    def __init__(self, *, accept_any_token: bool = True) -> None:
        # Thread-safe helpers share state with the server loop under this one lock.
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._accept_any_token = accept_any_token
        self._bots: dict[str, _BotState] = {}
        self._calls: list[RecordedCall] = []
        self._faults: list[_Fault] = []
        self._delays: dict[tuple[str, str | None], float] = {}
        self._chat_faults: dict[tuple[str | None, ChatId], tuple[int, str]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._port = 0
        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "sendChatAction": self._send_chat_action,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
            }.items()
        }

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("FakeBotAPI is not running")
        return f"http://127.0.0.1:{self._port}"

    def aiogram_server(self) -> TelegramAPIServer:
        """`TelegramAPIServer` for `AiohttpSession(api=...)`."""
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # Short shutdown: pending long polls are released on stop(), nothing should linger.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._closing is not None:
            self._closing.set()
            with self._lock:
                tokens = list(self._bots)
            for token in tokens:
                self._wake(token)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._port = 0

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @classmethod
    @contextlib.contextmanager
    def running_in_thread(cls, **kwargs: Any) -> Iterator[FakeBotAPI]:
        """Run the server on its own loop in a daemon thread, for sync tests and subprocess bots."""
        api = cls(**kwargs)
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(api.start())
            except BaseException as exc:  # surfaced in the test thread below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=run, name="FakeBotAPI", daemon=True)
        thread.start()
        if not ready.wait(10):
            raise TimeoutError("FakeBotAPI did not start within 10 s")
        if failure:
            raise failure[0]
        try:
            yield api
        finally:
            asyncio.run_coroutine_threadsafe(api.stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    # ---- test-side helpers (thread-safe) ---------------------------------------------------

    def register_bot(
        self,
        token: str,
        *,
        username: str | None = None,
        first_name: str | None = None,
        shape: Shape = "telegram",
    ) -> dict[str, Any]:
        """Declare a bot (optional unless accept_any_token=False); returns its getMe user."""
        if not _TOKEN_RE.match(token):
            raise ValueError(f"malformed token {token!r}")
        with self._lock:
            state = self._bots.get(token)
            if state is None:
                state = self._bots[token] = _BotState(token, {}, shape)
            state.user = _bot_user(token, username, first_name)
            state.shape = shape
            return dict(state.user)

    def push_update(self, token: str, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; fills update_id/message_id when missing."""
        return self._enqueue(token, update).update_id

    def push_update_and_wait(
        self, token: str, update: dict[str, Any], *, timeout: float = 20.0
    ) -> int:
        """push_update, then block until the bot is done with the update: handled (as the bot
        side reports with `mark_handled`, after everything the update caused was sent) or
        dropped unserved (an offset passed it). Raises if the handling was reported failed.

        Never call it on the server's own loop (it blocks).
        """
        entry = self._enqueue(token, update, waited=True)
        with self._cond:
            done = self._cond.wait_for(lambda: entry.fate is not None, timeout)
        if not done:
            state = "served, not reported handled" if entry.served else "never served"
            raise TimeoutError(f"update {entry.update_id}: {state} within {timeout} s")
        if entry.error is not None:
            raise AssertionError(f"update {entry.update_id} failed: {entry.error}")
        return entry.update_id

    def mark_handled(self, token: str, update_id: int, error: str | None = None) -> None:
        """The bot side's word that it finished an update it got by getUpdates (see
        tests/helpers/bots.py: a dispatcher middleware, or a bot process's log). Updates the
        fake never served (a webhook post) are ignored."""
        with self._cond:
            waiting = self._state(token).in_hand.get(update_id)
            if not waiting:
                return
            entry = waiting.popleft()
            if not waiting:
                del self._state(token).in_hand[update_id]
            entry.fate, entry.error = "handled", error
            self._cond.notify_all()

    def pending_updates(self, token: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(entry.update) for entry in self._state(token).updates]

    async def post_update_to_webhook(
        self, token: str, update: dict[str, Any], *, timeout: float = 10.0
    ) -> int:
        """POST an update to the webhook set for `token` (with the secret header if set)."""
        served = self.complete_update(token, update)
        with self._lock:
            webhook = copy.deepcopy(self._state(token).webhook)
        if not webhook:
            raise RuntimeError(f"no webhook set for bot {token.split(':')[0]}")
        if not _is_loopback(webhook["url"]):
            raise ValueError(f"refusing to post outside 127.0.0.1: {webhook['url']}")
        headers = {"Content-Type": "application/json"}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            body = json.dumps(served, ensure_ascii=False).encode()
            async with session.post(webhook["url"], data=body, headers=headers) as resp:
                await resp.read()
                return resp.status

    def post_update_to_webhook_blocking(
        self, token: str, update: dict[str, Any], *, timeout: float = 10.0
    ) -> int:
        """Same as post_update_to_webhook, from a thread that has no event loop."""
        if self._loop is None:
            raise RuntimeError("FakeBotAPI is not running")
        coro = self.post_update_to_webhook(token, update, timeout=timeout)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout + 1)

    def calls(self, method: str | None = None, token: str | None = None) -> list[RecordedCall]:
        wanted = method.lower() if method else None
        with self._lock:
            return [
                call
                for call in self._calls
                if (wanted is None or call.method.lower() == wanted)
                and (token is None or call.token == token)
            ]

    def sent_messages(self, token: str, chat_id: ChatId) -> list[dict[str, Any]]:
        """The bot's messages in a chat, oldest first, as they are now (after edits)."""
        with self._lock:
            state = self._state(token)
            ids = state.sent.get(chat_id, [])
            return [
                copy.deepcopy(state.messages[(chat_id, mid)])
                for mid in ids
                if (chat_id, mid) in state.messages
            ]

    def webhook(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._state(token).webhook)

    def commands(self, token: str) -> list[dict[str, Any]]:
        """Commands set with the default scope and no language."""
        with self._lock:
            return copy.deepcopy(self._state(token).commands.get(self._commands_key({}), []))

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        count: int | None = 1,
        token: str | None = None,
        *,
        body: str | None = None,
    ) -> None:
        """Answer the next `count` calls (None: all until clear_faults) with a Telegram error."""
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(status, "Error")
            if status == 429 and retry_after is not None:
                description = f"Too Many Requests: retry after {retry_after}"
        with self._lock:
            self._faults.append(
                _Fault(method.lower(), token, status, description, retry_after, count, body)
            )

    def fail_chat(
        self,
        chat_id: ChatId,
        status: int = 403,
        description: str = "Forbidden: bot was blocked by the user",
        token: str | None = None,
    ) -> None:
        """Make every send/edit to one chat fail, e.g. a user who blocked the bot."""
        with self._lock:
            self._chat_faults[(token, chat_id)] = (status, description)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._chat_faults.clear()
            self._delays.clear()
            for state in self._bots.values():
                state.rate = None

    def delay(self, method: str, seconds: float, token: str | None = None) -> None:
        """Answer every call of `method` `seconds` late (0 removes the delay)."""
        with self._lock:
            if seconds > 0:
                self._delays[(method.lower(), token)] = seconds
            else:
                self._delays.pop((method.lower(), token), None)

    def rate_limit(
        self,
        token: str,
        per_second: int | None,
        *,
        with_retry_after: bool | None = None,
        methods: list[str] | None = None,
    ) -> None:
        """429 past `per_second` calls in any one-second window (None removes the limit).

        with_retry_after=None follows the bot's shape: Telegram sends parameters.retry_after,
        Bale answers "bot limit exceed" without it. Rejected calls do not use up the window.
        """
        with self._lock:
            state = self._state(token)
            if per_second is None:
                state.rate = None
                return
            if with_retry_after is None:
                with_retry_after = state.shape == "telegram"
            names = frozenset(m.lower() for m in methods) if methods else None
            state.rate = _RateLimit(per_second, with_retry_after, names)

    def reset(self) -> None:
        """Forget bots, updates, messages, files, calls and faults; the server keeps running."""
        with self._lock:
            for state in self._bots.values():
                self._drop(state.updates)
                for waiting in state.in_hand.values():
                    self._drop(waiting)
            self._bots.clear()
            self._calls.clear()
            self._faults.clear()
            self._delays.clear()
            self._chat_faults.clear()

    async def wait_for_calls(
        self,
        method: str | None = None,
        *,
        token: str | None = None,
        count: int = 1,
        timeout: float = 5.0,
        answered: bool = True,
    ) -> list[RecordedCall]:
        """Wait for `count` matching calls (answered ones, or just arrived); returns them all."""
        deadline = time.monotonic() + timeout
        while True:
            done = [c for c in self.calls(method, token) if c.status or not answered]
            if len(done) >= count:
                return done
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(done)}/{count} answered {method or 'calls'}")
            await asyncio.sleep(0.005)

    def wait_for_calls_blocking(
        self,
        method: str | None = None,
        *,
        token: str | None = None,
        count: int = 1,
        timeout: float = 5.0,
        answered: bool = True,
    ) -> list[RecordedCall]:
        """wait_for_calls for sync tests; never call it on the server's own loop (it blocks)."""

        def matching() -> list[RecordedCall]:
            return [c for c in self.calls(method, token) if c.status or not answered]

        with self._cond:
            ok = self._cond.wait_for(lambda: len(matching()) >= count, timeout)
            done = matching()
        if not ok:
            raise TimeoutError(f"{len(done)}/{count} answered {method or 'calls'}")
        return done

    # ---- internals: state ------------------------------------------------------------------

    def _enqueue(self, token: str, update: dict[str, Any], *, waited: bool = False) -> _Queued:
        with self._lock:  # one critical section: an id must not be confirmed before it is queued
            entry = _Queued(self.complete_update(token, update), waited=waited)
            state = self._state(token)
            state.updates.append(entry)
            if len(state.updates) > 1 and state.updates[-2].update_id > entry.update_id:
                state.updates.sort(key=lambda queued: queued.update_id)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake, token)
        return entry

    def _drop(self, entries: Iterable[_Queued]) -> None:
        """Updates that will never be handled (gone unserved, or forgotten): settle their
        waiters. Caller holds the lock."""
        for entry in entries:
            if entry.fate is None:
                entry.fate = "dropped"
        self._cond.notify_all()

    def _keep_updates(self, state: _BotState, keep: Callable[[_Queued], bool]) -> None:
        """Filter the pending updates; those leaving unserved are dropped. Caller holds the lock."""
        removed = [entry for entry in state.updates if not keep(entry)]
        state.updates = [entry for entry in state.updates if keep(entry)]
        self._drop(entry for entry in removed if not entry.served)

    def _state(self, token: str) -> _BotState:
        # Caller holds the lock.
        state = self._bots.get(token)
        if state is None:
            state = self._bots[token] = _BotState(token, _bot_user(token, None, None), "telegram")
        return state

    def _wake(self, token: str) -> None:
        # Runs on the server loop: release every getUpdates waiting on this token.
        with self._lock:
            state = self._bots.get(token)
            event = state.wake if state else None
            if state is not None:
                state.wake = None
        if event is not None:
            event.set()

    def complete_update(self, token: str, update: dict[str, Any]) -> dict[str, Any]:
        """The update as the server delivers it: ids filled in, its files registered for getFile."""
        meta = update.get(FAKE_KEY) or {}
        served = copy.deepcopy({k: v for k, v in update.items() if k != FAKE_KEY})
        bale = meta.get("shape") == "bale"
        with self._lock:
            state = self._state(token)
            if "update_id" in served:
                state.last_update_id = max(state.last_update_id, int(served["update_id"]))
            else:
                state.last_update_id += 1
                served = {"update_id": state.last_update_id, **served}  # first, as Telegram
            for fake in meta.get("files", ()):
                state.add_file(fake)
            for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
                message = served.get(key)
                if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                    chat_id = message["chat"]["id"]
                    state.chats.setdefault(chat_id, message["chat"])
                    if "message_id" not in message:
                        message["message_id"] = state.next_message_id(chat_id)
                    else:
                        current = state.last_message_id.get(chat_id, 0)
                        state.last_message_id[chat_id] = max(current, message["message_id"])
            query = served.get("callback_query")
            if isinstance(query, dict):
                state.open_callbacks.add(str(query["id"]))
                message = query.get("message")
                if isinstance(message, dict):
                    # The user pressed a button under the bot's message: serve its current state.
                    stored = state.messages.get((message["chat"]["id"], message["message_id"]))
                    if stored is not None:
                        message = query["message"] = copy.deepcopy(stored)
                    message.setdefault("from", _sender(state.user))
                    if bale:
                        message["from"].pop("is_bot", None)
        return served

    def _check_chat(self, state: _BotState, chat_id: ChatId) -> None:
        fault = self._chat_faults.get((state.token, chat_id)) or self._chat_faults.get(
            (None, chat_id)
        )
        if fault is not None:
            raise _ApiError(*fault)

    def _chat(self, state: _BotState, chat_id: ChatId) -> dict[str, Any]:
        return copy.deepcopy(state.chats.get(chat_id) or _default_chat(chat_id))

    def _new_bot_message(
        self, state: _BotState, params: dict[str, Any], **content: Any
    ) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        self._check_chat(state, chat_id)
        message_id = state.next_message_id(chat_id)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": _sender(state.user),
            "chat": self._chat(state, chat_id),
            "date": _now(),
            **content,
        }
        markup = params.get("reply_markup")
        # Telegram echoes only inline keyboards; reply keyboards are not part of the Message.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        state.messages[(chat_id, message_id)] = message
        state.sent.setdefault(chat_id, []).append(message_id)
        return copy.deepcopy(message)

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> ChatId:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str) and not chat_id.startswith("@"):
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    @staticmethod
    def _check_markup(params: dict[str, Any]) -> None:
        markup = params.get("reply_markup")
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _stored_bot_message(self, state: _BotState, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        self._check_chat(state, chat_id)
        message = state.messages.get((chat_id, params.get("message_id")))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    def _register_upload(self, state: _BotState, value: Any, kind: str) -> tuple[FakeFile, str]:
        """File for a send* call: a fresh upload, a known file_id, or an (unfetched) URL."""
        if isinstance(value, UploadedFile):
            fake = _make_file(kind, value.filename, value.content, None)
            state.add_file(fake)
            return fake, value.filename
        if isinstance(value, str) and value in state.files:
            fake = state.files[value]
            return fake, fake.file_name or fake.file_path.rsplit("/", 1)[-1]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = urlsplit(value).path.rsplit("/", 1)[-1] or "file"
            fake = _make_file(kind, name, b"", None)  # never fetched: no network from the fake
            state.add_file(fake)
            return fake, name
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    # ---- internals: HTTP -------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.content_type == "multipart/form-data":
            total = 0
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                    continue
                if part.filename is None:
                    raw[part.name] = await part.text()
                    continue
                chunks = []
                while chunk := await part.read_chunk(1 << 16):
                    total += len(chunk)
                    if total > MAX_UPLOAD_SIZE:
                        raise _ApiError(413, "Request Entity Too Large")
                    chunks.append(chunk)
                content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE, "")
                files[part.name] = UploadedFile(part.filename, b"".join(chunks), content_type)
        elif request.content_type == "application/json":
            body = await request.read()
            if body:
                try:
                    decoded = json.loads(body)
                except ValueError as exc:
                    raise _ApiError(400, "Bad Request: can't parse JSON") from exc
                if not isinstance(decoded, dict):
                    raise _ApiError(400, "Bad Request: request body must be a JSON object")
                raw.update(decoded)
        elif request.body_exists:
            raw.update(await request.post())
        params = {name: _decode_value(name, value, files) for name, value in raw.items()}
        # A file sent directly as the field itself (no attach://), as some Bale clients do.
        for name, upload in files.items():
            if name in _FILE_FIELDS and name not in params:
                params[name] = upload
        return params

    def _record(
        self, token: str, method: str, params: dict[str, Any], content_type: str = ""
    ) -> RecordedCall:
        call = RecordedCall(token, method, params, time.monotonic(), content_type=content_type)
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
        return call

    def _finish(self, call: RecordedCall, response: web.StreamResponse) -> web.StreamResponse:
        with self._cond:
            call.status = response.status
            self._cond.notify_all()
        return response

    async def _pre_checks(self, token: str, method: str) -> web.Response | None:
        """Token check, injected delay, injected fault, rate limit; None means go ahead."""
        if not _TOKEN_RE.match(token):
            return _error_response(404, "Not Found")
        with self._lock:
            if token not in self._bots and not self._accept_any_token:
                return _error_response(401, "Unauthorized")
            key = method.lower()
            delay = self._delays.get((key, token)) or self._delays.get((key, None))
        if delay and self._closing is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
        with self._lock:
            for fault in self._faults:
                if fault.method == key and fault.token in (None, token):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return _error_response(
                        fault.status, fault.description, fault.retry_after, fault.body
                    )
            rate = self._state(token).rate
            if rate is not None and (
                key in rate.methods if rate.methods is not None else key not in _UNLIMITED
            ):
                wait = rate.wait_needed(time.monotonic())
                if wait > 0:
                    if not rate.with_retry_after:
                        return _error_response(429, "bot limit exceed")
                    retry = max(1, math.ceil(wait))
                    return _error_response(429, f"Too Many Requests: retry after {retry}", retry)
        return None

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        entry = self._methods.get(request.match_info["method"].lower())
        method = entry[0] if entry else request.match_info["method"]
        try:
            params = await self._read_params(request)
        except _ApiError as exc:
            call = self._record(token, method, {})
            return self._finish(call, _error_response(exc.status, exc.description))
        call = self._record(
            token, method, params, request.content_type if request.body_exists else ""
        )
        if entry is None:
            return self._finish(call, _error_response(404, "Not Found"))
        refused = await self._pre_checks(token, method)
        if refused is not None:
            return self._finish(call, refused)
        with self._lock:
            state = self._state(token)
        try:
            result = await entry[1](state, params)
        except _ApiError as exc:
            response = _error_response(exc.status, exc.description, exc.retry_after)
        else:
            response = _ok(result)
        return self._finish(call, response)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token, path = request.match_info["token"], request.match_info["path"]
        call = self._record(token, "file", {"file_path": path})
        refused = await self._pre_checks(token, "file")
        if refused is not None:
            return self._finish(call, refused)
        with self._lock:
            fake = self._state(token).file_paths.get(path)
        if fake is None:
            return self._finish(call, _error_response(404, "Not Found"))
        content = fake.content if fake.content is not None else bytes(fake.file_size)
        return self._finish(call, web.Response(body=content))

    async def _handle_unknown_path(self, request: web.Request) -> web.StreamResponse:
        return _error_response(404, "Not Found")

    # ---- Bot API methods -------------------------------------------------------------------

    async def _get_me(self, state: _BotState, params: dict[str, Any]) -> Any:
        return dict(state.user)

    async def _get_updates(self, state: _BotState, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        if self._loop is None or self._closing is None:
            raise _ApiError(500, "Internal Server Error: server not started")
        deadline = self._loop.time() + timeout
        with self._lock:
            if state.webhook:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if offset > 0:
                self._keep_updates(state, lambda entry: entry.update_id >= offset)
            elif offset < 0:
                last = state.updates[offset:]
                self._keep_updates(state, lambda entry: entry in last)
            if params.get("allowed_updates") is not None:
                state.allowed_updates = list(params["allowed_updates"]) or None
            # Like Telegram, a newer getUpdates ends the one still waiting with 409.
            state.poll_generation += 1
            generation = state.poll_generation
        self._wake(state.token)
        while True:
            with self._lock:
                if state.poll_generation != generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if state.allowed_updates:
                    allowed = frozenset(state.allowed_updates)
                    self._keep_updates(
                        state, lambda entry, allowed=allowed: _update_kind(entry.update) in allowed
                    )
                batch = state.updates[:limit]
                remaining = deadline - self._loop.time()
                if batch or remaining <= 0 or self._closing.is_set():
                    for entry in batch:
                        if entry.waited and not entry.served:  # in the bot's hands now
                            state.in_hand.setdefault(entry.update_id, deque()).append(entry)
                        entry.served = True
                    return [copy.deepcopy(entry.update) for entry in batch]
                if state.wake is None:
                    state.wake = asyncio.Event()
                event = state.wake
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _set_webhook(self, state: _BotState, params: dict[str, Any]) -> Any:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self._lock:
            if not url:
                state.webhook = None
                return True
            if params.get("drop_pending_updates"):
                self._keep_updates(state, lambda entry: False)
            state.webhook = {
                "url": url,
                # Bale ignores secret_token: no header comes back on its webhook posts.
                "secret_token": secret if state.shape == "telegram" else None,
                "max_connections": int(params.get("max_connections") or 40),
                "allowed_updates": params.get("allowed_updates"),
            }
        return True

    async def _delete_webhook(self, state: _BotState, params: dict[str, Any]) -> Any:
        with self._lock:
            state.webhook = None
            if params.get("drop_pending_updates"):
                self._keep_updates(state, lambda entry: False)
        return True

    async def _get_webhook_info(self, state: _BotState, params: dict[str, Any]) -> Any:
        with self._lock:
            webhook = state.webhook or {}
            if state.shape == "bale":
                return {"url": webhook.get("url", "")}  # Bale's whole answer
            info: dict[str, Any] = {
                "url": webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(state.updates),
            }
            if webhook:
                info["max_connections"] = webhook["max_connections"]
                if webhook.get("allowed_updates"):
                    info["allowed_updates"] = webhook["allowed_updates"]
            return info

    async def _set_my_commands(self, state: _BotState, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            state.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, state: _BotState, params: dict[str, Any]) -> Any:
        with self._lock:
            return copy.deepcopy(state.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, state: _BotState, params: dict[str, Any]) -> Any:
        with self._lock:
            state.commands.pop(self._commands_key(params), None)
        return True

    async def _send_message(self, state: _BotState, params: dict[str, Any]) -> Any:
        text = params.get("text")
        if text is None or str(text) == "":
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(str(text)) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        self._check_markup(params)
        content: dict[str, Any] = {"text": str(text)}
        if params.get("entities"):
            content["entities"] = params["entities"]
        with self._lock:
            return self._new_bot_message(state, params, **content)

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        if caption is None:
            return {}
        if len(str(caption)) > 1024:
            raise _ApiError(400, "Bad Request: message caption is too long")
        return {"caption": str(caption)}

    async def _send_document(self, state: _BotState, params: dict[str, Any]) -> Any:
        if params.get("document") in (None, ""):
            raise _ApiError(400, "Bad Request: there is no document in the request")
        self._check_markup(params)
        caption = self._caption(params)
        with self._lock:
            self._check_chat(state, self._chat_id(params))
            fake, name = self._register_upload(state, params["document"], "document")
            document = {
                "file_name": name,
                "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream",
                "file_id": fake.file_id,
                "file_unique_id": fake.file_unique_id,
                "file_size": fake.file_size,
            }
            return self._new_bot_message(state, params, document=document, **caption)

    async def _send_photo(self, state: _BotState, params: dict[str, Any]) -> Any:
        if params.get("photo") in (None, ""):
            raise _ApiError(400, "Bad Request: there is no photo in the request")
        self._check_markup(params)
        caption = self._caption(params)
        with self._lock:
            self._check_chat(state, self._chat_id(params))
            fake, _ = self._register_upload(state, params["photo"], "photo")
            thumb = _make_file("photo", "thumb.jpg", fake.content, None)
            state.add_file(thumb)
            photo = [_photo_size(thumb, 320, 240), _photo_size(fake, 1280, 960)]
            return self._new_bot_message(state, params, photo=photo, **caption)

    async def _send_chat_action(self, state: _BotState, params: dict[str, Any]) -> Any:
        with self._lock:
            self._check_chat(state, self._chat_id(params))
        return True

    async def _edit_message_text(self, state: _BotState, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        text = params.get("text")
        if text is None or str(text) == "":
            raise _ApiError(400, "Bad Request: message text is empty")
        self._check_markup(params)
        markup = params.get("reply_markup")
        markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        with self._lock:
            message = self._stored_bot_message(state, params)
            if "text" not in message:
                raise _ApiError(400, "Bad Request: there is no text in the message to edit")
            if message["text"] == str(text) and message.get("reply_markup") == markup:
                raise _ApiError(400, _NOT_MODIFIED)
            message["text"] = str(text)
            # Omitting reply_markup in an edit removes the inline keyboard, as on Telegram.
            _set_markup(message, markup)
            message["edit_date"] = _now()
            return copy.deepcopy(message)

    async def _edit_message_reply_markup(self, state: _BotState, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        self._check_markup(params)
        markup = params.get("reply_markup")
        markup = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
        with self._lock:
            message = self._stored_bot_message(state, params)
            if message.get("reply_markup") == markup:
                raise _ApiError(400, _NOT_MODIFIED)
            _set_markup(message, markup)
            message["edit_date"] = _now()
            return copy.deepcopy(message)

    async def _delete_message(self, state: _BotState, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        with self._lock:
            if state.messages.pop((chat_id, params.get("message_id")), None) is None:
                raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _answer_callback_query(self, state: _BotState, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            if query_id not in state.open_callbacks:
                raise _ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired "
                    "or query ID is invalid",
                )
            state.open_callbacks.discard(query_id)
        return True

    async def _get_file(self, state: _BotState, params: dict[str, Any]) -> Any:
        with self._lock:
            fake = state.files.get(str(params.get("file_id") or ""))
        if fake is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if fake.file_size > MAX_DOWNLOAD_SIZE:
            raise _ApiError(400, "Bad Request: file is too big")
        return fake.as_telegram_file()


def _set_markup(message: dict[str, Any], markup: dict[str, Any] | None) -> None:
    if markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = markup


def _photo_size(fake: FakeFile, width: int, height: int) -> dict[str, Any]:
    return {
        "file_id": fake.file_id,
        "file_unique_id": fake.file_unique_id,
        "file_size": fake.file_size,
        "width": width,
        "height": height,
    }


# Look-alike prefixes, so ids resemble real ones in logs.
_FILE_ID_PREFIX = {
    "document": "BQACAgQAAxkBAA",
    "photo": "AgACAgQAAxkBAA",
    "voice": "AwACAgQAAxkBAA",
}


def _make_file(kind: str, file_name: str, content: bytes | None, file_size: int | None) -> FakeFile:
    ext = ("." + file_name.rsplit(".", 1)[-1]) if "." in file_name else ""
    folder = {"document": "documents", "photo": "photos", "voice": "voice"}.get(kind, kind)
    size = file_size if file_size is not None else len(content or b"")
    return FakeFile(
        file_id=_FILE_ID_PREFIX.get(kind, "CAACAgQAAxkBAA") + secrets.token_urlsafe(24),
        file_unique_id="AgAD" + secrets.token_urlsafe(9),
        file_path=f"{folder}/file_{secrets.token_hex(6)}{ext.lower()}",
        file_size=size,
        content=content,
        file_name=file_name,
    )


# ---- update builders: plain dicts shaped as Telegram or Bale sends them --------------------


def _user(
    user_id: int, first_name: str, username: str | None, language_code: str | None, shape: Shape
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "first_name": first_name}
    if shape == "telegram":  # Bale leaves out is_bot and language_code
        user["is_bot"] = False
        if language_code:
            user["language_code"] = language_code
    if username:
        user["username"] = username
    return user


def _user_message(
    user_id: int,
    *,
    chat_id: int | None,
    message_id: int | None,
    first_name: str,
    username: str | None,
    language_code: str | None,
    shape: Shape,
    files: list[FakeFile] | None = None,
    **content: Any,
) -> dict[str, Any]:
    sender = _user(user_id, first_name, username, language_code, shape)
    chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
    if username:
        chat["username"] = username
    if chat_id is not None and chat_id != user_id:
        chat = _default_chat(chat_id)
    message: dict[str, Any] = {"from": sender, "chat": chat, "date": _now(), **content}
    if message_id is not None:
        message = {"message_id": message_id, **message}
    return {"message": message, FAKE_KEY: {"shape": shape, "files": files or []}}


def message_update(
    user_id: int,
    text: str,
    *,
    chat_id: int | None = None,
    message_id: int | None = None,
    first_name: str = "کاربر",
    username: str | None = None,
    language_code: str | None = "fa",
    shape: Shape = "telegram",
) -> dict[str, Any]:
    """A text message from a user; Telegram shape marks /commands with bot_command entities."""
    content: dict[str, Any] = {"text": text}
    if shape == "telegram":
        entities = [
            {
                "type": "bot_command",
                "offset": _utf16_len(text[: match.start()]),
                "length": _utf16_len(match.group()),
            }
            for match in _BOT_COMMAND_IN_TEXT.finditer(text)
        ]
        if entities:
            content["entities"] = entities
    return _user_message(
        user_id,
        chat_id=chat_id,
        message_id=message_id,
        first_name=first_name,
        username=username,
        language_code=language_code,
        shape=shape,
        **content,
    )


def callback_update(
    user_id: int,
    data: str,
    message_id: int,
    *,
    chat_id: int | None = None,
    message_text: str = "",
    callback_id: str | None = None,
    first_name: str = "کاربر",
    username: str | None = None,
    shape: Shape = "telegram",
) -> dict[str, Any]:
    """A button press under the bot's message `message_id` (served as that message now is)."""
    sender = _user(user_id, first_name, username, "fa", shape)
    chat_id = user_id if chat_id is None else chat_id
    chat = {"id": chat_id, "type": "private", "first_name": first_name}
    if chat_id != user_id:
        chat = _default_chat(chat_id)
    query: dict[str, Any] = {
        "id": callback_id or str(secrets.randbits(62)),
        "from": sender,
        "message": {"message_id": message_id, "chat": chat, "date": _now()},
        "data": data,
    }
    if message_text:
        query["message"]["text"] = message_text
    if shape == "telegram":
        query["chat_instance"] = str(secrets.randbits(62))
    return {"callback_query": query, FAKE_KEY: {"shape": shape, "files": []}}


def document_update(
    user_id: int,
    file_name: str,
    mime_type: str,
    content: bytes | None = None,
    *,
    file_size: int | None = None,
    caption: str | None = None,
    chat_id: int | None = None,
    message_id: int | None = None,
    first_name: str = "کاربر",
    username: str | None = None,
    shape: Shape = "telegram",
) -> dict[str, Any]:
    """A user's document; `content=None, file_size=25 * 2**20` declares a big file, no bytes."""
    if content is None and file_size is None:
        raise ValueError("give content or file_size")
    fake = _make_file("document", file_name, content, file_size)
    document = {
        "file_name": file_name,
        "mime_type": mime_type,
        "file_id": fake.file_id,
        "file_unique_id": fake.file_unique_id,
        "file_size": fake.file_size,
    }
    extra = {"caption": caption} if caption is not None else {}
    return _user_message(
        user_id,
        chat_id=chat_id,
        message_id=message_id,
        first_name=first_name,
        username=username,
        language_code="fa",
        shape=shape,
        files=[fake],
        document=document,
        **extra,
    )


def photo_update(
    user_id: int,
    content: bytes | None = None,
    *,
    file_size: int | None = None,
    width: int = 1280,
    height: int = 960,
    caption: str | None = None,
    chat_id: int | None = None,
    message_id: int | None = None,
    first_name: str = "کاربر",
    username: str | None = None,
    shape: Shape = "telegram",
) -> dict[str, Any]:
    """A user's photo: a thumbnail and the full size, both downloadable."""
    if content is None and file_size is None:
        raise ValueError("give content or file_size")
    full = _make_file("photo", "photo.jpg", content, file_size)
    thumb_size = None if content is not None else min(1024, file_size or 0)
    thumb = _make_file("photo", "thumb.jpg", content[:1024] if content else None, thumb_size)
    photo = [
        _photo_size(thumb, max(1, width // 4), max(1, height // 4)),
        _photo_size(full, width, height),
    ]
    extra = {"caption": caption} if caption is not None else {}
    return _user_message(
        user_id,
        chat_id=chat_id,
        message_id=message_id,
        first_name=first_name,
        username=username,
        language_code="fa",
        shape=shape,
        files=[thumb, full],
        photo=photo,
        **extra,
    )


def location_update(
    user_id: int,
    latitude: float,
    longitude: float,
    *,
    first_name: str = "کاربر",
    shape: Shape = "telegram",
) -> dict[str, Any]:
    """A location shared from the phone (Telegram and Bale both send latitude and longitude)."""
    return _user_message(
        user_id,
        chat_id=None,
        message_id=None,
        first_name=first_name,
        username=None,
        language_code="fa",
        shape=shape,
        location={"latitude": latitude, "longitude": longitude},
    )


def voice_update(
    user_id: int,
    content: bytes = b"OggS",
    *,
    duration: int = 3,
    mime_type: str = "audio/ogg",
    chat_id: int | None = None,
    first_name: str = "کاربر",
    shape: Shape = "telegram",
) -> dict[str, Any]:
    """A voice note; Bale's comes without `duration`."""
    fake = _make_file("voice", "voice.oga", content, None)
    voice: dict[str, Any] = {
        "file_id": fake.file_id,
        "file_unique_id": fake.file_unique_id,
        "mime_type": mime_type,
        "file_size": fake.file_size,
    }
    if shape == "telegram":
        voice["duration"] = duration
    return _user_message(
        user_id,
        chat_id=chat_id,
        message_id=None,
        first_name=first_name,
        username=None,
        language_code="fa",
        shape=shape,
        files=[fake],
        voice=voice,
    )


def contact_update(
    user_id: int,
    phone: str,
    contact_user_id: int | None,
    *,
    first_name: str = "کاربر",
    chat_id: int | None = None,
    shape: Shape = "telegram",
) -> dict[str, Any]:
    """A shared contact; only trust it when contact_user_id == user_id (own number)."""
    contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
    if contact_user_id is not None:
        contact["user_id"] = contact_user_id
    return _user_message(
        user_id,
        chat_id=chat_id,
        message_id=None,
        first_name=first_name,
        username=None,
        language_code="fa",
        shape=shape,
        contact=contact,
    )
