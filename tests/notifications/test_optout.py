"""Opt-out and opt-in replies, however they are typed."""

import pytest

from channels.sms.optout import is_opt_in, is_opt_out


@pytest.mark.parametrize(
    "text",
    [
        "لغو",
        "لغو۱۱",
        "لغو 11",
        "لغو١١",  # Arabic-Indic digits
        " لغو ۱۱ ",
        "لغو.",
        "ل\u200cغو",  # a stray ZWNJ
        "لَغو",  # a diacritic
        "لـغو",  # tatweel
        "ﻟﻐﻮ",  # presentation forms, as some keyboards send them
        "\u200fلغو11",  # a right-to-left mark in front
        "stop",
        "STOP",
        "Stop!",
        "off",
        "OFF 11",
    ],
)
def test_opt_out(text: str) -> None:
    assert is_opt_out(text)
    assert not is_opt_in(text)


@pytest.mark.parametrize(
    "text",
    ["", "11", "لغو نکنید", "برق قطع است", "لغوها", "stopped", "please stop", "شروع"],
)
def test_not_opt_out(text: str) -> None:
    assert not is_opt_out(text)


@pytest.mark.parametrize("text", ["شروع", "شروع۱۱", "START", "start 11"])
def test_opt_in(text: str) -> None:
    assert is_opt_in(text)


@pytest.mark.parametrize("text", ["شروع کنید", "restart", "لغو"])
def test_not_opt_in(text: str) -> None:
    assert not is_opt_in(text)
