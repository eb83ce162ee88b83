"""Counting messages or look-ups per key in a fixed window: in Redis when configured, else in
memory; while Redis fails, in memory too, so that a limit holds through an outage."""

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

log = logging.getLogger(__name__)
KEY_PREFIX = "desk:sms-rate:"  # inbound SMS per sender
LOOKUP_PREFIX = "desk:lookup-rate:"  # look-ups by tracking code per channel and user


# A hit in one command, atomic as the MULTI it replaces and a round of commands cheaper: the
# count, and the window's expiry if it has none yet.
_HIT = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return count
"""


class RateCounter(Protocol):
    def hit(self, key: str) -> int:
        """Counts one more message from `key` in the current window; the count so far."""
        ...


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


class RedisRateCounter:
    """Shared by every web process and worker. While Redis fails, this process counts alone
    (MemoryRateCounter): each process then limits on its own, which is looser, never open."""

    def __init__(
        self,
        connection: redis.Redis,
        window_seconds: int,
        *,
        prefix: str = KEY_PREFIX,
        fallback: MemoryRateCounter | None = None,
    ) -> None:
        self._window = window_seconds
        self._prefix = prefix
        self._fallback = fallback or MemoryRateCounter(window_seconds)
        self._failing = False
        self._hit = connection.register_script(_HIT)

    def hit(self, key: str) -> int:
        try:
            count = self._hit(keys=[self._prefix + key], args=[self._window])
        except redis.exceptions.RedisError as error:
            if not self._failing:  # once per outage, not once per message
                log.warning("rate counted in this process while Redis fails: %s", error)
                self._failing = True
            return self._fallback.hit(key)
        if self._failing:
            log.info("rate counted in Redis again")
            self._failing = False
        return int(count)
