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


@lru_cache
def get_settings() -> Settings:
    return Settings()
