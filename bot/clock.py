"""`python -m bot clock` (Procfile `clock`): the notice relay and periodic jobs, due broadcasts
started and dead broadcast senders replaced, inbound SMS polled from a gateway without push,
staff told of steps past their deadline, planned-outage reminders queued, and handled inbound
events forgotten once old."""

import signal
import sys
import threading
from collections.abc import Callable

from backend.conversations import HANDLED_EVENTS_KEPT, prune_processed_events
from backend.db import get_engine, session_scope
from backend.outage_schedule import reminders_round
from backend.reports import weekly_round
from backend.settings import UnsafeSettings, require_safe
from backend.staff_notices import counter_overdue_round, overdue_round
from bot.wiring import make_sms_desk
from channels.metrics import QUEUE_DEPTH, serve
from notifications.broadcasts.runtime import QUEUE_NAME as BROADCASTS_QUEUE
from notifications.broadcasts.runtime import Broadcaster
from notifications.clock import every, run_clock
from notifications.queue import QUEUE_NAME as NOTICES_QUEUE
from notifications.queue import waiting_jobs
from notifications.runtime import Notifier

INBOUND_SECONDS = 10.0  # inbound SMS on a gateway without push
PRUNE_SECONDS = 3600.0  # handled events older than HANDLED_EVENTS_KEPT
OVERDUE_SECONDS = 60.0  # steps past their deadline, told to their holder and the supervisors
REMINDER_SECONDS = 60.0  # planned outages starting within the hour, told to who asked
WEEKLY_REPORT_SECONDS = 300.0  # Saturday morning's weekly reports, to the managers who asked
DEPTH_SECONDS = 15.0  # the queue-depth metric


def prune_handled_events(notifier: Notifier) -> int:
    """Forgets the inbound events handled more than HANDLED_EVENTS_KEPT ago; how many."""
    with session_scope(notifier.db) as session:
        return prune_processed_events(session, before=notifier.clock() - HANDLED_EVENTS_KEPT)


def tell_overdue(notifier: Notifier) -> int:
    """Queues the notices of steps newly past their deadline, requests' and counters'
    (backend.staff_notices); how many."""
    with session_scope(notifier.db) as session:
        now = notifier.clock()
        return overdue_round(session, now=now) + counter_overdue_round(session, now=now)


def send_outage_reminders(notifier: Notifier) -> int:
    """Queues the reminders of planned outages that start within the hour, each once."""
    with session_scope(notifier.db) as session:
        return reminders_round(session, now=notifier.clock())


def push_weekly_reports(notifier: Notifier) -> int:
    """Queues the week's report for each manager who asked, once a week (backend.reports)."""
    with session_scope(notifier.db) as session:
        return weekly_round(session, now=notifier.clock(), settings=notifier.settings)


def clock_rounds(notifier: Notifier) -> list[Callable[[], None]]:
    """What the clock runs in its rounds besides the relay and the periodic jobs."""
    rounds: list[Callable[[], None]] = [
        Broadcaster(notifier.settings, notifier.db).resume,
        every(PRUNE_SECONDS, lambda: prune_handled_events(notifier)),
        every(OVERDUE_SECONDS, lambda: tell_overdue(notifier)),
        every(REMINDER_SECONDS, lambda: send_outage_reminders(notifier)),
        every(WEEKLY_REPORT_SECONDS, lambda: push_weekly_reports(notifier)),
    ]
    with notifier.sms() as provider:
        if provider.push_ack is None:  # a gateway that is asked, not one that pushes
            rounds.append(every(INBOUND_SECONDS, make_sms_desk(notifier).poll))
    if notifier.redis is not None:
        rounds.append(every(DEPTH_SECONDS, lambda: measure_queues(notifier)))
    return rounds


def measure_queues(notifier: Notifier) -> None:
    assert notifier.redis is not None
    for name in (NOTICES_QUEUE, BROADCASTS_QUEUE):
        QUEUE_DEPTH.labels(name).set(waiting_jobs(notifier.redis, name))


def main() -> int:
    try:
        settings = require_safe()
    except UnsafeSettings as error:
        print(error, file=sys.stderr)
        return 2
    notifier = Notifier(settings, get_engine())
    rounds = clock_rounds(notifier)
    serve(settings.metrics_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_clock(notifier, stop, rounds=rounds)
    return 0
