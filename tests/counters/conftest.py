"""Fixtures for the counter tests: a file store, a fixed clock, counters at each step, staff."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from backend.constants import Channel, CounterAction, CounterStatus, RequestKind, StaffRole
from backend.counter_inspections import DEFAULT_CHECKLIST
from backend.counter_workflow import Paper, apply
from backend.counters import (
    add_operator,
    check_details,
    delegate,
    introduce_counter,
    operators_of,
)
from backend.models import Counter, ServiceRequest, Staff, Subscription
from backend.service_requests import DraftDocument, file_request
from backend.staff import add_staff
from backend.storage import LocalFileStorage

A = CounterAction
NOW = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)  # a Saturday morning in Tehran
LETTER = Paper(b"%PDF-1.4 introduction letter of the guild association", "معرفی‌نامه.pdf")
AGREEMENT = Paper(b"\xff\xd8\xff\xe0 the signed agreement, scanned", "tafahomname.jpg")
SIGNED_ON = date(2026, 12, 1)
ADMIN = "staff:1"
# The steps from an introduced counter to an active one; training needs an operator and the
# start of work a delegated service, which `counter_at` adds first unless told not to.
ONBOARDING = (
    A.APPROVE,
    A.ANNOUNCE_PREREQUISITES,
    A.SIGN_AGREEMENT,
    A.INSTALL_SOFTWARE,
    A.TRAIN_OPERATOR,
    A.ACTIVATE,
)

METER_PHOTO = DraftDocument("k", "0" * 64, 1, "image/jpeg", "meter.jpg")

CounterAt = Callable[..., Counter]


def take_step(
    session: Session, counter: Counter, action: CounterAction, storage: LocalFileStorage
) -> None:
    """The step with what it needs: the signed agreement's scan and date for the signing."""
    if action == A.SIGN_AGREEMENT:
        apply(
            session,
            counter,
            action,
            actor=ADMIN,
            now=NOW,
            storage=storage,
            document=AGREEMENT,
            signed_on=SIGNED_ON,
        )
    else:
        apply(session, counter, action, actor=ADMIN, now=NOW)


AddStaff = Callable[..., Staff]


def filed_at(
    session: Session, subscription: Subscription, counter: Counter | None, *, papers: bool = False
) -> ServiceRequest:
    """A bill review as the subscriber or (with a counter) its operator would file it; with a
    meter photo attached if `papers`."""
    assert subscription.id is not None
    request = file_request(
        session,
        kind=RequestKind.BILL_REVIEW,
        channel=Channel.TELEGRAM,
        channel_user_id="1001",
        subscription_id=subscription.id,
        reason="high_consumption",
        description="مصرف این دوره زیاد است.",
        documents=[METER_PHOTO] if papers else [],
        now=NOW,
        deadline=NOW,
    )
    if counter is not None:
        request.counter_id = counter.id
        request.filed_by_id = operators_of(session, counter)[0].id
    session.add(request)
    session.commit()
    return request


def edited_checklist(tmp_path: Path) -> Path:
    """Version 2: the fees item weighs more, an item is reworded, one is added."""
    data = json.loads(DEFAULT_CHECKLIST.read_text(encoding="utf-8"))
    data["version"] = 2
    rules = data["topics"][2]["items"]
    rules[0]["weight"] = 5
    rules[1]["text_fa"] = "کاربر برق دفتر آموزش‌دیده و معرفی‌شده به شرکت است."
    rules.append(
        {
            "key": "signage",
            "text_fa": "تابلوی دفتر نصب است.",
            "text_en": "The office's sign is up.",
            "weight": 1,
            "expected": "yes",
        }
    )
    path = tmp_path / "pishkhan-v2.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def storage(tmp_path: Path) -> LocalFileStorage:
    return LocalFileStorage(tmp_path / "files")


@pytest.fixture
def add_member(session: Session) -> AddStaff:
    made: list[Staff] = []

    def add(role: StaffRole, *, area: str | None = None) -> Staff:
        staff = add_staff(
            session,
            full_name=f"کارمند {len(made) + 1}",
            phone=f"+98936000{len(made):04d}",
            role=role,
        )
        staff.area = area
        session.add(staff)
        made.append(staff)
        return staff

    return add


@pytest.fixture
def counter_at(session: Session, storage: LocalFileStorage, add_member: AddStaff) -> CounterAt:
    """A counter brought to `status` through its real steps (a new code each time)."""
    made: list[Counter] = []

    def at(
        status: CounterStatus = CounterStatus.INTRODUCED,
        *,
        area: str = "تبریز ۲",
        services: tuple[RequestKind, ...] = (RequestKind.BILL_REVIEW,),
        operator: bool = True,
    ) -> Counter:
        details = check_details(
            code=f"{14010 + len(made)}",
            name="دفتر پیشخوان دولت ولیعصر",
            city="تبریز",
            area=area,
            address="تبریز، خیابان ولیعصر، پلاک ۱۲",
            phone="041-33445566",
            manager_name="رضا محمدی",
        )
        counter = introduce_counter(session, details, LETTER, storage=storage, actor=ADMIN, now=NOW)
        made.append(counter)
        if operator:
            add_operator(
                session, counter, add_member(StaffRole.COUNTER_OPERATOR), actor=ADMIN, now=NOW
            )
        if services:
            delegate(session, counter, services, actor=ADMIN, now=NOW)
        for action in ONBOARDING:
            if counter.status == status:
                break
            take_step(session, counter, action, storage)
        session.commit()
        return counter

    return at
