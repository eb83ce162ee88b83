"""Typed values that messages carry, formatted per locale: codes, money, dates, labels."""

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from string import Formatter
from typing import Any

import jdatetime

from backend.settings import local_zone
from locales.catalogs import plural_count, translate

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
PERSIAN_THOUSANDS = "\u066c"  # ٬ ARABIC THOUSANDS SEPARATOR, used in Persian
PERSIAN_DECIMAL = "\u066b"  # ٫ ARABIC DECIMAL SEPARATOR
LRI, PDI = "\u2066", "\u2069"
# What user text may not bring to a screen: C0 controls but the line feed (ESC, BEL…), DEL,
# C1 controls, and the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069),
# which would reorder what follows them (a name shown as "invoicetab.pdf" that is a .bat).
_NOT_SHOWN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def neutralize(text: str) -> str:
    """User-provided text made safe to show: no control characters but line breaks, no bidi
    controls; a tab becomes a space. The codes' own isolates are added after this."""
    return _NOT_SHOWN.sub(lambda match: " " if match.group() == "\t" else "", text)


@dataclass(frozen=True)
class Msg:
    """A message key with its parameters: the unit every reply and label is made of."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Code:
    """A left-to-right token (tracking code, bill ID, phone): kept in ASCII digits, isolated."""

    value: str


@dataclass(frozen=True)
class Rials:
    amount: int


@dataclass(frozen=True)
class Digits:
    """A number read digit by digit (a meter reading): the locale's digits, never grouped."""

    value: int


@dataclass(frozen=True)
class Number:
    """A measured figure with its decimals (2.5 working days): the locale's digits and decimal
    separator."""

    value: float
    places: int = 1


def isolate(text: str) -> str:
    return f"{LRI}{text}{PDI}"


@dataclass(frozen=True)
class Markup:
    """How a channel shows text: HTML (Telegram) or plain (Bale, SMS, terminal)."""

    escape: Callable[[str], str]
    code: Callable[[str], str]
    # A /command inside a right-to-left text (already escaped). Isolated even in HTML, not put
    # in <code>: Telegram keeps a plain command tappable.
    command: Callable[[str], str] = isolate


PLAIN = Markup(escape=lambda text: text, code=isolate)
HTML = Markup(escape=html.escape, code=lambda text: f"<code>{html.escape(text)}</code>")
RTL_LOCALES = frozenset({"fa"})
# A command and the Latin words after it (`/notices off outage`, `/history CODE [PAGE]`): one
# left-to-right run, which a Persian sentence would otherwise reorder (the slash at its end).
COMMAND = re.compile(r"(?<![\w/])/[a-z]+(?: [A-Za-z0-9_|±+\-\[\]]+(?=[\s،؛,.:)]|$))*")
# Meter readings are read digit by digit, never grouped as amounts are.
READINGS = frozenset({"reading", "previous", "current", "max_reading"})


def localize_digits(text: str, locale: str) -> str:
    return text.translate(PERSIAN_DIGITS) if locale == "fa" else text


def format_number(number: int, locale: str) -> str:
    grouped = f"{number:,}"
    if locale == "fa":
        grouped = grouped.replace(",", PERSIAN_THOUSANDS)
    return localize_digits(grouped, locale)


def tehran_date(moment: datetime) -> date:
    """The calendar day a moment falls on where the desk is (TIMEZONE, Tehran by default)."""
    return moment.astimezone(local_zone()).date()


def format_date(value: date | datetime, locale: str) -> str:
    """A Jalali date; a datetime is first moved to the desk's TIMEZONE and shown with its hour."""
    if isinstance(value, datetime):
        local = value.astimezone(local_zone())
        text = jdatetime.datetime.fromgregorian(datetime=local).strftime("%Y/%m/%d %H:%M")
    else:
        text = jdatetime.date.fromgregorian(date=value).strftime("%Y/%m/%d")
    return localize_digits(text, locale)


def format_value(value: Any, locale: str, markup: Markup) -> str:
    if isinstance(value, Msg):
        return render(value, locale, markup)
    if isinstance(value, Code):
        return markup.code(neutralize(value.value))
    if isinstance(value, Rials):
        return format_number(value.amount, locale)
    if isinstance(value, Digits):
        return localize_digits(str(value.value), locale)
    if isinstance(value, Number):
        text = f"{value.value:.{value.places}f}"
        if locale == "fa":
            text = localize_digits(text.replace(".", PERSIAN_DECIMAL), locale)
        return text
    if isinstance(value, date):  # datetime is a date too
        return format_date(value, locale)
    if isinstance(value, bool):
        raise TypeError("a bool has no wording: pass a Msg")
    if isinstance(value, int):
        return format_number(value, locale)
    return markup.escape(neutralize(str(value)))


def _literal(text: str, locale: str, markup: Markup) -> str:
    if locale not in RTL_LOCALES:
        return markup.escape(text)
    parts, start = [], 0
    for match in COMMAND.finditer(text):
        parts.append(markup.escape(text[start : match.start()]))
        parts.append(markup.command(markup.escape(match.group())))
        start = match.end()
    parts.append(markup.escape(text[start:]))
    return "".join(parts)


def _count(message: Msg) -> int | None:
    name = plural_count(message.key)
    if name is None:
        return None
    value = message.params[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{message.key}: the count {name!r} must be an int")
    return value


def render(message: Msg, locale: str, markup: Markup = PLAIN) -> str:
    """The message's text in a locale (a plural entry in the form for its count), its
    parameters formatted; user text is neutralized (neutralize) and escaped, the catalog's own
    commands isolated in a right-to-left text."""
    parts = []
    text = translate(message.key, locale, _count(message))
    for literal, name, _, _ in Formatter().parse(text):
        parts.append(_literal(literal, locale, markup))
        if name is not None:
            value = message.params[name]
            if name in READINGS and isinstance(value, int) and not isinstance(value, bool):
                value = Digits(value)
            parts.append(format_value(value, locale, markup))
    return "".join(parts)
