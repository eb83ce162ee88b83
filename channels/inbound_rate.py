"""Counting inbound SMS per sender in a fixed window: in Redis when configured, else in memory."""

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

log = logging.getLogger(__name__)
KEY_PREFIX = "desk:sms-rate:"


class RateCounter(Protocol):
    def hit(self, key: str) -> int:
        """Counts one more message from `key` in the current window; the count so far."""
        ...


class RedisRateCounter:
    """Shared by every web process and worker; a Redis failure lets the message through."""

    def __init__(self, connection: redis.Redis, window_seconds: int) -> None:
        self._redis = connection
        self._window = window_seconds

    def hit(self, key: str) -> int:
        name = KEY_PREFIX + key
        try:
            pipe = self._redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, self._window, nx=True)
            count, _ = pipe.execute()
        except redis.exceptions.RedisError as error:
            log.warning("rate limit not checked: %s", error)
            return 0
        return int(count)


class MemoryRateCounter:
    """For the embedded default, where one process handles everything."""

    def __init__(self, window_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> int:
        now = self._clock()
        with self._lock:
            started, count = self._counts.get(key, (now, 0))
            if now - started >= self._window:
                started, count = now, 0
            self._counts[key] = (started, count + 1)
            if len(self._counts) > 10_000:  # forget finished windows now and then
                self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self._window}
            return count + 1
