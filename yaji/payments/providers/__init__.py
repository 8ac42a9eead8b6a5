"""Payment provider adapters, selected by name (explicit table, no string imports)."""

from __future__ import annotations

from yaji.payments.errors import UnknownPaymentProvider
from yaji.payments.providers.base import PaymentProvider
from yaji.payments.providers.sandbox import SandboxProvider

_PROVIDERS: dict[str, PaymentProvider] = {SandboxProvider.name: SandboxProvider()}


def provider_get(name: str) -> PaymentProvider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise UnknownPaymentProvider(extra={"provider": name[:32]}) from None
