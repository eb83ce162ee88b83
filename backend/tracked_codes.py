"""Tracking codes for what subscribers send besides requests (outage reports, self-readings):
the same kind of code, never one a request or another of them already has, so that one look-up
(the chat's, the SMS desk's) finds whichever it is."""

import sqlalchemy as sa
from sqlmodel import Session, col

from backend.models import MeterSelfReading, OutageReport, ServiceRequest
from backend.tracking import new_tracking_code

ATTEMPTS = 8
_HOLDERS = (
    ServiceRequest.tracking_code,
    OutageReport.tracking_code,
    MeterSelfReading.tracking_code,
)


class NoFreeCode(RuntimeError):
    pass


def unused_tracking_code(session: Session) -> str:
    """A new code that no request, outage report or self-reading has (each table's unique key
    still decides between two that draw the same code at once)."""
    for _ in range(ATTEMPTS):
        code = new_tracking_code()
        taken = sa.union_all(
            *(sa.select(col(holder)).where(col(holder) == code) for holder in _HOLDERS)
        )
        if session.execute(sa.select(sa.exists(taken))).scalar() is False:
            return code
    raise NoFreeCode("no free tracking code after several attempts")
