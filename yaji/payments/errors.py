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


class InvalidCardNumber(ApplicationError):
    code = "invalid_card_number"
    status = 400
    default_message = _("银行卡号无效，请核对后重新输入。")


class HolderNameMismatch(ApplicationError):
    code = "holder_name_mismatch"
    status = 400
    default_message = _("持卡人姓名须与实名认证的姓名一致。")


class BankNameRequired(ApplicationError):
    code = "bank_name_required"
    status = 400
    default_message = _("无法识别该卡的开户银行，请填写银行名称。")


class BankCardAlreadyAdded(ApplicationError):
    code = "card_already_added"
    status = 409
    default_message = _("这张银行卡已经添加过了。")


class TooManyBankCards(ApplicationError):
    code = "too_many_cards"
    status = 409
    default_message = _("最多可绑定 10 张银行卡。")


class BankCardNotFound(ApplicationError):
    code = "not_found"
    status = 404
    default_message = _("找不到该银行卡。")


class WithdrawalNotFound(ApplicationError):
    code = "not_found"
    status = 404
    default_message = _("找不到该提现。")


class WithdrawalBelowMinimum(ApplicationError):
    code = "withdrawal_below_minimum"
    status = 400
    default_message = _("单笔提现至少 1 元。")


class WithdrawalAboveMaximum(ApplicationError):
    code = "withdrawal_above_maximum"
    status = 400
    default_message = _("单笔提现最多 20,000 元。")


class WithdrawalKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status = 409
    default_message = _("该请求编号已用于另一笔提现。")


class PayoutProviderUnavailable(ApplicationError):
    code = "payout_provider_unavailable"
    status = 503
    default_message = _("代付渠道暂不可用，稍后将自动重试。")


class ProviderRefundRefused(ApplicationError):
    code = "provider_refund_refused"
    status = 409
    default_message = _("支付渠道拒绝了该退款。")


class MalformedStatement(ApplicationError):
    code = "malformed_statement"
    status = 502
    default_message = _("支付渠道的对账单无法解析。")


class RefundNotFound(ApplicationError):
    code = "not_found"
    status = 404
    default_message = _("找不到该退款。")


class RefundExceedsPaid(ApplicationError):
    code = "refund_exceeds_paid"
    status = 409
    default_message = _("退款总额不能超过实付金额。")


class IntentNotRefundable(ApplicationError):
    code = "intent_not_refundable"
    status = 409
    default_message = _("只有支付成功的订单才能退款。")


class RefundKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status = 409
    default_message = _("该请求编号已用于另一笔退款。")


class PaymentProviderNotConfigured(ApplicationError):
    code = "provider_not_configured"
    status = 503
    default_message = _("该支付渠道尚未配置。")


class ProviderUnavailable(ApplicationError):
    code = "provider_unavailable"
    status = 503
    default_message = _("支付渠道暂不可用，请稍后重试。")


class WalletPartOutOfRange(ApplicationError):
    code = "wallet_part_out_of_range"
    status = 400
    default_message = _("钱包支付部分须在 0 到订单金额之间。")


class RefundNotAllowed(ApplicationError):
    code = "refund_not_allowed"
    status = 409
    default_message = _("购物订单的退款须通过售后申请。")


class WechatPayError(ApplicationError):
    """WeChat Pay answered a request with an error (its ``code`` and ``message`` in extra)."""

    code = "provider_error"
    status = 502
    default_message = _("微信支付返回错误。")


class SubjectNotPayable(ApplicationError):
    code = "subject_not_payable"
    status = 409
    default_message = _("该订单已无法支付（已支付、已取消或已过期）。")


class ClawbackExceedsSettled(ApplicationError):
    code = "clawback_exceeds_settled"
    status = 409
    default_message = _("追回金额超过该订单结算给店铺的金额。")
