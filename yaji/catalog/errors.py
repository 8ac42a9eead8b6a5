"""Stable error codes of the catalog app (never rename one; add new ones)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.accounts.errors import KycRequired
from yaji.core.errors import (
    ApplicationError,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

__all__ = [
    "ApplicationAlreadyOpen",
    "ApplicationError",
    "ApplicationNotOpen",
    "DocumentRequired",
    "DocumentTooLarge",
    "InvalidDocument",
    "InvalidImage",
    "InvalidShopType",
    "InvalidSlug",
    "KycRequired",
    "LogoTooLarge",
    "MemberAlreadyAdded",
    "MemberNotFound",
    "NotFound",
    "OwnerCannotBeRemoved",
    "PermissionDenied",
    "RejectReasonRequired",
    "ShopSlugTaken",
    "TooManyDocuments",
    "ValidationFailed",
]


class InvalidSlug(ValidationFailed):
    code = "invalid_slug"
    default_message = _(
        "店铺地址只能用小写字母、数字和连字符，3 到 40 个字符，以字母或数字开头和结尾。"
    )


class ShopSlugTaken(Conflict):
    code = "shop_slug_taken"
    default_message = _("这个店铺地址已被占用，请换一个。")


class InvalidShopType(ValidationFailed):
    code = "invalid_shop_type"
    default_message = _("未知的店铺类型。")


class ApplicationAlreadyOpen(Conflict):
    code = "shop_application_open"
    default_message = _("您已有一份正在审核的开店申请，请等待审核结果。")


class ApplicationNotOpen(Conflict):
    code = "shop_application_not_open"
    default_message = _("该申请已处理，不能再次审核。")


class DocumentRequired(ValidationFailed):
    code = "document_required"
    default_message = _("请上传至少一份资质文件。")


class TooManyDocuments(ValidationFailed):
    code = "too_many_documents"
    default_message = _("资质文件过多。")


class InvalidDocument(ValidationFailed):
    code = "invalid_document"
    default_message = _("资质文件只接受 PDF、JPEG 或 PNG。")


class DocumentTooLarge(ValidationFailed):
    code = "document_too_large"
    status = 413
    default_message = _("资质文件每份不能超过 5 MB。")


class InvalidImage(ValidationFailed):
    code = "invalid_image"
    default_message = _("店铺标志只接受 JPEG、PNG 或 WebP 图片。")


class LogoTooLarge(ValidationFailed):
    code = "logo_too_large"
    status = 413
    default_message = _("店铺标志不能超过 2 MB。")


class RejectReasonRequired(ValidationFailed):
    code = "reject_reason_required"
    default_message = _("驳回时请写明原因，申请人会看到它。")


class MemberAlreadyAdded(Conflict):
    code = "shop_member_exists"
    default_message = _("此用户已是本店成员。")


class MemberNotFound(NotFound):
    code = "shop_member_not_found"
    default_message = _("找不到该用户，请确认对方已用此手机号或邮箱注册雅集。")


class OwnerCannotBeRemoved(Conflict):
    code = "shop_owner_not_removable"
    default_message = _("不能移除店主。")
