"""The clock process: runs the relay every few seconds, queues the periodic jobs, and lets
anything else that must run in rounds (the broadcasts, polled inbound SMS) take its turn."""

import logging
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from notifications.queue import JobCall, QueueUnavailable
from notifications.runtime import Notifier

log = logging.getLogger(__name__)
REPORTS_SECONDS = 60.0  # delivery reports of sent SMS


def every(
    seconds: float, round_: Callable[[], object], monotonic: Callable[[], float] = time.monotonic
) -> Callable[[], None]:
    """`round_`, run at most once per `seconds`."""
    due = [0.0]

    def run() -> None:
        if monotonic() >= due[0]:
            due[0] = monotonic() + seconds
            round_()

    return run


def run_clock(
    notifier: Notifier,
    stop: threading.Event,
    monotonic: Callable[[], float] = time.monotonic,
    rounds: Sequence[Callable[[], None]] = (),
) -> None:
    """Until `stop` is set. A database or Redis outage is logged and tried again next time."""
    periodic = [(JobCall("poll_reports"), REPORTS_SECONDS)]
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
