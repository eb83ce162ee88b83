"""Every entry point refuses unsafe production settings, and no webhook takes a short secret."""

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from aiogram import Dispatcher
from aiohttp import web
from pydantic import SecretStr

from backend.settings import MIN_SECRET_CHARS, Settings, UnsafeSettings, get_settings
from bot.__main__ import main as bot_main
from bot.app import webhook_path
from bot.sms_web import add_sms_routes
from bot.web import make_web_app
from bot.wiring import make_sms_desk
from notifications.runtime import Notifier

STRONG = "w" * MIN_SECRET_CHARS
# What production refuses on the embedded defaults, each named on a line of its own.
REFUSED = ("PAYMENT_PROVIDER=dev", "SMS_PROVIDER=console", "PUBLIC_BASE_URL=")
CLEARED = (
    "ENVIRONMENT",
    "TELEGRAM_BOT_TOKEN",
    "BALE_BOT_TOKEN",
    "WEBHOOK_SECRET",
    "SMS_WEBHOOK_SECRET",
    "PAYMENT_PROVIDER",
    "SMS_PROVIDER",
    "PUBLIC_BASE_URL",
    "REDIS_URL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no .env file of the checkout is read
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("WEBHOOK_SECRET", STRONG)
    get_settings.cache_clear()


def refusal_lines(err: str) -> list[str]:
    lines = err.splitlines()
    assert lines[0].startswith("ENVIRONMENT=production refuses"), err
    return [line.strip() for line in lines[1:]]


@pytest.mark.parametrize(
    "argv", [[], ["polling"], ["web"], ["set-webhooks", "https://desk.example.ir"]]
)
@pytest.mark.usefixtures("production")
def test_the_bots_refuse_to_start_in_production_naming_each_setting(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert bot_main(argv) == 2
    lines = refusal_lines(capsys.readouterr().err)
    assert all(any(line.startswith(refused) for line in lines) for refused in REFUSED)
    assert all(re.match(r"[A-Z_]+[= ]", line) for line in lines)  # each names its variable


@pytest.mark.usefixtures("production")
def test_a_short_webhook_secret_is_named_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", "x")
    get_settings.cache_clear()
    assert bot_main(["web"]) == 2
    lines = refusal_lines(capsys.readouterr().err)
    assert any(line.startswith("WEBHOOK_SECRET is too short (1 characters)") for line in lines)


@pytest.mark.usefixtures("production")
def test_the_terminal_chat_does_not_run_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    assert bot_main(["shell"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "terminal chat" in line and "ENVIRONMENT=production" in line


@pytest.mark.usefixtures("production")
def test_the_clock_refuses_to_start_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    assert bot_main(["clock"]) == 2
    err = capsys.readouterr().err
    assert all(any(line.startswith(r) for line in refusal_lines(err)) for r in REFUSED)


@pytest.mark.usefixtures("production")
def test_the_workers_refuse_their_jobs_in_production() -> None:
    from notifications import jobs
    from notifications.broadcasts import jobs as broadcast_jobs
    from notifications.worker import DeskWorker

    jobs._notifier.cache_clear()
    broadcast_jobs.broadcaster.cache_clear()
    try:
        with pytest.raises(UnsafeSettings, match="SMS_PROVIDER"):
            jobs.deliver(1, "token")
        with pytest.raises(UnsafeSettings, match="PAYMENT_PROVIDER"):
            broadcast_jobs.start(1)
    finally:
        jobs._notifier.cache_clear()
        broadcast_jobs.broadcaster.cache_clear()
    # `rq worker -w notifications.worker.DeskWorker` stops before taking a job.
    worker = DeskWorker(["notices"], connection=redis.Redis(port=1), prepare_for_work=False)
    with pytest.raises(SystemExit, match="PUBLIC_BASE_URL"):
        worker.work(burst=True)


def test_backend_does_not_load_demo_data_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from backend.__main__ import main as backend_main

    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent/never-made.db")
    get_settings.cache_clear()
    assert backend_main(["seed-demo"]) == 2
    assert "ENVIRONMENT=production" in capsys.readouterr().err


# --- Short secrets, in development too ---


@pytest.mark.parametrize("secret", ["", "x", "w" * (MIN_SECRET_CHARS - 1)])
@pytest.mark.parametrize("argv", [["web"], ["set-webhooks", "https://desk.example.ir"]])
def test_webhooks_refuse_a_short_secret_in_development(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    secret: str,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    get_settings.cache_clear()
    assert bot_main(argv) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert f"WEBHOOK_SECRET is too short ({len(secret)} characters)" in line
    assert str(MIN_SECRET_CHARS) in line


def webhook_settings(settings: Settings, **update: Any) -> Settings:
    return settings.model_copy(
        update={"telegram_bot_token": SecretStr("123:abc"), "webhook_secret": SecretStr(STRONG)}
        | update
    )


def test_no_bot_webhook_path_comes_from_a_short_secret(settings: Settings) -> None:
    assert webhook_path(webhook_settings(settings), "telegram").startswith("/webhook/telegram/")
    for short in ("", "x" * (MIN_SECRET_CHARS - 1)):
        weak = webhook_settings(settings, webhook_secret=SecretStr(short))
        with pytest.raises(RuntimeError, match="WEBHOOK_SECRET is too short"):
            webhook_path(weak, "telegram")


def sms_paths(settings: Settings) -> set[str]:
    app = web.Application()
    add_sms_routes(app, make_sms_desk(Notifier(settings, sa.create_engine("sqlite://"))))
    return {resource.canonical for resource in app.router.resources()}


@pytest.mark.parametrize("secret", ["", "s", "s" * (MIN_SECRET_CHARS - 1)])
def test_the_sms_webhook_is_not_served_with_a_short_secret_and_a_warning_says_why(
    settings: Settings, caplog: pytest.LogCaptureFixture, secret: str
) -> None:
    weak = settings.model_copy(update={"sms_webhook_secret": SecretStr(secret)})
    with caplog.at_level(logging.WARNING, logger="bot.sms_web"):
        assert sms_paths(weak) == set()
    assert "SMS webhook is not served" in caplog.text
    assert f"SMS_WEBHOOK_SECRET is too short ({len(secret)} characters)" in caplog.text
    # Nor by the web app: `/sms/console/` with an empty secret is simply not found.
    web_app = make_web_app(weak, Dispatcher(), [])
    assert not any(r.canonical.startswith("/sms/") for r in web_app.router.resources())


def test_the_sms_webhook_is_served_with_a_strong_secret(settings: Settings) -> None:
    strong = settings.model_copy(update={"sms_webhook_secret": SecretStr("s" * MIN_SECRET_CHARS)})
    assert sms_paths(strong) == {f"/sms/console/{'s' * MIN_SECRET_CHARS}"}
