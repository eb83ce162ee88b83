"""SMS length: GSM-7 or UCS-2, parts needed, and cutting a notice to fit a number of parts."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

# GSM 03.38 default alphabet (ESC excluded); each costs one septet.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: ESC + character, two septets, never split across parts.
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153  # septets; a multipart header takes the difference
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units

# A GSM text cut with "…" would turn UCS-2 and lose more than half its room, so it gets "...".
_ELLIPSIS_UCS2, _ELLIPSIS_GSM7 = "…", "..."


def is_gsm7(text: str) -> bool:
    """Whether the text fits the GSM-7 alphabet; any other character makes the SMS UCS-2."""
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text)


def _costs(text: str) -> tuple[list[int], int, int]:
    """Per-character cost, single-part room and per-part room for the text's encoding."""
    if is_gsm7(text):
        return [2 if ch in _GSM_EXTENSION else 1 for ch in text], GSM7_SINGLE, GSM7_PART
    # Characters beyond the BMP (emoji) take a UTF-16 surrogate pair, which is not split.
    return [1 if ord(ch) <= 0xFFFF else 2 for ch in text], UCS2_SINGLE, UCS2_PART


def parts_needed(text: str) -> int:
    """How many SMS parts the text takes (an empty text still takes one)."""
    costs, single, per_part = _costs(text)
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def _is_code_char(ch: str) -> bool:
    """Digits of any script and Latin letters: runs of them are codes, never cut."""
    return (ch.isascii() and ch.isalnum()) or unicodedata.category(ch) == "Nd"


def _with_ellipsis(prefix: str, text: str) -> str:
    """The head without trailing space, and the ellipsis its encoding (or the text's) takes."""
    body = prefix.rstrip().rstrip("\u200c")  # a cut right after a ZWNJ leaves it dangling
    return body + (_ELLIPSIS_GSM7 if is_gsm7(body or text) else _ELLIPSIS_UCS2)


def fit_to_parts(text: str, max_parts: int, *, tail: str = "") -> str:
    """The text itself if it fits in `max_parts` parts, else its longest fitting head + "…".

    The cut falls between words. Only when not even the first word fits is a word cut, and
    then never inside a run of digits or Latin letters (codes, amounts, tracking numbers). A
    GSM-7 head ends with "..." instead, so that it stays GSM-7. A `tail` (the numbered choices
    of a reply) follows the text whole, and only the text is cut; a tail that cannot fit even
    after an empty text is cut with it.
    """
    if max_parts < 1:
        raise ValueError("max_parts must be at least 1")
    if parts_needed(text + tail) <= max_parts:
        return text + tail

    def fits(end: int) -> bool:
        return parts_needed(_with_ellipsis(text[:end], text) + tail) <= max_parts

    if tail and not fits(0):
        return fit_to_parts(text + tail, max_parts)
    word_ends = [i for i in range(1, len(text)) if text[i].isspace() and not text[i - 1].isspace()]
    end = _last_fitting(word_ends, fits)
    if end is None:
        outside_codes = [
            i
            for i in range(1, len(text))
            if not (_is_code_char(text[i - 1]) and _is_code_char(text[i]))
        ]
        end = _last_fitting(outside_codes, fits)
    return _with_ellipsis(text[:end] if end else "", text) + tail


def _last_fitting(candidates: Sequence[int], fits: Callable[[int], bool]) -> int | None:
    """The largest of the ascending candidates that fits, found by bisection.

    A longer head never fits better; only a candidate checked to fit is returned.
    """
    best, low, high = None, 0, len(candidates) - 1
    while low <= high:
        middle = (low + high) // 2
        if fits(candidates[middle]):
            best, low = candidates[middle], middle + 1
        else:
            high = middle - 1
    return best


def fit_lines(
    lines: Sequence[tuple[str, bool]], max_parts: int, *, choices: Sequence[str] = ()
) -> str:
    """The lines, one below the other, then the choices, fitted to `max_parts` parts whole.

    Each line is (text, essential). What does not fit is dropped whole, last first: first the
    lines that are not essential; then, when the choices alone take more than the parts, the
    last choices (their numbers still work). Only when the essential lines do not fit with
    the choices is the text cut, as `fit_to_parts` cuts it, the choices whole after it.
    """

    def joined(kept: Sequence[tuple[str, bool]], shown: Sequence[str]) -> str:
        return "\n".join(line for line, _ in kept) + "".join("\n" + choice for choice in shown)

    kept = list(lines)
    for index in range(len(kept) - 1, -1, -1):
        if parts_needed(joined(kept, choices)) <= max_parts:
            return joined(kept, choices)
        if not kept[index][1]:
            del kept[index]
    if parts_needed(joined(kept, choices)) <= max_parts:
        return joined(kept, choices)
    text, tail = joined(kept, ()), joined((), choices)
    if parts_needed(_with_ellipsis("", tail) + tail) > max_parts:  # the choices alone overflow
        shown = list(choices)
        while shown and parts_needed(joined(kept, shown)) > max_parts:
            shown.pop()
        if shown:
            return joined(kept, shown)
        tail = ""
    return fit_to_parts(text, max_parts, tail=tail)
