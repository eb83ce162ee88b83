"""`python -m bot` started without what it needs says what to set, in one line, and stops."""

from collections.abc import Iterator

import pytest

from backend.settings import get_settings
from bot.__main__ import main


@pytest.fixture(autouse=True)
def no_bot_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("TELEGRAM_BOT_TOKEN", "BALE_BOT_TOKEN", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no .env file of the checkout is read
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_polling_without_a_token_names_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "TELEGRAM_BOT_TOKEN" in line and "BALE_BOT_TOKEN" in line and "bot shell" in line


def test_webhooks_for_a_bot_need_the_webhook_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    get_settings.cache_clear()
    assert main(["web"]) == 2
    assert "WEBHOOK_SECRET" in capsys.readouterr().err


def test_an_unknown_command_prints_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fly"]) == 2
    assert capsys.readouterr().err.startswith("usage: python -m bot")
