"""The RQ worker of the desk's queues (`rq worker -w notifications.worker.DeskWorker notices`,
and the same for `broadcasts`).

It runs jobs in its own process, one after another, instead of forking a work horse for each:
a job reuses what the ones before it built (the database engine, the Bot API clients and their
sessions), and the job code, aiogram above all, is imported once, here. When Redis goes away
RQ's own loop quits; this one waits for Redis to come back and works on, so the process needs no
restart by hand.
"""

import time
from typing import Any

import redis
from rq.worker import SimpleWorker

import channels.messengers  # noqa: F401 - aiogram, loaded once rather than in the first job
import notifications.broadcasts.jobs
import notifications.jobs  # noqa: F401
from backend.settings import UnsafeSettings, require_safe
from channels.metrics import serve

REDIS_WAIT_SECONDS = 2.0


class DeskWorker(SimpleWorker):
    stopping = False  # asked to stop (SIGTERM, SIGINT): the loop's end is then final

    def request_stop(self, signum: int, frame: Any) -> None:
        self.stopping = True
        super().request_stop(signum, frame)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        try:  # production refuses unsafe settings before the first job, not in each one
            settings = require_safe()
        except UnsafeSettings as error:
            raise SystemExit(str(error)) from None
        serve(settings.metrics_port)
        worked = False
        while True:
            try:
                worked = super().work(*args, **kwargs) or worked
            except redis.exceptions.RedisError as error:  # RQ's own clean-up needs Redis too
                self.log.warning("Worker %s: Redis failed (%s)", self.name, error)
            if self.stopping or kwargs.get("burst") or kwargs.get("max_jobs"):
                return worked
            self.log.warning("Worker %s: the work loop ended; waiting for Redis", self.name)
            self._wait_for_redis()

    def _wait_for_redis(self) -> None:
        while not self.stopping:
            try:
                self.connection.ping()
                return
            except redis.exceptions.RedisError:
                time.sleep(REDIS_WAIT_SECONDS)
