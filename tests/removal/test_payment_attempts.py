"""A failed online payment is noted once per attempt: a repeated post of it changes nothing."""

import asyncio
import re
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, select

from backend.constants import EventAction, PaymentStatus
from backend.models import RequestEvent, Subscription, utcnow
from backend.payments import find_payment
from backend.settings import Settings
from bot.payments_web import add_payment_routes
from tests.removal.conftest import Desk, Subscriber, file_by_contact

Client = TestClient[Any, web.Application]
ATTEMPT = re.compile(r'<input type="hidden" name="attempt" value="([0-9a-f]{16})">')


@pytest.fixture
def reference(telegram_user: Subscriber, desk: Desk, subscription: Subscription) -> str:
    code = file_by_contact(telegram_user, subscription)
    return desk.announce_fee(code, 2_500_000, utcnow())


def run(settings: Settings, engine: sa.Engine, script: Any) -> Any:
    async def main() -> Any:
        app = web.Application()
        add_payment_routes(app, settings, engine)
        async with TestClient(TestServer(app)) as client:
            return await script(client)

    return asyncio.run(main())


async def attempt_shown(client: Client, path: str) -> str:
    """The attempt the page's form is shown for."""
    found = ATTEMPT.search(await (await client.get(path)).text())
    assert found is not None
    return found.group(1)


def failures(session: Session) -> list[RequestEvent]:
    session.expire_all()
    failed = RequestEvent.action == EventAction.PAYMENT_FAILED
    return list(session.exec(select(RequestEvent).where(failed)))


def test_each_showing_of_the_page_is_a_new_attempt(
    settings: Settings, engine: sa.Engine, reference: str
) -> None:
    async def script(client: Client) -> list[str]:
        path = f"/pay/{reference}"
        shown = [await attempt_shown(client, path) for _ in range(2)]
        failed = await client.post(path, data={"outcome": "fail", "attempt": shown[0]})
        again = ATTEMPT.search(await failed.text())  # "try again" offers a fresh attempt
        assert again is not None
        return [*shown, again.group(1)]

    attempts = run(settings, engine, script)
    assert len(set(attempts)) == 3


def test_a_failed_attempt_posted_again_is_noted_once(
    settings: Settings, engine: sa.Engine, session: Session, reference: str
) -> None:
    async def script(client: Client) -> None:
        path = f"/pay/{reference}"
        attempt = await attempt_shown(client, path)
        form = {"outcome": "fail", "attempt": attempt}
        for _ in range(5):
            answer = await client.post(path, data=form)
            assert answer.status == 200 and "پرداخت انجام نشد" in await answer.text()
        together = await asyncio.gather(*(client.post(path, data=form) for _ in range(4)))
        assert [answer.status for answer in together] == [200] * 4

    run(settings, engine, script)
    [failure] = failures(session)
    assert failure.note is not None and failure.note.startswith("dev-")
    payment = find_payment(session, reference=reference)
    assert payment is not None and payment.status == PaymentStatus.PENDING


def test_two_attempts_that_fail_are_two_notes_and_paying_after_them_pays(
    settings: Settings, engine: sa.Engine, session: Session, reference: str
) -> None:
    async def script(client: Client) -> None:
        path = f"/pay/{reference}"
        for _ in range(2):
            attempt = await attempt_shown(client, path)
            await client.post(path, data={"outcome": "fail", "attempt": attempt})
            await client.post(path, data={"outcome": "fail", "attempt": attempt})
        paying = await attempt_shown(client, path)
        paid = await client.post(path, data={"outcome": "pay", "attempt": paying})
        assert "پرداخت شد" in await paid.text()
        # A failure reported for the attempt that was shown before paying changes nothing.
        late = await client.post(path, data={"outcome": "fail", "attempt": "f" * 16})
        assert "پرداخت شده است" in await late.text()

    run(settings, engine, script)
    assert len(failures(session)) == 2
    assert len({failure.note for failure in failures(session)}) == 2
    session.expire_all()
    payment = find_payment(session, reference=reference)
    assert payment is not None and payment.status == PaymentStatus.PAID


@pytest.mark.parametrize("attempt", [None, "", "not-hex-at-all!!", "abc", "0" * 17])
def test_a_post_that_names_no_attempt_is_refused_and_noted_nowhere(
    settings: Settings, engine: sa.Engine, session: Session, reference: str, attempt: str | None
) -> None:
    async def script(client: Client) -> None:
        form = {"outcome": "fail"} | ({} if attempt is None else {"attempt": attempt})
        for _ in range(3):
            answer = await client.post(f"/pay/{reference}", data=form)
            assert answer.status == 400
            assert ATTEMPT.search(await answer.text()) is not None  # the buttons again

    run(settings, engine, script)
    assert failures(session) == []
