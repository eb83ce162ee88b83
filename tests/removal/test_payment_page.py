"""The dev payment page on the web app, served in-process: GET shows it, POST pays it once."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from aiogram import Dispatcher
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, select

from backend.constants import EventAction, PaymentMethod, PaymentStatus, RequestStatus
from backend.models import Notice, RequestEvent, Subscription, utcnow
from backend.payments import find_payment
from backend.settings import Settings
from bot.payments_web import add_payment_routes
from bot.web import make_web_app
from locales.values import format_date
from tests.removal.conftest import Desk, Subscriber, file_by_contact

Client = TestClient[Any, web.Application]


def with_client(
    settings: Settings, engine: sa.Engine, script: Callable[[Client], Awaitable[None]]
) -> None:
    async def main() -> None:
        app = web.Application()
        add_payment_routes(app, settings, engine)
        async with TestClient(TestServer(app)) as client:
            await script(client)

    asyncio.run(main())


@pytest.fixture
def reference(telegram_user: Subscriber, desk: Desk, subscription: Subscription) -> str:
    code = file_by_contact(telegram_user, subscription)
    return desk.announce_fee(code, 2_500_000, utcnow())


def form(outcome: str, attempt: str = "0123456789abcdef") -> dict[str, str]:
    """What the page posts: the button pressed and the attempt its form was shown for."""
    return {"outcome": outcome, "attempt": attempt}


def events(session: Session, action: EventAction) -> list[RequestEvent]:
    session.expire_all()
    return list(session.exec(select(RequestEvent).where(RequestEvent.action == action)))


def test_the_page_shows_the_amount_in_persian_and_paying_twice_pays_once(
    settings: Settings, engine: sa.Engine, session: Session, desk: Desk, reference: str
) -> None:
    payment = find_payment(session, reference=reference)
    assert payment is not None
    request_code = desk.request_for(payment).tracking_code

    async def script(client: Client) -> None:
        page = await client.get(f"/pay/{reference}")
        assert page.status == 200
        body = await page.text()
        assert 'dir="rtl"' in body
        assert "۲٬۵۰۰٬۰۰۰ ریال" in body
        assert format_date(payment.created_at, "fa") in body  # Jalali, Tehran time
        assert f"<code>{request_code}</code>" in body
        assert 'value="pay"' in body and 'value="fail"' in body

        paid = await client.post(f"/pay/{reference}", data=form("pay"))
        assert paid.status == 200
        assert "پرداخت شد" in await paid.text()
        assert desk.request(request_code).status == RequestStatus.FEE_PAID

        for outcome in ("pay", "fail"):  # the provider calling back again, either way
            again = await client.post(f"/pay/{reference}", data=form(outcome))
            assert again.status == 200
            assert "پرداخت شده است" in await again.text()
        shown = await client.get(f"/pay/{reference}")
        assert 'value="pay"' not in await shown.text()

    with_client(settings, engine, script)
    assert len(events(session, EventAction.PAY_FEE)) == 1
    session.expire_all()
    paid = find_payment(session, reference=reference)
    assert paid is not None
    assert (paid.status, paid.method) == (PaymentStatus.PAID, PaymentMethod.ONLINE)
    assert paid.provider_ref is not None and paid.provider_ref.startswith("dev-")
    assert len(session.exec(select(Notice).where(Notice.kind == "fee_received")).all()) == 1


def test_two_callbacks_at_once_move_the_request_once(
    settings: Settings, engine: sa.Engine, session: Session, reference: str
) -> None:
    async def script(client: Client) -> None:
        answers = await asyncio.gather(
            *(client.post(f"/pay/{reference}", data=form("pay")) for _ in range(4))
        )
        assert [answer.status for answer in answers] == [200] * 4

    with_client(settings, engine, script)
    assert len(events(session, EventAction.PAY_FEE)) == 1


def test_a_failed_payment_stays_due_and_is_noted_for_staff(
    settings: Settings, engine: sa.Engine, session: Session, desk: Desk, reference: str
) -> None:
    async def script(client: Client) -> None:
        failed = await client.post(f"/pay/{reference}", data=form("fail"))
        assert failed.status == 200
        body = await failed.text()
        assert "پرداخت انجام نشد" in body and 'value="pay"' in body
        payment = find_payment(session, reference=reference)
        assert payment is not None and payment.status == PaymentStatus.PENDING
        assert desk.request_for(payment).status == RequestStatus.FEE_ANNOUNCED
        unclear = await client.post(f"/pay/{reference}", data=form("maybe"))
        assert unclear.status == 400
        paid = await client.post(f"/pay/{reference}", data=form("pay"))
        assert "پرداخت شد" in await paid.text()

    with_client(settings, engine, script)
    (failure,) = events(session, EventAction.PAYMENT_FAILED)
    assert failure.actor == "provider:dev" and (failure.note or "").startswith("dev-")
    assert len(events(session, EventAction.PAY_FEE)) == 1


def test_unknown_or_malformed_references_are_not_found(
    settings: Settings, engine: sa.Engine, reference: str
) -> None:
    async def script(client: Client) -> None:
        other = "0" * 24 if reference != "0" * 24 else "1" * 24
        for path in (f"/pay/{other}", "/pay/not-a-reference", f"/pay/{reference}x"):
            assert (await client.get(path)).status == 404
            assert (await client.post(path, data=form("pay"))).status == 404

    with_client(settings, engine, script)


def test_a_withdrawn_requests_payment_is_no_longer_payable(
    settings: Settings,
    engine: sa.Engine,
    session: Session,
    telegram_user: Subscriber,
    desk: Desk,
    reference: str,
) -> None:
    payment = find_payment(session, reference=reference)
    assert payment is not None
    code = desk.request_for(payment).tracking_code
    telegram_user.press(f"req:withdraw:{code}")
    telegram_user.press(f"req:confirm:{code}")

    async def script(client: Client) -> None:
        assert (await client.get(f"/pay/{reference}")).status == 409
        assert (await client.post(f"/pay/{reference}", data=form("pay"))).status == 409

    with_client(settings, engine, script)
    assert desk.request(code).status == RequestStatus.WITHDRAWN
    assert events(session, EventAction.PAY_FEE) == []


def test_the_webhook_server_serves_the_page_and_refuses_an_unknown_provider(
    settings: Settings,
) -> None:
    def paths(app: web.Application) -> set[str]:
        return {resource.canonical for resource in app.router.resources()}

    assert "/pay/{reference}" in paths(make_web_app(settings, Dispatcher(), []))
    real = settings.model_copy(update={"payment_provider": "zarinpal"})
    assert {"/pay/{reference}", "/pay/{reference}/callback"} <= paths(
        make_web_app(real, Dispatcher(), [])
    )
    unknown = settings.model_copy(update={"payment_provider": "saman"})
    with pytest.raises(ValueError, match="unknown payment provider"):
        make_web_app(unknown, Dispatcher(), [])
