"""Queuing notices to subscribers: outbox rows written in the caller's transaction."""

from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from backend.constants import ESSENTIAL_NOTICES, NoticeKind
from backend.models import Notice, ServiceRequest


def queue_notice(
    session: Session,
    request: ServiceRequest,
    kind: NoticeKind,
    *,
    now: datetime,
    **params: Any,
) -> Notice:
    """Adds a notice about `request` to the outbox; it is delivered only after commit.

    Parameters are stored as JSON, so their names say their types: `*_rials` amounts, `*_date`
    dates (stored ISO), `code` the tracking code; anything else is text or a plain number.
    """
    stored = {
        name: value.isoformat() if isinstance(value, date | datetime) else value
        for name, value in params.items()
    }
    notice = Notice(
        request_id=request.id,
        kind=kind,
        essential=kind in ESSENTIAL_NOTICES,
        params={"code": request.tracking_code, **stored},
        created_at=now,
    )
    session.add(notice)
    return notice
