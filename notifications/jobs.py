"""The RQ jobs (`rq worker notices`): each takes ids, builds what it needs from the settings."""

from functools import cache

from backend.db import get_engine
from backend.settings import require_safe
from notifications.runtime import Notifier


@cache
def _notifier() -> Notifier:
    return Notifier(require_safe(), get_engine())  # production refuses unsafe settings


def deliver(delivery_id: int, token: str) -> None:
    _notifier().deliverer.deliver(delivery_id, token)


def poll_reports() -> None:
    _notifier().deliverer.poll_reports()
