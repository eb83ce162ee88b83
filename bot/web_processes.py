"""`python -m bot web` in several processes (WEB_PROCESSES > 1): gunicorn's master holds the port
and keeps that many workers running (aiohttp's GunicornWebWorker), each the whole web app.

Any worker may take any update: a user's events run one at a time across processes (the lock on
their conversation's row) and a redelivery is claimed once (processed_event), both in the
database. The workers write Prometheus' multiprocess files, so `/metrics` from whichever worker
answers sums them all (bot.web.metrics_body).
"""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from gunicorn.app.base import BaseApplication

from backend.settings import Settings

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when it is imported
# Seconds a worker has to finish what it holds once told to stop (a deploy, a scale-down).
GRACEFUL_SECONDS = 30


async def _runner() -> web.AppRunner:
    """One worker's app, made after the fork: its own event loop, engine, pools and bots."""
    from backend.settings import get_settings
    from bot.app import make_channel_bots, make_dispatcher
    from bot.web import RouteAccessLog, freeze_startup_heap, make_web_app

    settings = get_settings()
    bots = make_channel_bots(settings)
    app = make_web_app(settings, make_dispatcher(bots), bots)
    freeze_startup_heap()
    return web.AppRunner(
        app, access_log_class=RouteAccessLog, shutdown_timeout=GRACEFUL_SECONDS * 0.95
    )


def _worker_exited(_: Any, worker: Any) -> None:
    """A worker that is gone leaves its live gauges' files behind: marked dead, not summed."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class _DeskWeb(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        settings = self._settings
        self.cfg.set("bind", [f"{settings.web_host}:{settings.port}"])
        self.cfg.set("workers", settings.web_processes)
        self.cfg.set("worker_class", "aiohttp.GunicornWebWorker")
        self.cfg.set("graceful_timeout", GRACEFUL_SECONDS)
        self.cfg.set("accesslog", None)  # each worker's RouteAccessLog: never a secret path
        self.cfg.set("child_exit", _worker_exited)
        # No control socket: one desk's master is not to be driven from its home folder.
        self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        return _runner


@contextmanager
def serve(settings: Settings) -> Iterator[Callable[[], int]]:
    """What runs the workers until gunicorn's master is told to stop. Entered before this
    process imports prometheus_client (the workers inherit the multiprocess mode it picks
    then); the metrics' files go when it is left."""
    metrics = tempfile.mkdtemp(prefix="desk-metrics-")
    os.environ[MULTIPROCESS_DIR] = metrics

    def run() -> int:
        _DeskWeb(settings).run()
        return 0

    try:
        yield run
    finally:
        shutil.rmtree(metrics, ignore_errors=True)
        del os.environ[MULTIPROCESS_DIR]
