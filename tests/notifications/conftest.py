"""Fixtures of the notification tests: recorded sleeps, a queue of their own on the test Redis.

Notice settings, the test Redis and the SMS line are shared fixtures (tests/conftest.py).
"""

import uuid
from collections.abc import Iterator

import pytest
import redis


@pytest.fixture
def sleeps() -> list[float]:
    """Pass `sleeps.append` as a provider's sleep: no test waits, each test sees the pauses."""
    return []


@pytest.fixture
def rq_queue_name(redis_url: str) -> Iterator[str]:
    """A queue of the test's own; its keys, jobs and workers are removed afterwards."""
    name = f"test-notices-{uuid.uuid4().hex[:10]}"
    yield name
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter("rq:job:*"):
        if connection.hget(key, "origin") == name.encode():
            connection.delete(key)
    for key in connection.scan_iter(f"*{name}*"):
        connection.delete(key)
    for member in connection.smembers("rq:workers"):
        if name.encode() in member:
            connection.srem("rq:workers", member)
    connection.close()
