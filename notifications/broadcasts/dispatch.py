"""Hands a committed broadcast to whatever runs it: RQ when REDIS_URL is set, else this process."""

import sqlalchemy as sa
from redis import Redis
from rq import Queue

from backend.settings import Settings

QUEUE_NAME = "broadcasts"
START_JOB = "notifications.broadcasts.jobs.start"


def dispatch(settings: Settings, db: sa.Engine, broadcast_id: int) -> None:
    """Starts the broadcast now if it is due; a scheduled one waits for the clock's round."""
    if settings.redis_url:
        queue = Queue(QUEUE_NAME, connection=Redis.from_url(settings.redis_url))
        queue.enqueue(START_JOB, broadcast_id, job_timeout=3600)
        return
    from notifications.broadcasts.runtime import Broadcaster  # the senders: bots, SMS gateway

    Broadcaster(settings, db).start(broadcast_id)
