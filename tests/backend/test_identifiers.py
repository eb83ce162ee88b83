"""Input rules: free text, bill and payment IDs, mobile numbers, national IDs."""

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from persian_tools import national_id as pt_national_id

from backend.identifiers import (
    CHECKSUM,
    FORMAT,
    NOT_ELECTRICITY,
    InvalidIdentifier,
    display_mobile,
    is_electricity_bill_id,
    make_bill_id,
    make_payment_id,
    mask_mobile,
    mask_national_id,
    mod11_check_digit,
    normalize_code,
    normalize_mobile,
    normalize_text,
    parse_bill_id,
    parse_bounded_int,
    parse_electricity_bill_id,
    parse_national_id,
    parse_payment_id,
    payment_amount_rials,
    strip_controls,
    strip_invisible,
    to_ascii_digits,
)

FAST = settings(max_examples=200, deadline=None)

INVISIBLE_MARKS = [
    "\u200c",
    "\u200b",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\ufeff",
]

# The worked example of the bill-payment spec (a landline bill: service type 4).
EXAMPLE_BILL_ID = "7748317800142"
EXAMPLE_PAYMENT_ID = "1770160"


# --- Independent reference implementations and helpers ------------------------------------


def ref_mod11_sum(digits: str) -> int:
    weights = [2, 3, 4, 5, 6, 7]
    total = 0
    for position, char in enumerate(digits[::-1]):
        total += int(char) * weights[position % len(weights)]
    return total % 11


def ref_mod11(digits: str) -> int:
    s = ref_mod11_sum(digits)
    return 0 if s in (0, 1) else 11 - s


def ref_national_id_check(first_nine: str) -> int:
    r = sum(int(d) * (10 - i) for i, d in enumerate(first_nine)) % 11
    return r if r < 2 else 11 - r


def ref_national_id_valid(code: str) -> bool:
    return (
        len(code) == 10
        and code.isascii()
        and code.isdigit()
        and len(set(code)) > 1
        and code[3:9] != "000000"
        and ref_national_id_check(code[:9]) == int(code[9])
    )


def persian(digits: str) -> str:
    return "".join(chr(0x06F0 + int(d)) if d.isascii() and d.isdigit() else d for d in digits)


def arabic(digits: str) -> str:
    return "".join(chr(0x0660 + int(d)) if d.isascii() and d.isdigit() else d for d in digits)


@st.composite
def disguised(draw: st.DrawFn, digits: str) -> str:
    """The same digits as a customer might type them: mixed scripts, marks and separators."""
    out = []
    for char in digits:
        script = draw(st.sampled_from(["ascii", "persian", "arabic"]))
        out.append({"ascii": char, "persian": persian(char), "arabic": arabic(char)}[script])
        out.append(draw(st.sampled_from(["", "", "", " ", "-", *INVISIBLE_MARKS])))
    lead = draw(st.sampled_from(["", " ", "\u2066", "\u200f"]))
    tail = draw(st.sampled_from(["", " ", "\u2069", "\u200e"]))
    return lead + "".join(out) + tail


def reason_of(excinfo: pytest.ExceptionInfo[InvalidIdentifier]) -> str:
    return excinfo.value.reason


# --- Digits, invisible marks, free text ---------------------------------------------------


def test_to_ascii_digits_converts_persian_and_arabic_only() -> None:
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert to_ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert to_ascii_digits("قبض ۱۲3٤") == "قبض 1234"
    # Other scripts' digits are left alone (and then fail a [0-9] check).
    assert to_ascii_digits("१२३") == "१२३"


def test_strip_invisible_removes_every_mark_and_nothing_else() -> None:
    text = "می" + "".join(INVISIBLE_MARKS) + "خواهم 12"
    assert strip_invisible(text) == "میخواهم 12"
    for mark in INVISIBLE_MARKS:
        assert strip_invisible(f"a{mark}b") == "ab"
    # Also the Arabic letter mark and the word joiner, which keyboards insert the same way.
    assert strip_invisible("1\u061c2\u20603") == "123"


def test_normalize_text_maps_arabic_letters_to_persian() -> None:
    assert normalize_text("علي") == "علی"
    assert normalize_text("موسى") == "موسی"
    assert normalize_text("كرمان") == "کرمان"


def test_normalize_text_folds_presentation_forms() -> None:
    # ﻛ (U+FEDB, initial kaf) and ﯾ (U+FBFE, initial Farsi yeh), ﺳﻼﻡ with the lam-alef ligature.
    assert normalize_text("\ufedb\ufbfe") == "کی"
    assert normalize_text("\ufeb3\ufefc\ufee1") == "سلام"


def test_normalize_text_keeps_zwnj_collapses_repeats() -> None:
    assert normalize_text("می\u200cخواهم") == "می\u200cخواهم"
    assert normalize_text("می\u200c\u200c\u200cخواهم") == "می\u200cخواهم"


def test_normalize_text_spaces() -> None:
    assert normalize_text("  قبض   برق\t\u00a0 من  ") == "قبض برق من"
    assert normalize_text("خط اول  \r\n   خط دوم") == "خط اول\nخط دوم"


def test_normalize_text_drops_control_characters_but_line_breaks() -> None:
    # NUL in particular: PostgreSQL's text columns refuse it.
    assert normalize_text("شرح\x00 قبض\x1b[2J\x07\x7f\x85\r\nخط دوم\tو") == "شرح قبض[2J\nخط دوم و"
    assert strip_controls("a\x00\tb\nc\r\x1f\x9f") == "a\tb\nc\r"


def test_normalize_text_leaves_digits_as_typed() -> None:
    assert normalize_text("مبلغ ۱۲۳ و ٤٥ و 67") == "مبلغ ۱۲۳ و ٤٥ و 67"


def test_normalize_text_keeps_hamza_letters() -> None:
    # Arabic yeh + combining hamza composes to ئ (not Persian yeh + a loose hamza).
    assert normalize_text("\u064a\u0654") == "ئ"
    assert normalize_text("مسئله") == "مسئله"
    assert normalize_text("خانۀ") == "خانۀ"
    sentence = "درخواست بررسی قبض برق خانه\u200cام را دارم؛ مصرف ۳۰۰ کیلووات‌ساعت است."
    assert normalize_text(sentence) == sentence


TEXT_ALPHABET = st.sampled_from(
    [
        *"ابپکگیيىكه ۱2٣\n\t\r",
        *("\u200c", "\u00a0", "\ufedb", "\ufbfe", "\u0654", "\ufefc", "\u200f"),
        *("\x00", "\x1b", "\x07", "\x85"),  # controls: none is kept
    ]
)


@FAST
@given(st.lists(TEXT_ALPHABET, max_size=30).map("".join))
def test_normalize_text_is_idempotent_and_has_no_arabic_letters(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert not set("يىك") & set(once)
    assert "\u200c\u200c" not in once
    assert "  " not in once
    assert once == once.strip()
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in once)


def test_normalize_code() -> None:
    assert normalize_code(" ۷۷۴۸-۳۱۷۸.۰۰۱_۴۲/ ") == "7748317800142"
    assert normalize_code("\u2066٧٧٤٨ ٣١٧٨\u200c٠٠١٤٢\u2069") == "7748317800142"
    assert normalize_code("12a34") == "12a34"


@pytest.mark.parametrize(
    ("text", "maximum", "expected"),
    [
        ("42", 100, 42),
        (" ۴۲ ", 100, 42),
        ("٠٠٤٢", 100, 42),
        ("0", 100, 0),
        ("100", 100, 100),
        ("101", 100, None),
        ("2147483647", 2_147_483_647, 2_147_483_647),
        ("2147483648", 2_147_483_647, None),
        ("9" * 30, 2_147_483_647, None),
        ("0" * 5000 + "7", 100, 7),  # leading zeros count for nothing, whatever their number
        ("9" * 5000, 100, None),  # never handed to int(), which refuses over 4,300 digits
        ("", 100, None),
        ("-1", 100, None),
        ("1e3", 100, None),
        ("۱٬۰۰۰", 10_000, None),
    ],
)
def test_parse_bounded_int(text: str, maximum: int, expected: int | None) -> None:
    assert parse_bounded_int(text, maximum) == expected


# --- Bill ID ------------------------------------------------------------------------------


def test_mod11_known_values() -> None:
    # 5·2 + 4·3 + 3·4 + 2·5 + 1·6 = 50; 50 mod 11 = 6; 11 − 6 = 5
    assert mod11_check_digit("12345") == 5
    # 1·2 + 1·3 + 1·4 + 1·5 + 1·6 + 1·7 + 1·2 = 29; 29 mod 11 = 7 → 4 (weights repeat)
    assert mod11_check_digit("1111111") == 4
    # s = 0 and s = 1 both give 0
    assert mod11_check_digit("0") == 0
    assert mod11_check_digit("6") == 0  # 12 mod 11 = 1
    with pytest.raises(ValueError):
        mod11_check_digit("۱۲۳")


@FAST
@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_mod11_matches_reference(digits: str) -> None:
    assert mod11_check_digit(digits) == ref_mod11(digits)


def test_worked_example_passes_all_checks() -> None:
    assert parse_bill_id(EXAMPLE_BILL_ID) == EXAMPLE_BILL_ID
    assert parse_payment_id(EXAMPLE_PAYMENT_ID, EXAMPLE_BILL_ID) == EXAMPLE_PAYMENT_ID
    assert payment_amount_rials(EXAMPLE_PAYMENT_ID) == 17_000
    # 17 thousand rials, year …7, period 01
    assert make_payment_id(17_000, 1397, 1, EXAMPLE_BILL_ID) == EXAMPLE_PAYMENT_ID
    assert make_bill_id(77483178, 1, service_type=4) == EXAMPLE_BILL_ID
    assert not is_electricity_bill_id(EXAMPLE_BILL_ID)


def test_worked_example_typed_with_persian_digits_and_padding() -> None:
    assert parse_bill_id("۷۷۴۸۳۱۷۸ ۰۰۱۴۲") == EXAMPLE_BILL_ID
    # The barcode pads the payment ID to 13 digits; the canonical form has no padding.
    assert parse_payment_id("0000001770160", EXAMPLE_BILL_ID) == EXAMPLE_PAYMENT_ID
    assert parse_bill_id("0012345670120") == "12345670120"


@pytest.mark.parametrize(
    "text",
    ["", "12345", "12345678901234", "77483178001a2", "१२३४५६७", "000001", "-", "۷۷۴۸۳"],
)
def test_bill_id_format_errors(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_bill_id(text)
    assert reason_of(excinfo) == FORMAT


def test_bill_id_checksum_error() -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_bill_id("7748317800143")
    assert reason_of(excinfo) == CHECKSUM
    assert isinstance(excinfo.value, ValueError)


def test_electricity_bill_id() -> None:
    bill_id = make_bill_id(1234567, 21)
    assert bill_id[-2] == "2"
    assert is_electricity_bill_id(bill_id)
    assert parse_electricity_bill_id(persian(bill_id)) == bill_id
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_electricity_bill_id(EXAMPLE_BILL_ID)
    assert reason_of(excinfo) == NOT_ELECTRICITY
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_electricity_bill_id("7748317800143")
    assert reason_of(excinfo) == CHECKSUM


def test_make_bill_id_drops_leading_zeros_and_pads_company() -> None:
    bill_id = make_bill_id("000123", 7)
    assert bill_id[:-1] == "1230072"
    assert int(bill_id[-1]) == ref_mod11("1230072")
    for bad in [(0, 1), (100_000_000, 1), (1, 1000), (1, -1)]:
        with pytest.raises(ValueError):
            make_bill_id(*bad)
    with pytest.raises(ValueError):
        make_bill_id(1, 1, service_type=10)


file_numbers = st.integers(min_value=1, max_value=99_999_999)
company_codes = st.integers(min_value=0, max_value=999)
service_types = st.integers(min_value=1, max_value=9)


@FAST
@given(file_numbers, company_codes, service_types, st.data())
def test_bill_id_round_trip(
    file_number: int, company: int, service: int, data: st.DataObject
) -> None:
    bill_id = make_bill_id(file_number, company, service)
    assert re.fullmatch(r"[1-9][0-9]{5,12}", bill_id)
    assert bill_id[:-1] == f"{file_number}{company:03d}{service}"
    assert int(bill_id[-1]) == ref_mod11(bill_id[:-1])
    assert parse_bill_id(data.draw(disguised(bill_id))) == bill_id
    assert is_electricity_bill_id(bill_id) == (service == 2)


@FAST
@given(file_numbers, company_codes, service_types, st.data())
def test_single_wrong_digit_in_bill_id(
    file_number: int, company: int, service: int, data: st.DataObject
) -> None:
    bill_id = make_bill_id(file_number, company, service)
    position = data.draw(st.integers(min_value=0, max_value=len(bill_id) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != bill_id[position]]))
    assume(not (position == 0 and wrong == "0"))  # a leading zero is padding, not a typo
    typo = bill_id[:position] + wrong + bill_id[position + 1 :]
    # mod 11 maps both s = 0 and s = 1 to check digit 0: a typo that moves s between those two
    # values is the one single-digit error this scheme cannot see.
    blind_spot = position < len(bill_id) - 1 and {
        ref_mod11_sum(bill_id[:-1]),
        ref_mod11_sum(typo[:-1]),
    } == {0, 1}
    if blind_spot:
        assert parse_bill_id(typo) == typo
    else:
        with pytest.raises(InvalidIdentifier) as excinfo:
            parse_bill_id(typo)
        assert reason_of(excinfo) == CHECKSUM


def test_single_wrong_digit_in_worked_example_is_caught_everywhere() -> None:
    for position in range(len(EXAMPLE_BILL_ID)):
        for wrong in "123456789":
            if wrong == EXAMPLE_BILL_ID[position]:
                continue
            typo = EXAMPLE_BILL_ID[:position] + wrong + EXAMPLE_BILL_ID[position + 1 :]
            with pytest.raises(InvalidIdentifier) as excinfo:
                parse_bill_id(typo)
            assert reason_of(excinfo) == CHECKSUM, typo


# --- Payment ID ---------------------------------------------------------------------------

amounts = st.one_of(
    st.integers(min_value=1, max_value=99_999).map(lambda k: k * 1000),
    # 100,000,000 rials and more: payment IDs of 11+ digits, which persian-tools truncates.
    st.integers(min_value=100_000, max_value=99_999_999).map(lambda k: k * 1000),
)


@FAST
@given(
    amounts,
    st.integers(min_value=1390, max_value=1499),
    st.integers(min_value=1, max_value=12),
    file_numbers,
    company_codes,
    st.data(),
)
def test_payment_id_round_trip(
    amount: int,
    year: int,
    period: int,
    file_number: int,
    company: int,
    data: st.DataObject,
) -> None:
    bill_id = make_bill_id(file_number, company)
    payment_id = make_payment_id(amount, year, period, bill_id)
    assert re.fullmatch(r"[1-9][0-9]{5,12}", payment_id)
    assert payment_id[:-2] == f"{amount // 1000}{year % 10}{period:02d}"
    assert int(payment_id[-2]) == ref_mod11(payment_id[:-2])
    assert int(payment_id[-1]) == ref_mod11(bill_id + payment_id[:-1])
    assert parse_payment_id(data.draw(disguised(payment_id)), bill_id) == payment_id
    assert payment_amount_rials(payment_id) == amount


def test_large_amount_payment_id() -> None:
    bill_id = make_bill_id(12345678, 123)
    payment_id = make_payment_id(250_000_000, 1404, 3, bill_id)
    assert payment_id[:-2] == "250000403"
    assert len(payment_id) == 11
    assert payment_amount_rials(payment_id) == 250_000_000
    top = make_payment_id(99_999_999_000, 1404, 3, bill_id)
    assert len(top) == 13
    assert parse_payment_id(top, bill_id) == top
    with pytest.raises(ValueError):
        make_payment_id(100_000_000_000, 1404, 3, bill_id)


@pytest.mark.parametrize("amount", [0, -1000, 1500, 999, 17_001])
def test_payment_amount_must_be_positive_thousands(amount: int) -> None:
    with pytest.raises(ValueError):
        make_payment_id(amount, 1404, 1, EXAMPLE_BILL_ID)


def test_make_payment_id_rejects_bad_period_and_bill_id() -> None:
    with pytest.raises(ValueError):
        make_payment_id(17_000, 1404, 100, EXAMPLE_BILL_ID)
    with pytest.raises(ValueError):
        make_payment_id(17_000, 1404, 1, "7748317800143")


def test_payment_id_is_bound_to_its_bill_id() -> None:
    other_bill = make_bill_id(12346, 1)
    assert ref_mod11(other_bill + EXAMPLE_PAYMENT_ID[:-1]) != int(EXAMPLE_PAYMENT_ID[-1])
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_payment_id(EXAMPLE_PAYMENT_ID, other_bill)
    assert reason_of(excinfo) == CHECKSUM


def test_payment_id_errors() -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_payment_id("1770161", EXAMPLE_BILL_ID)
    assert reason_of(excinfo) == CHECKSUM
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_payment_id("1770150", EXAMPLE_BILL_ID)  # C1 wrong
    assert reason_of(excinfo) == CHECKSUM
    for text in ["17701", "12345678901234", "177x160", ""]:
        with pytest.raises(InvalidIdentifier) as excinfo:
            parse_payment_id(text, EXAMPLE_BILL_ID)
        assert reason_of(excinfo) == FORMAT
    # A bad bill ID is the program's mistake, not the customer's: plain ValueError.
    with pytest.raises(ValueError) as bad_bill:
        parse_payment_id(EXAMPLE_PAYMENT_ID, "7748317800143")
    assert not isinstance(bad_bill.value, InvalidIdentifier)


# --- Mobile numbers -----------------------------------------------------------------------

MOBILE = "+989121234567"


@pytest.mark.parametrize(
    "text",
    [
        "09121234567",
        "9121234567",
        "+989121234567",
        "+98 912 123 4567",
        "+98 (912) 123-4567",
        "+98 (0)912 123 4567",
        "00989121234567",
        "0098 912 123 4567",
        "989121234567",
        "0912-123-4567",
        "(0912) 123 4567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷",
        "\u2066+98 912 123 4567\u2069",
        "۰۹۱۲\u200c۱۲۳\u200f۴۵۶۷",
        " 09121234567 ",
    ],
)
def test_mobile_variants(text: str) -> None:
    assert normalize_mobile(text) == MOBILE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0912123456",
        "091212345678",
        "0912abcdefg",
        "02112345678",
        "+98 21 1234 5678",
        "+1 912 123 4567",
        "+9121234567",
        "08121234567",
        "१९१२१२३४५६७",
        "0912 123 4567 ext 2",
    ],
)
def test_mobile_rejects(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        normalize_mobile(text)
    assert reason_of(excinfo) == FORMAT


@FAST
@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(["0{n}", "{n}", "+98{n}", "+98 {n}", "0098{n}", "98{n}", "+98(0){n}"]),
    st.data(),
)
def test_mobile_variants_property(rest: str, template: str, data: st.DataObject) -> None:
    national = "9" + rest
    digits = data.draw(disguised(national))
    prefix = template.replace("{n}", "")
    assert normalize_mobile(prefix + digits) == "+98" + national


def test_masks() -> None:
    assert mask_mobile(MOBILE) == "+98912***4567"
    assert display_mobile(MOBILE) == "0912***4567"  # as Iranians write it, on screens
    assert display_mobile("12345") == "*2345"
    assert mask_national_id("0012345678") == "******5678"
    assert "123" not in mask_mobile("09121234567")[:-4]
    assert mask_national_id("12") == "**"


# --- National ID --------------------------------------------------------------------------


@st.composite
def valid_national_ids(draw: st.DrawFn) -> str:
    first_nine = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    code = first_nine + str(ref_national_id_check(first_nine))
    assume(len(set(code)) > 1 and code[3:9] != "000000")
    return code


@FAST
@given(valid_national_ids(), st.data())
def test_valid_national_ids(code: str, data: st.DataObject) -> None:
    assert parse_national_id(data.draw(disguised(code))) == code


def test_known_national_ids() -> None:
    assert parse_national_id("0499370899") == "0499370899"
    assert parse_national_id("۰۰۱۳۵۴۲۴۱۹") == "0013542419"
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_national_id("0499370898")
    assert reason_of(excinfo) == CHECKSUM


def test_nine_digit_national_id_is_rejected_though_persian_tools_accepts_it() -> None:
    assert pt_national_id.validate("013542419")  # the zero-padding bug this guards against
    for text in ["013542419", "13542419", "00135424190"]:
        with pytest.raises(InvalidIdentifier) as excinfo:
            parse_national_id(text)
        assert reason_of(excinfo) == FORMAT


@pytest.mark.parametrize("digit", "0123456789")
def test_all_same_digit_national_id_is_rejected(digit: str) -> None:
    code = digit * 10
    if digit != "0":
        assert ref_national_id_check(code[:9]) == int(digit)  # the checksum alone passes them
    with pytest.raises(InvalidIdentifier) as excinfo:
        parse_national_id(code)
    assert reason_of(excinfo) == FORMAT


@FAST
@given(valid_national_ids(), st.data())
def test_national_id_typo(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=9))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != code[position]]))
    typo = code[:position] + wrong + code[position + 1 :]
    if ref_national_id_valid(typo):
        assert parse_national_id(typo) == typo
    else:
        with pytest.raises(InvalidIdentifier):
            parse_national_id(typo)
