"""What a subscriber chooses: the bill IDs they follow, the broadcast topics they turned off,
and whether their mobile takes the SMS that are not essential."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from backend.constants import BroadcastTopic, Channel
from backend.models import FollowedSubscription, SmsOptOut, Subscription, TopicOptOut

MAX_FOLLOWED = 10  # home, parents' home, shop… more is someone else's job
LABEL_MAX_CHARS = 30  # «خانه پدری», «مغازه»: a name, not a note


class FollowRefused(ValueError):
    """Why a bill ID was not followed: `reason` is "already" or "too_many"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Followed:
    """A bill ID this user follows, and the name they gave it (None: none given)."""

    subscription: Subscription
    label: str | None


def followed(session: Session, *, channel: Channel, user_id: str) -> list[Followed]:
    query = (
        select(Subscription, FollowedSubscription.label)
        .join(FollowedSubscription, col(FollowedSubscription.subscription_id) == Subscription.id)
        .where(FollowedSubscription.channel == channel, FollowedSubscription.user_id == user_id)
        .order_by(col(FollowedSubscription.id))
    )
    return [Followed(subscription, label) for subscription, label in session.exec(query)]


def followed_one(
    session: Session, *, channel: Channel, user_id: str, subscription_id: int
) -> Followed | None:
    """The follow of one bill ID by this user, if they follow it."""
    mine = followed(session, channel=channel, user_id=user_id)
    return next((f for f in mine if f.subscription.id == subscription_id), None)


def follow(
    session: Session,
    *,
    channel: Channel,
    user_id: str,
    subscription_id: int,
    now: datetime,
    label: str | None = None,
) -> None:
    mine = followed(session, channel=channel, user_id=user_id)
    if any(one.subscription.id == subscription_id for one in mine):
        raise FollowRefused("already")
    if len(mine) >= MAX_FOLLOWED:
        raise FollowRefused("too_many")
    session.add(
        FollowedSubscription(
            channel=channel,
            user_id=user_id,
            subscription_id=subscription_id,
            label=label,
            created_at=now,
        )
    )
    session.flush()


def set_label(
    session: Session, *, channel: Channel, user_id: str, subscription_id: int, label: str | None
) -> None:
    """Names a followed bill ID for its follower («خانه»), or takes its name away (None)."""
    if label is not None and len(label) > LABEL_MAX_CHARS:
        raise ValueError("label too long")
    session.execute(
        sa.update(FollowedSubscription)
        .where(
            col(FollowedSubscription.channel) == channel,
            col(FollowedSubscription.user_id) == user_id,
            col(FollowedSubscription.subscription_id) == subscription_id,
        )
        .values(label=label)
    )


def unfollow(session: Session, *, channel: Channel, user_id: str, subscription_id: int) -> None:
    session.execute(
        sa.delete(FollowedSubscription).where(
            col(FollowedSubscription.channel) == channel,
            col(FollowedSubscription.user_id) == user_id,
            col(FollowedSubscription.subscription_id) == subscription_id,
        )
    )


def topics_off(session: Session, *, channel: Channel, user_id: str) -> set[BroadcastTopic]:
    query = select(TopicOptOut.topic).where(
        TopicOptOut.channel == channel, TopicOptOut.user_id == user_id
    )
    return {BroadcastTopic(topic) for topic in session.exec(query)}


def set_topic(
    session: Session,
    *,
    channel: Channel,
    user_id: str,
    topic: BroadcastTopic,
    on: bool,
    now: datetime,
) -> None:
    """Turns broadcasts of a topic on or off for this user (idempotent)."""
    if on:
        session.execute(
            sa.delete(TopicOptOut).where(
                col(TopicOptOut.channel) == channel,
                col(TopicOptOut.user_id) == user_id,
                col(TopicOptOut.topic) == topic,
            )
        )
    elif topic not in topics_off(session, channel=channel, user_id=user_id):
        session.add(TopicOptOut(channel=channel, user_id=user_id, topic=topic, created_at=now))
        session.flush()


def set_sms_opt_out(session: Session, *, mobile: str, opted_out: bool, now: datetime) -> None:
    """«لغو۱۱» stops the SMS that are not essential to `mobile` (E.164); «شروع» resumes them."""
    if not opted_out:
        session.execute(delete(SmsOptOut).where(col(SmsOptOut.mobile) == mobile))
    elif session.get(SmsOptOut, mobile) is None:
        session.add(SmsOptOut(mobile=mobile, created_at=now))
