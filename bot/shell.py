"""The terminal chat: the real dialogs on the embedded default, one line in, replies out."""

import mimetypes
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TextIO

from sqlmodel import select

from backend.constants import Channel
from backend.db import get_engine, migrate, session_scope
from backend.demo import seed_demo
from backend.models import Subscription
from backend.settings import Settings, get_settings
from bot.clock import send_outage_reminders
from bot.wiring import make_dialogs
from dialogs.engine import Answer, DialogEngine
from dialogs.events import Event, EventKind, IncomingFile
from locales.values import PLAIN, render
from notifications.runtime import Notifier

DEFAULT_USER = "local"
HELP = """Terminal chat. Type answers, or a button's number or label.
  /file PATH       send a file as a document
  /contact PHONE   share a phone number
  /location LAT LON  share a location (e.g. /location 34.64 50.88)
  /sticker         send a sticker (something that is not text)
  /as NAME         continue as another simulated user
  /quit            leave (end of input does too)"""


def prepare_embedded_default(settings: Settings) -> None:
    """Applies the migrations and, on first run, loads the demo data."""
    migrate(settings.database_url)
    with session_scope() as session:
        if session.exec(select(Subscription.id).limit(1)).first() is None:
            summary = seed_demo(session)
            print(f"Demo data loaded. Try the bill ID {summary.sample_bill_id}.")


def _lines(stdin: TextIO) -> Iterator[str]:
    if stdin.isatty():
        while True:
            try:
                yield input("> ")
            except EOFError:
                return
    else:
        for line in stdin:
            print(f"> {line.rstrip()}")
            yield line


def _file_event(user: str, argument: str) -> Event | str:
    path = Path(argument).expanduser()
    if not path.is_file():
        return f"No such file: {path}"
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    file = IncomingFile(
        name=path.name,
        content_type=content_type,
        size_bytes=path.stat().st_size,
        fetch=path.read_bytes,
    )
    return Event(Channel.SHELL, user, EventKind.FILE, file=file)


def _location_event(user: str, argument: str) -> Event | str:
    try:
        latitude, longitude = (float(part) for part in argument.replace(",", " ").split())
    except ValueError:
        return "Usage: /location LATITUDE LONGITUDE"
    return Event(Channel.SHELL, user, EventKind.LOCATION, location=(latitude, longitude))


def _event(user: str, line: str) -> Event | str:
    """The event a typed line stands for, or a note for the terminal user."""
    command, _, argument = line.partition(" ")
    if command == "/file":
        return _file_event(user, argument.strip())
    if command == "/contact":
        return Event(Channel.SHELL, user, EventKind.CONTACT, phone=argument, contact_is_own=True)
    if command == "/location":
        return _location_event(user, argument)
    if command == "/sticker":
        return Event(Channel.SHELL, user, EventKind.UNSUPPORTED)
    return Event(Channel.SHELL, user, EventKind.TEXT, text=line)


def print_answer(answer: Answer, out: TextIO, files_dir: Path | None = None) -> None:
    number = 0
    for reply in answer.replies:
        print(render(reply.text, answer.locale, PLAIN), file=out)
        for file in reply.files:  # a messenger sends it; here, where to open it
            where = files_dir / file.storage_key if files_dir is not None else file.storage_key
            print(f"  (file) {file.name}: {where}", file=out)
        for row in reply.buttons:
            for button in row:
                number += 1
                print(f"  [{number}] {render(button.label, answer.locale, PLAIN)}", file=out)
        print(file=out)


def _start(engine: DialogEngine, user: str, out: TextIO) -> None:
    print_answer(engine.handle(Event(Channel.SHELL, user, EventKind.TEXT, text="/start")), out)


def chat(
    engine: DialogEngine,
    stdin: TextIO,
    out: TextIO,
    after_event: Callable[[], None] = lambda: None,
) -> None:
    user = DEFAULT_USER
    _start(engine, user, out)
    for raw in _lines(stdin):
        line = raw.strip()
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return
        if line.startswith("/as "):
            user = line.removeprefix("/as ").strip() or DEFAULT_USER
            print(f"(now chatting as {user})", file=out)
            _start(engine, user, out)
            continue
        event = _event(user, line)
        if isinstance(event, str):
            print(event, file=out)
            continue
        print_answer(engine.handle(event), out, engine.settings.files_dir)
        after_event()


def main() -> None:
    # The person at the terminal reads the SMS the desk sends, one-time codes included.
    settings = get_settings().model_copy(update={"sms_console_echo": True})
    prepare_embedded_default(settings)
    engine = make_dialogs(settings, get_engine())
    print(HELP)
    notifier = Notifier(settings, get_engine())
    # On the embedded default the notices an event caused are sent (console SMS) right after it,
    # with the reminders due by then (no clock runs there).
    chat(
        engine,
        sys.stdin,
        sys.stdout,
        partial(_after_event, notifier) if notifier.inline else lambda: None,
    )


def _after_event(notifier: Notifier) -> None:
    send_outage_reminders(notifier)
    notifier.run_pending()
