"""Removals closed before subscriptions recorded their removal: the migration marks them removed,
on the day their removal was closed, and leaves every other subscription as it was."""

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from backend.db import migrate

CLOSED_AT = datetime(2025, 10, 2, 9, 30, tzinfo=UTC)
NOW = datetime(2025, 9, 1, tzinfo=UTC)


def test_the_migration_marks_the_subscriptions_of_closed_removals_removed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    migrate(url, "0007")  # the schema before the removal was recorded
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    customer, subscription = tables.tables["customer"], tables.tables["subscription"]
    request, event = tables.tables["service_request"], tables.tables["request_event"]
    with engine.begin() as db:
        db.execute(sa.insert(customer), [{"id": 1, "full_name": "مریم احمدی", "created_at": NOW}])
        db.execute(
            sa.insert(subscription),
            [
                {
                    "id": number,
                    "bill_id": f"{number}000",
                    "subscription_number": f"SN{number}",
                    "customer_id": 1,
                    "address": "قم",
                    "city": "قم",
                    "area": "صفاییه",
                    "feeder": "F-12",
                    "tariff": "1-1",
                    "status": "active",
                    "created_at": NOW,
                }
                for number in (1, 2, 3)
            ],
        )
        common = {"channel": "telegram", "channel_user_id": "1", "reason": "other"}
        common |= {"description": "", "created_at": NOW, "updated_at": NOW}
        # 1: its removal closed; 2: a removal not yet closed; 3: a review closed.
        kinds = {1: ("connection_removal", "closed"), 2: ("connection_removal", "settled")}
        kinds[3] = ("bill_review", "closed")
        db.execute(
            sa.insert(request),
            [
                {"id": n, "kind": kind, "status": status, "subscription_id": n, **common}
                | {"tracking_code": f"100000000{n}"}
                for n, (kind, status) in kinds.items()
            ],
        )
        db.execute(
            sa.insert(event),
            [
                {"request_id": n, "actor": "staff:1", "action": "close", "created_at": CLOSED_AT}
                for n in (1, 3)
            ],
        )
    engine.dispose()

    migrate(url)
    engine = sa.create_engine(url)
    with engine.connect() as db:
        rows = db.execute(sa.text("SELECT id, status, removed_at FROM subscription ORDER BY id"))
        found = [(number, status, removed_at is not None) for number, status, removed_at in rows]
        removed_at = db.execute(sa.text("SELECT removed_at FROM subscription WHERE id = 1"))
        assert str(CLOSED_AT.replace(tzinfo=None)) in str(removed_at.scalar())
    engine.dispose()
    assert found == [(1, "removed", True), (2, "active", False), (3, "active", False)]
