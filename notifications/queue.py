"""Where jobs run: RQ on Redis when REDIS_URL is set, else right here, in-process. The one
place that knows RQ (notices and broadcasts alike)."""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from rq import Queue

log = logging.getLogger(__name__)
QUEUE_NAME = "notices"
JOBS_MODULE = "notifications.jobs"
JOB_TIMEOUT = 600  # seconds; a send is bounded well below this by its HTTP timeouts
RESULT_TTL = 3600  # keep finished jobs an hour for `rq info`; the database holds the outcome


@dataclass(frozen=True)
class JobCall:
    """A call of one of the functions of a jobs module; arguments are ids, never rows."""

    name: str
    args: tuple[Any, ...] = ()


class QueueUnavailable(Exception):
    """The queue refused the jobs (Redis is down): nothing of them was queued for certain."""


class JobQueue(Protocol):
    def submit(self, calls: Sequence[JobCall]) -> None: ...


class InlineQueue:
    """Runs each job at once, as a worker would: a failing job is logged, the others run."""

    def __init__(self, run: Callable[[JobCall], None]) -> None:
        self._run = run

    def submit(self, calls: Sequence[JobCall]) -> None:
        for call in calls:
            try:
                self._run(call)
            except Exception:
                log.exception("job %s failed", call.name)


class RqQueue:
    """The RQ queue `name`, whose jobs are the functions of `jobs_module`."""

    def __init__(
        self,
        connection: redis.Redis,
        name: str = QUEUE_NAME,
        *,
        jobs_module: str = JOBS_MODULE,
        timeout: int = JOB_TIMEOUT,
    ) -> None:
        self._queue = Queue(name, connection=connection)
        self._jobs_module = jobs_module
        self._timeout = timeout

    def submit(self, calls: Sequence[JobCall]) -> None:
        jobs = [
            Queue.prepare_data(
                f"{self._jobs_module}.{call.name}",
                args=call.args,
                timeout=self._timeout,
                result_ttl=RESULT_TTL,
            )
            for call in calls
        ]
        try:
            self._queue.enqueue_many(jobs)
        except redis.exceptions.RedisError as error:
            raise QueueUnavailable(str(error)) from error


def redis_connection(url: str) -> redis.Redis:
    # Short timeouts: a relay that cannot reach Redis gives up quickly and tries next time.
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)


def waiting_jobs(connection: redis.Redis, name: str) -> int:
    """How many jobs wait in the RQ queue `name` (for the queue-depth metric)."""
    return int(Queue(name, connection=connection).count)
