"""Stable error codes of the payments app (part of the public API contract)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError


class AmountOutOfRange(ApplicationError):
    code = "amount_out_of_range"
    status = 400
    default_message = _("充值金额须在 0.01 元到 50,000 元之间。")


class PaymentIntentNotFound(ApplicationError):
    code = "not_found"
    status = 404
    default_message = _("找不到该支付。")


class InvalidSignature(ApplicationError):
    code = "invalid_signature"
    status = 401
    default_message = _("通知签名无效。")


class StaleNotification(ApplicationError):
    code = "stale_notification"
    status = 401
    default_message = _("通知时间戳已过期。")


class MalformedNotification(ApplicationError):
    code = "malformed_notification"
    status = 400
    default_message = _("通知内容无法解析。")


class AmountMismatch(ApplicationError):
    code = "amount_mismatch"
    status = 400
    default_message = _("通知金额或币种与支付不符。")


class UnknownPaymentProvider(ApplicationError):
    code = "unknown_provider"
    status = 404
    default_message = _("未知的支付渠道。")


class SandboxPaymentClosed(ApplicationError):
    code = "payment_closed"
    status = 409
    default_message = _("该支付已完成或已过期。")
