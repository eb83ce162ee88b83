"""Proving a sender holds a mobile: the channel's word for it, or a one-time code by SMS (a
subscription's registered mobile; a staff member's phone, before their account is bound)."""

import hmac
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from backend.constants import Channel, NoticeKind, OtpPurpose
from backend.identifiers import mask_mobile, normalize_code
from backend.models import ChannelIdentity, OtpChallenge
from backend.notices import queue_direct_notice, seal_param
from backend.sealing import keyed_hash
from backend.settings import Settings

log = logging.getLogger(__name__)
CODE_DIGITS = 6
CODE_SHAPE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}", re.ASCII)
HASH_PURPOSE = "otp-hash"
# Messengers say whether a shared contact is the sender's own; other channels cannot.
CONTACT_CHANNELS = frozenset({Channel.TELEGRAM, Channel.BALE})
# A code read out to someone else is sent with words that say to whom and why.
CODE_NOTICES: Mapping[OtpPurpose, NoticeKind] = {OtpPurpose.COUNTER: NoticeKind.COUNTER_CODE}


class Proof(StrEnum):
    """How a sender can show they hold a mobile."""

    HELD = "held"  # the channel already vouches for it: nothing to ask
    CONTACT = "contact"  # share one's own contact in the messenger
    CODE = "code"  # type the code sent to it by SMS


class IssueOutcome(StrEnum):
    SENT = "sent"
    TOO_SOON = "too_soon"  # a code went to this mobile moments ago
    COOLING_DOWN = "cooling_down"  # the wrong tries on this mobile's recent codes ran out


class CheckOutcome(StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"  # no tries left on this mobile: nothing checked until the cool-down ends
    NO_CODE = "no_code"
    NOT_A_CODE = "not_a_code"  # not six digits: asked again, no try used


@dataclass(frozen=True)
class Issued:
    outcome: IssueOutcome
    # SENT: when the code expires; otherwise when another code may be asked for.
    until: datetime
    # TOO_SOON: when the code this chat was sent for it moments ago expires, if it still holds
    # one unused (None: that code went to another chat, or was used).
    earlier_until: datetime | None = None


@dataclass(frozen=True)
class Checked:
    outcome: CheckOutcome
    tries_left: int = 0
    until: datetime | None = None  # LOCKED: when the cool-down ends
    notice_id: int | None = None  # VERIFIED: the notice that carried the code (link_to_request)


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
    locale: str,
    now: datetime,
    settings: Settings,
    purpose: OtpPurpose = OtpPurpose.MOBILE,
    about: Mapping[str, Any] | None = None,
) -> Issued:
    """A new code for `mobile`, unless it is cooling down or a code went to it moments ago.
    `about`: what its SMS says the code is for, where its purpose's wording names it (a
    counter's: the counter and the service, CODE_NOTICES).

    Limits are per mobile, not per chat or purpose: many chats, or asking for a removal's code
    and a staff binding's in turn, cannot multiply the guesses or the SMS. The
    challenge keeps the code's keyed hash; the code goes by SMS as an essential notice of the
    outbox, written in this same transaction (no SMS for a code never stored), the code in its
    parameters sealed with the server's key, in `locale`.
    """
    until = _locked_until(_recent_codes(session, mobile, now, settings), settings)
    if until is not None:
        return Issued(IssueOutcome.COOLING_DOWN, until)
    latest = session.exec(
        select(OtpChallenge)
        .where(OtpChallenge.mobile == mobile)
        .order_by(col(OtpChallenge.id).desc())
    ).first()
    if latest is not None:
        resend_at = latest.created_at + timedelta(seconds=settings.otp_resend_seconds)
        if now < resend_at:
            earlier = _live_code(session, channel, user_id, mobile, purpose, now)
            return Issued(IssueOutcome.TOO_SOON, resend_at, earlier)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    expires = now + timedelta(minutes=settings.otp_valid_minutes)
    notice = queue_direct_notice(
        session,
        CODE_NOTICES.get(purpose, NoticeKind.ONE_TIME_CODE),
        to_mobile=mobile,
        locale=locale,
        now=now,
        code_sealed=seal_param(settings, code, now=now),
        minutes=settings.otp_valid_minutes,
        **(about or {}),
    )
    session.add(
        OtpChallenge(
            channel=channel,
            user_id=user_id,
            purpose=purpose,
            mobile=mobile,
            code_hash=_hash(settings, mobile, code),
            created_at=now,
            expires_at=expires,
            notice_id=notice.id,
        )
    )
    session.flush()
    return Issued(IssueOutcome.SENT, expires)


def _latest_code(
    session: Session,
    channel: Channel,
    user_id: str,
    mobile: str,
    purpose: OtpPurpose,
    *,
    lock: bool = False,
) -> OtpChallenge | None:
    """The latest code sent to this chat for `mobile` and `purpose`: the one a typed code is
    checked against."""
    query = (
        select(OtpChallenge)
        .where(
            OtpChallenge.channel == channel,
            OtpChallenge.user_id == user_id,
            OtpChallenge.mobile == mobile,
            OtpChallenge.purpose == purpose,
        )
        .order_by(col(OtpChallenge.id).desc())
    )
    return session.exec(query.with_for_update() if lock else query).first()


def _live_code(
    session: Session,
    channel: Channel,
    user_id: str,
    mobile: str,
    purpose: OtpPurpose,
    now: datetime,
) -> datetime | None:
    """When the code check_code would check for this chat expires, if it is valid and unused."""
    latest = _latest_code(session, channel, user_id, mobile, purpose)
    if latest is None or latest.verified_at is not None or now >= latest.expires_at:
        return None
    return latest.expires_at


def check_code(
    session: Session,
    *,
    channel: Channel,
    user_id: str,
    mobile: str,
    code: str,
    now: datetime,
    settings: Settings,
    purpose: OtpPurpose = OtpPurpose.MOBILE,
) -> Checked:
    """Checks a typed code against the latest one sent to this chat for `mobile` and `purpose`
    (a code that proves a subscription's mobile binds no staff account, nor the other way).

    Each wrong try counts against the mobile, across its codes and chats: OTP_MAX_ATTEMPTS
    wrong tries on the codes sent in the last OTP_COOLDOWN_MINUTES lock it (no check, no new
    code) until they are that old. Asking for a new code does not start the count afresh.
    Something that is not six digits (letters, a sticker's text) is no try. A used code cannot
    be used again.
    """
    typed = normalize_code(code)
    if not CODE_SHAPE.fullmatch(typed):
        return Checked(CheckOutcome.NOT_A_CODE)
    # Locked rows: two checks on one mobile take turns, so no try goes uncounted.
    recent = _recent_codes(session, mobile, now, settings, lock=True)
    until = _locked_until(recent, settings)
    if until is not None:
        return Checked(CheckOutcome.LOCKED, until=until)
    challenge = _latest_code(session, channel, user_id, mobile, purpose, lock=True)
    if challenge is None or challenge.verified_at is not None:
        return Checked(CheckOutcome.NO_CODE)
    if now >= challenge.expires_at:
        return Checked(CheckOutcome.EXPIRED)
    if hmac.compare_digest(_hash(settings, mobile, typed), challenge.code_hash):
        challenge.verified_at = now
        session.add(challenge)
        return Checked(CheckOutcome.VERIFIED, notice_id=challenge.notice_id)
    challenge.attempts += 1
    session.add(challenge)
    if all(code is not challenge for code in recent):  # a window shorter than a code's life
        recent = [*recent, challenge]
    until = _locked_until(recent, settings)
    if until is not None:
        log.info("one-time codes for %s locked after wrong tries", mask_mobile(mobile))
        return Checked(CheckOutcome.LOCKED, until=until)
    return Checked(CheckOutcome.WRONG, tries_left=settings.otp_max_attempts - _wrong(recent))


def _hash(settings: Settings, mobile: str, code: str) -> str:
    # Keyed with a key derived from SECRET_KEY, never stored: a database reader cannot try the
    # million codes against a row. The mobile is in the message, so one hash fits one number.
    return keyed_hash(settings, HASH_PURPOSE, f"{mobile}:{code}")


def _recent_codes(
    session: Session, mobile: str, now: datetime, settings: Settings, *, lock: bool = False
) -> Sequence[OtpChallenge]:
    """The codes sent to `mobile` within the cool-down window that were not proved right, oldest
    first. A code proved right forgives its own wrong tries: its typist holds the phone."""
    window_start = now - timedelta(minutes=settings.otp_cooldown_minutes)
    query = (
        select(OtpChallenge)
        .where(
            OtpChallenge.mobile == mobile,
            col(OtpChallenge.created_at) > window_start,
            col(OtpChallenge.verified_at).is_(None),
        )
        .order_by(col(OtpChallenge.id))
    )
    return session.exec(query.with_for_update() if lock else query).all()


def _wrong(codes: Sequence[OtpChallenge]) -> int:
    return sum(challenge.attempts for challenge in codes)


def _locked_until(codes: Sequence[OtpChallenge], settings: Settings) -> datetime | None:
    """None while the wrong tries on these codes are fewer than OTP_MAX_ATTEMPTS; else when
    enough of them will have left the window (a code leaves it OTP_COOLDOWN_MINUTES after it
    was sent) for the mobile to be tried again."""
    wrong = _wrong(codes)
    if wrong < settings.otp_max_attempts:
        return None
    for challenge in codes:  # oldest first: the first to leave the window
        wrong -= challenge.attempts
        if wrong < settings.otp_max_attempts:
            return challenge.created_at + timedelta(minutes=settings.otp_cooldown_minutes)
    raise AssertionError("no wrong tries left once every code has left the window")
