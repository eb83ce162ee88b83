"""Tracking codes: shape, the Damm check digit's guarantees, parsing and finding them in text."""

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.identifiers import CHECKSUM, FORMAT, InvalidIdentifier
from backend.tracking import (
    find_tracking_code,
    is_valid_tracking_code,
    new_tracking_code,
    parse_tracking_code,
    tracking_check_digit,
)

FAST = settings(max_examples=200, deadline=None)


def persian(digits: str) -> str:
    return "".join(chr(0x06F0 + int(d)) for d in digits)


def arabic(digits: str) -> str:
    return "".join(chr(0x0660 + int(d)) for d in digits)


def substitutions(code: str) -> list[str]:
    return [
        code[:i] + d + code[i + 1 :] for i in range(len(code)) for d in "0123456789" if d != code[i]
    ]


def adjacent_transpositions(code: str) -> list[str]:
    return [
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(len(code) - 1)
        if code[i] != code[i + 1]
    ]


# Codes as new_tracking_code makes them, but drawn by hypothesis: a 9-digit body not starting
# with 0, then its check digit.
bodies = st.integers(min_value=10**8, max_value=10**9 - 1).map(str)
codes = bodies.map(lambda body: body + str(tracking_check_digit(body)))


def test_damm_known_values() -> None:
    # The textbook example: 572 → check digit 4, and 5724 checks to 0.
    assert tracking_check_digit("572") == 4
    assert tracking_check_digit("5724") == 0
    for bad in ["", "۵۷۲", "57a"]:
        with pytest.raises(ValueError):
            tracking_check_digit(bad)


def test_new_tracking_codes_are_ten_digits_nonzero_first_and_valid() -> None:
    seen = set()
    for _ in range(2000):
        code = new_tracking_code()
        assert re.fullmatch(r"[1-9][0-9]{9}", code, re.ASCII), code
        assert is_valid_tracking_code(code)
        assert parse_tracking_code(code) == code
        seen.add(code)
    assert len(seen) > 1990  # 9·10⁸ possible codes: repeats in 2000 draws are very unlikely
    assert {code[0] for code in seen} == set("123456789")


@FAST
@given(codes)
def test_drawn_codes_are_valid(code: str) -> None:
    assert len(code) == 10 and code[0] != "0"
    assert is_valid_tracking_code(code)
    assert parse_tracking_code(code) == code


@FAST
@given(codes)
def test_every_single_digit_error_is_caught(code: str) -> None:
    for typo in substitutions(code):
        assert not is_valid_tracking_code(typo), (code, typo)
        with pytest.raises(InvalidIdentifier) as excinfo:
            parse_tracking_code(typo)
        expected = FORMAT if typo[0] == "0" else CHECKSUM
        assert excinfo.value.reason == expected


@FAST
@given(codes)
def test_every_adjacent_transposition_is_caught(code: str) -> None:
    for typo in adjacent_transpositions(code):
        assert not is_valid_tracking_code(typo), (code, typo)


def test_damm_catches_all_errors_in_every_short_body() -> None:
    # Every interim state is reached after one digit (row 0 is a permutation), so checking all
    # 3-digit bodies covers every (state, digit, digit) case of the table.
    for body in map("".join, itertools.product("0123456789", repeat=3)):
        check = tracking_check_digit(body)
        for typo in substitutions(body) + adjacent_transpositions(body):
            assert tracking_check_digit(typo) != check, (body, typo)


@FAST
@given(codes, st.data())
def test_parse_accepts_typed_variants(code: str, data: st.DataObject) -> None:
    script = data.draw(st.sampled_from([str, persian, arabic]))
    text = script(code)
    separator = data.draw(st.sampled_from(["", " ", "-", "\u200c"]))
    text = text[:3] + separator + text[3:6] + separator + text[6:]
    wrapped = data.draw(st.sampled_from(["{}", " {} ", "\u2066{}\u2069", "\u200f{}"]))
    assert parse_tracking_code(wrapped.format(text)) == code


@pytest.mark.parametrize(
    "text", ["", "123456789", "12345678901", "0123456789", "12345a7890", "१२३४५६७८९०"]
)
def test_parse_format_errors(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_tracking_code(text)
    assert excinfo.value.reason == FORMAT


def test_is_valid_expects_normalized_input() -> None:
    code = "5724" + "000000"
    code = code[:9] + str(tracking_check_digit(code[:9]))
    assert is_valid_tracking_code(code)
    assert not is_valid_tracking_code(persian(code))
    assert not is_valid_tracking_code(" " + code)
    assert not is_valid_tracking_code(code + "0")
    assert not is_valid_tracking_code("0" + code[1:])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("وضعیت ۱۲۳۴۵۶۷۸۹۰ لطفا", "1234567890"),
        ("کد رهگیری: ٩٨٧٦٥٤٣٢١٠", "9876543210"),
        ("کد۱۲۳۴۵۶۷۸۹۰را", "1234567890"),
        ("1234567890", "1234567890"),
        ("mixed ۱۲۳45٦٧۸۹0.", "1234567890"),
        ("\u20661234567890\u2069 چی شد؟", "1234567890"),
        # A 13-digit bill ID and an 11-digit mobile are skipped, the code after them is found.
        ("قبض 7748317800142 موبایل ۰۹۱۲۱۲۳۴۵۶۷ کد 1112223334", "1112223334"),
        ("first 1111111111 second 2222222222", "1111111111"),
        ("0123456789", "0123456789"),
    ],
)
def test_find_tracking_code(text: str, expected: str) -> None:
    assert find_tracking_code(text) == expected


@pytest.mark.parametrize(
    "text", ["", "سلام", "۱۲۳۴۵۶۷۸۹", "12345678901", "۰۹۱۲۱۲۳۴۵۶۷", "123 456 7890"]
)
def test_find_tracking_code_none(text: str) -> None:
    assert find_tracking_code(text) is None


WORDS = st.sampled_from(["", "سلام", "وضعیت", "درخواست من", "لطفا", "کد:", "?", "\n"])


@FAST
@given(codes, WORDS, WORDS, st.sampled_from([str, persian, arabic]), st.sampled_from(["", " "]))
def test_find_tracking_code_in_free_text(
    code: str, before: str, after: str, script, gap: str
) -> None:
    text = f"{before}{gap}{script(code)}{gap}{after}"
    found = find_tracking_code(text)
    assert found == code
    assert is_valid_tracking_code(found)
