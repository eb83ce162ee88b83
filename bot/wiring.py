"""The composition root: the dialogs with what they set going, the SMS desk, the clock's rounds."""

import sqlalchemy as sa

from backend.settings import Settings
from backend.storage import FileStorage, LocalFileStorage
from bot.sms_desk import SmsDesk
from channels.inbound_rate import LOOKUP_PREFIX, MemoryRateCounter, RateCounter, RedisRateCounter
from dialogs.app import make_dialog_engine
from dialogs.engine import DialogEngine, Effects
from notifications.broadcasts.runtime import Broadcaster
from notifications.runtime import Notifier

# Two bills with their amounts, and the back and cancel choices, are what two SMS parts hold.
SMS_BILLS_SHOWN = 2


def make_dialogs(
    settings: Settings, db: sa.Engine, storage: FileStorage | None = None
) -> DialogEngine:
    """The dialogs of the bots and the terminal chat: a broadcast sent now starts at once, and
    look-ups by tracking code are counted in Redis (where there is one) across processes."""
    broadcaster = Broadcaster(settings, db)
    window = settings.track_rate_window_seconds
    lookups: RateCounter = (
        RedisRateCounter(broadcaster.redis, window, prefix=LOOKUP_PREFIX)
        if broadcaster.redis is not None
        else MemoryRateCounter(window)
    )
    return make_dialog_engine(
        db=db,
        settings=settings,
        storage=storage or LocalFileStorage(settings.files_dir),
        effects=Effects(start_broadcast=broadcaster.dispatch, lookups=lookups),
    )


def make_sms_desk(notifier: Notifier) -> SmsDesk:
    """The SMS desk on the notifier's gateway, clock and Redis: fewer bills a reply, so that
    a choice fits two SMS parts."""
    settings = notifier.settings
    window = settings.sms_rate_window_seconds
    counter: RateCounter = (
        RedisRateCounter(notifier.redis, window)
        if notifier.redis is not None
        else MemoryRateCounter(window)
    )
    shown = min(settings.latest_bills_shown, SMS_BILLS_SHOWN)
    dialogs = make_dialogs(settings.model_copy(update={"latest_bills_shown": shown}), notifier.db)
    return SmsDesk(
        db=notifier.db,
        settings=settings,
        dialogs=dialogs,
        provider=notifier.sms,
        counter=counter,
        clock=notifier.clock,
    )
