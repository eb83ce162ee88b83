"""The Zarinpal adapter against recorded answers: a bill paid once, the payer's cancel, a verify
that fails or cannot be made, a repeated verify, rials as the unit, and callbacks that name an
amount or an authority they should not."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlmodel import Session, col, select

from backend.bill_payments import bill_payment
from backend.constants import PaymentStatus
from backend.models import Bill, Payment, PaymentAttempt, Subscription
from backend.payments import (
    CallbackOutcome,
    GatewayUnavailable,
    InvalidCallback,
    complete_online_payment,
    open_gateway,
)
from backend.settings import Settings
from bot.payments_web import add_payment_routes
from channels.payments import make_payment_provider
from channels.payments.zarinpal import REQUEST_PATH, VERIFY_PATH, ZarinpalProvider
from tests.factories import add_subscription
from tests.payments.recordings import (
    AMOUNT_MISMATCH,
    AUTHORITY,
    BAD_MERCHANT,
    NOT_PAID,
    OTHER_AUTHORITY,
    REF_ID,
    RecordedZarinpal,
    error,
    request_ok,
    verify_ok,
)

MERCHANT = "1344b5d4-0048-11e8-94db-005056a205be"
NOW = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def zarinpal_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "payment_provider": "zarinpal",
            "zarinpal_merchant_id": SecretStr(MERCHANT),
            "public_base_url": "https://desk.example.ir",
        }
    )


@pytest.fixture
def recorded() -> RecordedZarinpal:
    return RecordedZarinpal()


@pytest.fixture
def provider(zarinpal_settings: Settings, recorded: RecordedZarinpal) -> ZarinpalProvider:
    return ZarinpalProvider(zarinpal_settings, transport=recorded.transport())


@pytest.fixture
def latest(session: Session, subscription: Subscription) -> Bill:
    bill = session.exec(
        select(Bill)
        .where(Bill.subscription_id == subscription.id)
        .order_by(col(Bill.current_reading_date).desc())
    ).first()
    assert bill is not None
    return bill


@pytest.fixture
def reference(session: Session, latest: Bill) -> str:
    payment = bill_payment(session, latest, now=NOW)
    session.commit()
    return payment.reference


def opened(
    engine: sa.Engine, provider: ZarinpalProvider, recorded: RecordedZarinpal, reference: str
) -> str:
    """Our link opened: a transaction at Zarinpal, and the page the payer is sent to."""
    recorded.queue(REQUEST_PATH, request_ok())
    return open_gateway(engine, provider, reference=reference, now=NOW)


def callback(
    engine: sa.Engine,
    provider: ZarinpalProvider,
    settings: Settings,
    reference: str,
    **form: str,
) -> CallbackOutcome:
    return complete_online_payment(
        engine, provider, reference=reference, form=form, now=NOW, settings=settings
    )


def stored(session: Session, reference: str) -> tuple[Payment, Bill]:
    session.expire_all()
    payment = session.exec(select(Payment).where(Payment.reference == reference)).one()
    bill = session.get(Bill, payment.bill_id)
    assert bill is not None
    return payment, bill


def test_a_bill_paid_through_zarinpal_in_rials_is_recorded_once(
    engine: sa.Engine,
    session: Session,
    provider: ZarinpalProvider,
    recorded: RecordedZarinpal,
    zarinpal_settings: Settings,
    latest: Bill,
    reference: str,
) -> None:
    page = opened(engine, provider, recorded, reference)
    assert page == f"https://payment.zarinpal.com/pg/StartPay/{AUTHORITY}"
    [asked] = recorded.bodies(REQUEST_PATH)
    # Rials, said so: the desk's own unit, nothing divided.
    assert (asked["amount"], asked["currency"]) == (latest.amount_rials, "IRR")
    assert asked["merchant_id"] == MERCHANT
    assert asked["callback_url"] == f"https://desk.example.ir/pay/{reference}/callback"
    assert asked["metadata"] == {"order_id": reference}

    recorded.queue(VERIFY_PATH, verify_ok())
    outcome = callback(
        engine, provider, zarinpal_settings, reference, Authority=AUTHORITY, Status="OK"
    )
    assert outcome == CallbackOutcome.PAID
    [verified] = recorded.bodies(VERIFY_PATH)
    assert verified == {
        "merchant_id": MERCHANT,
        "authority": AUTHORITY,
        "amount": latest.amount_rials,
    }
    payment, bill = stored(session, reference)
    assert (payment.status, payment.provider_ref, payment.paid_at) == (
        PaymentStatus.PAID,
        str(REF_ID),
        NOW,
    )
    assert bill.paid_at == NOW

    # Zarinpal returning the payer again (a reload, a second tab): nothing new, nothing asked.
    again = callback(
        engine, provider, zarinpal_settings, reference, Authority=AUTHORITY, Status="OK"
    )
    assert again == CallbackOutcome.ALREADY_PAID
    assert len(recorded.bodies(VERIFY_PATH)) == 1


def test_a_verify_repeated_after_a_lost_answer_pays_once(
    engine: sa.Engine,
    session: Session,
    provider: ZarinpalProvider,
    recorded: RecordedZarinpal,
    zarinpal_settings: Settings,
    reference: str,
) -> None:
    """We verified, Zarinpal said 100, the answer was lost: the next verify says 101 (verified
    before) with the same ref_id, which pays it, once."""
    opened(engine, provider, recorded, reference)
    recorded.queue(VERIFY_PATH, (502, {}), verify_ok(101))
    form = {"Authority": AUTHORITY, "Status": "OK"}
    with pytest.raises(GatewayUnavailable):
        callback(engine, provider, zarinpal_settings, reference, **form)
    assert stored(session, reference)[0].status == PaymentStatus.PENDING
    assert callback(engine, provider, zarinpal_settings, reference, **form) == CallbackOutcome.PAID
    payment, bill = stored(session, reference)
    assert (payment.status, payment.provider_ref) == (PaymentStatus.PAID, str(REF_ID))
    assert bill.paid_at == NOW


def test_cancelled_by_the_payer_asks_nothing_and_stays_due(
    engine: sa.Engine,
    session: Session,
    provider: ZarinpalProvider,
    recorded: RecordedZarinpal,
    zarinpal_settings: Settings,
    reference: str,
) -> None:
    opened(engine, provider, recorded, reference)
    outcome = callback(
        engine, provider, zarinpal_settings, reference, Authority=AUTHORITY, Status="NOK"
    )
    assert outcome == CallbackOutcome.FAILED
    assert recorded.bodies(VERIFY_PATH) == []  # a cancel is not verified
    payment, bill = stored(session, reference)
    assert (payment.status, bill.paid_at) == (PaymentStatus.PENDING, None)


@pytest.mark.parametrize(
    "answer", [NOT_PAID, error(-54, "Invalid authority.", status=404)], ids=["-51", "-54"]
)
def test_a_verify_that_fails_leaves_the_bill_due(
    engine: sa.Engine,
    session: Session,
    provider: ZarinpalProvider,
    recorded: RecordedZarinpal,
    zarinpal_settings: Settings,
    reference: str,
    answer: tuple[int, dict[str, Any]],
) -> None:
    opened(engine, provider, recorded, reference)
    recorded.queue(VERIFY_PATH, answer)
    outcome = callback(
        engine, provider, zarinpal_settings, reference, Authority=AUTHORITY, Status="OK"
    )
    assert outcome == CallbackOutcome.FAILED
    payment, bill = stored(session, reference)
    assert (payment.status, bill.paid_at) == (PaymentStatus.PENDING, None)


def test_zarinpal_refusing_us_records_nothing_and_can_be_tried_again(
    engine: sa.Engine,
    session: Session,
    provider: ZarinpalProvider,
    recorded: RecordedZarinpal,
    zarinpal_settings: Settings,
    reference: str,
) -> None:
    recorded.queue(REQUEST_PATH, BAD_MERCHANT)
    with pytest.raises(GatewayUnavailable):
        open_gateway(engine, provider, reference=reference, now=NOW)
    assert session.exec(select(PaymentAttempt)).all() == []
    opened(engine, provider, recorded, reference)
    recorded.queue(VERIFY_PATH, BAD_MERCHANT)
    with pytest.raises(GatewayUnavailable):
        callback(engine, provider, zarinpal_settings, reference, Authority=AUTHORITY, Status="OK")
    assert stored(session, reference)[0].status == PaymentStatus.PENDING


def test_an_amount_in_the_callback_is_never_what_is_verified(
    engine: sa.Engine,
    session: Session,
    provider: ZarinpalProvider,
    recorded: RecordedZarinpal,
    zarinpal_settings: Settings,
    latest: Bill,
    reference: str,
) -> None:
    """A payer who paid less and adds `amount` to the callback: we verify the amount due, and
    Zarinpal says the amounts differ (-50)."""
    opened(engine, provider, recorded, reference)
    recorded.queue(VERIFY_PATH, AMOUNT_MISMATCH)
    outcome = callback(
        engine,
        provider,
        zarinpal_settings,
        reference,
        Authority=AUTHORITY,
        Status="OK",
        amount="10000",
    )
    assert outcome == CallbackOutcome.FAILED
    [verified] = recorded.bodies(VERIFY_PATH)
    assert verified["amount"] == latest.amount_rials != 10_000
    assert stored(session, reference)[0].status == PaymentStatus.PENDING


def test_an_authority_of_another_payment_is_refused_unasked(
    engine: sa.Engine,
    session: Session,
    provider: ZarinpalProvider,
    recorded: RecordedZarinpal,
    zarinpal_settings: Settings,
    reference: str,
) -> None:
    """Another bill of the same amount, paid: its authority would verify as 101 with its
    ref_id. Named in this payment's callback, it is refused before Zarinpal is asked."""
    other = add_subscription(session, file_number=59321)
    other_bill = session.exec(select(Bill).where(Bill.subscription_id == other.id)).first()
    assert other_bill is not None
    other_reference = bill_payment(session, other_bill, now=NOW).reference
    session.commit()
    recorded.queue(REQUEST_PATH, request_ok(OTHER_AUTHORITY))
    open_gateway(engine, provider, reference=other_reference, now=NOW)
    opened(engine, provider, recorded, reference)

    for authority in (OTHER_AUTHORITY, "A" + "1" * 35, "not-an-authority"):
        with pytest.raises(InvalidCallback):
            callback(
                engine, provider, zarinpal_settings, reference, Authority=authority, Status="OK"
            )
    with pytest.raises(InvalidCallback):  # neither OK nor NOK
        callback(engine, provider, zarinpal_settings, reference, Authority=AUTHORITY, Status="X")
    assert recorded.bodies(VERIFY_PATH) == []
    assert stored(session, reference)[0].status == PaymentStatus.PENDING


def test_the_web_app_sends_the_payer_to_zarinpal_and_shows_the_receipt(
    engine: sa.Engine,
    session: Session,
    provider: ZarinpalProvider,
    recorded: RecordedZarinpal,
    zarinpal_settings: Settings,
    subscription: Subscription,
    reference: str,
) -> None:
    recorded.queue(REQUEST_PATH, request_ok())
    recorded.queue(VERIFY_PATH, verify_ok())

    async def script() -> None:
        app = web.Application()
        add_payment_routes(app, zarinpal_settings, engine, provider)
        async with TestClient(TestServer(app)) as client:
            sent = await client.get(f"/pay/{reference}", allow_redirects=False)
            assert sent.status == 302
            assert sent.headers["Location"].endswith(f"/pg/StartPay/{AUTHORITY}")
            tampered = f"/pay/{reference}/callback?Authority={OTHER_AUTHORITY}&Status=OK"
            assert (await client.get(tampered)).status == 400
            back = f"/pay/{reference}/callback?Authority={AUTHORITY}&Status=OK"
            paid = await client.get(back)
            assert paid.status == 200
            body = await paid.text()
            assert "رسید پرداخت" in body and str(REF_ID) in body and subscription.bill_id in body
            again = await client.get(back)
            assert "پرداخت شده است" in await again.text()
            reopened = await client.get(f"/pay/{reference}", allow_redirects=False)
            assert reopened.status == 200  # paid: no new transaction, the receipt instead

    asyncio.run(script())
    assert len(recorded.bodies(REQUEST_PATH)) == 1
    assert len(recorded.bodies(VERIFY_PATH)) == 1


def test_settings_choose_zarinpal_and_production_refuses_it_unset(
    zarinpal_settings: Settings,
) -> None:
    assert isinstance(make_payment_provider(zarinpal_settings), ZarinpalProvider)
    unsafe = zarinpal_settings.model_copy(
        update={"zarinpal_merchant_id": None, "zarinpal_api_base": "https://sandbox.zarinpal.com"}
    )
    problems = unsafe.production_problems()
    assert any(p.startswith("ZARINPAL_MERCHANT_ID") for p in problems)
    assert any(p.startswith("ZARINPAL_API_BASE") for p in problems)
    assert not any("ZARINPAL" in p for p in zarinpal_settings.production_problems())
