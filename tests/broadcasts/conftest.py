"""Fixtures of the broadcast tests: subscribers, a recording SMS gateway, Redis keys.

Staff (`hire`), the bots on the fake Bot API and the test Redis are shared fixtures
(tests/conftest.py).
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlmodel import Session

from backend.constants import Channel, DeliveryState
from backend.models import ChannelIdentity, FollowedSubscription, Subscription
from backend.settings import Settings
from bot.wiring import make_dialogs
from channels.sms import OutgoingSms, SendResult, SmsProvider, StatusResult, Tracked
from dialogs.engine import DialogEngine
from notifications.broadcasts.runtime import QUEUE_NAME, Broadcaster
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI

REDIS_PATTERNS = ("rate:*", "bcast:*", f"rq:*{QUEUE_NAME}*")


class RecordingSms(SmsProvider):
    """Accepts every SMS and remembers it; `send_many` calls are counted (bulk sends)."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[OutgoingSms] = []
        self.batches = 0

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        self.sent.append(OutgoingSms(to, text, reference))
        return SendResult(reference, to, DeliveryState.SENT, "1")

    def send_many(self, messages: Sequence[OutgoingSms]) -> list[SendResult]:
        self.batches += 1
        return [self.send(m.to, m.text, reference=m.reference) for m in messages]

    def status(self, messages: Sequence[str | Tracked]) -> list[StatusResult]:
        return []


@pytest.fixture
def sms() -> RecordingSms:
    return RecordingSms()


@pytest.fixture
def broadcast_redis(redis_url: str) -> Iterator[str]:
    """The test Redis; the keys of broadcasts, their limiters and their queue are removed."""
    yield redis_url
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter("rq:job:*"):
        if connection.hget(key, "origin") == QUEUE_NAME.encode():
            connection.delete(key)
    for pattern in REDIS_PATTERNS:
        for key in connection.scan_iter(pattern):
            connection.delete(key)
    connection.close()


@pytest.fixture
def broadcast_settings(bot_settings: Settings, tmp_path: Path) -> Settings:
    """The bots on the fake API; fast rates and retries, small chunks, SMS to a temp file."""
    return bot_settings.model_copy(
        update={
            "bot_api_attempts": 1,
            "telegram_rate": 200,
            "bale_rate": 200,
            "broadcast_chunk_size": 7,
            "broadcast_sms_batch": 5,
            "broadcast_retry_seconds": 0.1,
            "broadcast_progress_seconds": 0.3,
            "sms_console_path": tmp_path / "sms.jsonl",
        }
    )


@pytest.fixture
def dialog_engine(engine: sa.Engine, broadcast_settings: Settings) -> DialogEngine:
    return make_dialogs(broadcast_settings, engine)


AddPerson = Callable[..., Subscription]


@dataclass
class Desk:
    """What a sending test works with: the database, the fake Bot API, subscribers, SMS."""

    session: Session
    engine: sa.Engine
    settings: Settings
    api: FakeBotAPI
    add_person: AddPerson
    sms: RecordingSms

    def broadcaster(self, **settings: Any) -> Broadcaster:
        changed = self.settings.model_copy(update=settings)
        return Broadcaster(changed, self.engine, sms=lambda: self.sms)


@pytest.fixture
def desk(
    session: Session,
    engine: sa.Engine,
    broadcast_settings: Settings,
    fake_api: FakeBotAPI,
    add_person: AddPerson,
    sms: RecordingSms,
) -> Desk:
    return Desk(session, engine, broadcast_settings, fake_api, add_person, sms)


@pytest.fixture
def add_person(session: Session) -> AddPerson:
    """A subscription with its customer's mobile; optionally followed, or owned, in messengers."""
    numbers = iter(range(10_001, 99_999))

    def add(
        *,
        mobile: str | None = None,
        followers: Sequence[tuple[Channel, str]] = (),
        owners: Sequence[tuple[Channel, str]] = (),
        **place: str,
    ) -> Subscription:
        number = next(numbers)
        mobile = mobile or f"+98912{number:07d}"
        subscription = add_subscription(session, file_number=number, bills=0, mobile=mobile)
        for name, value in place.items():
            setattr(subscription, name, value)
        for channel, user_id in [*followers, *owners]:
            if not _identity(session, channel, user_id):
                session.add(ChannelIdentity(channel=channel, external_user_id=user_id))
        for channel, user_id in followers:
            session.add(
                FollowedSubscription(
                    channel=channel, user_id=user_id, subscription_id=subscription.id
                )
            )
        session.flush()
        for channel, user_id in owners:
            session.execute(
                sa.update(ChannelIdentity)
                .where(
                    ChannelIdentity.channel == channel, ChannelIdentity.external_user_id == user_id
                )
                .values(customer_id=subscription.customer_id, phone_verified=True, phone=mobile)
            )
        session.add(subscription)
        session.commit()
        return subscription

    return add


def _identity(session: Session, channel: Channel, user_id: str) -> bool:
    session.flush()
    found = session.execute(
        sa.select(ChannelIdentity.id).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_user_id == user_id
        )
    ).first()
    return found is not None
