"""One rate limiter per bot token, shared by every process through Redis (Lua for atomicity).

Every call on a token passes it: replies, notices, broadcasts, progress messages.

A classic token bucket refilled at exactly the platform's rate still gets 429s: the platform
counts calls in a sliding window on their arrival, and network jitter moves arrivals closer
together than the bucket spaced them. Here a token is a slot of the window: a call holds its
slot while it is in flight and gives it back one window after its answer came, so no window on
the server can ever see more calls than the limit, whatever the latency; the cost is one
round trip per window (a few milliseconds in a second).

Interactive calls (replies, staff controls, the progress message) come first: while one waits
for a slot it raises a flag that bulk calls (broadcasts) yield to, and bulk calls are paced
evenly (at most two in every `window / limit`), so slots come free one by one and a
waiting reply gets the next; no share of the window has to be set aside for them. A 429 pauses
the whole token: for `retry_after` when the platform says it, else 2, 4, 8 s (Bale's bare "bot
limit exceed"). A bulk message goes to a chat at most once a second; a reply may follow the
message it answers at once.
"""

import asyncio
import hashlib
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

MAX_POLL = 0.1  # seconds: a waiting caller looks again at least this often
CHAT_GAP = 1.0  # seconds between two messages to one chat
FIRST_BACKOFF = 2.0  # seconds, doubling per 429 without retry_after in a row
MAX_BACKOFF = 8.0
PRIORITY_HOLD = 0.3  # seconds bulk calls keep yielding after an interactive one last waited
# Bulk calls are spaced window / (PACE_SHARE * limit) apart: spread enough that slots free one
# by one, loose enough that the window, not the spacing, is what limits a broadcast's rate.
PACE_SHARE = 2

# KEYS: slots (zset: member -> ms at which the slot frees), pause (its TTL is the pause),
# priority (its TTL: an interactive call waited that recently), pace (its TTL: until the next
# bulk call) and, for a bulk message to a chat, the chat (its TTL is the gap it still needs)
# ARGV: limit, hold_ms (an unanswered call's slot), member, chat_gap_ms, interactive (1/0),
# priority_hold_ms, pace_ms
# Returns 0 when a slot was taken, else the milliseconds to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interactive = ARGV[5] == '1'
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
if not interactive then
  local yielding = redis.call('PTTL', KEYS[3])
  if yielding > 0 then return yielding end
  local paced = redis.call('PTTL', KEYS[4])
  if paced > 0 then return paced end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  if interactive then redis.call('SET', KEYS[3], '1', 'PX', ARGV[6]) end
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(first[2]) - now)
end
if KEYS[5] then
  local gap = redis.call('PTTL', KEYS[5])
  if gap > 0 then return gap end
  redis.call('SET', KEYS[5], '1', 'PX', ARGV[4])
end
if not interactive then redis.call('SET', KEYS[4], '1', 'PX', ARGV[7]) end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return 0
"""

# KEYS: slots, strikes; ARGV: member, window_ms. The slot frees one window after the answer.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('DEL', KEYS[2])
return 0
"""

# KEYS: slots, pause, strikes; ARGV: member, retry_after_ms (0: not said), first_ms, max_ms
# A refused call used no slot on the server; the pause is never shortened. Returns the pause.
_PAUSE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local wait = tonumber(ARGV[2])
if wait <= 0 then
  local strikes = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], 60000)
  wait = math.min(tonumber(ARGV[3]) * 2 ^ (strikes - 1), tonumber(ARGV[4]))
end
if redis.call('PTTL', KEYS[2]) < wait then
  redis.call('SET', KEYS[2], '1', 'PX', math.floor(wait))
end
return math.floor(wait)
"""


BeforeCall = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class Bulk:
    """Calls made under `bulk()`: they yield to interactive ones; `before_call` runs once the
    call holds its slot, right before it goes out, and a False from it voids the call."""

    before_call: BeforeCall | None = None


current_bulk: ContextVar[Bulk | None] = ContextVar("current_bulk", default=None)


class CallVoided(Exception):
    """`before_call` said no: the call was not made."""


@contextmanager
def bulk(before_call: BeforeCall | None = None) -> Iterator[None]:
    token = current_bulk.set(Bulk(before_call))
    try:
        yield
    finally:
        current_bulk.reset(token)


@dataclass(frozen=True)
class Slot:
    member: str


class Limiter(Protocol):
    """What a sender needs: a slot before each call, and what became of the call."""

    async def acquire(self, chat: str | None = None, *, interactive: bool = False) -> Slot: ...

    async def answered(self, slot: Slot) -> None: ...

    async def refused(self, slot: Slot, retry_after: float | None) -> float: ...


def _backoff(strikes: int) -> float:
    return min(FIRST_BACKOFF * 2.0 ** (strikes - 1), MAX_BACKOFF)


class RedisLimiter:
    """The limiter of one bot token, its state in Redis under a hash of the token."""

    def __init__(
        self,
        redis: Redis,
        token: str,
        *,
        limit: int,
        window: float = 1.0,
        hold: float = 30.0,
    ) -> None:
        self.redis = redis
        self.limit = limit
        self.window_ms = int(window * 1000)
        # An unanswered call (its process died) keeps its slot this long, then it frees.
        self.hold_ms = int(hold * 1000)
        self.prefix = "rate:" + hashlib.sha256(token.encode()).hexdigest()[:16]
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._pause = redis.register_script(_PAUSE)

    def keys(self) -> list[str]:
        """The token's own keys (the per-chat keys aside)."""
        return [
            f"{self.prefix}:slots",
            f"{self.prefix}:pause",
            f"{self.prefix}:strikes",
            f"{self.prefix}:priority",
            f"{self.prefix}:pace",
        ]

    async def acquire(self, chat: str | None = None, *, interactive: bool = False) -> Slot:
        slots, pause, _, priority, pace = self.keys()
        gap = [f"{self.prefix}:chat:{chat}"] if chat and not interactive else []
        member = uuid.uuid4().hex
        args: list[int | str] = [
            self.limit,
            self.hold_ms,
            member,
            int(CHAT_GAP * 1000),
            int(interactive),
            int(PRIORITY_HOLD * 1000),
            max(1, self.window_ms // (PACE_SHARE * self.limit)),
        ]
        while True:
            wait = await self._acquire(keys=[slots, pause, priority, pace, *gap], args=args)
            if not wait:
                return Slot(member)
            await asyncio.sleep(min(int(wait) / 1000, MAX_POLL))

    async def answered(self, slot: Slot) -> None:
        slots, _, strikes, _, _ = self.keys()
        await self._release(keys=[slots, strikes], args=[slot.member, self.window_ms])

    async def refused(self, slot: Slot, retry_after: float | None) -> float:
        slots, pause, strikes, _, _ = self.keys()
        wait_ms = await self._pause(
            keys=[slots, pause, strikes],
            args=[
                slot.member,
                int((retry_after or 0) * 1000),
                int(FIRST_BACKOFF * 1000),
                int(MAX_BACKOFF * 1000),
            ],
        )
        return int(wait_ms) / 1000


@dataclass
class LocalLimiter:
    """The same rules in one process, for the embedded default (no Redis)."""

    limit: int
    window: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _frees: dict[str, float] = field(default_factory=dict)  # member -> when its slot frees
    _chats: dict[str, float] = field(default_factory=dict)  # chat -> when it may get more, in order
    _paused_until: float = 0.0
    _strikes: int = 0
    _priority_until: float = 0.0
    _next_bulk: float = 0.0

    async def acquire(self, chat: str | None = None, *, interactive: bool = False) -> Slot:
        gap = chat if chat and not interactive else None
        while True:
            now = self.clock()
            self._frees = {m: t for m, t in self._frees.items() if t > now}
            while self._chats and next(iter(self._chats.values())) <= now:
                del self._chats[next(iter(self._chats))]
            wait = self._paused_until - now
            if wait <= 0 and not interactive:
                wait = max(self._priority_until, self._next_bulk) - now
            if wait <= 0 and len(self._frees) >= self.limit:
                wait = min(self._frees.values()) - now
                if interactive:
                    self._priority_until = now + PRIORITY_HOLD
            if wait <= 0 and gap:
                wait = self._chats.get(gap, 0.0) - now
            if wait <= 0:
                member = uuid.uuid4().hex
                self._frees[member] = math.inf
                if not interactive:
                    self._next_bulk = now + self.window / (PACE_SHARE * self.limit)
                if gap:
                    self._chats.pop(gap, None)  # re-inserted last: the dict stays in time order
                    self._chats[gap] = now + CHAT_GAP
                return Slot(member)
            await asyncio.sleep(min(wait, MAX_POLL))

    async def answered(self, slot: Slot) -> None:
        self._frees[slot.member] = self.clock() + self.window
        self._strikes = 0

    async def refused(self, slot: Slot, retry_after: float | None) -> float:
        self._frees.pop(slot.member, None)
        if retry_after is None:
            self._strikes += 1
            retry_after = _backoff(self._strikes)
        self._paused_until = max(self._paused_until, self.clock() + retry_after)
        return retry_after
