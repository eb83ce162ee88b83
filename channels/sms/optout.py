"""Recognise the keywords texted to our SMS line: opt-out («لغو۱۱»), opt-in («شروع»), help."""

from __future__ import annotations

import re

from backend.identifiers import normalize_text, strip_invisible, to_ascii_digits

# The whole reply must be the keyword, optionally followed by a number: Iranian lines ask for
# «لغو» plus the line's code (often 11). A keyword inside a sentence ("برق لغو نشود") is not
# a request.
_OPT_OUT = re.compile(r"(?:لغو|stop|off)[0-9]*")
_OPT_IN = re.compile(r"(?:شروع|start)[0-9]*")
_HELP = frozenset({"راهنما", "راهنمایی", "help", "کمک"})
# Spaces, punctuation, tatweel and diacritics (none of them word characters) between letters.
_NOT_WORD = re.compile(r"[\W_\u0640]+")


def _keyword(text: str) -> str:
    """The reply reduced to letters and ASCII digits: Arabic ي/ك folded, ZWNJ and marks gone."""
    text = to_ascii_digits(strip_invisible(normalize_text(text)))
    return _NOT_WORD.sub("", text).casefold()


def is_opt_out(text: str) -> bool:
    """Whether the reply asks to stop non-essential SMS: «لغو», «لغو 11», «لغو۱۱», STOP, off."""
    return _OPT_OUT.fullmatch(_keyword(text)) is not None


def is_opt_in(text: str) -> bool:
    """Whether the reply asks to receive them again: «شروع», «شروع ۱۱», START."""
    return _OPT_IN.fullmatch(_keyword(text)) is not None


def is_help(text: str) -> bool:
    """Whether the text asks what one can text us: «راهنما», «کمک», HELP."""
    return _keyword(text) in _HELP
