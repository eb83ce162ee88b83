"""Build the configured SMS provider by name."""

from __future__ import annotations

from typing import Any

from notifications.sms.base import SmsProvider
from notifications.sms.console import ConsoleProvider
from notifications.sms.kavenegar import KavenegarProvider
from notifications.sms.melipayamak import MelipayamakProvider

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
