"""The RQ jobs of broadcasts (`rq worker broadcasts`): each takes ids and builds the rest."""

from functools import cache

from backend.db import get_engine
from backend.settings import require_safe
from notifications.broadcasts.runtime import Broadcaster


@cache
def broadcaster() -> Broadcaster:
    return Broadcaster(require_safe(), get_engine())  # production refuses unsafe settings


def start(broadcast_id: int) -> None:
    broadcaster().start(broadcast_id)


def send(broadcast_id: int, sender: str) -> None:
    broadcaster().send(broadcast_id, sender)
