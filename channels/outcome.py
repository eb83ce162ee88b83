"""What one send came to, the same for every messenger and SMS gateway."""

from dataclasses import dataclass
from enum import StrEnum

from backend.constants import DeliveryState

# The raw code of a send that may or may not have got through, and must not be sent again.
IN_DOUBT = "in-doubt"


class OutcomeKind(StrEnum):
    SENT = "sent"
    RETRY_AFTER = "retry_after"  # the platform's rate limit: try again after `retry_after`
    TEMPORARY = "temporary"  # 5xx, network: may work later
    PERMANENT = "permanent"  # refused for good (a bad request)
    UNREACHABLE = "unreachable"  # the chat is gone for good: blocked, deactivated, not found


@dataclass(frozen=True)
class Outcome:
    """`state` is the delivery state a sent message reached; `raw_code` the platform's own."""

    kind: OutcomeKind
    raw_code: str
    state: DeliveryState | None = None
    provider_id: str | None = None
    retry_after: float | None = None  # seconds, when the platform said (RETRY_AFTER only)
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.kind == OutcomeKind.SENT

    @property
    def permanent(self) -> bool:
        return self.kind in (OutcomeKind.PERMANENT, OutcomeKind.UNREACHABLE)

    @property
    def unreachable(self) -> bool:
        return self.kind == OutcomeKind.UNREACHABLE


def sent(raw_code: str, *, state: DeliveryState, provider_id: str | None) -> Outcome:
    return Outcome(OutcomeKind.SENT, raw_code, state=state, provider_id=provider_id)
