"""The SMS providers by name, the one the settings configure, and one send as an outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from pydantic import SecretStr

from backend.settings import Settings
from channels.outcome import IN_DOUBT, Outcome, OutcomeKind, sent
from channels.sms.base import SmsError, SmsPermanentError, SmsProvider, SmsTemporaryError
from channels.sms.console import ConsoleProvider
from channels.sms.kavenegar import KavenegarProvider
from channels.sms.melipayamak import MelipayamakProvider

PROVIDERS: dict[str, type[SmsProvider]] = {
    ConsoleProvider.name: ConsoleProvider,
    KavenegarProvider.name: KavenegarProvider,
    MelipayamakProvider.name: MelipayamakProvider,
}


def make_provider(name: str, **config: Any) -> SmsProvider:
    """The provider called `name` ("console", "kavenegar", "melipayamak"), built from `config`.

    `config` is the provider's keyword arguments, e.g. console: path; kavenegar: api_key,
    sender; melipayamak: username, password, sender.
    """
    try:
        provider = PROVIDERS[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown SMS provider {name!r} (known: {known})") from None
    return provider(**config)


def sms_provider(settings: Settings) -> SmsProvider:
    """The SMS gateway the settings name, with its credentials."""
    name = settings.sms_provider.strip().lower()
    config: dict[str, object] = {"base_url": settings.sms_api_base} if settings.sms_api_base else {}
    if name == "console":
        config = {"path": settings.sms_console_path, "echo": settings.sms_console_echo}
    elif name == "kavenegar":
        config.update(api_key=_secret(settings.kavenegar_api_key), sender=settings.sms_sender)
    elif name == "melipayamak":
        config.update(
            username=settings.melipayamak_username or "",
            password=_secret(settings.melipayamak_password),
            sender=settings.sms_sender,
        )
    return make_provider(name, **config)  # an unknown name is refused there


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""  # the adapter refuses ""


SmsSource = Callable[[], AbstractContextManager[SmsProvider]]
"""Where a caller gets the gateway for a `with` block: a provider of its own, or a shared one."""


class SharedProvider:
    """The settings' gateway, made once and lent to each `with` block without closing it: an
    HTTP gateway's client (its connections, its TLS context) serves every send of the process."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._provider: SmsProvider | None = None
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self) -> Iterator[SmsProvider]:
        with self._lock:
            if self._provider is None:
                self._provider = sms_provider(self._settings)
        yield self._provider


def send_sms(provider: SmsProvider, to: str, text: str, *, reference: str) -> Outcome:
    """One SMS; the gateway's refusal as an outcome (a gateway has no "unreachable").

    A failure after which the message may have been accepted, on a gateway that would not
    recognise it sent again, is in doubt: a permanent outcome (IN_DOUBT), never to be retried.
    """
    try:
        result = provider.send(to, text, reference=reference)
    except SmsTemporaryError as error:
        if error.may_have_been_sent and not provider.dedupes_by_reference:
            return Outcome(OutcomeKind.PERMANENT, IN_DOUBT, error=str(error))
        return Outcome(OutcomeKind.TEMPORARY, error.code or "error", error=str(error))
    except SmsPermanentError as error:
        return Outcome(OutcomeKind.PERMANENT, error.code or "error", error=str(error))
    except SmsError as error:
        return Outcome(OutcomeKind.TEMPORARY, error.code or "error", error=str(error))
    return sent(result.raw_code, state=result.state, provider_id=result.provider_id)
