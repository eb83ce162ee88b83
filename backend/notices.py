"""Queuing notices to subscribers: outbox rows written in the caller's transaction."""

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from backend import sealing
from backend.constants import ESSENTIAL_NOTICES, Channel, NoticeKind
from backend.models import Conversation, Notice, ServiceRequest
from backend.settings import Settings

# A parameter named `*_sealed` holds a secret (a one-time code) sealed with the server's key:
# the row never holds it in clear; the delivery job opens it (opened_params) to send it.
SEALED_SUFFIX = "_sealed"
SEAL_PURPOSE = "otp-seal"


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
    dates (stored ISO), `*_at` moments shown with their hour, `code` the tracking code,
    `*_sealed` a sealed secret (seal_param), `role` and `channel` a staff role and a channel
    named in words; anything else is text or a plain number.
    """
    notice = Notice(
        request_id=request.id,
        kind=kind,
        essential=kind in ESSENTIAL_NOTICES,
        params={"code": request.tracking_code, **_stored(params)},
        created_at=now,
    )
    session.add(notice)
    return notice


def queue_direct_notice(
    session: Session,
    kind: NoticeKind,
    *,
    to_mobile: str,
    locale: str,
    now: datetime,
    **params: Any,
) -> Notice:
    """Adds a notice that goes by SMS to `to_mobile`, read in `locale`, with no request behind
    it (yet: link_to_request). Flushed, so that the caller can name its id."""
    notice = Notice(
        kind=kind,
        essential=kind in ESSENTIAL_NOTICES,
        params=_stored(params),
        to_mobile=to_mobile,
        locale=locale,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    return notice


def queue_chat_notice(
    session: Session,
    kind: NoticeKind,
    *,
    channel: Channel,
    user_id: str,
    subscription_id: int | None,
    now: datetime,
    **params: Any,
) -> Notice:
    """Adds a notice to one chat with no request behind it (CHAT_NOTICES), read in the chat's
    language; where no bot reaches that chat it goes by SMS to the registered mobile of
    `subscription_id` (notifications.policy)."""
    locale = session.exec(
        select(Conversation.locale).where(
            Conversation.channel == channel, Conversation.user_id == user_id
        )
    ).first()
    notice = Notice(
        kind=kind,
        essential=kind in ESSENTIAL_NOTICES,
        params={
            "to_channel": channel,
            "to_user": user_id,
            "subscription_id": subscription_id,
            **_stored(params),
        },
        locale=locale,
        created_at=now,
    )
    session.add(notice)
    return notice


def link_to_request(session: Session, notice_id: int, request: ServiceRequest) -> None:
    """Counts a direct notice (the code that proved the mobile) among the request's notices,
    which staff see (`/notices CODE`); it still goes to its own mobile. Once only."""
    notice = session.get(Notice, notice_id, with_for_update=True)
    if notice is not None and notice.request_id is None and notice.to_mobile is not None:
        notice.request_id = request.id
        session.add(notice)


def seal_param(settings: Settings, secret: str, *, now: datetime) -> str:
    """The value of a `*_sealed` parameter: `secret` sealed under the server's key."""
    return sealing.seal(settings, SEAL_PURPOSE, secret, now=now)


def opened_params(params: dict[str, Any], *, settings: Settings, now: datetime) -> dict[str, Any]:
    """A notice's parameters as its message takes them: each `x_sealed` opened into `x`.

    Only one-time codes are sealed, and one is worth sending only while it is valid: after
    OTP_VALID_MINUTES this raises sealing.SealExpired (sealing.Unsealable for a wrong key).
    """
    valid = timedelta(minutes=settings.otp_valid_minutes)
    return {
        name.removesuffix(SEALED_SUFFIX): (
            sealing.unseal(settings, SEAL_PURPOSE, value, now=now, max_age=valid)
            if name.endswith(SEALED_SUFFIX)
            else value
        )
        for name, value in params.items()
    }


def _stored(params: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, date | datetime) else value
        for name, value in params.items()
    }
