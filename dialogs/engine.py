"""The dialog engine: one event under the user's lock, routed to a step, the result saved."""

import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel
from backend.conversations import (
    OpenConversation,
    claim_event,
    keep_answer,
    mark_answered,
    open_event,
    save_conversation,
    unsent_answer,
)
from backend.db import one_statement, session_scope
from backend.identifiers import normalize_text, strip_controls, to_ascii_digits
from backend.models import Conversation, utcnow
from backend.settings import Settings
from backend.storage import FileStorage
from channels.inbound_rate import MemoryRateCounter, RateCounter
from channels.replies import Button, Reply
from channels.reply_json import replies_from_json, replies_to_json
from dialogs import states
from dialogs.events import Event, EventKind, FetchFailed, FileTooLarge, IncomingFile
from locales.values import Msg, render

log = logging.getLogger(__name__)
NAV_BACK = "nav:back"
NAV_CANCEL = "nav:cancel"
APOLOGY = "error.unexpected"  # the answer to an event that failed for good


@dataclass(frozen=True)
class Effects:
    """What the dialogs set going or count outside the database, wired by whoever runs them.

    By default a broadcast due now is started by the clock's next round, and look-ups by
    tracking code are counted in this process only.
    """

    start_broadcast: Callable[[int], None] = lambda broadcast_id: None
    # Look-ups by tracking code, counted per "channel:user" in a window (TRACK_RATE_*).
    lookups: RateCounter | None = None


def is_transient(error: BaseException) -> bool:
    """Whether trying the event again may cure its failure: the database unreachable, busy or
    in a deadlock, a lost connection, a download that timed out."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        sa.exc.OperationalError
        | sa.exc.InterfaceError
        | sa.exc.DisconnectionError
        | sa.exc.TimeoutError
        | ConnectionError
        | TimeoutError
        | FetchFailed,
    )


class _ContentWanted(Exception):
    """Raised by a file's fetch inside the event's transaction: the step wants the bytes, so
    the transaction is rolled back, the file downloaded outside it, and the event handled anew."""


def _wanted() -> bytes:
    raise _ContentWanted


def _fetched(file: IncomingFile) -> IncomingFile:
    """The file with its bytes downloaded now; its fetch gives them, or raises what the
    download raised for the step to handle (a file too large). A transient failure is raised
    here, for the redelivery to try again."""
    try:
        content = file.fetch()
    except FileTooLarge as too_large:
        refused = too_large

        def fetch() -> bytes:
            raise refused

        return replace(file, fetch=fetch)
    return replace(file, fetch=lambda: content)


def _log_failure(event: Event, error: Exception) -> None:
    """Where it failed, never what it said: an error's text may quote the user's input or a
    statement's parameters."""
    frames = traceback.extract_tb(error.__traceback__)[-6:]
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    causes = [type(error).__qualname__]
    if error.__cause__ is not None:
        causes.append(type(error.__cause__).__qualname__)
    log.error(
        "a %s %s event failed (%s) at %s; answered with an apology",
        event.channel,
        event.kind,
        " from ".join(causes),
        where,
    )


@dataclass
class Context:
    """What a step sees while it handles one event, and what it asks the engine to do."""

    session: Session
    settings: Settings
    storage: FileStorage
    event: Event
    conversation: OpenConversation
    now: datetime
    effects: Effects = field(default_factory=Effects)
    replies: list[Reply] = field(default_factory=list)
    next_state: str | None = None

    @property
    def draft(self) -> dict[str, Any]:
        return self.conversation.data.setdefault("draft", {})

    @property
    def locale(self) -> str:
        return self.conversation.locale

    def say(self, key: str, buttons: Iterable[list[Button]] = (), **params: Any) -> None:
        self.replies.append(Reply(text=Msg(key, params), buttons=list(buttons)))

    def go(self, state: str) -> None:
        """Moves to a state; its prompt is shown (again, if it is the current one)."""
        self.next_state = state

    def retry(self, key: str, **params: Any) -> None:
        """Explains what was wrong with the input, then asks the same question again."""
        self.say(key, **params)
        self.go(self.conversation.state)

    def reset(self, state: str = states.MENU) -> None:
        self.conversation.data.pop("draft", None)
        self.go(state)


@dataclass(frozen=True)
class Answer:
    """The replies to one event, and the locale the user reads them in."""

    locale: str
    replies: list[Reply]
    # The last reply is the prompt of the step the user is at now; the others were said first.
    prompted: bool = False
    # The state the event found the user in: for metrics only, neither stored nor compared.
    step: str = field(default="", compare=False)

    def stored(self) -> dict[str, Any]:
        """As JSON, to be kept with the handled event."""
        replies = replies_to_json(self.replies)
        return {"locale": self.locale, "replies": replies, "prompted": self.prompted}

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> "Answer":
        replies = replies_from_json(stored["replies"])
        return cls(stored["locale"], replies, prompted=stored.get("prompted", False))


def claim(session: Session, event: Event, now: datetime) -> bool:
    """True unless the event is a redelivery of one handled already (the claim commits with
    the handling); an event without an id is always new."""
    if not event.event_id:
        return True
    return claim_event(
        session, channel=event.channel, event_id=event.event_id, now=now, window=event.repeat_window
    )


def keep(session: Session, event: Event, answer: Answer) -> None:
    """Keeps the answer with the claimed event, in the same transaction."""
    if event.event_id:
        keep_answer(session, channel=event.channel, event_id=event.event_id, answer=answer.stored())


def replayed(session: Session, event: Event, locale: str) -> Answer:
    """A redelivery's answer: the one kept, unless it is known to have gone out."""
    assert event.event_id is not None
    stored = unsent_answer(session, channel=event.channel, event_id=event.event_id)
    return Answer.from_stored(stored) if stored else Answer(locale, [])


class Step:
    """One question of a flow. Subclasses override the handlers for the input they accept."""

    name: ClassVar[str]
    back: ClassVar[str | None] = None  # where the back button leads; None: no back button
    help: ClassVar[str] = "help.general"
    # Buttons valued "<prefix>:..." reach this step's on_choice in any state, also from messages
    # sent outside the dialog (notices); such a step re-checks everything the value asks for.
    standing_prefix: ClassVar[str | None] = None

    def prompt(self, ctx: Context) -> Reply:
        raise NotImplementedError

    def back_to(self, ctx: Context) -> str | None:
        """Where the back button leads from here now; `back`, unless the way here depends on
        the channel or the draft (the back button itself is shown whenever `back` is set)."""
        return self.back

    def takes_numbers(self, ctx: Context) -> bool:
        """Whether a number typed here is the answer (a reading, a count), not the number of a
        button shown: its buttons are then chosen by their labels only."""
        return False

    def on_text(self, ctx: Context, text: str) -> None:
        ctx.retry("input.use_buttons")

    def on_choice(self, ctx: Context, value: str) -> None:
        ctx.retry("input.button_expired")

    def on_file(self, ctx: Context, file: IncomingFile) -> None:
        ctx.retry("input.file_not_expected")

    def on_contact(self, ctx: Context, phone: str, is_own: bool) -> None:
        ctx.retry("input.contact_not_expected")

    def on_location(self, ctx: Context, latitude: float, longitude: float) -> None:
        ctx.retry("input.location_not_expected")

    def on_start_payload(self, ctx: Context, payload: str) -> None:
        ctx.go(states.MENU)


Command = Callable[[Context, str], None]
# Offered a command the engine does not know (name, argument); True when it took it.
OtherCommands = Callable[[Context, str, str], bool]


class DialogEngine:
    def __init__(
        self,
        *,
        db: sa.Engine,
        settings: Settings,
        storage: FileStorage,
        steps: Iterable[Step],
        clock: Callable[[], datetime] = utcnow,
        other_commands: OtherCommands = lambda ctx, name, argument: False,
        effects: Effects | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.storage = storage
        self.steps = {step.name: step for step in steps}
        self.standing = {s.standing_prefix: s for s in self.steps.values() if s.standing_prefix}
        self.clock = clock
        self.other_commands = other_commands
        effects = effects or Effects()
        if effects.lookups is None:
            lookups = MemoryRateCounter(settings.track_rate_window_seconds)
            effects = replace(effects, lookups=lookups)
        self.effects = effects
        self.commands: dict[str, Command] = {
            "start": self._start,
            "cancel": lambda ctx, _: self._cancel(ctx),
            "help": lambda ctx, _: ctx.retry(self._step(ctx).help),
            "language": lambda ctx, _: self._ask_language(ctx),
            "menu": lambda ctx, _: ctx.go(states.MENU),
            "status": self._status,
        }

    def handle(self, event: Event) -> Answer:
        """Handles one event; everything it changes commits together, or not at all.

        The answer is kept with the handled event: a redelivery gets it again until the
        channel says it went out (`answered`), and nothing after that. An event that fails
        for a reason a retry will not cure is rolled back, then recorded as handled with an
        apology for its answer, so that its redeliveries do not fail the same way; a
        transient failure (the database, the network) is raised, for a redelivery to retry.
        """
        try:
            if event.file is None:
                return self._handle(event)
            try:
                return self._handle(replace(event, file=replace(event.file, fetch=_wanted)))
            except _ContentWanted:
                # Fetched with no transaction open: a slow download holds neither a
                # connection nor the conversation's lock. The step runs again on the bytes.
                return self._handle(replace(event, file=_fetched(event.file)))
        except Exception as error:
            if is_transient(error):
                raise
            _log_failure(event, error)
            return self._apologise(event)

    def answered(self, *events: Event) -> None:
        """The answers to `events` went out (or never can): their redeliveries are answered
        with nothing from now on. Several at once take one statement a channel."""
        ids: dict[Channel, list[str]] = {}
        for event in events:
            if event.event_id:
                ids.setdefault(event.channel, []).append(event.event_id)
        if not ids:
            return
        with one_statement(self.db) as connection:
            for channel, event_ids in ids.items():
                mark_answered(connection, channel=channel, event_ids=event_ids, now=self.clock())

    def _handle(self, event: Event) -> Answer:
        now = self.clock()
        with session_scope(self.db) as session:
            conversation, new = open_event(
                session,
                channel=event.channel,
                user_id=event.user_id,
                event_id=event.event_id,
                window=event.repeat_window,
                locale=self.settings.default_locale,
                state=states.MENU,
                now=now,
            )
            if not new:
                return replayed(session, event, conversation.locale)
            ctx = Context(
                session, self.settings, self.storage, event, conversation, now, self.effects
            )
            step = conversation.state
            self._route(ctx)
            self._show_next_prompt(ctx)
            answer = Answer(
                conversation.locale, ctx.replies, prompted=ctx.next_state is not None, step=step
            )
            # Saved with the answer kept for the event, in one statement where the database can.
            kept = answer.stored() if event.event_id else None
            save_conversation(session, conversation, now=now, event_id=event.event_id, answer=kept)
            return answer

    def _apologise(self, event: Event) -> Answer:
        """An apology in the user's language, recorded as the event's answer."""
        now = self.clock()
        with session_scope(self.db) as session:
            locale = session.exec(
                select(Conversation.locale).where(
                    Conversation.channel == event.channel, Conversation.user_id == event.user_id
                )
            ).first()
            locale = locale or self.settings.default_locale
            if not claim(session, event, now):  # handled meanwhile, elsewhere
                return replayed(session, event, locale)
            answer = Answer(locale, [Reply(Msg(APOLOGY))])
            keep(session, event, answer)
            return answer

    def _step(self, ctx: Context) -> Step:
        return self.steps.get(ctx.conversation.state) or self.steps[states.MENU]

    def _route(self, ctx: Context) -> None:
        event, conversation = ctx.event, ctx.conversation
        idle = ctx.now - conversation.updated_at
        if conversation.data.get("draft") and idle > timedelta(
            minutes=self.settings.sms_session_ttl_minutes
            if event.channel == Channel.SMS
            else self.settings.draft_ttl_minutes
        ):
            ctx.say("draft.expired_sms" if event.channel == Channel.SMS else "draft.expired")
            ctx.reset()
            # The message itself is taken as said at the menu (a look-up, a command), not
            # swallowed; the expired step's buttons are gone, and a press of one says no more.
            conversation.state = states.MENU
            conversation.data.pop("buttons", None)
            if event.kind == EventKind.CHOICE and not self._standing(event.choice):
                return
            ctx.next_state = None
            self._dispatch(ctx)
            if ctx.next_state is None:
                ctx.go(states.MENU)
            return
        self._dispatch(ctx)

    def _standing(self, value: str) -> bool:
        return value.partition(":")[0] in self.standing

    def _dispatch(self, ctx: Context) -> None:
        """The event to the command or the step it is for."""
        event, conversation = ctx.event, ctx.conversation
        text = strip_controls(event.text)  # every step and command gets text without them
        if event.kind == EventKind.TEXT and text.startswith("/"):
            name, _, argument = text[1:].partition(" ")
            name = name.split("@")[0].lower()
            command = self.commands.get(name)
            if command is not None:
                command(ctx, argument.strip())
            elif not self.other_commands(ctx, name, argument.strip()):
                # Also what a user gets for a command they may not run: it does not exist for them.
                ctx.retry("input.unknown_command")
            return
        kind, choice = event.kind, event.choice
        step = self._step(ctx)
        if kind == EventKind.TEXT:
            choice = self._button_typed(conversation, text, by_number=not step.takes_numbers(ctx))
            kind = EventKind.CHOICE if choice else kind
        if kind == EventKind.CHOICE:
            self._on_choice(ctx, step, choice)
        elif kind == EventKind.TEXT:
            step.on_text(ctx, text)
        elif kind == EventKind.FILE and event.file is not None:
            step.on_file(ctx, event.file)
        elif kind == EventKind.CONTACT:
            step.on_contact(ctx, event.phone, event.contact_is_own)
        elif kind == EventKind.LOCATION and event.location is not None:
            step.on_location(ctx, *event.location)
        else:
            ctx.retry("input.unsupported")
        if ctx.next_state is None and not ctx.replies:
            ctx.go(conversation.state)

    def _on_choice(self, ctx: Context, step: Step, value: str) -> None:
        standing = self.standing.get(value.partition(":")[0])
        if standing is not None:
            standing.on_choice(ctx, value)
        elif value not in {shown for shown, _ in ctx.conversation.data.get("buttons", [])}:
            ctx.retry("input.button_expired")
        elif value == NAV_BACK:
            ctx.go(step.back_to(ctx) or states.MENU)
        elif value == NAV_CANCEL:
            self._cancel(ctx)
        else:
            step.on_choice(ctx, value)

    def _start(self, ctx: Context, payload: str) -> None:
        ctx.reset()
        if payload:
            self.steps[states.MENU].on_start_payload(ctx, payload)
        else:
            ctx.say("start.welcome")

    def _status(self, ctx: Context, code: str) -> None:
        """`/status CODE` looks a request up; a bare `/status` asks for the code."""
        ctx.go(states.TRACK_CODE)  # an unfinished draft is kept, as with /help
        if code:
            self.steps[states.TRACK_CODE].on_text(ctx, code)

    def _cancel(self, ctx: Context) -> None:
        ctx.say("draft.cancelled" if ctx.conversation.data.get("draft") else "draft.nothing")
        ctx.reset()

    def _ask_language(self, ctx: Context) -> None:
        ctx.conversation.data["after_language"] = ctx.conversation.state
        ctx.go(states.LANGUAGE)

    @staticmethod
    def _button_typed(conversation: OpenConversation, text: str, *, by_number: bool = True) -> str:
        """The button a typed text means: its number as shown (unless not `by_number`), or its
        label, both normalized (Arabic ي and ك for Persian ی and ک, any digits, spacing, case)."""
        typed = _typed_form(text)
        for number, (value, label) in enumerate(conversation.data.get("buttons", []), start=1):
            if (by_number and typed == str(number)) or typed == _typed_form(label):
                return value
        return ""

    def _show_next_prompt(self, ctx: Context) -> None:
        if ctx.next_state is None:
            return
        ctx.conversation.state = ctx.next_state
        step = self._step(ctx)
        reply = step.prompt(ctx)
        if step.back is not None:
            reply.buttons.append(
                [Button(Msg("nav.back"), NAV_BACK), Button(Msg("nav.cancel"), NAV_CANCEL)]
            )
        ctx.conversation.data["buttons"] = [
            [button.value, render(button.label, ctx.locale)]
            for row in reply.buttons
            for button in row
        ]
        ctx.replies.append(reply)


def _typed_form(text: str) -> str:
    return to_ascii_digits(normalize_text(text)).casefold()
