"""`python -m bot clock` (Procfile `clock`): the notice relay and periodic jobs, due broadcasts
started and dead broadcast senders replaced, and inbound SMS polled from a gateway without push."""

import signal
import sys
import threading

from backend.db import get_engine
from backend.settings import UnsafeSettings, require_safe
from bot.wiring import make_sms_desk
from notifications.broadcasts.runtime import Broadcaster
from notifications.clock import every, run_clock
from notifications.runtime import Notifier

INBOUND_SECONDS = 10.0  # inbound SMS on a gateway without push


def main() -> int:
    try:
        settings = require_safe()
    except UnsafeSettings as error:
        print(error, file=sys.stderr)
        return 2
    notifier = Notifier(settings, get_engine())
    rounds = [Broadcaster(settings, notifier.db).resume]
    with notifier.sms() as provider:
        if provider.push_ack is None:  # a gateway that is asked, not one that pushes
            rounds.append(every(INBOUND_SECONDS, make_sms_desk(notifier).poll))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_clock(notifier, stop, rounds=rounds)
    return 0
