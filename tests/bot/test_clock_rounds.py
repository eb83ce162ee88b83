"""The clock's own rounds: handled inbound events are forgotten once old (and only then)."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.constants import Channel
from backend.conversations import HANDLED_EVENTS_KEPT, claim_event
from backend.db import session_scope
from backend.models import ProcessedEvent
from backend.settings import Settings
from bot.clock import clock_rounds
from notifications.runtime import Notifier


def test_the_clock_forgets_handled_events_older_than_a_week(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    ages = {"fresh": timedelta(hours=1), "six-days": timedelta(days=6), "old": timedelta(days=8)}
    with session_scope(engine) as handling:
        for event_id, age in ages.items():
            assert claim_event(handling, channel=Channel.TELEGRAM, event_id=event_id, now=now - age)
    assert timedelta(days=7) == HANDLED_EVENTS_KEPT

    for round_ in clock_rounds(Notifier(notice_settings, engine, clock=lambda: now)):
        round_()

    kept = session.exec(select(ProcessedEvent.event_id).order_by(col(ProcessedEvent.event_id)))
    assert list(kept) == ["fresh", "six-days"]
    with session_scope(engine) as handling:  # a redelivery of a kept one is still recognised
        assert not claim_event(handling, channel=Channel.TELEGRAM, event_id="fresh", now=now)
