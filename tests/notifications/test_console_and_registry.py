"""The development provider, and building providers by name."""

import json
from pathlib import Path

import pytest

from channels.sms import DeliveryState, MessageRef, SmsPermanentError, make_provider
from channels.sms.console import ConsoleProvider
from channels.sms.kavenegar import KavenegarProvider
from channels.sms.melipayamak import MelipayamakProvider


def test_console_prints_and_records_each_sms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sms" / "outbox.jsonl"
    provider = make_provider("console", path=path, echo=True)  # as in the terminal chat

    sent = provider.send("0912 123 4567", "درخواست شما ثبت شد", reference="r-1")
    otp = provider.send_template("09351112233", "barq-otp", ["4821"], reference="r-2")

    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(r["to"], r["reference"]) for r in records] == [
        ("+989121234567", "r-1"),
        ("+989351112233", "r-2"),
    ]
    assert (records[0]["text"], records[0]["parts"]) == ("درخواست شما ثبت شد", 1)
    assert (records[1]["template"], records[1]["tokens"]) == ("barq-otp", ["4821"])
    printed = capsys.readouterr().out
    assert "درخواست شما ثبت شد" in printed
    assert "4821" in printed
    assert sent.state == otp.state == DeliveryState.DELIVERED


def test_console_status_is_delivered_and_nothing_arrives(tmp_path: Path) -> None:
    provider = ConsoleProvider(path=tmp_path / "outbox.jsonl")

    results = provider.status(["r-1", MessageRef("r-2", "x")])

    assert [(r.reference, r.state) for r in results] == [
        ("r-1", DeliveryState.DELIVERED),
        ("r-2", DeliveryState.DELIVERED),
    ]
    assert provider.receive() == []


def test_console_refuses_what_a_gateway_would(tmp_path: Path) -> None:
    with pytest.raises(SmsPermanentError):
        ConsoleProvider(path=tmp_path / "outbox.jsonl").send("12345", "x", reference="r-1")


def test_make_provider_by_name(tmp_path: Path) -> None:
    assert isinstance(make_provider("console", path=tmp_path / "o.jsonl"), ConsoleProvider)
    with make_provider(" Kavenegar ", api_key="k", sender="1000") as kavenegar:
        assert isinstance(kavenegar, KavenegarProvider)
    with make_provider("melipayamak", username="u", password="p", sender="5000") as meli:
        assert isinstance(meli, MelipayamakProvider)
    with pytest.raises(ValueError, match="console, kavenegar, melipayamak"):
        make_provider("smsir")
