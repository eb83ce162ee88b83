"""The dispute assessment's causes from the bill data: an estimated reading, a catch-up after
one, a tariff change, a self-reading below the billed one; ordinary consumption names none."""

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from backend.assessment import Cause, Level, assess
from backend.models import Bill, MeterSelfReading, Subscription
from tests.factories import add_subscription


def bills(session: Session, subscription: Subscription) -> list[Bill]:
    query = select(Bill).where(Bill.subscription_id == subscription.id)
    return list(session.exec(query.order_by(col(Bill.current_reading_date))))


def test_ordinary_consumption_is_normal_with_no_cause(session: Session) -> None:
    found = assess(session, bills(session, add_subscription(session))[-1])
    assert (found.level, found.causes, found.history_periods) == (Level.NORMAL, (), 5)
    assert found.ratio_to_history is not None and 1 < found.ratio_to_history < 1.5


def test_estimated_readings_and_a_tariff_change_are_named(session: Session) -> None:
    subscription = add_subscription(session)
    *_older, previous, latest = bills(session, subscription)
    latest.estimated = True
    latest.tariff, previous.tariff = "2-1", "1-1"
    session.add_all([latest, previous])
    session.commit()
    found = assess(session, latest)
    assert found.causes == (Cause.ESTIMATED_READING, Cause.TARIFF_CHANGE)
    assert (found.previous_tariff, found.tariff) == ("1-1", "2-1")

    # The reading after an estimated one, far above: a catch-up, not a misread meter.
    latest.estimated, latest.tariff, previous.estimated = False, "1-1", True
    latest.consumption_kwh *= 3
    session.add_all([latest, previous])
    session.commit()
    found = assess(session, latest)
    assert (found.level, found.causes) == (Level.VERY_HIGH, (Cause.CATCH_UP,))


def test_a_self_reading_below_the_billed_one_points_at_the_reading(session: Session) -> None:
    subscription = add_subscription(session)
    latest = bills(session, subscription)[-1]
    assert subscription.id is not None
    taken = datetime.combine(latest.current_reading_date, datetime.min.time(), tzinfo=UTC)
    session.add(
        MeterSelfReading(
            storage_key="ab" * 32,
            sha256="ab" * 32,
            size_bytes=10,
            content_type="image/jpeg",
            original_name="meter.jpg",
            tracking_code="1234567890",
            subscription_id=subscription.id,
            reading=latest.current_reading - 200,
            channel="telegram",
            user_id="1001",
            created_at=taken.replace(hour=12),
        )
    )
    session.commit()
    found = assess(session, latest)
    assert found.self_reading is not None
    assert found.self_reading.reading == latest.current_reading - 200
    assert found.causes == (Cause.READING_JUMP,)
