"""Typed settings read from the environment, in one place."""

import ipaddress
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")
# A webhook secret is a path (or header) strangers must not guess: this long at the least.
MIN_SECRET_CHARS = 32
NEW_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
ZARINPAL_API_BASE = "https://payment.zarinpal.com"
ZARINPAL_MERCHANT_ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I
)


class Environment(StrEnum):
    DEVELOPMENT = "development"  # the embedded run: terminal chat, SQLite, console SMS
    PRODUCTION = "production"  # the Procfile's processes: unsafe settings are refused


class UnsafeSettings(RuntimeError):
    """Production refuses these settings; `problems` holds one line per setting to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "ENVIRONMENT=production refuses to start with these settings:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
        self.problems = problems


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = Field(default=f"sqlite:///{VAR_DIR / 'desk.db'}")
    files_dir: Path = VAR_DIR / "files"
    default_locale: str = "fa"
    # Where days begin and end: every date shown and every deadline (see local_zone()).
    timezone: str = "Asia/Tehran"

    # Drafts older than this are dropped on the next contact, with a message.
    draft_ttl_minutes: int = Field(default=24 * 60, gt=0)
    max_document_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_documents: int = Field(default=5, gt=0)
    description_max_chars: int = Field(default=1000, gt=0)
    latest_bills_shown: int = Field(default=6, gt=0)

    # The messenger bots; either may be absent. The API bases point elsewhere in tests.
    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    bale_bot_token: SecretStr | None = None
    bale_api_base: str = "https://tapi.bale.ai"
    # Webhook paths and Telegram's secret header are derived from this; web mode requires it,
    # at least MIN_SECRET_CHARS long.
    webhook_secret: SecretStr | None = None
    web_host: str = "0.0.0.0"
    port: int = 8080
    # `python -m bot web` in this many processes on the one port (bot.web_processes): one a
    # core, each with its own pool of POOL_SIZE connections.
    web_processes: int = Field(default=1, ge=1, le=32)
    # Tries of one Bot API call on 429, 5xx and network errors before giving up.
    bot_api_attempts: int = Field(default=5, gt=0)

    # Each step's target in working days (defaults: the public service charters' figures).
    review_working_days: int = Field(default=3, gt=0)
    correction_working_days: int = Field(default=10, gt=0)
    corrected_bill_delivery_working_days: int = Field(default=3, gt=0)
    fee_announcement_working_days: int = Field(default=1, gt=0)
    meter_test_working_days: int = Field(default=3, gt=0)
    terms_working_days: int = Field(default=1, gt=0)
    collection_working_days: int = Field(default=3, gt=0)
    final_bill_working_days: int = Field(default=1, gt=0)
    settlement_working_days: int = Field(default=1, gt=0)
    # A bill correction changing the amount by more than this waits for a supervisor.
    two_person_limit_rials: int = Field(default=10_000_000, ge=0)

    # One-time codes proving a subscription's registered mobile (sent by SMS).
    otp_valid_minutes: int = Field(default=5, gt=0)
    otp_max_attempts: int = Field(default=5, gt=0)
    # After the last wrong try, no new code for that mobile until this long after it was sent.
    otp_cooldown_minutes: int = Field(default=30, gt=0)
    # A new code for the same mobile no sooner than this: nobody can flood a phone with codes.
    otp_resend_seconds: int = Field(default=60, ge=0)
    # Keys the one-time codes' hashes and seals the codes waiting in the outbox (see
    # backend/sealing.py). Unset, a fixed development key is used; production refuses that.
    secret_key: SecretStr | None = None

    # Online payment: the provider ("dev": a page on our own web app; "zarinpal") and the
    # public address of the web app, which payment links and the provider's callbacks use.
    payment_provider: str = "dev"
    public_base_url: str = "http://127.0.0.1:8080"
    # Zarinpal: the merchant's 36-character id, and its API's address (the sandbox's in tests
    # and trials: https://sandbox.zarinpal.com).
    zarinpal_merchant_id: SecretStr | None = None
    zarinpal_api_base: str = ZARINPAL_API_BASE

    # Notices: RQ on this Redis; None runs the same jobs in-process (the embedded default).
    redis_url: str | None = None
    # "console" (prints, appends to sms_console_path), "kavenegar" or "melipayamak".
    sms_provider: str = "console"
    sms_sender: str = ""  # the service line (خط خدماتی) messages go from and arrive at
    sms_api_base: str | None = None  # the provider's own address unless set (tests point it)
    sms_console_path: Path = VAR_DIR / "sms.jsonl"
    # The console provider prints each SMS in full (number and text, one-time codes included)
    # only when this is on, as the terminal chat turns it; otherwise it logs a masked number.
    sms_console_echo: bool = False
    kavenegar_api_key: SecretStr | None = None
    melipayamak_username: str | None = None
    melipayamak_password: SecretStr | None = None
    # The inbound SMS webhook's path carries this; unset or shorter than MIN_SECRET_CHARS, the
    # webhook is not served.
    sms_webhook_secret: SecretStr | None = None
    # An SMS conversation's unfinished request is dropped after this much silence.
    sms_session_ttl_minutes: int = Field(default=30, gt=0)
    sms_max_parts: int = Field(default=3, gt=0)  # a notice by SMS is cut to this many parts
    sms_reply_max_parts: int = Field(default=2, gt=0)  # and a reply to an inbound SMS to this
    # A single digit texted back this long after the feedback question by SMS is its answer.
    feedback_sms_hours: int = Field(default=48, gt=0)
    # Outage reports on one feeder (or area) join its incident while the last came this recently.
    outage_incident_window_minutes: int = Field(default=120, gt=0)
    # Inbound SMS handled per sender and window; more get one warning, then silence.
    sms_rate_limit: int = Field(default=20, gt=0)
    sms_rate_window_seconds: int = Field(default=3600, gt=0)
    # Look-ups by tracking code per user of any channel and window; more are refused (codes
    # are ten digits: a list of guesses must not be tried through us).
    track_rate_limit: int = Field(default=20, gt=0)
    track_rate_window_seconds: int = Field(default=600, gt=0)
    # A notice's sends: tries on temporary failures, the first pause (doubling each time), and
    # how long a job may hold a delivery before it is taken to have died and is sent again.
    notice_max_attempts: int = Field(default=6, gt=0)
    notice_retry_seconds: float = Field(default=30.0, gt=0)
    notice_lease_seconds: float = Field(default=300.0, gt=0)
    # How long a delivery handed to RQ waits for a job to start it before it is handed again
    # (only a job lost with Redis's data needs that); a backlog is never handed over twice.
    notice_handover_seconds: float = Field(default=1800.0, gt=0)
    # Where a worker or the clock serves its Prometheus metrics (the web app serves /metrics).
    metrics_port: int | None = Field(default=None, gt=0, lt=65536)
    notice_relay_seconds: float = Field(default=2.0, gt=0)  # how often the relay looks

    # Messages a second per bot token (the platform's limit, in a one-second window): every
    # call on the token passes this one limiter, interactive replies first.
    telegram_rate: int = Field(default=25, gt=0)
    bale_rate: int = Field(default=10, gt=0)
    # Broadcasts: rows claimed per chunk, SMS per bulk call, parallel sender jobs, a claim's
    # lease, tries on 5xx/network errors with their first backoff (doubling), and how often
    # the staff's progress message is updated.
    broadcast_chunk_size: int = Field(default=100, gt=0)
    broadcast_sms_batch: int = Field(default=100, gt=0)
    broadcast_senders: int = Field(default=2, gt=0)
    broadcast_lease_seconds: float = Field(default=30.0, gt=0)
    broadcast_max_attempts: int = Field(default=5, gt=0)
    broadcast_retry_seconds: float = Field(default=2.0, gt=0)
    broadcast_progress_seconds: float = Field(default=5.0, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Tehran)") from None
        return value

    def secret_problem(self, name: str) -> str | None:
        """Why the secret setting `name` ("webhook_secret", "sms_webhook_secret") cannot guard
        a webhook — unset, or shorter than MIN_SECRET_CHARS — in one line naming the variable;
        None when it can."""
        value: SecretStr | None = getattr(self, name)
        variable = name.upper()
        if value is None:
            return f"{variable} is not set: set it to a random string ({NEW_SECRET})"
        length = len(value.get_secret_value().strip())
        if length < MIN_SECRET_CHARS:
            return (
                f"{variable} is too short ({length} characters): it must have at least "
                f"{MIN_SECRET_CHARS} ({NEW_SECRET})"
            )
        return None

    def production_problems(self) -> list[str]:
        """What production refuses in these settings, one line per problem naming the variable
        to fix; [] when there is none. Checked whatever ENVIRONMENT says (see require_safe)."""
        problems = []
        if self.payment_provider.strip().lower() == "dev":
            problems.append(
                "PAYMENT_PROVIDER=dev is the development test page, where anyone can mark a "
                "payment paid: set PAYMENT_PROVIDER to a real gateway"
            )
        if self.payment_provider.strip().lower() == "zarinpal":
            problems += self._zarinpal_problems()
        if self.sms_provider.strip().lower() == "console":
            problems.append(
                "SMS_PROVIDER=console sends nothing (it prints and writes to a file): set "
                "SMS_PROVIDER to kavenegar or melipayamak"
            )
        for name in ("webhook_secret", "sms_webhook_secret"):
            # Unset is allowed here: without it that webhook is simply not served.
            if getattr(self, name) is not None and (problem := self.secret_problem(name)):
                problems.append(problem)
        if _is_loopback_url(self.public_base_url):
            problems.append(
                f"PUBLIC_BASE_URL={self.public_base_url or '(empty)'} is not a public address: "
                "set it to the web app's address as subscribers reach it (payment links use it)"
            )
        # Unset, the development key would let anyone who reads the code open sealed codes.
        if problem := self.secret_problem("secret_key"):
            problems.append(problem)
        return problems

    def _zarinpal_problems(self) -> list[str]:
        problems = []
        merchant = self.zarinpal_merchant_id
        if merchant is None or not ZARINPAL_MERCHANT_ID.fullmatch(merchant.get_secret_value()):
            problems.append(
                "ZARINPAL_MERCHANT_ID is missing or not a merchant id (36 characters, "
                "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx): set it to the one Zarinpal gave"
            )
        if (
            urlsplit(self.zarinpal_api_base.strip()).hostname
            != urlsplit(ZARINPAL_API_BASE).hostname
        ):
            problems.append(
                f"ZARINPAL_API_BASE={self.zarinpal_api_base or '(empty)'} is not Zarinpal's "
                f"payment API (the sandbox takes no money): set it to {ZARINPAL_API_BASE}"
            )
        return problems


def _is_loopback_url(url: str) -> bool:
    """True for an empty URL, one without a host, or a host of this machine only."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return True
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name
    return address.is_loopback or address.is_unspecified


@lru_cache
def get_settings() -> Settings:
    return Settings()


def require_safe(settings: Settings | None = None) -> Settings:
    """The settings (the process's own unless given), refused with UnsafeSettings when
    ENVIRONMENT=production and production_problems() finds any. Every entry point calls it."""
    settings = settings if settings is not None else get_settings()
    if settings.environment == Environment.PRODUCTION:
        problems = settings.production_problems()
        if problems:
            raise UnsafeSettings(problems)
    return settings


def local_zone() -> ZoneInfo:
    """The desk's time zone (TIMEZONE): where days begin and end, for dates and deadlines.

    ZoneInfo keeps one instance per name, and the settings are cached: this is cheap to call.
    """
    return ZoneInfo(get_settings().timezone)
