"""The one interface every SMS gateway adapter implements, with its results and errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import ClassVar, Protocol, Self

from backend.constants import DeliveryState as DeliveryState  # part of the SMS interface
from backend.identifiers import InvalidIdentifier, normalize_mobile


class SmsError(Exception):
    """A gateway call that failed; `code` is the provider's own code when it gave one."""

    def __init__(self, message: str, *, provider: str, code: str | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.code = code


class SmsTemporaryError(SmsError):
    """Try again later: network, timeout, 5xx, busy (409), rate limited (429), maintenance.

    `may_have_been_sent` is True when the gateway may have accepted the message before the
    failure (a timeout after the request went out, a 500/502/504): sending again can then
    duplicate it, unless the provider recognises the reference (Kavenegar's localid does).
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        code: str | None = None,
        may_have_been_sent: bool = False,
    ) -> None:
        super().__init__(message, provider=provider, code=code)
        self.may_have_been_sent = may_have_been_sent


class SmsPermanentError(SmsError):
    """Sending again will not help: bad number, bad credentials, no credit, rejected text."""


class InvalidPushError(ValueError):
    """An inbound push request that lacks what an SMS needs (the web layer answers 400)."""


@dataclass(frozen=True)
class OutgoingSms:
    """One message to send; `reference` is our own id for it (idempotency, status look-ups)."""

    to: str
    text: str
    reference: str


class Tracked(Protocol):
    """What a status look-up needs: our reference and, when the gateway gave one, its id."""

    @property
    def reference(self) -> str: ...

    @property
    def provider_id(self) -> str | None: ...


@dataclass(frozen=True)
class MessageRef:
    """A sent message as a caller stores it: our reference and the gateway's id."""

    reference: str
    provider_id: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What became of one outgoing message.

    `to` is E.164 (as given, when it was not a valid number). `raw_code` is the provider's own
    status or error code. `error` is set when the message was not accepted (only `send_many`
    returns such results; `send` raises).
    """

    reference: str
    to: str
    state: DeliveryState
    raw_code: str
    provider_id: str | None = None
    error: SmsError | None = None


@dataclass(frozen=True)
class StatusResult:
    """The delivery state of one message; `raw_code` is the provider's own code."""

    reference: str
    state: DeliveryState
    raw_code: str
    provider_id: str | None = None


@dataclass(frozen=True)
class InboundSms:
    """A message a subscriber sent to our line.

    `sender` is E.164 when it is an Iranian mobile, else as the gateway gave it. `provider_id`
    is the gateway's id when it has one; the same SMS can arrive twice, so callers de-duplicate.
    """

    sender: str
    receiver: str
    text: str
    provider_id: str | None = None
    received_at: datetime | None = None


class SmsProvider(ABC):
    """An SMS gateway. Adapters are synchronous and thread-compatible, not thread-safe."""

    name: ClassVar[str]
    # The body to answer an inbound push with; None when inbound messages are polled instead.
    push_ack: ClassVar[str | None] = None
    # True when the gateway sends a message once however often it is sent under one
    # `reference` (Kavenegar's localid): a send whose answer was lost may then be sent again.
    # Otherwise such a send is in doubt, and callers must not send it again.
    dedupes_by_reference: ClassVar[bool] = False

    @abstractmethod
    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        """Send one SMS; raises SmsTemporaryError or SmsPermanentError when not accepted."""

    def send_many(self, messages: Sequence[OutgoingSms]) -> list[SendResult]:
        """Send several SMS; never raises SmsError: a failed message's result carries `error`.

        One result per message, in order. This default sends them one at a time.
        """
        return [self._send_or_fail(m) for m in messages]

    @abstractmethod
    def status(self, messages: Sequence[str | Tracked]) -> list[StatusResult]:
        """Delivery states, one per message, in order.

        A message is our reference, or anything with `reference` and `provider_id` (a
        SendResult, a MessageRef). Gateways that track by their own id need `provider_id`.
        """

    def receive(self) -> list[InboundSms]:
        """New inbound messages, for gateways that are polled; push gateways return []."""
        return []

    def parse_push(self, params: Mapping[str, str]) -> InboundSms:
        """The inbound SMS in a push request's query or form; answer the request with `push_ack`.

        Pushes carry no signature: the web layer must use a secret path, may allow-list the
        gateway's addresses, and must de-duplicate.
        """
        raise NotImplementedError(f"{self.name} delivers inbound SMS by polling, not push")

    def send_template(
        self, to: str, template: str, tokens: Sequence[str], *, reference: str
    ) -> SendResult:
        """Send a gateway-side template (OTPs); raises like `send`."""
        raise NotImplementedError(f"{self.name} has no templates")

    def close(self) -> None:  # noqa: B027 - optional: only HTTP adapters hold connections
        """Release connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send_or_fail(self, message: OutgoingSms) -> SendResult:
        try:
            return self.send(message.to, message.text, reference=message.reference)
        except SmsError as exc:
            return failed_result(message, exc)


def failed_result(message: OutgoingSms, error: SmsError) -> SendResult:
    """The result of a message the gateway did not accept."""
    temporary = isinstance(error, SmsTemporaryError)
    return SendResult(
        reference=message.reference,
        to=message.to,
        state=DeliveryState.TEMPORARY_FAILURE if temporary else DeliveryState.PERMANENT_FAILURE,
        raw_code=error.code or "",
        error=error,
    )


def as_tracked(message: str | Tracked) -> Tracked:
    """A bare reference as a MessageRef; anything with reference and provider_id as it is."""
    return MessageRef(message) if isinstance(message, str) else message


def recipient(to: str, *, provider: str) -> str:
    """The recipient as E.164; SmsPermanentError for anything that is not an Iranian mobile."""
    try:
        return normalize_mobile(to)
    except InvalidIdentifier:
        raise SmsPermanentError("not an Iranian mobile number", provider=provider) from None


def national_mobile(e164: str) -> str:
    """+989121234567 → 09121234567, the form Iranian gateways document."""
    return "0" + e164.removeprefix("+98")


def sender_number(raw: str) -> str:
    """An inbound sender as E.164 when it is an Iranian mobile, else stripped as given."""
    try:
        return normalize_mobile(raw)
    except InvalidIdentifier:
        return raw.strip()
