"""Payment provider adapters, selected by name (explicit table, no string imports)."""

from __future__ import annotations

from yaji.payments.errors import UnknownPaymentProvider
from yaji.payments.providers.base import PaymentProvider, PayoutProvider
from yaji.payments.providers.sandbox import SandboxProvider
from yaji.payments.providers.sandbox_payout import SandboxPayoutProvider

_PROVIDERS: dict[str, PaymentProvider] = {SandboxProvider.name: SandboxProvider()}
_PAYOUT_PROVIDERS: dict[str, PayoutProvider] = {SandboxPayoutProvider.name: SandboxPayoutProvider()}


def provider_get(name: str) -> PaymentProvider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise UnknownPaymentProvider(extra={"provider": name[:32]}) from None


def payout_provider_get(name: str) -> PayoutProvider:
    try:
        return _PAYOUT_PROVIDERS[name]
    except KeyError:
        raise UnknownPaymentProvider(extra={"provider": name[:32]}) from None
