"""Kavenegar (kavenegar.com) over its REST API: send, sendarray, verify/lookup, status, receive."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from backend.identifiers import mask_mobile
from channels.sms.base import (
    DeliveryState,
    InboundSms,
    OutgoingSms,
    SendResult,
    SmsError,
    SmsProvider,
    StatusResult,
    Tracked,
    as_tracked,
    failed_result,
    national_mobile,
    recipient,
    sender_number,
)
from channels.sms.httpapi import DEFAULT_RETRY, HttpApi, RetryPolicy, json_object

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.kavenegar.com/v1"
_SEND_BATCH = 200  # sendarray takes at most 200 messages a call (error 414 beyond)
_STATUS_BATCH = 500  # and a status look-up at most 500 ids
_OK = 200
_BUSY = 409
_DEMO_ACCOUNT = 501  # "only to the account owner's number": a 5xx that is not temporary
_UNKNOWN_ID = 100
# Kavenegar documents localid as a number; anything else risks losing the de-duplication.
_LOCALID = re.compile(r"[0-9]{1,18}", re.ASCII)

_STATES = {
    1: DeliveryState.QUEUED,
    2: DeliveryState.QUEUED,  # scheduled
    4: DeliveryState.SENT,
    5: DeliveryState.SENT,
    6: DeliveryState.TEMPORARY_FAILURE,  # failed at the operator
    10: DeliveryState.DELIVERED,
    11: DeliveryState.TEMPORARY_FAILURE,  # undelivered: phone off or out of reach
    13: DeliveryState.PERMANENT_FAILURE,  # cancelled
    14: DeliveryState.PERMANENT_FAILURE,  # blocked: the number opted out
    # No message with this localid: Kavenegar never accepted it, so sending again is safe.
    _UNKNOWN_ID: DeliveryState.TEMPORARY_FAILURE,
}


def delivery_state(code: object) -> DeliveryState:
    """A Kavenegar message status as a DeliveryState; codes it does not document stay SENT."""
    state = _STATES.get(code) if isinstance(code, int) else None
    if state is None:
        # Not final: the caller keeps polling rather than re-sending or giving up.
        logger.warning("kavenegar: undocumented message status %r", code)
        return DeliveryState.SENT
    return state


class KavenegarProvider(SmsProvider):
    """Kavenegar: polling inbound, templates (verify/lookup), `reference` sent as localid.

    References must be numbers (up to 18 digits): Kavenegar documents localid as one, and
    remembers it, so a send retried after a lost answer is not sent twice. That makes every
    call here safe to retry. The API key travels in the URL path and is redacted everywhere.
    """

    name = "kavenegar"
    dedupes_by_reference = True

    def __init__(
        self,
        *,
        api_key: str,
        sender: str,
        receive_line: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ValueError("kavenegar needs an API key")
        self._sender = sender
        self._receive_line = receive_line or sender
        self._api = HttpApi(
            provider=self.name,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            path_secret=api_key,
        )

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        e164 = recipient(to, provider=self.name)
        entries = self._api.call(
            "POST",
            "sms/send.json",
            data={
                "receptor": national_mobile(e164),
                "message": text,
                "sender": self._sender,
                "localid": _localid(reference),
            },
            parse=self._entries,
            replay_safe=True,
        )
        return self._sent(reference, e164, self._single(entries))

    def send_many(self, messages: Sequence[OutgoingSms]) -> list[SendResult]:
        """Send through sendarray, 200 a call; a failed call fails each of its messages."""
        results: dict[int, SendResult] = {}
        valid: list[tuple[int, OutgoingSms, str]] = []
        for index, message in enumerate(messages):
            _localid(message.reference)
            try:
                valid.append((index, message, recipient(message.to, provider=self.name)))
            except SmsError as exc:
                results[index] = failed_result(message, exc)
        for start in range(0, len(valid), _SEND_BATCH):
            batch = valid[start : start + _SEND_BATCH]
            try:
                entries = self._send_array([(m, e164) for _, m, e164 in batch])
            except SmsError as exc:
                results.update((index, failed_result(m, exc)) for index, m, _ in batch)
                continue
            for (index, message, e164), entry in zip(batch, entries, strict=True):
                results[index] = self._sent(message.reference, e164, entry)
        return [results[index] for index in range(len(messages))]

    def send_template(
        self, to: str, template: str, tokens: Sequence[str], *, reference: str
    ) -> SendResult:
        """verify/lookup with 1 to 3 tokens (no spaces in them: Kavenegar answers 431).

        Lookup takes no localid, so `reference` stays ours: such messages cannot be looked up
        with `status`. A retry after a lost answer may send the OTP twice, with the same code.
        """
        if not 1 <= len(tokens) <= 3:
            raise ValueError("kavenegar lookup takes 1 to 3 tokens")
        e164 = recipient(to, provider=self.name)
        data = {"receptor": national_mobile(e164), "template": template}
        data.update(zip(("token", "token2", "token3"), tokens, strict=False))
        entries = self._api.call(
            "POST", "verify/lookup.json", data=data, parse=self._entries, replay_safe=True
        )
        return self._sent(reference, e164, self._single(entries))

    def status(self, messages: Sequence[str | Tracked]) -> list[StatusResult]:
        """By our references (statuslocalmessageid); one unknown to Kavenegar reads code 100."""
        tracked = [as_tracked(m) for m in messages]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(tracked), _STATUS_BATCH):
            batch = tracked[start : start + _STATUS_BATCH]
            entries = self._api.call(
                "GET",
                "sms/statuslocalmessageid.json",
                params={"localid": ",".join(_localid(m.reference) for m in batch)},
                parse=self._entries,
                replay_safe=True,
            )
            found.update((str(entry.get("localid")), entry) for entry in entries)
        return [self._status(m, found.get(m.reference)) for m in tracked]

    def receive(self) -> list[InboundSms]:
        """Unread messages on the receive line.

        Kavenegar marks what it returns as read: an answer lost on the way loses those messages
        (a retry does not bring them back), so the line's inbox in the panel stays the record.
        """
        entries = self._api.call(
            "GET",
            "sms/receive.json",
            params={"linenumber": self._receive_line, "isread": "0"},
            parse=self._entries,
            replay_safe=True,
        )
        return [
            InboundSms(
                sender=sender_number(str(entry.get("sender", ""))),
                receiver=str(entry.get("receptor", "")),
                text=str(entry.get("message", "")),
                provider_id=_id(entry.get("messageid")),
                received_at=_time(entry.get("date")),
            )
            for entry in entries
        ]

    def close(self) -> None:
        self._api.close()

    def _send_array(self, batch: list[tuple[OutgoingSms, str]]) -> list[dict[str, Any]]:
        entries = self._api.call(
            "POST",
            "sms/sendarray.json",
            data={
                "receptor": json.dumps([national_mobile(e164) for _, e164 in batch]),
                "sender": json.dumps([self._sender] * len(batch)),
                "message": json.dumps([m.text for m, _ in batch]),
                "localmessageids": json.dumps([int(_localid(m.reference)) for m, _ in batch]),
            },
            parse=self._entries,
            replay_safe=True,
        )
        if len(entries) != len(batch):
            raise self._api.temporary(
                f"sendarray answered {len(entries)} entries for {len(batch)} messages",
                may_have_been_sent=True,
            )
        return entries

    def _entries(self, response: httpx.Response) -> list[dict[str, Any]]:
        """The entries of a successful answer; raises for every other answer."""
        body = json_object(response)
        ret = body.get("return") if body else None
        if body is None or not isinstance(ret, dict):
            raise self._api.unexpected(response)
        status = ret.get("status")
        if status == _OK:
            entries = body.get("entries")
            return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
        message = f"{status} {ret.get('message', '')}".strip()
        if status == _BUSY:
            raise self._api.temporary(f"busy: {message}", code=str(status))
        if isinstance(status, int) and status >= 500 and status != _DEMO_ACCOUNT:
            raise self._api.temporary(message, code=str(status), may_have_been_sent=True)
        raise self._api.permanent(message, code=str(status))

    def _single(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        if len(entries) != 1:
            raise self._api.temporary(
                f"expected one entry, got {len(entries)}", may_have_been_sent=True
            )
        return entries[0]

    def _sent(self, reference: str, e164: str, entry: dict[str, Any]) -> SendResult:
        code = entry.get("status")
        result = SendResult(
            reference=reference,
            to=e164,
            state=delivery_state(code),
            raw_code=str(code),
            provider_id=_id(entry.get("messageid")),
        )
        logger.info("kavenegar: message %s to %s: %s", reference, mask_mobile(e164), result.state)
        return result

    def _status(self, message: Tracked, entry: dict[str, Any] | None) -> StatusResult:
        code = entry.get("status") if entry else _UNKNOWN_ID
        return StatusResult(
            reference=message.reference,
            state=delivery_state(code),
            raw_code=str(code),
            provider_id=(_id(entry.get("messageid")) if entry else None) or message.provider_id,
        )


def _localid(reference: str) -> str:
    if not _LOCALID.fullmatch(reference):
        raise ValueError(f"kavenegar references (localid) are numbers, got {reference!r}")
    return reference


def _id(value: object) -> str | None:
    """A gateway id as text; 0 and empty mean none."""
    return str(value) if value not in (None, "", 0, "0") else None


def _time(value: object) -> datetime | None:
    """Kavenegar's dates are Unix seconds."""
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None
