"""Stable error codes of risk control. Codes are public: never rename one, add a new one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError


class RiskDenied(ApplicationError):
    code = "risk_denied"
    status = 403
    default_message = _("该操作未通过风控检查。")


class StepUpRequired(ApplicationError):
    """Answer with a face verification (``POST /api/v1/risk/step-up/face``), then retry with a
    new Idempotency-Key: the retry goes through while the verification is fresh."""

    code = "step_up_required"
    status = 403
    default_message = _("为了您的资金安全，请先完成人脸核验。")


class AccountFrozen(ApplicationError):
    code = "account_frozen"
    status = 403
    default_message = _("账户因风险已临时冻结，正在人工复核。")


class ReviewNotFound(ApplicationError):
    code = "risk_review_not_found"
    status = 404
    default_message = _("找不到该复核记录。")


class ReviewAlreadyDecided(ApplicationError):
    code = "risk_review_decided"
    status = 409
    default_message = _("该复核已处理。")
