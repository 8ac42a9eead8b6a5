"""One error type for the whole platform, with stable string codes.

Services raise subclasses of :class:`ApplicationError`; the API renders every one as
``{"code", "message", "extra"}`` with its HTTP status, and site views show ``message``
(translated into the user's language) as a form error. Codes are part of the public
contract: never rename one, add a new one.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    code: str = "application_error"
    status: int = 400
    default_message: str | Promise = _("请求无法完成。")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra or {}
        super().__init__(str(self.message))

    def as_body(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "extra": self.extra}


class ValidationFailed(ApplicationError):
    code = "validation_error"
    status = 422
    default_message = _("提交的数据无效。")


class NotAuthenticated(ApplicationError):
    code = "not_authenticated"
    status = 401
    default_message = _("请先登录。")


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403
    default_message = _("您没有权限执行此操作。")


class NotFound(ApplicationError):
    code = "not_found"
    status = 404
    default_message = _("找不到该资源。")


class Conflict(ApplicationError):
    code = "conflict"
    status = 409
    default_message = _("与当前状态冲突。")


class RateLimited(ApplicationError):
    code = "rate_limited"
    status = 429
    default_message = _("操作过于频繁，请稍后再试。")


# --- money -------------------------------------------------------------------------------------


class InvalidCurrency(ApplicationError):
    code = "invalid_currency"
    status = 400
    default_message = _("不支持的币种。")


class CurrencyMismatch(ApplicationError):
    code = "currency_mismatch"
    status = 400
    default_message = _("不同币种的金额不能直接运算。")


class InvalidAmount(ApplicationError):
    code = "invalid_amount"
    status = 400
    default_message = _("金额格式无效。")


# --- idempotency -------------------------------------------------------------------------------


class InvalidIdempotencyKey(ApplicationError):
    code = "invalid_idempotency_key"
    status = 400
    default_message = _("Idempotency-Key 必须是 1 到 255 个可打印 ASCII 字符。")


class IdempotencyKeyRequired(ApplicationError):
    code = "idempotency_key_required"
    status = 400
    default_message = _("此操作需要 Idempotency-Key 请求头。")


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status = 409
    default_message = _("该 Idempotency-Key 已用于另一个不同的请求。")


class IdempotencyRequestInProgress(ApplicationError):
    code = "idempotency_request_in_progress"
    status = 409
    default_message = _("使用该 Idempotency-Key 的请求仍在处理中，请稍后重试。")
