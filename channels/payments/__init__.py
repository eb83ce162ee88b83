"""Online payment providers by name: the dev page (backend.payments) and the real gateways."""

from backend.payments import DevProvider, PaymentProvider
from backend.settings import Settings
from channels.payments.zarinpal import ZarinpalProvider

PROVIDERS: dict[str, type[PaymentProvider]] = {
    DevProvider.name: DevProvider,
    ZarinpalProvider.name: ZarinpalProvider,
}


def make_payment_provider(settings: Settings) -> PaymentProvider:
    """The provider PAYMENT_PROVIDER names; ValueError for a name not known."""
    name = settings.payment_provider.strip().lower()
    if name not in PROVIDERS:
        raise ValueError(f"unknown payment provider {name!r} (known: {', '.join(PROVIDERS)})")
    return PROVIDERS[name](settings)
