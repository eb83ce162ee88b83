"""Which channels a notice goes by: the requester's messenger first, SMS to the registered mobile;
a staff notice to the staff member's bound messenger accounts.

SMS as well when the notice is essential (money, final results), when there is no reachable
messenger chat, and later when the messenger send fails for good (`sms_fallback`).
"""

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, col, select

from backend.constants import CHAT_NOTICES, STAFF_NOTICES, Channel, DeliveryState, NoticeKind
from backend.models import (
    ChannelIdentity,
    Notice,
    NoticeDelivery,
    ServiceRequest,
    Staff,
    StaffBinding,
    Subscription,
)
from backend.service_requests import registered_mobile

NO_MOBILE = "no-mobile"  # raw code of an SMS that had nowhere to go


def plan_deliveries(
    session: Session, notice: Notice, *, messengers: Collection[Channel], now: datetime
) -> None:
    """Adds the notice's first deliveries, due now. `messengers`: those with a bot configured.

    A direct notice (a one-time code) goes by SMS to its own mobile only, request or not.
    """
    if notice.to_mobile is not None:
        _add(session, notice, Channel.SMS, notice.to_mobile, now)
        return
    if notice.kind in STAFF_NOTICES:
        _add_staff(session, notice, messengers, now)
        return
    if notice.kind in CHAT_NOTICES:
        _add_chat(session, notice, messengers, now)
        return
    request = session.get(ServiceRequest, notice.request_id) if notice.request_id else None
    if request is None:
        return
    if request.channel == Channel.COUNTER:
        _add_for_counter_filing(session, notice, request, messengers, now)
        return
    by_messenger = request.channel in messengers and _reachable(session, request)
    if by_messenger:
        _add(session, notice, request.channel, request.channel_user_id, now)
    if notice.essential or not by_messenger:
        _add_sms(session, notice, request, now)


def sms_fallback(session: Session, notice_id: int, *, now: datetime) -> None:
    """Sends the notice by SMS too, after its messenger send failed for good (once)."""
    notice = session.get(Notice, notice_id, with_for_update=True)  # one fallback at a time
    assert notice is not None
    if notice.kind in CHAT_NOTICES:
        _add_chat_sms(session, notice, now)
        return
    if notice.request_id is None:  # a staff notice: staff work in the messengers, not by SMS
        return
    exists = session.exec(
        select(NoticeDelivery.id).where(
            NoticeDelivery.notice_id == notice_id, NoticeDelivery.channel == Channel.SMS
        )
    ).first()
    if exists is None:
        request = session.get(ServiceRequest, notice.request_id)
        assert request is not None
        _add_sms(session, notice, request, now)


def _add_staff(
    session: Session, notice: Notice, messengers: Collection[Channel], now: datetime
) -> None:
    """A staff notice goes to each messenger account bound to its staff member while they are
    active (none bound: nowhere; they see it in /queue)."""
    bindings = session.exec(
        select(StaffBinding)
        .join(Staff, col(Staff.id) == col(StaffBinding.staff_id))
        .where(StaffBinding.staff_id == notice.params["staff_id"], col(Staff.active))
        .order_by(col(StaffBinding.id))
    )
    for binding in bindings:
        if binding.channel in messengers:
            _add(session, notice, binding.channel, binding.external_user_id, now)


def _add_chat(
    session: Session, notice: Notice, messengers: Collection[Channel], now: datetime
) -> None:
    """A chat notice goes to its chat: by SMS to the sender's mobile if it came by SMS, by the
    messenger's bot while the chat is reachable; else by SMS to the registered mobile of the
    bill ID it is about (the terminal chat, a blocked bot), if it names one."""
    channel, user_id = Channel(notice.params["to_channel"]), notice.params["to_user"]
    if channel == Channel.SMS:
        _add(session, notice, Channel.SMS, user_id, now)
    elif channel in messengers and _identity_reachable(session, channel, user_id):
        _add(session, notice, channel, user_id, now)
    else:
        _add_chat_sms(session, notice, now)


def _add_chat_sms(session: Session, notice: Notice, now: datetime) -> None:
    subscription = session.get(Subscription, notice.params.get("subscription_id") or 0)
    mobile = registered_mobile(session, subscription) if subscription is not None else None
    if mobile is not None and notice.params["to_channel"] != Channel.SMS:
        _add(session, notice, Channel.SMS, mobile, now)


def _add_for_counter_filing(
    session: Session,
    notice: Notice,
    request: ServiceRequest,
    messengers: Collection[Channel],
    now: datetime,
) -> None:
    """A request filed at a counter has no chat of its requester: its notices go to the
    subscriber, never to the counter. To each messenger chat that has proved it holds the
    registered mobile (those that see the request in «درخواست‌های من»), and by SMS as well
    when essential, when no such chat is reachable, and for the receipt: the tracking code
    reaches the subscriber's phone whatever else they use."""
    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None
    mobile = registered_mobile(session, subscription)
    chats = (
        session.exec(
            select(ChannelIdentity)
            .where(
                ChannelIdentity.phone == mobile,
                col(ChannelIdentity.phone_verified),
                col(ChannelIdentity.reachable),
                col(ChannelIdentity.channel).in_(list(messengers)),
            )
            .order_by(col(ChannelIdentity.id))
        ).all()
        if mobile is not None
        else []
    )
    for chat in chats:
        _add(session, notice, chat.channel, chat.external_user_id, now)
    if notice.essential or not chats or notice.kind == NoticeKind.RECEIPT:
        _add_sms(session, notice, request, now)


def _reachable(session: Session, request: ServiceRequest) -> bool:
    return _identity_reachable(session, request.channel, request.channel_user_id)


def _identity_reachable(session: Session, channel: Channel, user_id: str) -> bool:
    identity = session.exec(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel,
            ChannelIdentity.external_user_id == user_id,
        )
    ).first()
    return identity is not None and identity.reachable


def _add_sms(session: Session, notice: Notice, request: ServiceRequest, now: datetime) -> None:
    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None
    mobile = registered_mobile(session, subscription)
    if mobile is None:  # recorded all the same, so staff see why nothing went by SMS
        _add(
            session,
            notice,
            Channel.SMS,
            "",
            now,
            state=DeliveryState.PERMANENT_FAILURE,
            raw_code=NO_MOBILE,
        )
    else:
        _add(session, notice, Channel.SMS, mobile, now)


def _add(
    session: Session,
    notice: Notice,
    channel: Channel,
    address: str,
    now: datetime,
    *,
    state: DeliveryState = DeliveryState.QUEUED,
    raw_code: str | None = None,
) -> None:
    due = now if state == DeliveryState.QUEUED else None
    assert notice.id is not None  # a stored notice
    session.add(
        NoticeDelivery(
            notice_id=notice.id,
            channel=channel,
            address=address,
            state=state,
            raw_code=raw_code,
            next_attempt_at=due,
            updated_at=now,
        )
    )
