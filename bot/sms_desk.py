"""SMS as a conversation: keywords (opt-out, opt-in, help), else the same dialogs as the bots.

The sender's E.164 mobile is the dialog user on Channel.SMS. Buttons become numbered choices
(the engine takes a typed number as the button), and each reply is cut to a few SMS parts with
the choices kept whole. Replies are sent at once through the configured gateway.
"""

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel
from backend.conversations import claim_event
from backend.db import session_scope
from backend.identifiers import InvalidIdentifier, mask_mobile, normalize_mobile
from backend.models import Conversation
from backend.preferences import set_sms_opt_out
from backend.settings import Settings
from channels.inbound_rate import RateCounter
from channels.render import SMS_MARKUP
from channels.sms import InboundSms, SmsProvider, send_sms
from channels.sms.optout import is_help, is_opt_in, is_opt_out
from channels.sms.text import fit_to_parts
from dialogs.engine import Answer, DialogEngine
from dialogs.events import Event, EventKind
from locales.values import Msg, localize_digits, render

log = logging.getLogger(__name__)
MENU_PROMPT = "menu.prompt"
INPUT_HINTS = "input."
# A push without the gateway's message id (Melipayamak's) is told apart from a redelivery by
# its content: the same text from the same number within this window is answered once.
PUSH_DEDUPE_SECONDS = 60
# ...except a bare choice number: answering «۱» twice in a row is what a subscriber does at
# successive questions, and a duplicated choice costs less than a dropped one.
_CHOICE = re.compile(r"\s*[0-9۰-۹٠-٩]{1,2}\s*")


def render_sms_answer(answer: Answer, max_parts: int) -> str:
    """The replies as one SMS, buttons as numbered choices («۱ بررسی صورت‌حساب»)."""
    replies = answer.replies
    if (
        len(replies) > 1
        and replies[-1].text.key == MENU_PROMPT
        and not replies[0].text.key.startswith(INPUT_HINTS)
    ):
        # After an answer (a status, a filed request) the menu would crowd it out of the parts
        # it may take; its numbers still work. A hint about the input keeps it: it points there.
        replies = replies[:-1]
    locale = answer.locale
    body = "\n".join(render(reply.text, locale, SMS_MARKUP) for reply in replies)
    labels = [
        render(button.label, locale, SMS_MARKUP)
        for reply in replies
        for row in reply.buttons
        for button in row
    ]
    choices = "".join(
        f"\n{localize_digits(str(number), locale)} {label}"
        for number, label in enumerate(labels, start=1)
    )
    return fit_to_parts(body, max_parts, tail=choices)


def event_id_of(sms: InboundSms, provider: str, now: datetime) -> str | None:
    """The gateway's id when it gives one; else a digest of the message and its time window."""
    if sms.provider_id:
        return f"{provider}:{sms.provider_id}"[:64]
    if _CHOICE.fullmatch(sms.text):
        return None
    window = int(now.timestamp()) // PUSH_DEDUPE_SECONDS
    digest = hashlib.sha256(f"{sms.sender}\n{sms.receiver}\n{sms.text}\n{window}".encode())
    return f"{provider}:push:{digest.hexdigest()[:40]}"


class SmsDesk:
    def __init__(
        self,
        *,
        db: sa.Engine,
        settings: Settings,
        dialogs: DialogEngine,
        provider: Callable[[], SmsProvider],
        counter: RateCounter,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.settings = settings
        self.dialogs = dialogs
        self.provider = provider
        self.counter = counter
        self.clock = clock

    def handle(self, sms: InboundSms, provider_name: str) -> str | None:
        """Answers one inbound SMS; the reply sent, or None when none is due."""
        try:
            sender = normalize_mobile(sms.sender)
        except InvalidIdentifier:
            log.info("inbound SMS from a non-mobile sender ignored")
            return None
        count = self.counter.hit(sender)
        limit = self.settings.sms_rate_limit
        if count > limit + 1:
            return None  # already told; every reply costs an SMS
        now = self.clock()
        event_id = event_id_of(sms, provider_name, now)
        if count == limit + 1:
            text = self._keyword_reply(sender, event_id, now, "sms.rate_limited")
        elif is_opt_out(sms.text):
            text = self._keyword_reply(sender, event_id, now, "sms.opted_out", opt_out=True)
        elif is_opt_in(sms.text):
            text = self._keyword_reply(sender, event_id, now, "sms.opted_in", opt_out=False)
        elif is_help(sms.text):
            text = self._keyword_reply(sender, event_id, now, "sms.help")
        else:
            text = self._dialog_reply(sender, sms.text, event_id)
        if text is None:
            return None
        self._send(sender, text)
        return text

    def _dialog_reply(self, sender: str, text: str, event_id: str | None) -> str | None:
        answer = self.dialogs.handle(
            Event(Channel.SMS, sender, EventKind.TEXT, text=text, event_id=event_id)
        )
        if not answer.replies:  # a redelivery, already answered
            return None
        return render_sms_answer(answer, self.settings.sms_reply_max_parts)

    def _keyword_reply(
        self,
        sender: str,
        event_id: str | None,
        now: datetime,
        key: str,
        *,
        opt_out: bool | None = None,
    ) -> str | None:
        """Handles a keyword once per delivery, as the engine does for the rest."""
        with session_scope(self.db) as session:
            if event_id and not claim_event(
                session, channel=Channel.SMS, event_id=event_id, now=now
            ):
                return None
            if opt_out is not None:
                set_sms_opt_out(session, mobile=sender, opted_out=opt_out, now=now)
            locale = self._locale(session, sender)
        if opt_out is not None:
            log.info("%s opted %s", mask_mobile(sender), "out" if opt_out else "in")
        return fit_to_parts(render(Msg(key), locale, SMS_MARKUP), self.settings.sms_reply_max_parts)

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

    def _send(self, to: str, text: str) -> None:
        # Kavenegar takes numeric references: replies take large random ones, far from the
        # delivery ids that notices use.
        reference = str(10**17 + secrets.randbelow(8 * 10**17))
        with self.provider() as provider:
            outcome = send_sms(provider, to, text, reference=reference)
        if outcome.state is None:
            log.warning("reply to %s not sent: %s", mask_mobile(to), outcome.error)
