"""The dev payment provider's page on the web app: the amount due, and "pay" or "fail" to press."""

import asyncio
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from backend.constants import PaymentStatus
from backend.db import get_engine, session_scope
from backend.models import Payment, ServiceRequest, utcnow
from backend.payments import (
    PAY_PATH,
    CallbackOutcome,
    DevProvider,
    InvalidCallback,
    complete_online_payment,
    find_payment,
    make_payment_provider,
)
from backend.settings import Settings
from locales.values import HTML, Code, Msg, Rials, render

PAY_ROUTE = "pay-page"

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
# Each callback's answer: what the page says, its HTTP status, and whether to offer paying again.
OUTCOMES: dict[CallbackOutcome, tuple[str, int, bool]] = {
    CallbackOutcome.PAID: ("payment.paid", 200, False),
    CallbackOutcome.ALREADY_PAID: ("payment.already_paid", 200, False),
    CallbackOutcome.FAILED: ("payment.failed", 200, True),
    CallbackOutcome.NOT_PAYABLE: ("payment.not_payable", 409, False),
}


def add_payment_routes(
    app: web.Application, settings: Settings, db: sa.Engine | None = None
) -> None:
    """Serves the page only for the dev provider: a real one has its own pages."""
    provider = make_payment_provider(settings)
    if not isinstance(provider, DevProvider):
        return
    locale = settings.default_locale
    path = PAY_PATH + "/{reference:[0-9a-f]{24}}"  # backend.actions gives 12 random bytes in hex

    async def show(request: web.Request) -> web.Response:
        found = await _load(db, request.match_info["reference"])
        if found is None:
            return _page(locale, Msg("payment.not_found"), status=404)
        payment, service_request = found
        params = _params(payment, service_request)
        if payment.status == PaymentStatus.PAID:
            return _page(locale, Msg("payment.already_paid", params))
        if payment.status != PaymentStatus.PENDING:
            return _page(locale, Msg("payment.not_payable", params), status=409)
        return _page(locale, Msg("payment.due", params), offer=True)

    async def callback(request: web.Request) -> web.Response:
        reference = request.match_info["reference"]
        found = await _load(db, reference)
        if found is None:
            return _page(locale, Msg("payment.not_found"), status=404)
        form = {name: str(value) for name, value in (await request.post()).items()}
        try:
            outcome = await asyncio.to_thread(
                complete_online_payment,
                db or get_engine(),
                provider,
                reference=reference,
                form=form,
                now=utcnow(),
                settings=settings,
            )
        except InvalidCallback:
            return _page(locale, Msg("payment.invalid"), status=400, offer=True)
        key, status, offer = OUTCOMES[outcome]
        return _page(locale, Msg(key, _params(*found)), status=status, offer=offer)

    # Named for the access log (bot.web.RouteAccessLog): the reference in the path is the link.
    app.router.add_get(path, show, name=PAY_ROUTE)
    app.router.add_post(path, callback, name=PAY_ROUTE)


async def _load(db: sa.Engine | None, reference: str) -> tuple[Payment, ServiceRequest] | None:
    def load() -> tuple[Payment, ServiceRequest] | None:
        with session_scope(db or get_engine()) as session:
            payment = find_payment(session, reference=reference)
            if payment is None:
                return None
            service_request = session.get(ServiceRequest, payment.request_id)
            assert service_request is not None
            return payment, service_request

    return await asyncio.to_thread(load)


def _params(payment: Payment, service_request: ServiceRequest) -> dict[str, Any]:
    return {
        "amount": Rials(payment.amount_rials),
        "purpose": Msg(f"payment.purpose_{payment.purpose}"),
        "code": Code(service_request.tracking_code),
        "date": payment.paid_at or payment.created_at,
    }


def _page(locale: str, body: Msg, *, status: int = 200, offer: bool = False) -> web.Response:
    def text(message: Msg) -> str:
        return render(message, locale, HTML).replace("\n", "<br>")

    form = FORM.format(  # each showing of the form is a new attempt
        attempt=DevProvider.new_attempt(),
        pay=text(Msg("payment.pay")),
        fail=text(Msg("payment.fail")),
    )
    page = PAGE.format(
        lang=locale,
        direction="rtl" if locale == "fa" else "ltr",
        title=text(Msg("payment.title")),
        body=text(body),
        form=form if offer else "",
    )
    return web.Response(text=page, status=status, content_type="text/html")
