"""Who gets a broadcast, on which channel: targeting, one row per person, opt-outs, fallback."""

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from backend.broadcast_audience import (
    Audience,
    AudienceKind,
    Place,
    add_sms_fallback,
    count_recipients,
    find_places,
    materialize,
    subscription_ids,
)
from backend.constants import (
    BroadcastChannels,
    BroadcastStatus,
    BroadcastTopic,
    Channel,
    DeliveryState,
    RequestKind,
    RequestStatus,
)
from backend.models import (
    Broadcast,
    BroadcastDelivery,
    ChannelIdentity,
    ServiceRequest,
    SmsOptOut,
    TopicOptOut,
)
from tests.broadcasts.conftest import AddPerson

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
T, B, S = Channel.TELEGRAM, Channel.BALE, Channel.SMS
EVERYONE = Audience(AudienceKind.EVERYONE)


def recipients(
    session: Session,
    audience: Audience = EVERYONE,
    channels: BroadcastChannels = BroadcastChannels.MESSENGER_THEN_SMS,
    topic: BroadcastTopic = BroadcastTopic.OUTAGE,
) -> set[tuple[str, str]]:
    """Materializes a broadcast and returns its rows; the count shown at confirm must match."""
    broadcast = Broadcast(
        topic=topic,
        message_key="broadcast.text",
        params={"text": "x"},
        audience=audience.to_json(),
        channels=channels,
        status=BroadcastStatus.SCHEDULED,
        created_at=NOW,
        send_at=NOW,
    )
    session.add(broadcast)
    session.flush()
    materialize(session, broadcast.id, audience, channels, topic, default_locale="fa")
    rows = session.exec(
        select(BroadcastDelivery).where(BroadcastDelivery.broadcast_id == broadcast.id)
    ).all()
    counted = count_recipients(session, audience, channels, topic, default_locale="fa")
    by_channel: dict[Channel, int] = {}
    for row in rows:
        by_channel[Channel(row.channel)] = by_channel.get(Channel(row.channel), 0) + 1
    assert counted == by_channel
    session.commit()
    return {(row.channel, row.address) for row in rows}


def test_one_message_per_person_and_channel_whatever_they_follow(
    session: Session, add_person: AddPerson
) -> None:
    add_person(followers=[(T, "501")], mobile="+989120000001")
    # The parents' home: followed by the same Telegram user, and by a Bale user.
    add_person(followers=[(T, "501"), (B, "601")], mobile="+989120000002")
    add_person(owners=[(B, "601")], mobile="+989120000003")  # the Bale user's own, by phone
    assert recipients(session) == {(T, "501"), (B, "601")}
    sms_only = recipients(session, channels=BroadcastChannels.SMS)
    assert sms_only == {(S, "+989120000001"), (S, "+989120000002"), (S, "+989120000003")}


def test_sms_goes_to_those_without_a_reachable_messenger(
    session: Session, add_person: AddPerson
) -> None:
    add_person(followers=[(T, "501")], mobile="+989120000001")
    add_person(mobile="+989120000002")
    add_person(followers=[(T, "502")], mobile="+989120000003")
    session.execute(
        sa.update(ChannelIdentity)
        .where(ChannelIdentity.external_user_id == "502")
        .values(reachable=False)
    )
    assert recipients(session) == {(T, "501"), (S, "+989120000002"), (S, "+989120000003")}
    assert recipients(session, channels=BroadcastChannels.MESSENGER) == {(T, "501")}


def test_opt_outs_topic_everywhere_sms_only_for_what_is_not_essential(
    session: Session, add_person: AddPerson
) -> None:
    add_person(followers=[(T, "501")])
    add_person(followers=[(T, "502")])
    add_person(mobile="+989120000009")
    session.add(TopicOptOut(channel=T, user_id="501", topic=BroadcastTopic.GENERAL, created_at=NOW))
    session.add(SmsOptOut(mobile="+989120000009", created_at=NOW))
    session.commit()
    general = recipients(session, topic=BroadcastTopic.GENERAL)
    assert general == {(T, "502")}
    outage = recipients(session, topic=BroadcastTopic.OUTAGE)
    assert outage == {(T, "501"), (T, "502"), (S, "+989120000009")}  # an outage reaches «لغو»


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (Audience(AudienceKind.PLACE, city="کهک"), {"601", "602"}),
        (Audience(AudienceKind.PLACE, city="کهک", area="ونارچ"), {"602"}),
        (Audience(AudienceKind.FEEDERS, feeders=("F-51", "F-12")), {"601", "603"}),
        (Audience(AudienceKind.OPEN_REQUESTS, request_kind=RequestKind.BILL_REVIEW), {"603"}),
    ],
)
def test_targeting_by_place_feeder_and_open_request(
    session: Session, add_person: AddPerson, audience: Audience, expected: set[str]
) -> None:
    add_person(followers=[(T, "601")], city="کهک", area="مرکز کهک", feeder="F-51")
    add_person(followers=[(T, "602")], city="کهک", area="ونارچ", feeder="فیدر ونارچ")
    third = add_person(followers=[(T, "603")])  # قم، F-12
    closed = add_person(followers=[(T, "604")], feeder="F-99")
    for subscription, status in ((third, RequestStatus.SUBMITTED), (closed, RequestStatus.CLOSED)):
        session.add(
            ServiceRequest(
                kind=RequestKind.BILL_REVIEW,
                tracking_code=f"12345{subscription.id:05d}",
                status=status,
                channel=T,
                channel_user_id="x",
                subscription_id=subscription.id,
                reason="other",
                description="",
            )
        )
    session.commit()
    found = recipients(session, audience, channels=BroadcastChannels.MESSENGER)
    assert {address for _, address in found} == expected


def test_a_list_of_bill_ids(session: Session, add_person: AddPerson) -> None:
    first = add_person(followers=[(T, "701")])
    add_person(followers=[(T, "702")])
    third = add_person(followers=[(T, "703")])
    ids = subscription_ids(session, [first.bill_id, third.bill_id, "1234567890123"])
    audience = Audience(AudienceKind.SUBSCRIPTIONS, subscription_ids=tuple(ids))
    restored = Audience.from_json(audience.to_json())
    found = recipients(session, restored, channels=BroadcastChannels.MESSENGER)
    assert found == {(T, "701"), (T, "703")}


def test_the_sms_fallback_of_a_blocked_chat_goes_once(
    session: Session, add_person: AddPerson
) -> None:
    add_person(owners=[(T, "801")], mobile="+989120000801")
    broadcast_rows = recipients(session)
    assert broadcast_rows == {(T, "801")}
    broadcast_id = session.exec(select(Broadcast.id)).one()
    fallback: dict[str, Any] = {
        "channel": T,
        "user_id": "801",
        "topic": BroadcastTopic.GENERAL,
        "default_locale": "fa",
    }
    assert add_sms_fallback(session, broadcast_id, EVERYONE, **fallback)
    assert not add_sms_fallback(session, broadcast_id, EVERYONE, **fallback)  # not twice
    session.add(SmsOptOut(mobile="+989120000801", created_at=NOW))
    session.flush()
    session.execute(sa.delete(BroadcastDelivery).where(BroadcastDelivery.channel == S))
    assert not add_sms_fallback(session, broadcast_id, EVERYONE, **fallback)  # «لغو» holds


def test_an_outage_reaches_at_its_mobile_a_subscription_whose_followers_turned_it_off(
    session: Session, add_person: AddPerson
) -> None:
    add_person(followers=[(T, "511")], mobile="+989120000511")
    add_person(owners=[(B, "512")], mobile="+989120000512")
    add_person(followers=[(T, "513")], mobile="+989120000513")  # the mobile turned it off too
    add_person(followers=[(T, "514")], mobile="+989120000514")  # still reads it in Telegram
    for channel, user_id in ((T, "511"), (B, "512"), (T, "513"), (S, "+989120000513")):
        for topic in BroadcastTopic:
            session.add(TopicOptOut(channel=channel, user_id=user_id, topic=topic, created_at=NOW))
    session.add(SmsOptOut(mobile="+989120000511", created_at=NOW))  # «لغو۱۱»: not for outages
    session.commit()
    outage = recipients(session, topic=BroadcastTopic.OUTAGE)
    assert outage == {(S, "+989120000511"), (S, "+989120000512"), (T, "514")}
    # A general notice its follower turned off is not pushed to the mobile instead.
    assert recipients(session, topic=BroadcastTopic.GENERAL) == {(T, "514")}
    assert recipients(session, channels=BroadcastChannels.MESSENGER) == {(T, "514")}


def test_a_failed_follower_gets_the_sms_to_the_mobiles_it_stood_for(
    session: Session, add_person: AddPerson
) -> None:
    add_person(followers=[(T, "901")], mobile="+989120000901", city="کهک")
    add_person(followers=[(T, "901"), (B, "902")], mobile="+989120000902", city="کهک")
    add_person(followers=[(T, "901")], mobile="+989120000903")  # in Qom: not targeted
    audience = Audience(AudienceKind.PLACE, city="کهک")
    assert recipients(session, audience) == {(T, "901"), (B, "902")}
    broadcast_id = session.exec(select(Broadcast.id)).one()

    def failed(channel: Channel, user_id: str) -> bool:
        session.execute(
            sa.update(BroadcastDelivery)
            .where(BroadcastDelivery.address == user_id)
            .values(state=DeliveryState.PERMANENT_FAILURE)
        )
        return add_sms_fallback(
            session,
            broadcast_id,
            audience,
            channel=channel,
            user_id=user_id,
            topic=BroadcastTopic.OUTAGE,
            default_locale="fa",
        )

    def texted() -> set[str]:
        query = select(BroadcastDelivery.address).where(BroadcastDelivery.channel == S)
        return set(session.exec(query))

    assert failed(T, "901")
    assert texted() == {"+989120000901"}  # the shared home still has its Bale follower
    assert failed(B, "902")
    assert texted() == {"+989120000901", "+989120000902"}
    assert not failed(T, "901")  # nothing twice


def test_places_are_found_without_the_city_and_however_spaced(
    session: Session, add_person: AddPerson
) -> None:
    add_person(city="قم", area="زنبیل‌آباد")
    add_person(city="کهک", area="زنبیل‌آباد")
    add_person(city="قم", area="صفاشهر")
    qom_only = [Place("قم", "صفاشهر")]
    assert find_places(session, "صفا شهر") == qom_only
    assert find_places(session, "قم / صفاشهر") == qom_only
    assert find_places(session, "زنبيل آباد") == [  # Arabic yeh, a space for the ZWNJ
        Place("قم", "زنبیل‌آباد"),
        Place("کهک", "زنبیل‌آباد"),
    ]
    assert find_places(session, "كهك") == [Place("کهک")]  # Arabic kaf
    assert find_places(session, "قم/") == [Place("قم")]
    assert find_places(session, "ونارچ") == []
