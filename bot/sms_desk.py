"""SMS as a conversation: keywords (opt-out, opt-in, help), else the same dialogs as the bots.

The sender's E.164 mobile is the dialog user on Channel.SMS. Buttons become numbered choices
(the engine takes a typed number as the button), and each reply is fitted to a few SMS parts
whole: lines that do not fit are dropped, never cut, the essential ones kept and the choices
too. Replies are sent at once through the configured gateway; an answer not known to have gone
out is sent again when the same SMS is pushed again.
"""

import hashlib
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel
from backend.db import session_scope
from backend.identifiers import InvalidIdentifier, mask_mobile, normalize_mobile
from backend.models import Conversation
from backend.preferences import set_sms_opt_out
from backend.settings import Settings
from channels.inbound_rate import RateCounter
from channels.metrics import INBOUND_SMS, UPDATE_SECONDS
from channels.render import SMS_MARKUP
from channels.replies import Reply
from channels.sms import InboundSms, SmsSource, send_sms
from channels.sms.optout import is_help, is_opt_in, is_opt_out
from channels.sms.text import fit_lines
from dialogs.engine import Answer, DialogEngine, claim, keep, replayed
from dialogs.events import Event, EventKind
from dialogs.feedback import sms_score_choice
from locales.values import Msg, localize_digits, render

log = logging.getLogger(__name__)
MENU_PROMPT = "menu.prompt"
INPUT_HINTS = "input."
# A push without the gateway's message id (Melipayamak's) is told apart from a redelivery by
# its content: the same text from the same number within this long of the first is answered
# once (a sliding window: the clock's minutes do not matter).
PUSH_DEDUPE = timedelta(seconds=60)
# ...except a bare choice number: answering «۱» twice in a row is what a subscriber does at
# successive questions, and a duplicated choice costs less than a dropped one.
_CHOICE = re.compile(r"\s*[0-9۰-۹٠-٩]{1,2}\s*")


def render_sms_answer(answer: Answer, max_parts: int) -> str:
    """The replies as one SMS, buttons as numbered choices («۱ بررسی صورت‌حساب»), in at most
    `max_parts` parts with nothing cut: the first line of each reply said is essential; the
    other lines, and the prompt's text after what was said, are dropped whole when they do not
    fit (channels.sms.text.fit_lines)."""
    replies = answer.replies
    prompted = answer.prompted
    hinted = any(reply.text.key.startswith(INPUT_HINTS) for reply in replies[:-1])
    if len(replies) > 1 and replies[-1].text.key == MENU_PROMPT and not hinted:
        # After an answer (a status, a filed request) the menu would crowd it out of the parts
        # it may take; its numbers still work. A hint about the input keeps it: it points there.
        replies, prompted = replies[:-1], False
    return fit_lines(
        _lines(answer, replies, prompted), max_parts, choices=_choices(answer, replies)
    )


def _lines(answer: Answer, replies: list[Reply], prompted: bool) -> list[tuple[str, bool]]:
    """Each reply's lines (blank ones left out), marked essential or not."""
    lines = []
    for number, reply in enumerate(replies, start=1):
        prompt_after_others = prompted and number == len(replies) > 1
        text = render(reply.text, answer.locale, SMS_MARKUP).split("\n")
        shown = [line for line in text if line.strip()]
        lines += [(line, i == 0 and not prompt_after_others) for i, line in enumerate(shown)]
    return lines


def _choices(answer: Answer, replies: list[Reply]) -> list[str]:
    labels = [
        render(button.label, answer.locale, SMS_MARKUP)
        for reply in replies
        for row in reply.buttons
        for button in row
    ]
    return [
        f"{localize_digits(str(number), answer.locale)} {label}"
        for number, label in enumerate(labels, start=1)
    ]


def event_id_of(sms: InboundSms, provider: str) -> str | None:
    """The gateway's id when it gives one; else a digest of the message, which names a repeat
    only within PUSH_DEDUPE of the first (`repeat_window_of`)."""
    if sms.provider_id:
        return f"{provider}:{sms.provider_id}"[:64]
    if _CHOICE.fullmatch(sms.text):
        return None
    digest = hashlib.sha256(f"{sms.sender}\n{sms.receiver}\n{sms.text}".encode())
    return f"{provider}:push:{digest.hexdigest()[:40]}"


def repeat_window_of(sms: InboundSms) -> timedelta | None:
    return None if sms.provider_id else PUSH_DEDUPE


class _SenderLocks:
    """A lock per sender while in use: a push and its repeat in another thread are answered
    one after the other, the second finding the first's answer sent."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, sender: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(sender, (threading.Lock(), 0))
            self._locks[sender] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[sender]
                if users > 1:
                    self._locks[sender] = (lock, users - 1)
                else:
                    del self._locks[sender]


class _Mark:
    def __init__(self, event: Event) -> None:
        self.event = event
        self.written = False
        self.error: BaseException | None = None


class AnsweredMarks:
    """Records answers as sent for the desk's threads: the marks that come while one write is
    under way are written together by the next, one statement for all (a thread among the
    waiting writes them), not a transaction each. Each caller still returns only when its own
    is written, so a push is acknowledged (and a repeat of it finds nothing to send) only then."""

    def __init__(self, dialogs: DialogEngine) -> None:
        self._dialogs = dialogs
        self._turn = threading.Condition()
        self._waiting: list[_Mark] = []
        self._writing = False

    def mark(self, event: Event) -> None:
        mine = _Mark(event)
        with self._turn:
            self._waiting.append(mine)
            while not mine.written:
                if self._writing:
                    self._turn.wait()
                    continue
                self._writing = True
                batch, self._waiting = self._waiting, []
                self._turn.release()
                failure: BaseException | None = RuntimeError("answered marks not written")
                try:
                    self._dialogs.answered(*(m.event for m in batch))
                    failure = None
                except Exception as error:  # each caller raises it, for its redelivery
                    failure = error
                finally:
                    self._turn.acquire()
                    for written in batch:
                        written.written, written.error = True, failure
                    self._writing = False
                    self._turn.notify_all()
        if mine.error is not None:
            raise mine.error


class SmsDesk:
    def __init__(
        self,
        *,
        db: sa.Engine,
        settings: Settings,
        dialogs: DialogEngine,
        provider: SmsSource,
        counter: RateCounter,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.settings = settings
        self.dialogs = dialogs
        self.provider = provider
        self.counter = counter
        self.clock = clock
        self._senders = _SenderLocks()
        self._answered = AnsweredMarks(dialogs)

    def handle(self, sms: InboundSms, provider_name: str) -> str | None:
        """Answers one inbound SMS; the reply sent, or None when none is due.

        The answer is kept with the handled message until it is sent: the same SMS pushed
        again (the gateway got no answer from us) has it sent then, and nothing once it went.
        """
        try:
            sender = normalize_mobile(sms.sender)
        except InvalidIdentifier:
            log.info("inbound SMS from a non-mobile sender ignored")
            return None
        count = self.counter.hit(sender)
        limit = self.settings.sms_rate_limit
        if count > limit + 1:
            return None  # already told; every reply costs an SMS
        event = Event(
            Channel.SMS,
            sender,
            EventKind.TEXT,
            text=sms.text,
            event_id=event_id_of(sms, provider_name),
            repeat_window=repeat_window_of(sms),
        )
        started = time.monotonic()
        with self._senders.hold(sender):
            if count == limit + 1:
                kind, answer = "rate_limited", self._keyword_answer(event, "sms.rate_limited")
            elif is_opt_out(sms.text):
                kind = "keyword"
                answer = self._keyword_answer(event, "sms.opted_out", opt_out=True)
            elif is_opt_in(sms.text):
                kind = "keyword"
                answer = self._keyword_answer(event, "sms.opted_in", opt_out=False)
            elif is_help(sms.text):
                kind, answer = "keyword", self._keyword_answer(event, "sms.help")
            else:
                kind, answer = "dialog", self.dialogs.handle(self._as_score(event))
            INBOUND_SMS.labels(kind).inc()
            if not answer.replies:  # a repeat, already answered
                return None
            text = render_sms_answer(answer, self.settings.sms_reply_max_parts)
            if self._send(sender, text):
                self._answered.mark(event)
        UPDATE_SECONDS.labels(Channel.SMS, answer.step or kind).observe(time.monotonic() - started)
        return text

    def _keyword_answer(self, event: Event, key: str, *, opt_out: bool | None = None) -> Answer:
        """Handles a keyword once per delivery, as the engine does for the rest."""
        now, sender = self.clock(), event.user_id
        with session_scope(self.db) as session:
            locale = self._locale(session, sender)
            if not claim(session, event, now):
                return replayed(session, event, locale)
            if opt_out is not None:
                set_sms_opt_out(session, mobile=sender, opted_out=opt_out, now=now)
            answer = Answer(locale, [Reply(Msg(key))])
            keep(session, event, answer)
        if opt_out is not None:
            log.info("%s opted %s", mask_mobile(sender), "out" if opt_out else "in")
        return answer

    def _as_score(self, event: Event) -> Event:
        """A digit answering the feedback question texted to the sender presses its score."""
        with session_scope(self.db) as session:
            choice = sms_score_choice(
                session, self.settings, mobile=event.user_id, text=event.text, now=self.clock()
            )
        return replace(event, kind=EventKind.CHOICE, choice=choice) if choice else event

    def _locale(self, session: Session, sender: str) -> str:
        locale = session.exec(
            select(Conversation.locale).where(
                Conversation.channel == Channel.SMS, Conversation.user_id == sender
            )
        ).first()
        return locale or self.settings.default_locale

    def poll(self) -> int:
        """Answers what arrived on a gateway that is polled (Kavenegar); push gateways give []."""
        with self.provider() as provider:
            messages, name = provider.receive(), provider.name
        for message in messages:
            self.handle(message, name)
        return len(messages)

    def _send(self, to: str, text: str) -> bool:
        """Sends a reply; True unless sending it again later may get it through."""
        # Kavenegar takes numeric references: replies take large random ones, far from the
        # delivery ids that notices use.
        reference = str(10**17 + secrets.randbelow(8 * 10**17))
        with self.provider() as provider:
            outcome = send_sms(provider, to, text, reference=reference)
        if outcome.state is None:
            log.warning("reply to %s not sent: %s", mask_mobile(to), outcome.error)
        return outcome.state is not None or outcome.permanent
