"""Melipayamak (melipayamak.com) over its REST API: send, delivery status, inbound push."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence

import httpx

from backend.identifiers import mask_mobile
from channels.sms.base import (
    DeliveryState,
    InboundSms,
    InvalidPushError,
    SendResult,
    SmsError,
    SmsProvider,
    StatusResult,
    Tracked,
    as_tracked,
    national_mobile,
    recipient,
    sender_number,
)
from channels.sms.httpapi import DEFAULT_RETRY, HttpApi, RetryPolicy, json_object

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://rest.payamak-panel.com/api/SendSMS"
_OK = 1
# SendSMS puts either the recId (a long number) or one of these short codes in Value.
_ERROR_CODE = re.compile(r"-?[0-9]{1,3}", re.ASCII)
_REC_ID = re.compile(r"[0-9]+", re.ASCII)
# The codes of Melipayamak's send methods; RetStatus uses the same numbers.
_TEMPORARY_CODES = {
    "3": "daily sending limit reached",
    "4": "sending volume limit reached",
    "6": "the system is being updated",
    "11": "not sent",
}
_PERMANENT_CODES = {
    "0": "wrong username or password",
    "2": "not enough credit",
    "5": "invalid sender number",
    "7": "the text contains a filtered word",
    "9": "public lines cannot send through the web service",
    "10": "the account is not active",
    "12": "the account's documents are incomplete",
    "14": "the text contains a link",
    "15": "sending to several numbers needs «لغو11» in the text",
}
# GetDeliveries2's Value, from Melipayamak's delivery table; 100 ("unknown") and anything
# undocumented fall through to SENT, which is not final: the caller keeps polling.
_STATES = {
    0: DeliveryState.SENT,  # handed to the operator
    1: DeliveryState.DELIVERED,
    2: DeliveryState.TEMPORARY_FAILURE,  # not delivered to the handset
    3: DeliveryState.TEMPORARY_FAILURE,  # operator error
    5: DeliveryState.TEMPORARY_FAILURE,  # unknown error
    8: DeliveryState.SENT,  # reached the operator
    16: DeliveryState.TEMPORARY_FAILURE,  # did not reach the operator
    35: DeliveryState.PERMANENT_FAILURE,  # blacklisted: the number opted out
    200: DeliveryState.SENT,
    300: DeliveryState.PERMANENT_FAILURE,  # filtered
    400: DeliveryState.QUEUED,  # in the sending list
    500: DeliveryState.PERMANENT_FAILURE,  # not accepted
}


def delivery_state(value: str) -> DeliveryState:
    """A GetDeliveries2 Value as a DeliveryState."""
    state = _STATES.get(int(value)) if _ERROR_CODE.fullmatch(value) else None
    if state is None:
        logger.warning("melipayamak: undocumented delivery status %r", value)
        return DeliveryState.SENT
    return state


class MelipayamakProvider(SmsProvider):
    """Melipayamak: username and password in every form body, inbound SMS pushed to us.

    Melipayamak has no idempotency key: a send that may have reached it (a timeout after the
    request went out, a 500/502/504) is not retried here but raised with `may_have_been_sent`,
    for the caller to decide, and a send whose answer never came cannot be asked about later
    (`dedupes_by_reference` is False: callers treat it as in doubt rather than send it
    again). Statuses are looked up by Melipayamak's recId (`provider_id`).
    """

    name = "melipayamak"
    push_ack = "OK"
    dedupes_by_reference = False

    def __init__(
        self,
        *,
        username: str,
        password: str,
        sender: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not username or not password:
            raise ValueError("melipayamak needs a username and a password")
        self._credentials = {"username": username, "password": password}
        self._sender = sender
        self._api = HttpApi(
            provider=self.name,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            secrets=(password,),
        )

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        e164 = recipient(to, provider=self.name)
        rec_id = self._api.call(
            "POST",
            "SendSMS",
            data={
                **self._credentials,
                "to": national_mobile(e164),
                "from": self._sender,
                "text": text,
                "isFlash": "false",
            },
            parse=self._rec_id,
            replay_safe=False,
        )
        logger.info("melipayamak: message %s to %s accepted", reference, mask_mobile(e164))
        return SendResult(
            reference=reference,
            to=e164,
            state=DeliveryState.QUEUED,
            raw_code=str(_OK),
            provider_id=rec_id,
        )

    def status(self, messages: Sequence[str | Tracked]) -> list[StatusResult]:
        """One GetDeliveries2 call per message; each needs its recId as `provider_id`."""
        tracked = [as_tracked(m) for m in messages]
        missing = [m.reference for m in tracked if not m.provider_id]
        if missing:
            raise ValueError(f"melipayamak looks up statuses by recId; none for {missing}")
        results = []
        for message in tracked:
            value = self._api.call(
                "POST",
                "GetDeliveries2",
                data={**self._credentials, "recId": str(message.provider_id)},
                parse=self._value,
                replay_safe=True,
            )
            results.append(
                StatusResult(
                    reference=message.reference,
                    state=delivery_state(value),
                    raw_code=value,
                    provider_id=message.provider_id,
                )
            )
        return results

    def parse_push(self, params: Mapping[str, str]) -> InboundSms:
        """Melipayamak's push: GET {our URL}?to=&body=&from=, to be answered with plain OK."""
        sender, text = params.get("from"), params.get("body")
        if not sender or text is None:
            raise InvalidPushError("a melipayamak push needs 'from' and 'body'")
        return InboundSms(
            sender=sender_number(sender),
            receiver=params.get("to", "").strip(),
            text=text,
        )

    def close(self) -> None:
        self._api.close()

    def _value(self, response: httpx.Response) -> str:
        """The Value of an answer whose RetStatus is 1; raises for every other answer."""
        body = json_object(response)
        if body is None or "RetStatus" not in body:
            raise self._api.unexpected(response)
        if str(body["RetStatus"]) != str(_OK):
            raise self._error(str(body["RetStatus"]), str(body.get("StrRetStatus", "")))
        value = body.get("Value")
        return "" if value is None else str(value)

    def _rec_id(self, response: httpx.Response) -> str:
        value = self._value(response)
        if _ERROR_CODE.fullmatch(value):
            raise self._error(value, "")
        if not _REC_ID.fullmatch(value):
            raise self._api.temporary(
                f"no recId in the answer ({value!r})", may_have_been_sent=True
            )
        return value

    def _error(self, code: str, detail: str) -> SmsError:
        if code in _TEMPORARY_CODES:
            return self._api.temporary(f"{code}: {_TEMPORARY_CODES[code]}", code=code)
        reason = _PERMANENT_CODES.get(code, detail or "undocumented error")
        return self._api.permanent(f"{code}: {reason}", code=code)
