"""Fixtures of the notification tests: recorded sleeps, notice settings, a Redis of their own."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from backend.settings import Settings


@pytest.fixture
def sleeps() -> list[float]:
    """Pass `sleeps.append` as a provider's sleep: no test waits, each test sees the pauses."""
    return []


@pytest.fixture
def notice_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Settings for the notice machinery: console SMS into a temporary file, in-process jobs."""
    return settings.model_copy(
        update={"sms_console_path": tmp_path / "sms.jsonl", "bot_api_attempts": 1}
    )


@pytest.fixture
def redis_url() -> str:
    """The test Redis (TEST_REDIS_URL; CI always gives one): a database tests may write to."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must give TEST_REDIS_URL")
        pytest.skip("Redis tests need TEST_REDIS_URL")
    return url


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
