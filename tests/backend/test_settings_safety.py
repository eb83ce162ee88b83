"""Settings that cannot hurt production: what ENVIRONMENT=production refuses, one line each."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from backend.settings import (
    MIN_SECRET_CHARS,
    Environment,
    Settings,
    UnsafeSettings,
    get_settings,
    local_zone,
    require_safe,
)
from backend.workdays import add_working_days
from locales.values import Code, Msg, Rials, format_date, render, tehran_date

STRONG = "s" * MIN_SECRET_CHARS
SAFE: dict[str, Any] = {
    "environment": Environment.PRODUCTION,
    "payment_provider": "zarinpal",
    "zarinpal_merchant_id": SecretStr("1344b5d4-0048-11e8-94db-005056a205be"),
    "sms_provider": "kavenegar",
    "public_base_url": "https://desk.example.ir",
    "webhook_secret": SecretStr(STRONG),
    "sms_webhook_secret": SecretStr(STRONG + "x"),
    "secret_key": SecretStr(STRONG + "k"),
}


def settings(**update: Any) -> Settings:
    """Settings from these values alone: no environment variable or .env file of the machine."""
    return Settings(_env_file=None, **(SAFE | update))  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("ENVIRONMENT", "TIMEZONE", "PAYMENT_PROVIDER", "SMS_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_default_is_development_and_production_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).environment == Environment.DEVELOPMENT  # type: ignore[call-arg]
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert Settings(_env_file=None).environment == Environment.PRODUCTION  # type: ignore[call-arg]
    monkeypatch.setenv("ENVIRONMENT", "staging")
    with pytest.raises(ValidationError, match="environment"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_safe_production_settings_have_no_problem_and_pass() -> None:
    safe = settings()
    assert safe.production_problems() == []
    assert require_safe(safe) is safe


def test_the_embedded_defaults_name_each_setting_production_refuses() -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    problems = defaults.production_problems()
    assert [problem.split("=")[0].split(" ")[0] for problem in problems] == [
        "PAYMENT_PROVIDER",
        "SMS_PROVIDER",
        "PUBLIC_BASE_URL",
        "SECRET_KEY",
    ]
    assert all("\n" not in problem for problem in problems)
    assert require_safe(defaults) is defaults  # development: the embedded run starts


@pytest.mark.parametrize(
    ("update", "variable"),
    [
        ({"payment_provider": "dev"}, "PAYMENT_PROVIDER"),
        ({"payment_provider": " DEV "}, "PAYMENT_PROVIDER"),
        ({"sms_provider": "console"}, "SMS_PROVIDER"),
        ({"webhook_secret": SecretStr("")}, "WEBHOOK_SECRET"),
        ({"webhook_secret": SecretStr("x")}, "WEBHOOK_SECRET"),
        ({"webhook_secret": SecretStr("s" * (MIN_SECRET_CHARS - 1))}, "WEBHOOK_SECRET"),
        ({"webhook_secret": SecretStr(" " * 40)}, "WEBHOOK_SECRET"),
        ({"sms_webhook_secret": SecretStr("")}, "SMS_WEBHOOK_SECRET"),
        ({"sms_webhook_secret": SecretStr("short")}, "SMS_WEBHOOK_SECRET"),
        ({"public_base_url": "http://127.0.0.1:8080"}, "PUBLIC_BASE_URL"),
        ({"public_base_url": "http://127.10.0.3"}, "PUBLIC_BASE_URL"),
        ({"public_base_url": "http://localhost:8080/"}, "PUBLIC_BASE_URL"),
        ({"public_base_url": "https://LOCALHOST"}, "PUBLIC_BASE_URL"),
        ({"public_base_url": "http://[::1]:8080"}, "PUBLIC_BASE_URL"),
        ({"public_base_url": "http://0.0.0.0:8080"}, "PUBLIC_BASE_URL"),
        ({"public_base_url": ""}, "PUBLIC_BASE_URL"),
        ({"public_base_url": "desk.example.ir"}, "PUBLIC_BASE_URL"),  # no scheme: no host
    ],
)
def test_production_refuses_each_unsafe_setting_in_one_line_naming_it(
    update: dict[str, Any], variable: str
) -> None:
    unsafe = settings(**update)
    [problem] = unsafe.production_problems()
    assert problem.startswith(variable) and "\n" not in problem
    with pytest.raises(UnsafeSettings) as refused:
        require_safe(unsafe)
    assert refused.value.problems == [problem]
    assert str(refused.value).startswith("ENVIRONMENT=production refuses")
    assert problem in str(refused.value)
    # The same settings in development start: the embedded run and the tests use them.
    assert require_safe(unsafe.model_copy(update={"environment": "development"})) is not None


def test_a_secret_left_unset_is_not_a_production_problem() -> None:
    # Without it that webhook is not served at all (polling, a gateway without push).
    unset = settings(webhook_secret=None, sms_webhook_secret=None)
    assert unset.production_problems() == []
    assert "WEBHOOK_SECRET is not set" in (unset.secret_problem("webhook_secret") or "")


def test_a_secret_of_32_characters_is_strong_enough_and_the_problem_says_how_long() -> None:
    assert settings().secret_problem("webhook_secret") is None
    problem = settings(sms_webhook_secret=SecretStr("abc")).secret_problem("sms_webhook_secret")
    assert problem is not None
    assert problem.startswith("SMS_WEBHOOK_SECRET is too short (3 characters)")
    assert str(MIN_SECRET_CHARS) in problem and "abc" not in problem  # never the secret itself


def test_every_problem_at_once_is_one_line_each() -> None:
    unsafe = settings(
        payment_provider="dev",
        sms_provider="console",
        webhook_secret=SecretStr(""),
        sms_webhook_secret=SecretStr("1"),
        public_base_url="http://localhost",
    )
    with pytest.raises(UnsafeSettings) as refused:
        require_safe(unsafe)
    lines = str(refused.value).splitlines()
    assert len(lines) == 1 + 5
    assert [line.strip().split("=")[0].split(" ")[0] for line in lines[1:]] == [
        "PAYMENT_PROVIDER",
        "SMS_PROVIDER",
        "WEBHOOK_SECRET",
        "SMS_WEBHOOK_SECRET",
        "PUBLIC_BASE_URL",
    ]


def test_require_safe_reads_the_process_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parent)  # no .env file of the checkout
    monkeypatch.setenv("ENVIRONMENT", "production")
    get_settings.cache_clear()
    with pytest.raises(UnsafeSettings, match="PAYMENT_PROVIDER"):
        require_safe()


def test_every_procfile_process_runs_in_production() -> None:
    procfile = Path(__file__).parents[2] / "Procfile"
    lines = [line for line in procfile.read_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        _, command = line.split(":", 1)
        assert command.split()[0] == "ENVIRONMENT=production", line


# --- TIMEZONE: read once, honoured everywhere ---


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(_env_file=None, timezone="Asia/Nowhere")  # type: ignore[call-arg]


def test_local_zone_follows_the_timezone_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_zone().key == "Asia/Tehran"
    monkeypatch.setenv("TIMEZONE", "Asia/Kabul")
    get_settings.cache_clear()
    assert local_zone().key == "Asia/Kabul"


def test_a_moment_is_dated_where_the_desk_is(monkeypatch: pytest.MonkeyPatch) -> None:
    nowruz_in_tehran = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)  # 00:30 on 21 March in Tehran
    thursday_night = datetime(2025, 11, 27, 22, 0, tzinfo=UTC)  # already Friday in Tehran
    assert tehran_date(nowruz_in_tehran).isoformat() == "2025-03-21"
    assert format_date(nowruz_in_tehran, "en") == "1404/01/01 00:30"
    assert add_working_days(thursday_night, 1) == datetime(2025, 11, 28, 22, 0, tzinfo=UTC)

    monkeypatch.setenv("TIMEZONE", "UTC")
    get_settings.cache_clear()
    assert tehran_date(nowruz_in_tehran).isoformat() == "2025-03-20"
    assert format_date(nowruz_in_tehran, "en") == "1403/12/30 21:00"
    paid = {"amount": Rials(1000), "code": Code("1234"), "date": nowruz_in_tehran}
    assert "paid on 1403/12/30 21:00" in render(Msg("payment.already_paid", paid), "en")
    # Thursday evening where the desk is: the next working day is Saturday, Friday skipped.
    assert add_working_days(thursday_night, 1) == datetime(2025, 11, 29, 22, 0, tzinfo=UTC)


def test_imported_payment_days_are_days_where_the_desk_is(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend import importers

    day = date(2025, 6, 1)
    assert importers._paid_at(day) == datetime(2025, 6, 1, 8, 30, tzinfo=UTC)  # noon in Tehran
    monkeypatch.setenv("TIMEZONE", "UTC")
    get_settings.cache_clear()
    assert importers._paid_at(day) == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
