"""Who is sending a broadcast, and whose turn it is: heartbeats and turns in Redis, or in this
process's memory when there is no Redis."""

from collections.abc import Callable
from typing import cast

import redis

HEARTBEAT = 10.0  # seconds a sender counts as alive after its last sign of life


class Coordination:
    """Sender heartbeats and progress turns: in Redis, or in this process's memory."""

    def __init__(self, connection: redis.Redis | None, clock: Callable[[], float]) -> None:
        self.redis = connection
        self.clock = clock
        self._local: dict[str, dict[str, float]] = {}

    def beat(self, broadcast_id: int, sender: str, seconds: float = HEARTBEAT) -> None:
        expires = self.clock() + seconds
        if self.redis is None:
            self._local.setdefault(f"senders:{broadcast_id}", {})[sender] = expires
            return
        key = f"bcast:{broadcast_id}:senders"
        pipe = self.redis.pipeline()
        pipe.zadd(key, {sender: expires})
        pipe.expire(key, int(seconds) + 60)
        pipe.execute()

    def gone(self, broadcast_id: int, sender: str) -> None:
        if self.redis is None:
            self._local.get(f"senders:{broadcast_id}", {}).pop(sender, None)
        else:
            self.redis.zrem(f"bcast:{broadcast_id}:senders", sender)

    def alive(self, broadcast_id: int) -> int:
        now = self.clock()
        if self.redis is None:
            senders = self._local.get(f"senders:{broadcast_id}", {})
            return sum(1 for expires in senders.values() if expires > now)
        key = f"bcast:{broadcast_id}:senders"
        self.redis.zremrangebyscore(key, "-inf", now)
        # redis-py types every reply `Awaitable | Any`, for the sync client too.
        return int(cast(int, self.redis.zcard(key)))

    def turn(self, name: str, seconds: float) -> bool:
        """True for one caller per `seconds` (the progress message's editor, the reporter)."""
        if self.redis is None:
            turns = self._local.setdefault("turns", {})
            if turns.get(name, 0.0) > self.clock():
                return False
            turns[name] = self.clock() + seconds
            return True
        return bool(self.redis.set(f"bcast:{name}", "1", nx=True, px=int(seconds * 1000)))
