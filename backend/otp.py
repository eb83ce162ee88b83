"""Proving a subscriber holds a mobile: the channel's word for it, or a one-time code by SMS."""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.constants import Channel
from backend.identifiers import mask_mobile, normalize_code
from backend.models import ChannelIdentity, OtpChallenge
from backend.settings import Settings

log = logging.getLogger(__name__)
CODE_DIGITS = 6
# Messengers say whether a shared contact is the sender's own; other channels cannot.
CONTACT_CHANNELS = frozenset({Channel.TELEGRAM, Channel.BALE})

SmsSender = Callable[[str, str], None]
"""Sends one SMS now: (E.164 mobile, text)."""


class Proof(StrEnum):
    """How a sender can show they hold a mobile."""

    HELD = "held"  # the channel already vouches for it: nothing to ask
    CONTACT = "contact"  # share one's own contact in the messenger
    CODE = "code"  # type the code sent to it by SMS


class IssueOutcome(StrEnum):
    SENT = "sent"
    TOO_SOON = "too_soon"  # a code went to this mobile moments ago
    COOLING_DOWN = "cooling_down"  # the tries on this mobile's last code ran out


class CheckOutcome(StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"  # no tries left: a new code only after the cool-down
    NO_CODE = "no_code"


@dataclass(frozen=True)
class Issued:
    outcome: IssueOutcome
    # SENT: when the code expires; otherwise when another code may be asked for.
    until: datetime


@dataclass(frozen=True)
class Checked:
    outcome: CheckOutcome
    tries_left: int = 0
    until: datetime | None = None  # LOCKED: when the cool-down ends


def vouched_mobile(session: Session, *, channel: Channel, user_id: str) -> str | None:
    """The mobile the channel vouches this sender holds, if any.

    An SMS comes from its sender's number (the operator vouches for it); in a messenger, a phone
    counts once the sender shared it as their own contact.
    """
    if channel == Channel.SMS:
        return user_id
    identity = session.exec(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_user_id == user_id
        )
    ).first()
    return identity.phone if identity is not None and identity.phone_verified else None


def proof_needed(session: Session, *, channel: Channel, user_id: str, mobile: str) -> Proof:
    if vouched_mobile(session, channel=channel, user_id=user_id) == mobile:
        return Proof.HELD
    return Proof.CONTACT if channel in CONTACT_CHANNELS else Proof.CODE


def issue_code(
    session: Session,
    *,
    channel: Channel,
    user_id: str,
    mobile: str,
    deliver: Callable[[str], None],
    now: datetime,
    settings: Settings,
) -> Issued:
    """A new code for `mobile`, unless its last one ran out of tries or went out moments ago.

    Limits are per mobile, not per chat: many chats cannot multiply the guesses or the SMS. Only
    the code's hash is stored; `deliver` gets the code once the transaction has committed.
    """
    latest = session.exec(
        select(OtpChallenge)
        .where(OtpChallenge.mobile == mobile)
        .order_by(col(OtpChallenge.id).desc())
    ).first()
    if latest is not None:
        if latest.attempts >= settings.otp_max_attempts:
            cooled = _cooldown_end(latest, settings)
            if now < cooled:
                return Issued(IssueOutcome.COOLING_DOWN, cooled)
        resend_at = latest.created_at + timedelta(seconds=settings.otp_resend_seconds)
        if now < resend_at:
            return Issued(IssueOutcome.TOO_SOON, resend_at)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    expires = now + timedelta(minutes=settings.otp_valid_minutes)
    session.add(
        OtpChallenge(
            channel=channel,
            user_id=user_id,
            mobile=mobile,
            code_hash=_hash(mobile, code),
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    _after_commit(session, lambda: deliver(code), mobile)
    return Issued(IssueOutcome.SENT, expires)


def check_code(
    session: Session,
    *,
    channel: Channel,
    user_id: str,
    mobile: str,
    code: str,
    now: datetime,
    settings: Settings,
) -> Checked:
    """Checks a typed code against the latest one sent to this chat for `mobile`; each wrong try
    counts, and a used code cannot be used again."""
    challenge = session.exec(
        select(OtpChallenge)
        .where(
            OtpChallenge.channel == channel,
            OtpChallenge.user_id == user_id,
            OtpChallenge.mobile == mobile,
        )
        .order_by(col(OtpChallenge.id).desc())
        .with_for_update()
    ).first()
    if challenge is None or challenge.verified_at is not None:
        return Checked(CheckOutcome.NO_CODE)
    if challenge.attempts >= settings.otp_max_attempts:
        return Checked(CheckOutcome.LOCKED, until=_cooldown_end(challenge, settings))
    if now >= challenge.expires_at:
        return Checked(CheckOutcome.EXPIRED)
    if hmac.compare_digest(_hash(mobile, normalize_code(code)), challenge.code_hash):
        challenge.verified_at = now
        session.add(challenge)
        return Checked(CheckOutcome.VERIFIED)
    challenge.attempts += 1
    session.add(challenge)
    left = settings.otp_max_attempts - challenge.attempts
    if left == 0:
        log.info("one-time code for %s locked after wrong tries", mask_mobile(mobile))
        return Checked(CheckOutcome.LOCKED, until=_cooldown_end(challenge, settings))
    return Checked(CheckOutcome.WRONG, tries_left=left)


def configured_sms_sender(settings: Settings) -> SmsSender:
    """Sends through the gateway the settings name; the embedded default is the console
    provider, which prints each SMS. A provider is made per code: codes are few."""

    def send(mobile: str, text: str) -> None:
        # Imported when a code goes out: the senders module brings the messenger bots (aiogram)
        # with it, which building the dialogs must not load.
        from notifications.senders import send_sms, sms_provider

        with sms_provider(settings) as provider:
            outcome = send_sms(provider, mobile, text, reference=secrets.token_hex(8))
        if outcome.state is None:
            log.warning("one-time code SMS to %s failed: %s", mask_mobile(mobile), outcome.raw_code)

    return send


def _hash(mobile: str, code: str) -> str:
    # Keyed by the mobile, so a table of the million codes' hashes serves for one number only;
    # a code lives minutes and allows few tries, which is what really protects it.
    return hmac.new(mobile.encode(), code.encode(), hashlib.sha256).hexdigest()


def _cooldown_end(challenge: OtpChallenge, settings: Settings) -> datetime:
    return challenge.created_at + timedelta(minutes=settings.otp_cooldown_minutes)


def _after_commit(session: Session, send: Callable[[], None], mobile: str) -> None:
    """Runs `send` once the transaction commits: no SMS for a code that was never stored."""

    def run(_: Session) -> None:
        try:
            send()
        except Exception:  # the code is stored; asking for a new one recovers a lost SMS
            log.exception("the one-time code SMS to %s was not sent", mask_mobile(mobile))

    sa.event.listen(session, "after_commit", run, once=True)
