"""`python -m notifications clock` (Procfile `clock`): the notice relay and periodic jobs, due
broadcasts started and dead broadcast senders replaced."""

import logging
import signal
import sys
import threading

USAGE = "usage: python -m notifications clock"


def main(argv: list[str]) -> int:
    if argv != ["clock"]:
        print(USAGE, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from backend.db import get_engine
    from backend.settings import get_settings
    from notifications.broadcasts.jobs import broadcaster
    from notifications.clock import run_clock
    from notifications.runtime import Notifier

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_clock(Notifier(get_settings(), get_engine()), stop, rounds=[broadcaster().resume])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
