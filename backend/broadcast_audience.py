"""Who a broadcast reaches: the targeted subscriptions, their recipients per channel, as SQL.

Messenger recipients are the identities that follow a targeted subscription and those linked
to its customer by a verified phone; SMS goes to the customer's registered mobile (and to
mobiles that follow by SMS). Each person is one row per channel however many targeted
subscriptions they follow. Topic opt-outs are honoured everywhere; the SMS opt-out («لغو۱۱»)
for topics that are not essential. A subscription whose messenger identities all turned an
essential topic off gets it at its registered mobile when the broadcast falls back to SMS.
Everything is one INSERT … SELECT: a million rows never pass through Python.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from backend.constants import (
    FINAL_STATUSES,
    MESSENGER_CHANNELS,
    BroadcastChannels,
    BroadcastTopic,
    Channel,
    DeliveryState,
    RequestKind,
    SubscriptionStatus,
)
from backend.identifiers import normalize_text, strip_invisible
from backend.models import BroadcastDelivery as Delivery
from backend.models import (
    ChannelIdentity,
    Conversation,
    Customer,
    FollowedSubscription,
    ServiceRequest,
    SmsOptOut,
    Subscription,
    TopicOptOut,
)

# The recipient rows: (channel, address, locale).
_Recipients = sa.Select[str, str, str]

# A planned outage matters to someone on a home dialysis machine: it goes to every mobile.
ESSENTIAL_TOPICS = frozenset({BroadcastTopic.OUTAGE})
_FAILED = (DeliveryState.PERMANENT_FAILURE, DeliveryState.TEMPORARY_FAILURE)


class AudienceKind(StrEnum):
    EVERYONE = "everyone"
    PLACE = "place"  # a city, or an area of it
    FEEDERS = "feeders"
    OPEN_REQUESTS = "open_requests"  # subscribers with an open request of a kind
    SUBSCRIPTIONS = "subscriptions"  # a list of bill IDs (a CSV file), resolved to ids


@dataclass(frozen=True)
class Audience:
    """Whom a broadcast targets; stored as JSON in broadcast.audience."""

    kind: AudienceKind
    city: str | None = None
    area: str | None = None
    feeders: tuple[str, ...] = ()
    request_kind: RequestKind | None = None
    subscription_ids: tuple[int, ...] = field(default=(), repr=False)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.kind == AudienceKind.PLACE:
            data.update(city=self.city, area=self.area)
        elif self.kind == AudienceKind.FEEDERS:
            data["feeders"] = list(self.feeders)
        elif self.kind == AudienceKind.OPEN_REQUESTS:
            data["request_kind"] = self.request_kind
        elif self.kind == AudienceKind.SUBSCRIPTIONS:
            data["subscription_ids"] = list(self.subscription_ids)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Audience":
        kind = data.get("request_kind")
        return cls(
            kind=AudienceKind(data["kind"]),
            city=data.get("city"),
            area=data.get("area"),
            feeders=tuple(data.get("feeders", ())),
            request_kind=RequestKind(kind) if kind else None,
            subscription_ids=tuple(data.get("subscription_ids", ())),
        )


@dataclass(frozen=True)
class Place:
    """A city, or an area of it (`area` set), spelled as the subscriptions have it."""

    city: str
    area: str | None = None


_SPACES = re.compile(r"\s+")


def place_key(text: str) -> str:
    """A place name as compared: letters as normalize_text makes them (Arabic ي ك as Persian),
    with no spaces, ZWNJ or other invisible marks (people type «زنبیل آباد» for «زنبیل‌آباد»),
    in any case."""
    return _SPACES.sub("", strip_invisible(normalize_text(text))).casefold()


def find_places(session: Session, typed: str) -> list[Place]:
    """What a typed place may mean: `city/area`; else the cities of that name, then the areas
    of that name in whichever cities have one (several: the caller lets staff choose)."""
    city_typed, slash, area_typed = typed.partition("/")
    city_key, area_key = place_key(city_typed), place_key(area_typed)
    if not city_key:
        return []
    # A few hundred places at most: they are compared here, normalized as typing is.
    known = session.execute(
        sa.select(col(Subscription.city), col(Subscription.area))
        .where(col(Subscription.status) != SubscriptionStatus.REMOVED)
        .distinct()
    ).all()
    found: set[Place] = set()
    for city, area in known:
        if slash and place_key(city) == city_key:
            if not area_key:
                found.add(Place(city))
            elif place_key(area) == area_key:
                found.add(Place(city, area))
        elif not slash and place_key(city) == city_key:
            found.add(Place(city))
        elif not slash and area and place_key(area) == city_key:
            found.add(Place(city, area))
    return sorted(found, key=lambda place: (place.area is not None, place.city, place.area or ""))


def _id_in(
    column: sa.SQLColumnExpression[int | None], ids: Sequence[int], dialect: str
) -> sa.ColumnElement[bool]:
    """`column IN ids` as one parameter, however many ids (drivers cap parameters near 65k)."""
    if dialect == "postgresql":
        return column == sa.any_(sa.literal(list(ids), postgresql.ARRAY(sa.Integer)))
    values = sa.select(sa.column("value", sa.Integer)).select_from(
        sa.func.json_each(sa.literal(list(ids), sa.JSON))
    )
    return column.in_(values)


def targeted(audience: Audience, dialect: str) -> sa.Subquery:
    """The targeted subscriptions: (id, customer_id); removed connections never."""
    query = sa.select(col(Subscription.id), col(Subscription.customer_id)).where(
        col(Subscription.status) != SubscriptionStatus.REMOVED
    )
    if audience.kind == AudienceKind.PLACE:
        query = query.where(col(Subscription.city) == audience.city)
        if audience.area:
            query = query.where(col(Subscription.area) == audience.area)
    elif audience.kind == AudienceKind.FEEDERS:
        query = query.where(col(Subscription.feeder).in_(audience.feeders))
    elif audience.kind == AudienceKind.OPEN_REQUESTS:
        query = query.where(
            col(Subscription.id).in_(
                sa.select(col(ServiceRequest.subscription_id)).where(
                    col(ServiceRequest.kind) == audience.request_kind,
                    col(ServiceRequest.status).not_in(FINAL_STATUSES),
                )
            )
        )
    elif audience.kind == AudienceKind.SUBSCRIPTIONS:
        query = query.where(_id_in(col(Subscription.id), audience.subscription_ids, dialect))
    return query.subquery("targeted")


def _reachable(
    channel: sa.SQLColumnExpression[str], user_id: sa.SQLColumnExpression[str]
) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(
        col(ChannelIdentity.channel) == channel,
        col(ChannelIdentity.external_user_id) == user_id,
        col(ChannelIdentity.reachable).is_(False),
    )


def _wanted(
    channel: sa.SQLColumnExpression[str],
    user_id: sa.SQLColumnExpression[str],
    topic: BroadcastTopic,
) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(
        col(TopicOptOut.channel) == channel,
        col(TopicOptOut.user_id) == user_id,
        col(TopicOptOut.topic) == topic,
    )


def _messenger_people(subs: sa.Subquery) -> sa.Subquery:
    """(channel, user_id) of every messenger identity that follows or owns a subscription."""
    followers = (
        sa.select(col(FollowedSubscription.channel), col(FollowedSubscription.user_id))
        .join(subs, col(FollowedSubscription.subscription_id) == subs.c.id)
        .where(col(FollowedSubscription.channel).in_(MESSENGER_CHANNELS))
    )
    owners = (
        sa.select(
            col(ChannelIdentity.channel), sa.label("user_id", col(ChannelIdentity.external_user_id))
        )
        .join(subs, col(ChannelIdentity.customer_id) == subs.c.customer_id)
        .where(
            col(ChannelIdentity.phone_verified).is_(True),
            col(ChannelIdentity.channel).in_(MESSENGER_CHANNELS),
        )
    )
    return sa.union(followers, owners).subquery("people")


# Whether a messenger identity (channel, user id) stands for its subscription in a broadcast.
_Text = sa.SQLColumnExpression[str]
_Covers = Callable[[_Text, _Text], sa.ColumnElement[bool]]


def _has_messenger(subs: sa.Subquery, covers: _Covers) -> sa.ColumnElement[bool]:
    """Whether a targeted subscription has a messenger identity (follower or owner) that
    `covers` it: then its registered mobile needs no SMS of a «messenger, else SMS» broadcast."""
    follows = aliased(FollowedSubscription, name="covering_follow")
    owner = aliased(ChannelIdentity, name="covering_owner")
    follower = sa.exists().where(
        col(follows.subscription_id) == subs.c.id,
        col(follows.channel).in_(MESSENGER_CHANNELS),
        covers(col(follows.channel), col(follows.user_id)),
    )
    owned = sa.exists().where(
        col(owner.customer_id) == subs.c.customer_id,
        col(owner.phone_verified).is_(True),
        col(owner.channel).in_(MESSENGER_CHANNELS),
        covers(col(owner.channel), col(owner.external_user_id)),
    )
    return sa.or_(follower, owned)


def _will_read(topic: BroadcastTopic) -> _Covers:
    """Covers at the start: the identity is reachable and, for an essential topic, has not
    turned it off (an outage must reach the subscription somehow; a general notice its
    follower turned off is not pushed to the mobile instead)."""

    def covers(channel: _Text, user_id: _Text) -> sa.ColumnElement[bool]:
        if topic in ESSENTIAL_TOPICS:
            return sa.and_(_reachable(channel, user_id), _wanted(channel, user_id, topic))
        return _reachable(channel, user_id)

    return covers


def _still_coming(broadcast_id: int) -> _Covers:
    """Covers while sending: the identity has a row in this broadcast that has not failed."""

    def covers(channel: _Text, user_id: _Text) -> sa.ColumnElement[bool]:
        return sa.exists().where(
            col(Delivery.broadcast_id) == broadcast_id,
            col(Delivery.channel) == channel,
            col(Delivery.address) == user_id,
            col(Delivery.state).not_in(_FAILED),
        )

    return covers


def _with_locale(people: sa.Subquery, default_locale: str) -> _Recipients:
    return sa.select(
        people.c.channel,
        people.c.user_id.label("address"),
        sa.func.coalesce(col(Conversation.locale), default_locale).label("locale"),
    ).outerjoin(
        Conversation,
        sa.and_(
            col(Conversation.channel) == people.c.channel,
            col(Conversation.user_id) == people.c.user_id,
        ),
    )


def sms_allowed(
    mobile: sa.SQLColumnExpression[str], topic: BroadcastTopic
) -> sa.ColumnElement[bool]:
    """An SMS of this topic may go to the mobile: no topic opt-out, no «لغو» unless essential."""
    allowed = _wanted(sa.literal(Channel.SMS.value), mobile, topic)
    if topic in ESSENTIAL_TOPICS:
        return allowed
    return sa.and_(allowed, ~sa.exists().where(col(SmsOptOut.mobile) == mobile))


def recipients(
    audience: Audience,
    channels: BroadcastChannels,
    topic: BroadcastTopic,
    *,
    dialect: str,
    default_locale: str,
) -> sa.Subquery:
    """Every recipient as (channel, address, locale), each once per channel."""
    subs = targeted(audience, dialect)
    parts: list[_Recipients] = []
    if channels != BroadcastChannels.SMS:
        people = _messenger_people(subs)
        parts.append(
            _with_locale(people, default_locale).where(
                _reachable(people.c.channel, people.c.user_id),
                _wanted(people.c.channel, people.c.user_id, topic),
            )
        )
    if channels != BroadcastChannels.MESSENGER:
        owners = (
            sa.select(sa.label("user_id", col(Customer.mobile)))
            .join(subs, col(Customer.id) == subs.c.customer_id)
            .where(col(Customer.mobile).is_not(None))
        )
        if channels == BroadcastChannels.MESSENGER_THEN_SMS:
            owners = owners.where(~_has_messenger(subs, _will_read(topic)))
        followers = (
            sa.select(col(FollowedSubscription.user_id))
            .join(subs, col(FollowedSubscription.subscription_id) == subs.c.id)
            .where(col(FollowedSubscription.channel) == Channel.SMS)
        )
        mobiles = sa.union(owners, followers).subquery("mobiles")
        people = sa.select(
            sa.literal(Channel.SMS.value).label("channel"), mobiles.c.user_id
        ).subquery("sms_people")
        parts.append(
            _with_locale(people, default_locale).where(sms_allowed(people.c.user_id, topic))
        )
    return sa.union_all(*parts).subquery("recipients")


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return {"postgresql": postgresql, "sqlite": sqlite}[dialect].insert(Delivery)


def count_recipients(
    session: Session,
    audience: Audience,
    channels: BroadcastChannels,
    topic: BroadcastTopic,
    *,
    default_locale: str,
) -> dict[Channel, int]:
    """How many would receive it on each channel, now."""
    dialect = session.get_bind().dialect.name
    rows = recipients(audience, channels, topic, dialect=dialect, default_locale=default_locale)
    query = sa.select(rows.c.channel, sa.func.count()).group_by(rows.c.channel)
    return {Channel(channel): count for channel, count in session.execute(query)}


def materialize(
    session: Session,
    broadcast_id: int,
    audience: Audience,
    channels: BroadcastChannels,
    topic: BroadcastTopic,
    *,
    default_locale: str,
) -> None:
    """Writes one queued delivery row per recipient and channel, in the caller's transaction."""
    dialect = session.get_bind().dialect.name
    rows = recipients(audience, channels, topic, dialect=dialect, default_locale=default_locale)
    select = sa.select(
        sa.literal(broadcast_id),
        rows.c.channel,
        rows.c.address,
        rows.c.locale,
        sa.literal(DeliveryState.QUEUED.value),
        sa.literal(0),
    ).where(sa.true())  # SQLite parses INSERT … SELECT … ON CONFLICT only with a WHERE
    columns = ["broadcast_id", "channel", "address", "locale", "state", "attempts"]
    session.execute(_insert(session).from_select(columns, select).on_conflict_do_nothing())


def add_sms_fallback(
    session: Session,
    broadcast_id: int,
    audience: Audience,
    *,
    channel: Channel,
    user_id: str,
    topic: BroadcastTopic,
    default_locale: str,
) -> bool:
    """Queues the SMS that stand in for a messenger delivery that failed for good; True if any.

    Two mobiles may: the one the identity verified, else its customer's registered one; and
    the registered mobile of each targeted subscription the identity follows that no other
    identity still covers in this broadcast. Call it once the failed row is answered (in the
    same transaction: a killed sender loses neither). Nothing is queued for a mobile that
    already has this broadcast or may not get it.
    """
    dialect = session.get_bind().dialect.name
    own_mobile = sa.func.coalesce(
        sa.case((col(ChannelIdentity.phone_verified).is_(True), col(ChannelIdentity.phone))),
        col(Customer.mobile),
    )
    own = (
        sa.select(
            sa.literal(Channel.SMS.value).label("channel"),
            own_mobile.label("address"),
            sa.func.coalesce(col(Conversation.locale), default_locale).label("locale"),
        )
        .select_from(ChannelIdentity)
        .outerjoin(Customer, col(Customer.id) == col(ChannelIdentity.customer_id))
        .outerjoin(
            Conversation,
            sa.and_(
                col(Conversation.channel) == col(ChannelIdentity.channel),
                col(Conversation.user_id) == col(ChannelIdentity.external_user_id),
            ),
        )
        .where(
            col(ChannelIdentity.channel) == channel,
            col(ChannelIdentity.external_user_id) == user_id,
        )
    )
    subs = targeted(audience, dialect)
    follows = sa.select(col(FollowedSubscription.subscription_id)).where(
        col(FollowedSubscription.channel) == channel,
        col(FollowedSubscription.user_id) == user_id,
    )
    registered = (
        sa.select(sa.label("user_id", col(Customer.mobile)))
        .join(subs, col(Customer.id) == subs.c.customer_id)
        .where(subs.c.id.in_(follows), ~_has_messenger(subs, _still_coming(broadcast_id)))
        .subquery("registered")
    )
    people = sa.select(sa.literal(Channel.SMS.value).label("channel"), registered.c.user_id)
    theirs = _with_locale(people.subquery("registered_people"), default_locale)
    mobiles = sa.union(own, theirs).subquery("mobiles")
    select = sa.select(
        sa.literal(broadcast_id),
        mobiles.c.channel,
        mobiles.c.address,
        mobiles.c.locale,
        sa.literal(DeliveryState.QUEUED.value),
        sa.literal(0),
    ).where(mobiles.c.address.is_not(None), sms_allowed(mobiles.c.address, topic))
    columns = ["broadcast_id", "channel", "address", "locale", "state", "attempts"]
    statement = (
        _insert(session)
        .from_select(columns, select)
        .on_conflict_do_nothing()
        .returning(sa.literal_column("1"))
    )
    return session.execute(statement).first() is not None


def subscription_ids(session: Session, bill_ids: Sequence[str]) -> list[int]:
    """The ids of the subscriptions with these bill IDs (unknown ones are left out)."""
    found: list[int] = []
    for start in range(0, len(bill_ids), 10_000):  # drivers cap a statement's parameters
        chunk = bill_ids[start : start + 10_000]
        query = sa.select(col(Subscription.id)).where(col(Subscription.bill_id).in_(chunk))
        found.extend(session.scalars(query))
    return found
