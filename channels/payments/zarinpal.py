"""Zarinpal (zarinpal.com), an Iranian internet payment gateway, over its REST API v4.

Why Zarinpal: it is a Shaparak-licensed payment facilitator whose request/verify API is public
and documented (zarinpal.com/docs/paymentGateway), has a sandbox anyone can try, and takes a
merchant id only, so the desk can be checked against its real request and response shapes. A
bank's own gateway (Sadad, Behpardakht Mellat), which a state company more often contracts,
documents its API only to its contracted merchants; it would be another GatewayProvider beside
this one.

The flow: our link `/pay/<reference>` asks `request.json` for a transaction (its `authority`),
which is kept as one of the payment's attempts, and sends the payer to `StartPay/<authority>`.
Zarinpal returns the payer to `/pay/<reference>/callback?Authority=…&Status=OK|NOK`. NOK is the
payer's cancel (or the bank's refusal): nothing was paid, so nothing is verified. OK is verified
with `verify.json` — the authority and the amount *we* hold (never one the callback carries):
code 100 is paid now, 101 was paid and verified before (a repeated verify, paid all the same);
-50 (the amount differs), -51 (no successful payment), -54 (unknown authority) are not paid.
Any other code is Zarinpal refusing us (merchant id, terminal, too many tries), and a 5xx or a
network error says nothing: both are GatewayUnavailable, nothing is recorded, and the callback
can come again. Answers are `{"data": {...}, "errors": []}`, or `{"data": [], "errors": {"code":
…, "message": …}}` with a 4xx status; the body is read whatever the 4xx.

Amounts: the desk holds rials, and Zarinpal takes rials (IRR) or tomans (IRT) as the request
says. We say IRR on every request, so no amount is divided (a toman is 10 rials; an amount not
divisible by 10 would lose its last digit): gateway_amount() is the one place the unit is
decided, for the request and its verify alike.
"""

import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx

from backend.models import Payment
from backend.payments import GatewayProvider, GatewayUnavailable, InvalidCallback, Verdict
from backend.settings import Settings

log = logging.getLogger(__name__)

CURRENCY = "IRR"
REQUEST_PATH = "/pg/v4/payment/request.json"
VERIFY_PATH = "/pg/v4/payment/verify.json"
START_PAY_PATH = "/pg/StartPay/"
PAID = 100
ALREADY_VERIFIED = 101
# Verify codes that say the payer's money did not come (to be tried again from our link).
NOT_PAID = {
    -50: "the amount paid is not the amount due",
    -51: "no successful payment in this transaction",
    -54: "the authority is not known to Zarinpal",
}
AUTHORITY = re.compile(r"[A-Za-z0-9]{36}")
TIMEOUT_SECONDS = 15.0


def gateway_amount(payment: Payment) -> int:
    """The payment's amount as Zarinpal is told it: rials, the currency CURRENCY names."""
    return payment.amount_rials


class ZarinpalProvider(GatewayProvider):
    name = "zarinpal"

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(settings)
        merchant = settings.zarinpal_merchant_id
        self.merchant_id = merchant.get_secret_value() if merchant is not None else ""
        self.api_base = settings.zarinpal_api_base.rstrip("/")
        self.client = httpx.Client(
            base_url=self.api_base, timeout=TIMEOUT_SECONDS, transport=transport
        )

    def start(self, payment: Payment) -> str:
        body = {
            "merchant_id": self.merchant_id,
            "amount": gateway_amount(payment),
            "currency": CURRENCY,
            "callback_url": self.callback_url(payment),
            # Shown to the payer by Zarinpal; our reference lets its support trace it to us.
            "description": f"Barq desk payment {payment.reference}",
            "metadata": {"order_id": payment.reference},
        }
        data = self._call(REQUEST_PATH, body)
        authority = data.get("authority")
        if data.get("code") != PAID or not isinstance(authority, str):
            raise GatewayUnavailable(f"Zarinpal opened no transaction (code {data.get('code')})")
        if not AUTHORITY.fullmatch(authority):
            raise GatewayUnavailable("Zarinpal gave an authority of an unknown shape")
        return authority

    def page(self, attempt: str) -> str:
        return f"{self.api_base}{START_PAY_PATH}{attempt}"

    def attempt_of(self, form: Mapping[str, str]) -> str:
        authority = form.get("Authority", "")
        if not AUTHORITY.fullmatch(authority):
            raise InvalidCallback("no authority")
        return authority

    def verify(self, payment: Payment, form: Mapping[str, str]) -> Verdict:
        authority = self.attempt_of(form)
        status = form.get("Status")
        if status not in ("OK", "NOK"):
            raise InvalidCallback(f"status {status!r}")
        failed = Verdict(paid=False, provider_ref=f"{self.name}-{authority}")
        if status == "NOK":  # cancelled by the payer, or refused by their bank
            return failed
        body = {
            "merchant_id": self.merchant_id,
            "authority": authority,
            "amount": gateway_amount(payment),
        }
        data = self._call(VERIFY_PATH, body)
        code = data.get("code")
        if code in (PAID, ALREADY_VERIFIED):
            ref_id = data.get("ref_id")
            if not isinstance(ref_id, int) or isinstance(ref_id, bool):
                raise GatewayUnavailable("Zarinpal verified a payment without its ref_id")
            return Verdict(paid=True, provider_ref=str(ref_id))
        if isinstance(code, int) and code in NOT_PAID:
            log.info("zarinpal verify of payment %s: %s", payment.id, NOT_PAID[code])
            return failed
        raise GatewayUnavailable(f"Zarinpal refused the verify (code {code})")

    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """What Zarinpal answered: its `data`, or the `errors` object in its place (both carry
        `code`). GatewayUnavailable for a network error, a 5xx, or an answer of another shape."""
        try:
            response = self.client.post(path, json=body, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise GatewayUnavailable(f"Zarinpal: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise GatewayUnavailable(f"Zarinpal answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise GatewayUnavailable(
                f"Zarinpal answered {response.status_code}, not JSON"
            ) from None
        data = answer.get("data") if isinstance(answer, dict) else None
        errors = answer.get("errors") if isinstance(answer, dict) else None
        for part in (data, errors):
            if isinstance(part, dict) and "code" in part:
                return part
        raise GatewayUnavailable(f"Zarinpal answered {response.status_code} without a code")
