"""Stable error codes of the accounts app (never rename one; add new ones)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import (
    ApplicationError,
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)

__all__ = [
    "AccountDeleted",
    "AccountLocked",
    "ApplicationError",
    "CodeExpired",
    "CodeInvalid",
    "FaceRejected",
    "IdAlreadyVerified",
    "IdentifierTaken",
    "InvalidCredentials",
    "InvalidIdNumber",
    "InvalidIdentifier",
    "InvalidRealName",
    "InvalidRole",
    "InvalidScope",
    "KycAlreadyVerified",
    "KycRejected",
    "KycRequired",
    "KycUnavailable",
    "NotAuthenticated",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "TokenInvalid",
    "TokenReused",
    "WeakPassword",
]


class InvalidIdentifier(ValidationFailed):
    code = "invalid_identifier"
    default_message = _("请输入有效的中国大陆手机号或电子邮箱。")


class IdentifierTaken(Conflict):
    code = "identifier_taken"
    default_message = _("该手机号或邮箱已注册。")


class CodeInvalid(ApplicationError):
    code = "code_invalid"
    status = 400
    default_message = _("验证码错误或已失效。")


class CodeExpired(ApplicationError):
    code = "code_expired"
    status = 400
    default_message = _("验证码已过期，请重新获取。")


class WeakPassword(ValidationFailed):
    code = "weak_password"
    default_message = _("密码强度不够。")


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"
    status = 401
    default_message = _("账号或密码错误。")


class AccountLocked(ApplicationError):
    code = "account_locked"
    status = 429
    default_message = _("登录失败次数过多，账号已暂时锁定，请稍后再试。")


class AccountDeleted(ApplicationError):
    code = "account_deleted"
    status = 403
    default_message = _("该账号已注销。")


class TokenInvalid(NotAuthenticated):
    code = "token_invalid"
    default_message = _("令牌无效或已过期，请重新登录。")


class TokenReused(NotAuthenticated):
    code = "token_reused"
    default_message = _("刷新令牌已被使用，为安全起见该会话已全部注销，请重新登录。")


class InvalidIdNumber(ValidationFailed):
    code = "invalid_id_number"
    default_message = _("身份证号码无效。")


class InvalidRealName(ValidationFailed):
    code = "invalid_real_name"
    default_message = _("姓名须为 2–20 个汉字或拉丁字母。")


class IdAlreadyVerified(Conflict):
    code = "id_already_verified"
    default_message = _("该身份证号码已被其他账号认证。")


class KycAlreadyVerified(Conflict):
    code = "kyc_already_verified"
    default_message = _("您已完成实名认证。")


class KycRejected(ApplicationError):
    code = "kyc_rejected"
    status = 422
    default_message = _("实名认证未通过。")


class KycUnavailable(ApplicationError):
    code = "kyc_unavailable"
    status = 503
    default_message = _("实名认证服务暂时不可用，请稍后再试。")


class InvalidRole(ValidationFailed):
    code = "invalid_role"
    default_message = _("未知的角色。")


class InvalidScope(ValidationFailed):
    code = "invalid_scope"
    default_message = _("角色范围无效。")


class KycRequired(ApplicationError):
    code = "kyc_required"
    status = 403
    default_message = _("请先完成实名认证。")


class FaceRejected(ApplicationError):
    code = "face_rejected"
    status = 422
    default_message = _("人脸核验未通过。")
