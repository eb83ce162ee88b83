"""A notice or broadcast as each channel shows it: its catalog message, typed parameters, the
SMS cut, messages split to what a messenger takes."""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from backend.broadcasts import OUTAGE_KEY, OUTAGE_REASONS
from backend.constants import Channel, NoticeKind
from backend.feedback import SCORES
from channels.registry import MESSENGERS
from channels.replies import Button
from channels.sms.text import fit_to_parts
from locales.values import (
    Code,
    Markup,
    Msg,
    Number,
    Rials,
    localize_digits,
    render,
    tehran_date,
)

# SMS is plain text; a code or a command needs no bidi isolates there, and some handsets show
# them as boxes.
DAY_LENGTH = len("2026-01-01")
SMS_MARKUP = Markup(escape=lambda text: text, code=lambda text: text, command=lambda text: text)
# Notices worded otherwise by SMS (`notice.<kind>_sms`): what the buttons ask, asked in words.
SMS_WORDED = frozenset({NoticeKind.FEEDBACK})
# The feedback question's buttons, `fb:<score>:<tracking code>`, best first; a digit texted back
# presses one (bot.sms_desk).
FEEDBACK_PREFIX = "fb"


def typed_param(name: str, value: Any) -> Any:
    """A stored parameter as the value type its name says (backend.notices' convention)."""
    if name.endswith(("_percent", "_score")):  # a report's figure; None: nothing to measure
        if value is None:
            return Msg("report.none")
        if name.endswith("_percent"):
            return Msg("report.percent", {"percent": value})
        return Msg("report.score", {"score": Number(value)})  # an average of 1 to 5
    if value is None:
        return None
    if name == "code":
        return Code(str(value))
    if name == "service":  # a request's kind, and where it stands: named in words
        return Msg(f"kind.{value}")
    if name == "step":
        return Msg(f"status.{value}")
    if name == "counter_step":  # where a pishkhan counter stands, in words
        return Msg(f"counter.status.{value}")
    if name == "rejection":  # why an objection was not upheld, in words
        return Msg(f"staff.rejection.{value}")
    if name == "due":  # a step's deadline, shown with its hour; "" for a step with none
        return (
            Msg("staff.act.due", {"deadline": datetime.fromisoformat(value)})
            if value
            else Msg("staff.act.no_deadline")
        )
    if name == "holder":  # who holds a request; "" for nobody
        return (
            Msg("staff.queue.holder", {"name": value})
            if value
            else Msg("staff.queue.held_by_nobody")
        )
    if name.endswith("_rials"):
        return Rials(int(value))
    if name.endswith("_date"):
        if isinstance(value, str):  # stored ISO: a day, or a moment such as a deadline
            value = (
                date.fromisoformat(value)
                if len(value) == DAY_LENGTH
                else datetime.fromisoformat(value)
            )
        # A moment is shown as the day it falls on in Iran.
        return tehran_date(value) if isinstance(value, datetime) else value
    if name.endswith("_at"):  # a moment, shown with its hour in Iran (format_date)
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    if name == "outage_reason":  # a planned outage's: a known reason in words, else as typed
        return Msg(f"broadcast.reason.{value}") if value in OUTAGE_REASONS else value
    if name in ("role", "channel"):  # a staff role, a channel: named in words
        return Msg(f"staff.{name}.{value}")
    return value


def notice_message(kind: str, params: Mapping[str, Any], channel: Channel | None = None) -> Msg:
    """The notice's message; on `channel` SMS, its SMS wording where it has one."""
    key = (
        f"notice.{kind}_sms" if channel == Channel.SMS and kind in SMS_WORDED else f"notice.{kind}"
    )
    if kind == NoticeKind.SERVICE_STEP:  # a service defined as data: its step's own text
        key = f"service.notice.{params['notice']}"
    return Msg(key, {name: typed_param(name, v) for name, v in params.items()})


def feedback_value(score: int, tracking_code: str) -> str:
    return f"{FEEDBACK_PREFIX}:{score}:{tracking_code}"


def feedback_buttons(tracking_code: str) -> list[list[Button]]:
    """The scores, 5 (excellent) down to 1 (very poor), one a row: each label reads whole."""
    return [
        [Button(Msg(f"feedback.score_{score}"), feedback_value(score, tracking_code))]
        for score in reversed(SCORES)
    ]


def broadcast_message(message_key: str, params: dict[str, Any], locale: str) -> Msg:
    """The message a subscriber reading `locale` gets (times in their digits)."""
    if message_key != OUTAGE_KEY:
        return Msg(message_key, params)
    reason = params["reason"]
    return Msg(
        OUTAGE_KEY,
        {
            "place": params["place"],
            "day": date.fromisoformat(params["day"]),
            "start": localize_digits(params["start"], locale),
            "end": localize_digits(params["end"], locale),
            "reason": Msg(f"broadcast.reason.{reason}") if reason else params["reason_text"],
        },
    )


def render_for_channel(
    message: Msg, channel: Channel, locale: str, max_parts: int, sms_tail: Msg | None = None
) -> str:
    """Telegram's HTML, Bale's plain text, or plain text cut to `max_parts` SMS parts.

    An SMS has no buttons: `sms_tail` (a payment link) stands in for them, kept whole.
    """
    if channel in MESSENGERS:
        return render(message, locale, MESSENGERS[channel].markup)
    tail = "\n" + render(sms_tail, locale, SMS_MARKUP) if sms_tail is not None else ""
    return fit_to_parts(render(message, locale, SMS_MARKUP), max_parts, tail=tail)


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at line ends where there are any
    (markup never spans lines here), else at the last space, else hard."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    return [*parts, text] if text or not parts else parts
