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
import itertools
import logging
import math
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

MAX_POLL = 0.1  # seconds: a waiting caller looks again at least this often
GIVE_BACK_AFTER = 0.05  # seconds an answered slot waits for the next acquire to give it back
CHAT_GAP = 1.0  # seconds between two messages to one chat
FIRST_BACKOFF = 2.0  # seconds, doubling per 429 without retry_after in a row
MAX_BACKOFF = 8.0
PRIORITY_HOLD = 0.3  # seconds bulk calls keep yielding after an interactive one last waited
# Bulk calls are spaced window / (PACE_SHARE * limit) apart: spread enough that slots free one
# by one, loose enough that the window, not the spacing, is what limits a broadcast's rate.
PACE_SHARE = 2

# Gives back the slots of calls answered since the last call to Redis (ARGV from `first`:
# window_ms, then member, ms since its answer, ...): each frees one window after its answer, and
# an answered call ends a run of bare 429s (strikes). `now` is passed rounded up (the scripts'
# clock is in whole milliseconds, rounded down): a slot freed even a fraction of a millisecond
# early lets the caller waiting for it send closer to the old call than the platform allows.
_GIVE_BACK = """
local function give_back(slots, strikes, first, now)
  if #ARGV <= first then return end
  local window = tonumber(ARGV[first])
  for i = first + 1, #ARGV, 2 do
    redis.call('ZADD', slots, 'XX', now - tonumber(ARGV[i + 1]) + window, ARGV[i])
  end
  redis.call('DEL', strikes)
end
"""

# KEYS: slots (zset: member -> ms at which the slot frees), pause (its TTL is the pause),
# priority (its TTL: an interactive call waited that recently), pace (its TTL: until the next
# bulk call), strikes and, for a bulk message to a chat, the chat (its TTL is the gap it still
# needs)
# ARGV: limit, hold_ms (an unanswered call's slot), member, chat_gap_ms, interactive (1/0),
# priority_hold_ms, pace_ms, then the slots given back (_GIVE_BACK from ARGV[8])
# Returns 0 when a slot was taken, else the milliseconds to wait.
_ACQUIRE = (
    _GIVE_BACK
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
give_back(KEYS[1], KEYS[5], 8, now + 1)
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
if KEYS[6] then
  local gap = redis.call('PTTL', KEYS[6])
  if gap > 0 then return gap end
  redis.call('SET', KEYS[6], '1', 'PX', ARGV[4])
end
if not interactive then redis.call('SET', KEYS[4], '1', 'PX', ARGV[7]) end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return 0
"""
)

# KEYS: slots, strikes; ARGV: the slots given back (_GIVE_BACK from ARGV[1]).
_RELEASE = (
    _GIVE_BACK
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
give_back(KEYS[1], KEYS[2], 1, now + 1)
return 0
"""
)

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


# A slot's member: unique across processes by a random prefix of each (a forked job process
# draws its own), and cheaper than a uuid4 a call (a system call for its random bytes).
_member_prefix = [secrets.token_hex(8)]
_members = itertools.count()
os.register_at_fork(after_in_child=lambda: _member_prefix.__setitem__(0, secrets.token_hex(8)))


def _new_member() -> str:
    return f"{_member_prefix[0]}:{next(_members)}"


def _backoff(strikes: int) -> float:
    return min(FIRST_BACKOFF * 2.0 ** (strikes - 1), MAX_BACKOFF)


class RedisLimiter:
    """The limiter of one bot token, its state in Redis under a hash of the token.

    An answered call's slot is given back by this limiter's next call to Redis (the next
    acquire carries it), or GIVE_BACK_AFTER later when none comes: one script a call, not two.
    """

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
        self._answered: list[tuple[str, float]] = []  # (member, when answered), not given back
        self._giving_back: asyncio.TimerHandle | None = None
        self._releasing: asyncio.Task[None] | None = None  # held: a task is only weakly kept

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
        slots, pause, strikes, priority, pace = self.keys()
        gap = [f"{self.prefix}:chat:{chat}"] if chat and not interactive else []
        member = _new_member()
        args: list[int | str] = [
            self.limit,
            self.hold_ms,
            member,
            int(CHAT_GAP * 1000),
            int(interactive),
            int(PRIORITY_HOLD * 1000),
            max(1, self.window_ms // (PACE_SHARE * self.limit)),
        ]
        keys = [slots, pause, priority, pace, strikes, *gap]
        while True:
            given_back = self._take_answered()
            try:
                wait = await self._acquire(keys=keys, args=args + self._as_args(given_back))
            except BaseException:
                self._answered[:0] = given_back  # not given back: the next call does
                raise
            if not wait:
                return Slot(member)
            await asyncio.sleep(min(int(wait) / 1000, MAX_POLL))

    async def answered(self, slot: Slot) -> None:
        self._answered.append((slot.member, time.monotonic()))
        if self._giving_back is None:
            self._giving_back = asyncio.get_running_loop().call_later(
                GIVE_BACK_AFTER, self._give_back_soon
            )

    def _give_back_soon(self) -> None:
        self._giving_back = None
        self._releasing = asyncio.get_running_loop().create_task(self._give_back())

    def _take_answered(self) -> list[tuple[str, float]]:
        if self._giving_back is not None:
            self._giving_back.cancel()
            self._giving_back = None
        taken, self._answered = self._answered, []
        return taken

    def _as_args(self, given_back: list[tuple[str, float]]) -> list[int | str]:
        """As the scripts take them (_GIVE_BACK): window_ms, then member, ms ago, ..."""
        if not given_back:
            return []
        now = time.monotonic()
        args: list[int | str] = [self.window_ms]
        for member, answered_at in given_back:
            args += [member, int((now - answered_at) * 1000)]
        return args

    async def _give_back(self) -> None:
        slots, _, strikes, _, _ = self.keys()
        given_back = self._take_answered()
        if not given_back:
            return
        try:
            await self._release(keys=[slots, strikes], args=self._as_args(given_back))
        except RedisError as error:  # the slots free when their hold runs out
            log.warning("answered slots not given back: %s", error)

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
                member = _new_member()
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
