"""HTTP calls to SMS gateways: explicit timeouts, bounded retries, secrets kept out of logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from channels.sms.base import SmsError, SmsPermanentError, SmsTemporaryError

logger = logging.getLogger(__name__)

T = TypeVar("T")

REDACTED = "***"
# Answers that refuse the request before doing anything: sending again cannot duplicate.
_REFUSED_UNPROCESSED = frozenset({409, 429, 503})
# A connection that was never made cannot have delivered a request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon one call is retried after a temporary failure."""

    attempts: int = 3
    first_delay: float = 0.5  # seconds, doubled on each further retry
    max_delay: float = 4.0

    def delay(self, retry: int) -> float:
        """The pause before retry number `retry` (1-based)."""
        return min(self.first_delay * 2.0 ** (retry - 1), self.max_delay)


DEFAULT_RETRY = RetryPolicy()


class _SecretPathTransport(httpx.BaseTransport):
    """Swaps the placeholder path segment for the secret on the way to the network.

    The client only ever builds URLs with the placeholder, so httpx's own log lines
    ("HTTP Request: POST https://…/***/sms/send.json") and the requests attached to its
    exceptions and responses never hold the secret.
    """

    def __init__(self, inner: httpx.BaseTransport, secret: str) -> None:
        self._inner = inner
        self._placeholder = f"/{REDACTED}/".encode()
        self._segment = f"/{quote(secret, safe='')}/".encode()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.replace(self._placeholder, self._segment, 1)
        wire = httpx.Request(
            request.method,
            request.url.copy_with(raw_path=path),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return self._inner.handle_request(wire)

    def close(self) -> None:
        self._inner.close()


class HttpApi:
    """One gateway's HTTP endpoint, with the error and retry rules every adapter shares.

    `path_secret` is a credential that goes in the URL path (Kavenegar's API key): the client
    sees `{base_url}/***/…` and only the transport puts the real value in. `secrets` are other
    credentials (passwords in form bodies) to scrub from error messages.
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        timeout: float,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        path_secret: str | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.provider = provider
        self._retry = retry
        self._sleep = sleep
        self._secrets = [s for s in (path_secret, *secrets) if s]
        base = base_url.rstrip("/")
        transport: httpx.BaseTransport = httpx.HTTPTransport()
        if path_secret:
            base += f"/{REDACTED}"
            transport = _SecretPathTransport(transport, path_secret)
        self._client = httpx.Client(
            base_url=base + "/",
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[httpx.Response], T],
        replay_safe: bool,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> T:
        """Send a request and parse the answer, retrying SmsTemporaryError a few times.

        `parse` raises SmsTemporaryError or SmsPermanentError for error answers. A failure that
        may have reached the gateway (`may_have_been_sent`) is retried only when `replay_safe`:
        reads, and sends the gateway de-duplicates.
        """
        attempt = 1
        while True:
            try:
                return parse(self._request(method, path, params, data))
            except SmsTemporaryError as error:
                if attempt >= self._retry.attempts or (
                    error.may_have_been_sent and not replay_safe
                ):
                    raise
                delay = self._retry.delay(attempt)
                logger.warning(
                    "%s (attempt %d of %d); retrying in %.1f s",
                    error,
                    attempt,
                    self._retry.attempts,
                    delay,
                )
                self._sleep(delay)
            attempt += 1

    def close(self) -> None:
        self._client.close()

    def redact(self, text: str) -> str:
        """The text with every credential (and its URL-encoded form) replaced by ***."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED).replace(quote(secret, safe=""), REDACTED)
        return text

    def temporary(
        self, message: str, *, code: str | None = None, may_have_been_sent: bool = False
    ) -> SmsTemporaryError:
        return SmsTemporaryError(
            self.redact(message),
            provider=self.provider,
            code=code,
            may_have_been_sent=may_have_been_sent,
        )

    def permanent(self, message: str, *, code: str | None = None) -> SmsPermanentError:
        return SmsPermanentError(self.redact(message), provider=self.provider, code=code)

    def unexpected(self, response: httpx.Response) -> SmsError:
        """An answer not in the gateway's own format (a proxy's HTML page), judged by status.

        The body is left out of the message: a proxy's error page may echo the URL.
        """
        status = response.status_code
        kind = response.headers.get("content-type", "no content type")
        message = f"unexpected HTTP {status} answer ({kind})"
        if status in _REFUSED_UNPROCESSED:
            return self.temporary(message, code=str(status))
        if status < 400 or status >= 500:
            # A 500/502/504 (or a garbled 200) may come after the gateway did the work.
            return self.temporary(message, code=str(status), may_have_been_sent=True)
        return self.permanent(message, code=str(status))

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
    ) -> httpx.Response:
        try:
            return self._client.request(method, path, params=params, data=data)
        except httpx.TransportError as exc:
            # `from None`: the cause's text is ours to vet, and it is in the message, redacted.
            raise self.temporary(
                f"network error: {type(exc).__name__}: {exc}",
                may_have_been_sent=not isinstance(exc, _NOT_SENT),
            ) from None


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's JSON object, or None when the body is not one (an HTML error page)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
