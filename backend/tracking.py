"""Tracking codes (کد رهگیری): 10 random digits, the last a Damm check digit."""

import re
import secrets

from backend.identifiers import (
    CHECKSUM,
    FORMAT,
    InvalidIdentifier,
    normalize_code,
    strip_invisible,
    to_ascii_digits,
)

TRACKING_CODE_LENGTH = 10

# The Damm quasigroup of order 10 (weakly totally anti-symmetric): a check digit computed with
# it catches every single-digit error and every transposition of two adjacent digits.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_TRACKING_CODE = re.compile(r"[1-9][0-9]{9}", re.ASCII)
_ANY_DIGIT = "0-9۰-۹٠-٩"
# Exactly ten digits in any of the three scripts, not part of a longer run of digits.
_TRACKING_RUN = re.compile(rf"(?<![{_ANY_DIGIT}])[{_ANY_DIGIT}]{{10}}(?![{_ANY_DIGIT}])")


def _damm_interim(digits: str) -> int:
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][ord(digit) - 48]
    return interim


def tracking_check_digit(body: str) -> int:
    """The Damm check digit of a string of ASCII digits."""
    if not _ASCII_DIGITS.fullmatch(body):
        raise ValueError(f"expected ASCII digits, got {body!r}")
    return _damm_interim(body)


def new_tracking_code() -> str:
    """A new random tracking code: 9 digits from `secrets` (the first 1-9) and a check digit.

    Not guaranteed unique: the database's unique constraint and a retry see to that.
    """
    body = str(secrets.randbelow(9 * 10**8) + 10**8)
    return body + str(tracking_check_digit(body))


def is_valid_tracking_code(code: str) -> bool:
    """Whether `code` (already normalized: ASCII digits) is a 10-digit code with a valid check."""
    return _TRACKING_CODE.fullmatch(code) is not None and _damm_interim(code) == 0


def parse_tracking_code(text: str) -> str:
    """A tracking code from what a customer typed (Persian digits, spaces, dashes are fine).

    Raises InvalidIdentifier(FORMAT) unless it is 10 digits not starting with 0,
    InvalidIdentifier(CHECKSUM) if the check digit does not match.
    """
    code = normalize_code(text)
    if not _TRACKING_CODE.fullmatch(code):
        raise InvalidIdentifier(FORMAT, "a tracking code is 10 digits")
    if _damm_interim(code) != 0:
        raise InvalidIdentifier(CHECKSUM, "the tracking code's check digit does not match")
    return code


def find_tracking_code(text: str) -> str | None:
    """The first run of exactly 10 digits in free text, as ASCII digits; None if there is none.

    Digits may be Persian, Arabic-Indic or ASCII, with words around them
    («وضعیت ۱۲۳۴۵۶۷۸۹۰ لطفا»). Longer runs (a 13-digit bill ID, an 11-digit mobile) are not
    codes and are skipped. Invisible marks (bidi isolates around a code copied from our own
    messages, ZWNJ) are removed first. The result is not validated: use is_valid_tracking_code.
    """
    match = _TRACKING_RUN.search(strip_invisible(text))
    return to_ascii_digits(match.group()) if match else None
