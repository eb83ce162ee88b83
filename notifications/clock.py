"""The clock process: runs the relay every few seconds, queues the periodic jobs, and lets
anything else that must run in rounds (the broadcasts) take its turn."""

import logging
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from notifications.queue import JobCall, QueueUnavailable
from notifications.runtime import Notifier

log = logging.getLogger(__name__)
REPORTS_SECONDS = 60.0  # delivery reports of sent SMS
INBOUND_SECONDS = 10.0  # inbound SMS on a gateway without push


def run_clock(
    notifier: Notifier,
    stop: threading.Event,
    monotonic: Callable[[], float] = time.monotonic,
    rounds: Sequence[Callable[[], None]] = (),
) -> None:
    """Until `stop` is set. A database or Redis outage is logged and tried again next time."""
    with notifier.sms() as provider:
        polled = provider.push_ack is None
    periodic = [(JobCall("poll_reports"), REPORTS_SECONDS)]
    if polled:
        periodic.append((JobCall("poll_inbound"), INBOUND_SECONDS))
    next_run = dict.fromkeys((call.name for call, _ in periodic), 0.0)
    while not stop.is_set():
        try:
            notifier.relay.run_once()
            for round_ in rounds:
                round_()
            for call, every in periodic:
                if monotonic() >= next_run[call.name]:
                    notifier.queue.submit([call])
                    next_run[call.name] = monotonic() + every
        except (SQLAlchemyError, QueueUnavailable) as error:
            log.warning("relay pass failed: %s", error)
        stop.wait(notifier.settings.notice_relay_seconds)
