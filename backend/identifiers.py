"""Input rules for what customers type: free text, bill and payment IDs, mobiles, national IDs."""

import re
import unicodedata

from persian_tools import national_id as _pt_national_id

# Reasons carried by InvalidIdentifier, so callers can word their answer differently.
FORMAT = "format"  # not this kind of identifier at all ("that is not a bill ID")
CHECKSUM = "checksum"  # right shape, wrong check digit ("a digit is mistyped")
NOT_ELECTRICITY = "not_electricity"  # a valid bill ID, but for water, gas, telephone…


class InvalidIdentifier(ValueError):
    """Text that is not a valid identifier; `reason` is FORMAT, CHECKSUM or NOT_ELECTRICITY."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


# --- Digits and free text -------------------------------------------------------------------

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def to_ascii_digits(text: str) -> str:
    """Persian ۰-۹ (U+06F0..) and Arabic-Indic ٠-٩ (U+0660..) digits to ASCII 0-9."""
    return text.translate(_DIGITS)


# Applied after NFKC: presentation forms are folded by then, and NFKC has already composed
# Arabic yeh + hamza above into ئ, which must happen before yeh is mapped to the Persian one.
_ARABIC_TO_PERSIAN = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
_ZWNJ = "\u200c"
_ZWNJ_RUN = re.compile(_ZWNJ + "{2,}")
_HORIZONTAL_SPACE_RUN = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")


# C0 controls but tab, line feed and carriage return; DEL; the C1 controls. NUL in particular:
# PostgreSQL's text columns refuse it, so one in a description would fail the whole event.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """Remove control characters (NUL, ESC, BEL…), keeping tabs and line breaks: for any input."""
    return _CONTROLS.sub("", text)


def normalize_text(text: str) -> str:
    """Normalize free text for storing and matching; Persian stays Persian.

    Control characters are removed (strip_controls); NFKC folds presentation forms (ﻛ → ك) and
    odd spaces (NBSP → space) without touching Persian letters or digits; Arabic ي ى ك then
    become Persian ی ک; runs of ZWNJ become one ZWNJ (it is part of words, so it is kept); runs
    of spaces and tabs become one space, line breaks are kept with the spaces around them
    removed; the ends are stripped. Digits are left as typed.
    """
    text = unicodedata.normalize("NFKC", strip_controls(text)).translate(_ARABIC_TO_PERSIAN)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZWNJ_RUN.sub(_ZWNJ, text)
    text = _HORIZONTAL_SPACE_RUN.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    return text.strip()


# ZWNJ, zero-width space/joiner, LRM/RLM, bidi embeddings/overrides (U+202A-U+202E), bidi
# isolates (U+2066-U+2069), BOM; plus the Arabic letter mark U+061C and the word joiner U+2060,
# which phone keyboards and copy-paste insert the same way.
_INVISIBLE = (
    "\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069"
    "\ufeff\u061c\u2060"
)
_STRIP_INVISIBLE = str.maketrans("", "", _INVISIBLE)


def strip_invisible(text: str) -> str:
    """Remove zero-width and bidi control marks (including ZWNJ): for IDs, codes and phones."""
    return text.translate(_STRIP_INVISIBLE)


# Whitespace (any, including NBSP), dashes and minus signs, dots (also the Arabic full stop and
# decimal separator), underscores and slashes: the separators people put inside long numbers.
_CODE_SEPARATORS = re.compile(
    r"[\s\-\u2010-\u2015\u2212\ufe63\uff0d.\u06d4\u066b_/\\\u2044\u2215]+"
)


def normalize_code(text: str) -> str:
    """Normalize an ID or code: no invisible marks, ASCII digits, no separators.

    The result may still contain other characters: the caller validates it.
    """
    return _CODE_SEPARATORS.sub("", to_ascii_digits(strip_invisible(text)))


# --- Bill ID and payment ID (شناسه قبض / شناسه پرداخت) ------------------------------------

_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_BILL_OR_PAYMENT_SHAPE = re.compile(r"[0-9]{6,13}", re.ASCII)
ELECTRICITY_SERVICE_TYPE = 2


def mod11_check_digit(digits: str) -> int:
    """The bill-payment check digit: weights 2..7 repeating from the rightmost digit.

    s = Σ digit × weight mod 11; the check digit is 0 if s < 2, else 11 − s.
    """
    if not _ASCII_DIGITS.fullmatch(digits):
        raise ValueError(f"expected ASCII digits, got {digits!r}")
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(digits)))
    s = total % 11
    return 0 if s < 2 else 11 - s


def _canonical_number(text: str) -> str | None:
    """6-13 ASCII digits with leading zeros removed (as in the 26-digit barcode padding), or None.

    Bill and payment IDs are numbers: barcodes left-pad them with zeros to 13 digits, and a
    customer may type them padded. C2 is computed over the unpadded IDs, so we remove the
    padding before any check and return the canonical unpadded form.
    """
    if not _BILL_OR_PAYMENT_SHAPE.fullmatch(text):
        return None
    stripped = text.lstrip("0")
    return stripped if len(stripped) >= 6 else None


def parse_bill_id(text: str) -> str:
    """A bill ID from what a customer typed, canonical (ASCII digits, no leading zeros).

    Raises InvalidIdentifier(FORMAT) unless it is 6-13 digits, InvalidIdentifier(CHECKSUM) if
    the last digit is not the mod-11 check digit of the others.
    """
    bill_id = _canonical_number(normalize_code(text))
    if bill_id is None:
        raise InvalidIdentifier(FORMAT, "a bill ID is 6 to 13 digits")
    if mod11_check_digit(bill_id[:-1]) != int(bill_id[-1]):
        raise InvalidIdentifier(CHECKSUM, "the bill ID's check digit does not match")
    return bill_id


def is_electricity_bill_id(bill_id: str) -> bool:
    """Whether a parsed bill ID is for electricity: its service-type digit (2nd to last) is 2."""
    return len(bill_id) >= 2 and bill_id[-2] == str(ELECTRICITY_SERVICE_TYPE)


def parse_electricity_bill_id(text: str) -> str:
    """Like parse_bill_id, and raises InvalidIdentifier(NOT_ELECTRICITY) for other services."""
    bill_id = parse_bill_id(text)
    if not is_electricity_bill_id(bill_id):
        raise InvalidIdentifier(NOT_ELECTRICITY, "this bill ID is not for electricity")
    return bill_id


def make_bill_id(file_number: int | str, company_code: int | str, service_type: int = 2) -> str:
    """Build a valid bill ID: file number + 3-digit company code + service type + check digit.

    The file number is a number (1 to 8 digits): its leading zeros are dropped, as in every bill
    ID (the barcode pads with zeros, the ID itself does not start with one). The company code is
    zero-padded to 3 digits.
    """
    file_int = _to_int(file_number, "file_number")
    company_int = _to_int(company_code, "company_code")
    if not 1 <= file_int <= 99_999_999:
        raise ValueError(f"file number must be 1 to 8 digits, got {file_number!r}")
    if not 0 <= company_int <= 999:
        raise ValueError(f"company code must be 0 to 999, got {company_code!r}")
    if not 0 <= service_type <= 9:
        raise ValueError(f"service type must be one digit, got {service_type!r}")
    body = f"{file_int}{company_int:03d}{service_type}"
    return body + str(mod11_check_digit(body))


def _to_int(value: int | str, name: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be int or str")
    if isinstance(value, int):
        return value
    digits = normalize_code(value)
    if not _ASCII_DIGITS.fullmatch(digits):
        raise ValueError(f"{name} must be digits, got {value!r}")
    return int(digits)


def _require_bill_id(bill_id: str) -> str:
    """The canonical form of a bill ID given by the program; a bad one is a bug, not user input.

    Raises plain ValueError (not InvalidIdentifier) so that a caller catching InvalidIdentifier
    for the payment ID does not blame the customer's payment ID for a bad bill ID.
    """
    try:
        return parse_bill_id(bill_id)
    except InvalidIdentifier as exc:
        raise ValueError(f"not a valid bill ID: {bill_id!r} ({exc.reason})") from None


def parse_payment_id(text: str, bill_id: str) -> str:
    """A payment ID from what a customer typed, checked against its (valid) bill ID.

    Returns the canonical form (ASCII digits, no leading zeros). Raises InvalidIdentifier(FORMAT)
    unless it is 6-13 digits, InvalidIdentifier(CHECKSUM) if C1 (over the payment ID without its
    last two digits) or C2 (over bill ID + payment ID without its last digit) does not match.
    Raises plain ValueError if `bill_id` itself is not a valid bill ID.
    """
    bill = _require_bill_id(bill_id)
    payment_id = _canonical_number(normalize_code(text))
    if payment_id is None:
        raise InvalidIdentifier(FORMAT, "a payment ID is 6 to 13 digits")
    c1_ok = mod11_check_digit(payment_id[:-2]) == int(payment_id[-2])
    c2_ok = mod11_check_digit(bill + payment_id[:-1]) == int(payment_id[-1])
    if not (c1_ok and c2_ok):
        raise InvalidIdentifier(CHECKSUM, "the payment ID's check digits do not match")
    return payment_id


def make_payment_id(amount_rials: int, jalali_year: int, period: int, bill_id: str) -> str:
    """Build the payment ID for a bill: amount in thousands of rials, year digit, period, C1, C2.

    `amount_rials` must be a positive multiple of 1000 (ValueError otherwise) and below
    100,000,000,000 rials (8 digits of thousands, so the ID stays within 13 digits).
    """
    if isinstance(amount_rials, bool) or not isinstance(amount_rials, int):
        raise TypeError("amount_rials must be an int")
    if amount_rials <= 0 or amount_rials % 1000:
        raise ValueError(f"amount must be a positive multiple of 1000 rials, got {amount_rials}")
    thousands = amount_rials // 1000
    if thousands > 99_999_999:
        raise ValueError(f"amount too large for a payment ID: {amount_rials}")
    if jalali_year < 0:
        raise ValueError(f"bad Jalali year: {jalali_year}")
    if not 0 <= period <= 99:
        raise ValueError(f"period must be two digits, got {period}")
    bill = _require_bill_id(bill_id)
    body = f"{thousands}{jalali_year % 10}{period:02d}"
    body += str(mod11_check_digit(body))
    return body + str(mod11_check_digit(bill + body))


def payment_amount_rials(payment_id: str) -> int:
    """The amount a payment ID encodes, in rials (its leading part × 1000).

    Checks the shape only (raises InvalidIdentifier(FORMAT)); check digits need the bill ID: use
    parse_payment_id first.
    """
    canonical = _canonical_number(normalize_code(payment_id))
    if canonical is None:
        raise InvalidIdentifier(FORMAT, "a payment ID is 6 to 13 digits")
    return int(canonical[:-5]) * 1000


# --- Numbers typed where an id or a count is expected ------------------------------------

MAX_ROW_ID = 2_147_483_647  # PostgreSQL's integer: every id column, and what a count needs


def parse_bounded_int(text: str, maximum: int = MAX_ROW_ID) -> int | None:
    """A whole number from 0 to `maximum` typed in any of the three digit scripts, or None.

    The digits are counted before int() sees them, so no length of input costs more than that.
    """
    digits = to_ascii_digits(strip_invisible(text)).strip()
    if not _ASCII_DIGITS.fullmatch(digits):
        return None
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return None
    value = int(significant)
    return value if value <= maximum else None


# --- Mobile numbers -------------------------------------------------------------------------

_MOBILE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212().]+")
# Optional country prefix (+98, 0098, 98), an optional trunk 0 ("+98 (0)912…"), then 9 + 9 digits.
_MOBILE = re.compile(r"(?:\+98|0098|98)?0?(9[0-9]{9})", re.ASCII)
_E164_MOBILE = re.compile(r"\+989[0-9]{9}", re.ASCII)


def normalize_mobile(text: str) -> str:
    """An Iranian mobile number as E.164 (+989XXXXXXXXX); InvalidIdentifier(FORMAT) otherwise.

    Checks the shape only, not the operator prefix (those tables go stale).
    """
    cleaned = _MOBILE_SEPARATORS.sub("", to_ascii_digits(strip_invisible(text)))
    match = _MOBILE.fullmatch(cleaned)
    if match is None:
        raise InvalidIdentifier(FORMAT, "not an Iranian mobile number")
    return "+98" + match.group(1)


def _mask_keep_last(value: str, keep: int = 4) -> str:
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def mask_mobile(e164: str) -> str:
    """For logs: +989121234567 → +98912***4567 (anything else: all but the last 4 masked)."""
    if _E164_MOBILE.fullmatch(e164):
        return e164[:6] + "***" + e164[-4:]
    return _mask_keep_last(e164)


def display_mobile(e164: str) -> str:
    """For subscribers' and staff's screens, as Iranians write a mobile: +989361238866 →
    0936***8866 (anything else: all but the last 4 masked)."""
    if _E164_MOBILE.fullmatch(e164):
        return "0" + mask_mobile(e164)[3:]
    return _mask_keep_last(e164)


def local_mobile(e164: str) -> str:
    """A mobile in full, for staff who may see it, as Iranians write it: +989361238866 →
    09361238866 (anything else as it is)."""
    return "0" + e164[3:] if _E164_MOBILE.fullmatch(e164) else e164


def mask_national_id(nid: str) -> str:
    """For logs: 0012345678 → ******5678."""
    return _mask_keep_last(nid)


# --- National ID (کد ملی) -----------------------------------------------------------------

_NATIONAL_ID = re.compile(r"[0-9]{10}", re.ASCII)


def parse_national_id(text: str) -> str:
    """A 10-digit national ID, leading zeros kept.

    Raises InvalidIdentifier(FORMAT) unless it is exactly 10 digits, for all-same-digit IDs and
    for IDs whose digits 4-9 are all zero (never issued); InvalidIdentifier(CHECKSUM) if the
    check digit does not match.
    """
    code = normalize_code(text)
    # Length first: persian_tools zero-pads shorter input, so it would accept a 9-digit ID.
    if not _NATIONAL_ID.fullmatch(code):
        raise InvalidIdentifier(FORMAT, "a national ID is 10 digits")
    if len(set(code)) == 1 or code[3:9] == "000000":
        raise InvalidIdentifier(FORMAT, "not a national ID")
    if not _pt_national_id.validate(code):
        raise InvalidIdentifier(CHECKSUM, "the national ID's check digit does not match")
    return code
