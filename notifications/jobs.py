"""The RQ jobs (`rq worker notices`): each takes ids, builds what it needs from the settings."""

from functools import cache

from backend.db import get_engine
from backend.settings import get_settings
from notifications.runtime import Notifier


@cache
def _notifier() -> Notifier:
    return Notifier(get_settings(), get_engine())


def deliver(delivery_id: int, token: str) -> None:
    _notifier().deliverer.deliver(delivery_id, token)


def poll_reports() -> None:
    _notifier().deliverer.poll_reports()


def poll_inbound() -> None:
    _notifier().poll_inbound()
