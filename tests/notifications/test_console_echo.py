"""The console SMS provider prints codes and numbers only in the terminal chat; elsewhere it
logs the number masked, and its file still records what was sent."""

import json
import logging
from pathlib import Path

import pytest

from backend.settings import Settings
from channels.sms import sms_provider
from channels.sms.console import ConsoleProvider

MOBILE = "+989121234567"
CODE_TEXT = "کد تأیید شما: 482913"


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_without_echo_nothing_is_printed_and_the_log_masks_the_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sms.jsonl"
    provider = ConsoleProvider(path=path)
    with caplog.at_level(logging.INFO, logger="channels.sms.console"):
        provider.send("09121234567", CODE_TEXT, reference="r-1")
        provider.send_template("09121234567", "barq-otp", ["482913"], reference="r-2")

    assert capsys.readouterr().out == ""
    assert "+98912***4567" in caplog.text and "r-1" in caplog.text and "r-2" in caplog.text
    assert MOBILE not in caplog.text and "482913" not in caplog.text
    # The development outbox file is where one reads what went out (no process log shows it).
    assert [(r["to"], r["reference"]) for r in records(path)] == [(MOBILE, "r-1"), (MOBILE, "r-2")]


def test_with_echo_the_terminal_reads_the_whole_sms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ConsoleProvider(path=tmp_path / "sms.jsonl", echo=True).send(
        "09121234567", CODE_TEXT, reference="r-1"
    )
    printed = capsys.readouterr().out
    assert MOBILE in printed and "482913" in printed


def test_the_settings_choose_echo_and_the_default_is_off(
    settings: Settings, tmp_path: Path
) -> None:
    console = settings.model_copy(
        update={"sms_provider": "console", "sms_console_path": tmp_path / "sms.jsonl"}
    )
    assert settings.sms_console_echo is False
    assert sms_provider(console)._echo is False  # type: ignore[attr-defined]
    echoing = console.model_copy(update={"sms_console_echo": True})
    assert sms_provider(echoing)._echo is True  # type: ignore[attr-defined]


def test_the_provider_the_web_app_and_workers_build_prints_no_code(
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    console = settings.model_copy(
        update={"sms_provider": "console", "sms_console_path": tmp_path / "sms.jsonl"}
    )
    with caplog.at_level(logging.INFO), sms_provider(console) as provider:
        provider.send(MOBILE, CODE_TEXT, reference="otp-1")
    assert "482913" not in capsys.readouterr().out
    assert "482913" not in caplog.text and MOBILE not in caplog.text
