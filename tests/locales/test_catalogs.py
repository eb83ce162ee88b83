"""The catalogs: complete in both languages, and values formatted the Persian way."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from locales.catalogs import LOCALES, MissingMessage, message_ids, plural_count, translate
from locales.values import HTML, LRI, PDI, PLAIN, Code, Msg, Rials, render

PLACEHOLDER = re.compile(r"\{(\w+)\}")
SOURCE_DIRS = ("dialogs", "bot", "backend")


def test_every_locale_has_the_same_keys_and_placeholders() -> None:
    persian = message_ids("fa")
    for locale in LOCALES:
        assert message_ids(locale) == persian, locale
    for key in persian:
        # A plural entry: its form for one and for many (Persian has one form for both).
        counts = (None,) if plural_count(key) is None else (1, 2)
        expected = set(PLACEHOLDER.findall(translate(key, "fa", counts[0])))
        for locale in LOCALES:
            for count in counts:
                text = translate(key, locale, count)
                assert text.strip(), (locale, key)
                assert set(PLACEHOLDER.findall(text)) == expected, (locale, key, count)


def test_every_literal_key_in_the_code_is_in_the_catalog() -> None:
    literal = re.compile(r"""(?:Msg|say|retry)\(\s*f?"([a-z_]+\.[a-z_{}.]+)\"""")
    keys = message_ids("fa")
    found = [
        (path, key)
        for folder in SOURCE_DIRS
        for path in Path(folder).rglob("*.py")
        for key in literal.findall(path.read_text(encoding="utf-8"))
    ]
    assert len(found) > 40  # the pattern still finds the keys the code uses
    for path, key in found:
        if "{" in key:  # an f-string: its expansions are rendered by the flow tests
            prefix = key.split("{")[0]
            assert any(k.startswith(prefix) for k in keys), (path, key)
        else:
            assert key in keys, (path, key)


def test_a_missing_key_is_an_error_not_a_silent_fallback() -> None:
    with pytest.raises(MissingMessage):
        translate("no.such.key", "fa")


def test_amounts_dates_and_codes_in_persian() -> None:
    message = Msg(
        "review.bill_button",
        {"start": date(2025, 3, 21), "end": date(2025, 5, 21), "amount": Rials(1_234_000)},
    )
    assert render(message, "fa") == "۱۴۰۴/۰۱/۰۱ تا ۱۴۰۴/۰۲/۳۱ — ۱٬۲۳۴٬۰۰۰ ریال"
    assert render(message, "en") == "1404/01/01 to 1404/02/31 — 1,234,000 rials"
    code = render(Msg("track.not_found", {"code": Code("1234567890")}), "fa")
    assert f"{LRI}1234567890{PDI}" in code


def test_html_markup_escapes_user_text_and_marks_codes() -> None:
    message = Msg("review.document_received", {"name": "<b>x</b>.jpg"})
    assert "&lt;b&gt;x&lt;/b&gt;.jpg" in render(message, "fa", HTML)
    assert "<b>x</b>.jpg" in render(message, "fa", PLAIN)
    code = render(Msg("track.not_found", {"code": Code("1234567890")}), "fa", HTML)
    assert "<code>1234567890</code>" in code


def test_a_moment_is_shown_in_tehran_time() -> None:
    from locales.values import format_date, tehran_date

    # 21:00 UTC on 20 March 2025 is already 21 March (1 Farvardin 1404) in Tehran.
    moment = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)
    assert tehran_date(moment) == date(2025, 3, 21)
    assert format_date(moment, "fa") == "۱۴۰۴/۰۱/۰۱ ۰۰:۳۰"
