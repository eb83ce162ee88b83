"""Typed settings read from the environment, in one place."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{VAR_DIR / 'desk.db'}")
    files_dir: Path = VAR_DIR / "files"
    default_locale: str = "fa"
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
    # Webhook paths and Telegram's secret header are derived from this; web mode requires it.
    webhook_secret: SecretStr | None = None
    web_host: str = "0.0.0.0"
    port: int = 8080
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

    # Online payment: the provider ("dev": a page on our own web app) and the public address
    # of the web app, which payment links and the provider's callbacks use.
    payment_provider: str = "dev"
    public_base_url: str = "http://127.0.0.1:8080"

    # Notices: RQ on this Redis; None runs the same jobs in-process (the embedded default).
    redis_url: str | None = None
    # "console" (prints, appends to sms_console_path), "kavenegar" or "melipayamak".
    sms_provider: str = "console"
    sms_sender: str = ""  # the service line (خط خدماتی) messages go from and arrive at
    sms_api_base: str | None = None  # the provider's own address unless set (tests point it)
    sms_console_path: Path = VAR_DIR / "sms.jsonl"
    kavenegar_api_key: SecretStr | None = None
    melipayamak_username: str | None = None
    melipayamak_password: SecretStr | None = None
    # The inbound SMS webhook's path carries this; without it the webhook is not served.
    sms_webhook_secret: SecretStr | None = None
    # An SMS conversation's unfinished request is dropped after this much silence.
    sms_session_ttl_minutes: int = Field(default=30, gt=0)
    sms_max_parts: int = Field(default=3, gt=0)  # a notice by SMS is cut to this many parts
    sms_reply_max_parts: int = Field(default=2, gt=0)  # and a reply to an inbound SMS to this
    # Inbound SMS handled per sender and window; more get one warning, then silence.
    sms_rate_limit: int = Field(default=20, gt=0)
    sms_rate_window_seconds: int = Field(default=3600, gt=0)
    # A notice's sends: tries on temporary failures, the first pause (doubling each time), and
    # how long a job may hold a delivery before it is taken to have died and is sent again.
    notice_max_attempts: int = Field(default=6, gt=0)
    notice_retry_seconds: float = Field(default=30.0, gt=0)
    notice_lease_seconds: float = Field(default=300.0, gt=0)
    notice_relay_seconds: float = Field(default=2.0, gt=0)  # how often the relay looks

    # Broadcasts: messages a second per bot token (the platform's limit, in a one-second
    # window), the share of it kept free for interactive replies, rows claimed per chunk, SMS
    # per bulk call, parallel sender jobs, a claim's lease, tries on 5xx/network errors with
    # their first backoff (doubling), and how often the staff's progress message is updated.
    broadcast_telegram_rate: int = Field(default=25, gt=0)
    broadcast_bale_rate: int = Field(default=10, gt=0)
    broadcast_interactive_reserve: float = Field(default=0.2, ge=0, lt=1)
    broadcast_chunk_size: int = Field(default=100, gt=0)
    broadcast_sms_batch: int = Field(default=100, gt=0)
    broadcast_senders: int = Field(default=2, gt=0)
    broadcast_lease_seconds: float = Field(default=30.0, gt=0)
    broadcast_max_attempts: int = Field(default=5, gt=0)
    broadcast_retry_seconds: float = Field(default=2.0, gt=0)
    broadcast_progress_seconds: float = Field(default=5.0, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
