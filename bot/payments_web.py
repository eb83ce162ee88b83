"""The payment pages on the web app: the dev provider's page (the amount due, and "pay" or
"fail" to press), or, for a real gateway, the link that sends the payer there and the page its
callback returns them to."""

import asyncio
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backend.constants import PaymentStatus
from backend.db import get_engine, session_scope
from backend.models import Bill, Payment, ServiceRequest, Subscription, utcnow
from backend.payments import (
    CALLBACK,
    PAY_PATH,
    CallbackOutcome,
    DevProvider,
    GatewayProvider,
    GatewayUnavailable,
    InvalidCallback,
    PaymentClosed,
    PaymentProvider,
    UnknownPayment,
    complete_online_payment,
    find_payment,
    open_gateway,
)
from backend.settings import Settings
from channels.payments import make_payment_provider
from locales.values import HTML, Code, Msg, Rials, render

PAY_ROUTE = "pay-page"
CALLBACK_ROUTE = "pay-callback"
REFERENCE = "{reference:[0-9a-f]{24}}"  # backend.actions gives 12 random bytes in hex

PAGE = """<!doctype html>
<html lang="{lang}" dir="{direction}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>body{{font-family:Vazirmatn,Tahoma,sans-serif;max-width:32em;margin:2em auto;padding:0 1em}}
button{{font-size:1.1em;margin:.3em;padding:.4em 1.2em}}</style></head>
<body><h1>{title}</h1><p>{body}</p>{form}</body>
</html>"""
FORM = """<form method="post">
<input type="hidden" name="attempt" value="{attempt}">
<button name="outcome" value="pay">{pay}</button>
<button name="outcome" value="fail">{fail}</button>
</form>"""
AGAIN = """<p><a href="{link}">{again}</a></p>"""
# Each callback's answer: what the page says, its HTTP status, and whether to offer paying again.
OUTCOMES: dict[CallbackOutcome, tuple[str, int, bool]] = {
    CallbackOutcome.PAID: ("paid", 200, False),
    CallbackOutcome.ALREADY_PAID: ("already_paid", 200, False),
    CallbackOutcome.FAILED: ("failed", 200, True),
    CallbackOutcome.NOT_PAYABLE: ("not_payable", 409, False),
}
# What differs for a bill's payment: its words name the bill, not a request.
BILL_WORDS = frozenset({"due", "paid", "already_paid", "not_payable"})


def add_payment_routes(
    app: web.Application,
    settings: Settings,
    db: sa.Engine | None = None,
    provider: PaymentProvider | None = None,
) -> None:
    """The dev provider's page, or a real gateway's link and callback (`provider` in tests)."""
    provider = provider or make_payment_provider(settings)
    if isinstance(provider, DevProvider):
        _add_dev_page(app, settings, db, provider)
    elif isinstance(provider, GatewayProvider):
        _add_gateway_pages(app, settings, db, provider)


def _add_dev_page(
    app: web.Application, settings: Settings, db: sa.Engine | None, provider: DevProvider
) -> None:
    locale = settings.default_locale
    title = Msg("payment.title")

    async def show(request: web.Request) -> web.Response:
        found = await _load(db, request.match_info["reference"])
        if found is None:
            return _page(locale, title, Msg("payment.not_found"), status=404)
        payment, params = found
        if payment.status == PaymentStatus.PAID:
            return _page(locale, title, _said("already_paid", payment, params))
        if payment.status != PaymentStatus.PENDING:
            return _page(locale, title, _said("not_payable", payment, params), status=409)
        return _page(locale, title, _said("due", payment, params), form=_form(locale))

    async def callback(request: web.Request) -> web.Response:
        reference = request.match_info["reference"]
        found = await _load(db, reference)
        if found is None:
            return _page(locale, title, Msg("payment.not_found"), status=404)
        form = {name: str(value) for name, value in (await request.post()).items()}
        try:
            outcome = await _complete(db, provider, settings, reference, form)
        except InvalidCallback:
            return _page(locale, title, Msg("payment.invalid"), status=400, form=_form(locale))
        key, status, offer = OUTCOMES[outcome]
        form_html = _form(locale) if offer else ""
        return _page(locale, title, _said(key, *found), status=status, form=form_html)

    path = f"{PAY_PATH}/{REFERENCE}"
    # Named for the access log (bot.web.RouteAccessLog): the reference in the path is the link.
    app.router.add_get(path, show, name=PAY_ROUTE)
    app.router.add_post(path, callback, name=PAY_ROUTE)


def _add_gateway_pages(
    app: web.Application, settings: Settings, db: sa.Engine | None, provider: GatewayProvider
) -> None:
    locale = settings.default_locale
    title = Msg("payment.gateway_title")

    async def start(request: web.Request) -> web.StreamResponse:
        """Each opening of the link is a transaction of its own at the gateway."""
        reference = request.match_info["reference"]
        try:
            page = await asyncio.to_thread(
                open_gateway, db or get_engine(), provider, reference=reference, now=utcnow()
            )
        except UnknownPayment:
            return _page(locale, title, Msg("payment.not_found"), status=404)
        except PaymentClosed as closed:
            return await _answer(closed.outcome, reference)
        except GatewayUnavailable:
            return _page(locale, title, Msg("payment.gateway_unavailable"), status=503)
        raise web.HTTPFound(page)

    async def callback(request: web.Request) -> web.Response:
        reference = request.match_info["reference"]
        form = dict(request.query)  # the gateway returns the payer with a GET
        try:
            outcome = await _complete(db, provider, settings, reference, form)
        except UnknownPayment:
            return _page(locale, title, Msg("payment.not_found"), status=404)
        except InvalidCallback:
            return _page(locale, title, Msg("payment.invalid_callback"), status=400)
        except GatewayUnavailable:
            again = _again(locale, request.url.path)
            body = Msg("payment.gateway_unavailable")
            return _page(locale, title, body, status=503, form=again)
        return await _answer(outcome, reference)

    async def _answer(outcome: CallbackOutcome, reference: str) -> web.Response:
        found = await _load(db, reference)
        assert found is not None  # payments are never deleted
        key, status, offer = OUTCOMES[outcome]
        again = _again(locale, f"{PAY_PATH}/{reference}") if offer else ""
        return _page(locale, title, _said(key, *found), status=status, form=again)

    path = f"{PAY_PATH}/{REFERENCE}"
    app.router.add_get(path, start, name=PAY_ROUTE)
    app.router.add_get(f"{path}/{CALLBACK}", callback, name=CALLBACK_ROUTE)


async def _complete(
    db: sa.Engine | None,
    provider: PaymentProvider,
    settings: Settings,
    reference: str,
    form: dict[str, str],
) -> CallbackOutcome:
    return await asyncio.to_thread(
        complete_online_payment,
        db or get_engine(),
        provider,
        reference=reference,
        form=form,
        now=utcnow(),
        settings=settings,
    )


async def _load(db: sa.Engine | None, reference: str) -> tuple[Payment, dict[str, Any]] | None:
    """The payment, and what its pages say of it: the request's tracking code, or the bill."""

    def load() -> tuple[Payment, dict[str, Any]] | None:
        with session_scope(db or get_engine()) as session:
            payment = find_payment(session, reference=reference)
            if payment is None:
                return None
            params: dict[str, Any] = {
                "amount": Rials(payment.amount_rials),
                "date": payment.paid_at or payment.created_at,
            }
            if payment.bill_id is None:
                service_request = session.get(ServiceRequest, payment.request_id)
                assert service_request is not None
                params["purpose"] = Msg(
                    f"payment.purpose_{payment.purpose}",
                    {"service": Msg(f"kind.{service_request.kind}")},  # a defined service's fee
                )
                params["code"] = Code(service_request.tracking_code)
                return payment, params
            bill = session.get(Bill, payment.bill_id)
            assert bill is not None  # bills are never deleted
            subscription = session.get(Subscription, bill.subscription_id)
            assert subscription is not None
            params["bill_id"] = Code(subscription.bill_id)
            params["payment_id"] = Code(bill.payment_id)
            params["start"] = bill.previous_reading_date
            params["end"] = bill.current_reading_date
            params["receipt"] = Code(payment.provider_ref or "")
            return payment, params

    return await asyncio.to_thread(load)


def _said(what: str, payment: Payment, params: dict[str, Any]) -> Msg:
    bill = "bill_" if payment.bill_id is not None and what in BILL_WORDS else ""
    return Msg(f"payment.{bill}{what}", params)


def _text(message: Msg, locale: str) -> str:
    return render(message, locale, HTML).replace("\n", "<br>")


def _form(locale: str) -> str:
    """The dev page's buttons: each showing of the form is a new attempt."""
    return FORM.format(
        attempt=DevProvider.new_attempt(),
        pay=_text(Msg("payment.pay"), locale),
        fail=_text(Msg("payment.fail"), locale),
    )


def _again(locale: str, path: str) -> str:
    return AGAIN.format(link=path, again=_text(Msg("payment.try_again"), locale))


def _page(locale: str, title: Msg, body: Msg, *, status: int = 200, form: str = "") -> web.Response:
    page = PAGE.format(
        lang=locale,
        direction="rtl" if locale == "fa" else "ltr",
        title=_text(title, locale),
        body=_text(body, locale),
        form=form,
    )
    return web.Response(text=page, status=status, content_type="text/html")
