"""Sending broadcasts through the real aiogram bots against the fake Bot API, and SMS in bulk."""

import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from backend import broadcasts as service
from backend.broadcast_audience import Audience, AudienceKind, materialize
from backend.broadcast_deliveries import Claim, DeliveryStore
from backend.constants import (
    BroadcastChannels,
    BroadcastStatus,
    BroadcastTopic,
    Channel,
    DeliveryState,
)
from backend.models import Broadcast, BroadcastDelivery, ChannelIdentity, utcnow
from notifications.broadcasts.runtime import Broadcaster
from tests.broadcasts.conftest import Desk
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import BALE_TOKEN, TELEGRAM_TOKEN

T, B = Channel.TELEGRAM, Channel.BALE
STAFF_CHAT = "9001"
OUTAGE = service.outage_params(
    place="صفاشهر",
    day=date(2026, 12, 1),
    start=clock(9),
    end=clock(11, 30),
    reason="maintenance",
)


def create(
    session: Session,
    broadcaster: Broadcaster,
    channels: BroadcastChannels = BroadcastChannels.MESSENGER_THEN_SMS,
    *,
    dispatch: bool = True,
    progress: bool = True,
) -> int:
    broadcast = service.create_broadcast(
        session,
        topic=BroadcastTopic.OUTAGE,
        message_key=service.OUTAGE_KEY,
        params=OUTAGE,
        audience=Audience(AudienceKind.EVERYONE),
        channels=channels,
        send_at=utcnow(),
        created_by=None,
        progress_to=(T, STAFF_CHAT) if progress else None,
        now=utcnow(),
        dispatch=broadcaster.start if dispatch else lambda _: None,
    )
    assert broadcast.id is not None
    session.commit()
    return broadcast.id


def sends(api: FakeBotAPI, token: str) -> Counter[str]:
    """Successful sends per recipient chat (the staff's own chat aside)."""
    return Counter(
        str(call.params["chat_id"])
        for call in api.calls("sendMessage", token=token)
        if call.status == 200 and str(call.params["chat_id"]) != STAFF_CHAT
    )


def rows(session: Session, broadcast_id: int) -> dict[str, BroadcastDelivery]:
    session.expire_all()
    query = select(BroadcastDelivery).where(BroadcastDelivery.broadcast_id == broadcast_id)
    return {row.address: row for row in session.exec(query)}


def status(session: Session, broadcast_id: int) -> str:
    session.expire_all()
    broadcast = session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    return broadcast.status


def test_everyone_gets_it_once_in_their_channel_and_staff_see_progress(desk: Desk) -> None:
    session, fake_api, add_person, sms = desk.session, desk.api, desk.add_person, desk.sms
    for number in range(12):
        add_person(followers=[(T, str(5000 + number))])
    add_person(followers=[(B, "6000")])
    for number in range(6):
        add_person(mobile=f"+98912555{number:04d}")
    broadcaster = desk.broadcaster()
    broadcast_id = create(session, broadcaster)

    assert status(session, broadcast_id) == BroadcastStatus.DONE
    assert sends(fake_api, TELEGRAM_TOKEN) == Counter(str(5000 + n) for n in range(12))
    [bale] = fake_api.sent_messages(BALE_TOKEN, 6000)
    assert "صفاشهر" in bale["text"] and "۱۴۰۵/۰۹/۱۰" in bale["text"] and "۰۹:۰۰" in bale["text"]
    assert "تعمیرات و نگهداری شبکه" in bale["text"]
    assert all("parse_mode" not in c.params for c in fake_api.calls(token=BALE_TOKEN))
    assert sorted(m.to for m in sms.sent) == [f"+98912555{n:04d}" for n in range(6)]
    assert sms.batches == 2  # bulk sends of at most 5
    states = Counter(row.state for row in rows(session, broadcast_id).values())
    assert states == {DeliveryState.DELIVERED: 13, DeliveryState.SENT: 6}
    progress, report = fake_api.sent_messages(TELEGRAM_TOKEN, int(STAFF_CHAT))
    assert progress["text"] == report["text"]  # the progress message ends as the report
    assert "گزارش اطلاعیه" in report["text"] and "۱۹" in report["text"]


def test_429_pauses_403_falls_back_to_sms_5xx_is_retried(desk: Desk) -> None:
    session, fake_api, add_person, sms = desk.session, desk.api, desk.add_person, desk.sms
    add_person(followers=[(T, "7001")])
    add_person(owners=[(T, "7002")], mobile="+989127777002")  # blocked the bot
    add_person(followers=[(T, "7003")])
    add_person(followers=[(B, "7004")])
    fake_api.fail_chat(7002, 403, token=TELEGRAM_TOKEN)
    fake_api.fail_next("sendMessage", 429, retry_after=1, token=TELEGRAM_TOKEN)
    fake_api.fail_next("sendMessage", 502, token=TELEGRAM_TOKEN)
    fake_api.fail_next("sendMessage", 429, description="bot limit exceed", token=BALE_TOKEN)
    broadcaster = desk.broadcaster()
    started = time.monotonic()
    broadcast_id = create(session, broadcaster, progress=False)  # the faults are the rows'
    assert time.monotonic() - started > 2.0  # Bale's bare 429: a two-second pause

    assert sends(fake_api, TELEGRAM_TOKEN) == Counter({"7001": 1, "7003": 1})
    assert sends(fake_api, BALE_TOKEN) == Counter({"7004": 1})
    telegram = [c for c in fake_api.calls("sendMessage", token=TELEGRAM_TOKEN) if c.status]
    refused = next(c for c in telegram if c.status == 429)
    after = [c.time for c in telegram if c.time > refused.time and c.status != 429]
    assert min(after) - refused.time >= 0.95  # the token waited retry_after
    found = rows(session, broadcast_id)
    assert (
        found["7002"].state == DeliveryState.PERMANENT_FAILURE and found["7002"].raw_code == "403"
    )
    assert [m.to for m in sms.sent] == ["+989127777002"]  # the blocked chat's SMS instead
    retried = [row for row in found.values() if row.attempts == 1]
    assert len(retried) == 1 and retried[0].state == DeliveryState.DELIVERED
    identity = session.exec(
        select(ChannelIdentity).where(ChannelIdentity.external_user_id == "7002")
    ).one()
    assert identity.reachable is False
    assert status(session, broadcast_id) == BroadcastStatus.DONE


def test_a_cancel_stops_what_is_not_sent_yet(desk: Desk) -> None:
    session, engine, fake_api, add_person = desk.session, desk.engine, desk.api, desk.add_person
    for number in range(40):
        add_person(followers=[(T, str(8000 + number))])
    broadcaster = desk.broadcaster(telegram_rate=10)
    broadcast_id = create(session, broadcaster, dispatch=False)
    sender = threading.Thread(target=broadcaster.start, args=(broadcast_id,))
    sender.start()
    fake_api.wait_for_calls_blocking("sendMessage", token=TELEGRAM_TOKEN, count=8, timeout=10)
    with Session(engine) as cancelling:
        assert service.cancel_broadcast(cancelling, broadcast_id, now=utcnow())
        cancelling.commit()
    cancelled_at = time.monotonic()
    sender.join(15)
    assert not sender.is_alive()

    to_recipients = [
        c
        for c in fake_api.calls("sendMessage", token=TELEGRAM_TOKEN)
        if str(c.params["chat_id"]) != STAFF_CHAT
    ]
    assert sum(1 for c in to_recipients if c.time > cancelled_at) <= 1  # one in flight at most
    assert len(to_recipients) < 20
    states = Counter(row.raw_code for row in rows(session, broadcast_id).values())
    assert states[service.CANCELLED] == 40 - len(to_recipients)
    assert status(session, broadcast_id) == BroadcastStatus.CANCELLED
    report = fake_api.sent_messages(TELEGRAM_TOKEN, int(STAFF_CHAT))[-1]["text"]
    assert "لغوشده" in report


def test_a_dead_senders_work_is_taken_over_never_twice(desk: Desk) -> None:
    session, engine, fake_api, add_person = desk.session, desk.engine, desk.api, desk.add_person
    for number in range(10):
        add_person(followers=[(T, str(9100 + number))])
    broadcaster = desk.broadcaster(broadcast_lease_seconds=0.5)
    broadcast_id = create(session, broadcaster, BroadcastChannels.MESSENGER, dispatch=False)
    # A start whose senders died: rows written, then one sender claimed three rows and died
    # during the call of the first (marked sent, no answer).
    materialize(
        session,
        broadcast_id,
        Audience(AudienceKind.EVERYONE),
        BroadcastChannels.MESSENGER,
        BroadcastTopic.OUTAGE,
        default_locale="fa",
    )
    session.execute(
        sa.update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(status=BroadcastStatus.SENDING)
    )
    session.commit()
    claim = broadcaster.store.claim(broadcast_id, T, 3)
    in_doubt = claim.rows[0]
    assert broadcaster.store.mark_sending(broadcast_id, [in_doubt.id], claim.lease)
    time.sleep(0.6)  # the leases run out

    broadcaster.resume()  # the clock's round: no sender alive, so one starts

    expected = Counter(str(9100 + n) for n in range(10))
    del expected[in_doubt.address]
    assert sends(fake_api, TELEGRAM_TOKEN) == expected  # the claimed ones too, none twice
    assert status(session, broadcast_id) == BroadcastStatus.DONE
    with Session(engine) as check:
        counts = service.delivery_counts(check, broadcast_id, doubt_before=utcnow())
    assert (counts.sent, counts.in_doubt, counts.remaining) == (10, 1, 0)


def test_parallel_senders_share_the_rows_and_the_rate(
    database_url: str, broadcast_redis: str, desk: Desk
) -> None:
    session, fake_api, add_person = desk.session, desk.api, desk.add_person
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one process, in-process")
    for number in range(45):
        add_person(followers=[(T, str(9500 + number))])
    fake_api.rate_limit(TELEGRAM_TOKEN, 30)
    updates = {
        "redis_url": broadcast_redis,
        "telegram_rate": 30,
        "broadcast_senders": 2,
    }
    broadcaster = desk.broadcaster(**updates)
    broadcast_id = create(session, broadcaster, BroadcastChannels.MESSENGER, dispatch=False)
    broadcaster.start(broadcast_id)  # queues its senders in RQ; here threads run them
    started = time.monotonic()
    threads = [
        threading.Thread(target=desk.broadcaster(**updates).send, args=(broadcast_id, name))
        for name in ("a", "b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sends(fake_api, TELEGRAM_TOKEN) == Counter(str(9500 + n) for n in range(45))
    assert 429 not in {c.status for c in fake_api.calls(token=TELEGRAM_TOKEN)}
    assert time.monotonic() - started > 1.0  # 45 at 30 a second
    assert status(session, broadcast_id) == BroadcastStatus.DONE


def test_counts_of_a_broadcast(session: Session, engine: sa.Engine) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    broadcast = Broadcast(
        topic=BroadcastTopic.GENERAL,
        message_key=service.TEXT_KEY,
        params={"text": "x"},
        audience={"kind": "everyone"},
        channels=BroadcastChannels.SMS,
        status=BroadcastStatus.SENDING,
        created_at=now,
        send_at=now,
    )
    session.add(broadcast)
    session.flush()
    made: list[dict[str, Any]] = [
        {"state": DeliveryState.DELIVERED, "raw_code": "ok"},
        {"state": DeliveryState.SENT, "raw_code": "1"},
        {"state": DeliveryState.SENT, "raw_code": None},  # in doubt
        {"state": DeliveryState.PERMANENT_FAILURE, "raw_code": "403"},
        {"state": DeliveryState.QUEUED, "raw_code": None},
    ]
    for number, values in enumerate(made):
        session.add(
            BroadcastDelivery(
                broadcast_id=broadcast.id,
                channel=Channel.SMS,
                address=str(number),
                updated_at=now,
                **values,
            )
        )
    session.commit()
    counts = service.delivery_counts(session, broadcast.id, doubt_before=utcnow())
    assert (counts.sent, counts.failed, counts.remaining, counts.in_doubt) == (3, 1, 1, 1)
    assert service.cancel_broadcast(session, broadcast.id, now=utcnow())
    assert not service.cancel_broadcast(session, broadcast.id, now=utcnow())
    counts = service.delivery_counts(session, broadcast.id, doubt_before=utcnow())
    assert (counts.cancelled, counts.remaining, counts.total) == (1, 0, 5)


class Killed(Exception):
    """The worker dies."""


class DiesHoldingTheFallback(DeliveryStore):
    """A store whose sender dies once it has claimed the SMS that stands in for a blocked chat
    (before sending it): its lease must run out and another sender send it, once."""

    died = False

    def claim(self, broadcast_id: int, channel: Channel, size: int) -> Claim:
        claim = super().claim(broadcast_id, channel, size)
        if not self.died and any(row.address == BLOCKED_HOME for row in claim.rows):
            self.died = True
            raise Killed
        return claim


BLOCKED_HOME = "+989127771001"


def test_a_blocked_followers_subscription_gets_the_sms_once_across_a_killed_sender(
    desk: Desk,
) -> None:
    session, engine, fake_api, add_person, sms = (
        desk.session,
        desk.engine,
        desk.api,
        desk.add_person,
        desk.sms,
    )
    add_person(followers=[(T, "7101")], mobile=BLOCKED_HOME)  # 7101 blocked the bot
    add_person(followers=[(T, "7101")], mobile="+989127771002")
    add_person(mobile="+989127771002")  # that mobile has the broadcast anyway: not twice
    add_person(followers=[(T, "7101"), (B, "7102")], mobile="+989127771003")  # Bale reads it
    fake_api.fail_chat(7101, 403, token=TELEGRAM_TOKEN)
    shift = [timedelta(0)]
    lease = desk.settings.broadcast_lease_seconds
    broadcaster = Broadcaster(
        desk.settings, engine, clock=lambda: utcnow() + shift[0], sms=lambda: sms
    )
    store = DiesHoldingTheFallback(engine, lease=timedelta(seconds=lease), clock=broadcaster.clock)
    broadcaster.store = store
    broadcast_id = create(session, broadcaster, dispatch=False, progress=False)
    broadcaster.start(broadcast_id)  # its in-process sender job dies (the queue logs it)
    assert store.died and BLOCKED_HOME not in {m.to for m in sms.sent}
    shift[0] = timedelta(seconds=lease + 1)  # the dead sender's lease runs out

    broadcaster.resume()  # the clock's round: no sender alive, so one starts

    assert Counter(m.to for m in sms.sent) == {BLOCKED_HOME: 1, "+989127771002": 1}
    assert sends(fake_api, TELEGRAM_TOKEN) == Counter()
    assert sends(fake_api, BALE_TOKEN) == Counter({"7102": 1})
    assert len(fake_api.calls("sendMessage", token=TELEGRAM_TOKEN)) == 1  # the 403, not again
    found = rows(session, broadcast_id)
    assert (found["7101"].state, found["7101"].raw_code) == (DeliveryState.PERMANENT_FAILURE, "403")
    assert status(session, broadcast_id) == BroadcastStatus.DONE
