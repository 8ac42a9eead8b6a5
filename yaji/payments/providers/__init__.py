"""Payment provider adapters, selected by name (explicit table, no string imports).

``sandbox`` is always there. ``wechatpay`` is built on first use from the ``YAJI_WECHATPAY_*``
settings (``provider_not_configured`` until they are set); ``settings.YAJI_PAYMENT_PROVIDER``
names the one new payments use.
"""

from __future__ import annotations

from django.conf import settings

from yaji.payments.errors import UnknownPaymentProvider
from yaji.payments.providers.base import PaymentProvider, PayoutProvider
from yaji.payments.providers.sandbox import SandboxProvider
from yaji.payments.providers.sandbox_payout import SandboxPayoutProvider
from yaji.payments.providers.wechatpay import (
    WechatPayProvider,
    wechatpay_config_from_settings,
)

_PROVIDERS: dict[str, PaymentProvider] = {SandboxProvider.name: SandboxProvider()}
_PAYOUT_PROVIDERS: dict[str, PayoutProvider] = {SandboxPayoutProvider.name: SandboxPayoutProvider()}
# Every payment provider we know, built or not: only these names are accepted anywhere.
PAYMENT_PROVIDER_NAMES: frozenset[str] = frozenset({SandboxProvider.name, WechatPayProvider.name})


def _build(name: str) -> PaymentProvider:
    if name == WechatPayProvider.name:
        return WechatPayProvider(wechatpay_config_from_settings(settings))
    raise UnknownPaymentProvider(extra={"provider": name[:32]})


def provider_get(name: str) -> PaymentProvider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        pass
    if name not in PAYMENT_PROVIDER_NAMES:
        raise UnknownPaymentProvider(extra={"provider": name[:32]})
    adapter = _build(name)
    _PROVIDERS[name] = adapter
    return adapter


def provider_install(adapter: PaymentProvider) -> None:
    """Use ``adapter`` for its name (a WeChat Pay adapter with its own transport, a test
    double); the name must be a known provider."""
    if adapter.name not in PAYMENT_PROVIDER_NAMES:
        raise UnknownPaymentProvider(extra={"provider": adapter.name[:32]})
    _PROVIDERS[adapter.name] = adapter


def provider_uninstall(name: str) -> None:
    """Forget a built adapter (the sandbox stays); the next use rebuilds it from settings."""
    if name != SandboxProvider.name:
        _PROVIDERS.pop(name, None)


def default_provider_name() -> str:
    name = str(getattr(settings, "YAJI_PAYMENT_PROVIDER", "") or SandboxProvider.name)
    if name not in PAYMENT_PROVIDER_NAMES:
        raise UnknownPaymentProvider(extra={"provider": name[:32]})
    return name


def payout_provider_get(name: str) -> PayoutProvider:
    try:
        return _PAYOUT_PROVIDERS[name]
    except KeyError:
        raise UnknownPaymentProvider(extra={"provider": name[:32]}) from None
