"""SMS length: encodings, parts, and cutting long notices without breaking words or codes."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sms.text import fit_lines, fit_to_parts, is_gsm7, parts_needed

PERSIAN = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
# Persian letters and digits, ASCII digits and letters, spaces, ZWNJ, punctuation, a GSM
# extension character and an emoji: enough to reach every branch of the counting.
ALPHABET = PERSIAN + "۰۱۲۳۴۵۶۷۸۹0123456789abcXYZ" + "     \n\u200c،.:-" + "{€😀"
texts = st.text(st.sampled_from(ALPHABET), max_size=700)
latin_texts = st.text(st.sampled_from("abcdefXYZ0123456789 .,{}€"), max_size=700)


def is_code_char(ch: str) -> bool:
    return (ch.isascii() and ch.isalnum()) or unicodedata.category(ch) == "Nd"


def head_of(result: str) -> str:
    """The part of a cut result before its ellipsis."""
    return result[:-1] if result.endswith("…") else result.removesuffix("...")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 159 + "€", 2),  # € takes two septets
        ("{" * 80, 1),
        ("{" * 81, 2),
        ("س" * 70, 1),
        ("س" * 71, 2),
        ("س" * 134, 2),
        ("س" * 135, 3),
        ("a" * 69 + "س", 1),  # one Persian letter makes the whole text UCS-2
        ("a" * 71 + "س", 2),
        ("😀" * 35, 1),  # a surrogate pair each
        ("😀" * 36, 2),
        ("س" * 66 + "😀", 1),
        ("س" * 66 + "😀" + "س" * 66, 3),  # the pair is not split across parts
    ],
)
def test_parts_needed(text: str, parts: int) -> None:
    assert parts_needed(text) == parts


def test_gsm7_detection() -> None:
    assert is_gsm7("Bill 1234: pay by 05/01 {ok} €")
    assert not is_gsm7("قبض")
    assert not is_gsm7("…")


def test_a_long_persian_notice_is_cut_between_words() -> None:
    notice = "مشترک گرامی، برق منطقه شما فردا از ساعت ۱۰ تا ۱۴ قطع است. " * 5 + "کد ۴۸۲۱۷۷"

    cut = fit_to_parts(notice, 1)

    assert cut.endswith("…")
    assert parts_needed(cut) == 1
    assert notice.startswith(cut[:-1])
    assert notice[len(cut) - 1] == " "  # the head ends where a word ends


def test_a_latin_notice_stays_gsm7_when_cut() -> None:
    cut = fit_to_parts("Outage tomorrow 10-14, code 4821. " * 10, 1)

    assert cut.endswith("...")
    assert is_gsm7(cut)
    assert 140 < len(cut) <= 160


def test_a_code_longer_than_the_room_is_not_cut() -> None:
    assert fit_to_parts("۱" * 200, 1) == "…"
    assert fit_to_parts("A" * 400, 1) == "..."


def test_a_single_long_persian_word_is_cut_outside_its_digits() -> None:
    word = "س" * 60 + "۱۲۳۴۵۶۷۸۹۰" + "ش" * 60

    cut = fit_to_parts(word, 1)

    assert cut == "س" * 60 + "…"


def test_max_parts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        fit_to_parts("x", 0)


@given(texts | latin_texts, st.integers(min_value=1, max_value=4))
def test_fit_never_exceeds_max_parts(text: str, max_parts: int) -> None:
    assert parts_needed(fit_to_parts(text, max_parts)) <= max_parts


@given(texts | latin_texts, st.integers(min_value=0, max_value=2))
def test_fit_leaves_a_fitting_text_unchanged(text: str, spare: int) -> None:
    assert fit_to_parts(text, parts_needed(text) + spare) == text


@given(texts | latin_texts, st.integers(min_value=1, max_value=3))
def test_fit_cuts_a_head_and_never_inside_a_digit_or_latin_run(text: str, max_parts: int) -> None:
    result = fit_to_parts(text, max_parts)
    if result == text:
        return
    head = head_of(result)
    assert text.startswith(head)
    end = len(head)
    assert end == 0 or not (is_code_char(text[end - 1]) and is_code_char(text[end]))


def test_fit_lines_drops_lines_that_may_go_whole_last_first_and_keeps_the_choices() -> None:
    status = "درخواست 1234567890: در حال بررسی؛ گام بعد تا ۱۴۰۵/۰۹/۱۴"
    kind = "بررسی صورت‌حساب، ثبت ۱۴۰۵/۰۹/۱۰"
    note = "این کد را نگه دارید؛ با آن می‌توانید درخواست را پیگیری کنید. " * 2
    lines = [(status, True), (kind, False), (note.strip(), False)]
    assert fit_lines(lines, 10) == "\n".join(line for line, _ in lines)  # room for all
    assert fit_lines(lines, 2) == f"{status}\n{kind}"  # the note whole, or not at all
    assert fit_lines(lines, 1, choices=["۱ بازگشت"]) == f"{status}\n۱ بازگشت"


def test_fit_lines_drops_the_last_choices_whole_when_they_alone_overflow() -> None:
    choices = [f"{n} {'گزینه‌ای با نامی نسبتاً بلند'}" for n in "۱۲۳۴۵۶۷"]
    fitted = fit_lines([("چه کاری برایتان انجام دهیم؟", True)], 2, choices=choices)
    assert parts_needed(fitted) <= 2 and "…" not in fitted
    shown = fitted.split("\n")[1:]
    assert shown == choices[: len(shown)] and 0 < len(shown) < len(choices)


def test_fit_lines_cuts_only_an_essential_line_that_cannot_fit() -> None:
    long = " ".join(["کلمه"] * 80)
    fitted = fit_lines([(long, True), ("سطر دوم", False)], 2, choices=["۱ لغو"])
    assert parts_needed(fitted) <= 2
    assert fitted.endswith("…\n۱ لغو") and "سطر دوم" not in fitted
