"""Filing requests: tracking codes stay unique when many are filed at once."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from backend import service_requests
from backend.constants import NoticeKind, RequestKind
from backend.db import session_scope
from backend.models import Notice, ServiceRequest
from backend.tracking import is_valid_tracking_code, new_tracking_code
from tests.factories import add_subscription

NOW = datetime(2025, 11, 22, 6, 0, tzinfo=UTC)


@pytest.fixture
def few_codes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every thread draws the same six codes in the same order: the k-th filer collides k times."""
    pool = [new_tracking_code() for _ in range(6)]
    drawn = threading.local()

    def draw() -> str:
        drawn.count = getattr(drawn, "count", -1) + 1
        return pool[drawn.count]

    monkeypatch.setattr(service_requests, "new_tracking_code", draw)
    yield pool


def test_concurrent_filings_get_distinct_codes(
    engine: sa.Engine, session: Session, few_codes: list[str]
) -> None:
    subscription = add_subscription(session)
    failures: list[BaseException] = []
    barrier = threading.Barrier(6)

    def file_one() -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as own:
                service_requests.file_request(
                    own,
                    kind=RequestKind.CONNECTION_REMOVAL,
                    channel="telegram",
                    channel_user_id="9",
                    subscription_id=subscription.id,
                    reason="other",
                    description="—",
                    documents=[],
                    now=NOW,
                    deadline=NOW,
                )
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=file_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    codes = session.exec(select(ServiceRequest.tracking_code)).all()
    assert len(codes) == 6 and len(set(codes)) == 6
    assert set(codes) == set(few_codes)
    assert all(is_valid_tracking_code(code) for code in codes)


def test_filing_writes_a_receipt_to_the_outbox(session: Session) -> None:
    subscription = add_subscription(session)
    request = service_requests.file_request(
        session,
        kind=RequestKind.CONNECTION_REMOVAL,
        channel="bale",
        channel_user_id="9",
        subscription_id=subscription.id,
        reason="other",
        description="—",
        documents=[],
        now=NOW,
        deadline=NOW,
    )
    session.commit()
    notice = session.exec(select(Notice)).one()
    assert (notice.kind, notice.request_id, notice.essential) == (
        NoticeKind.RECEIPT,
        request.id,
        False,
    )
    assert notice.params == {"code": request.tracking_code, "expected_date": NOW.isoformat()}
