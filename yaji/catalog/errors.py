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
    "CustomisationTextTooLong",
    "DocumentRequired",
    "DocumentTooLarge",
    "ImageTooLarge",
    "InvalidCustomisation",
    "InvalidDocument",
    "InvalidImage",
    "InvalidPrice",
    "InvalidProductImage",
    "InvalidProductKind",
    "InvalidShopType",
    "InvalidSku",
    "InvalidSlug",
    "InvalidStock",
    "KycRequired",
    "LogoTooLarge",
    "MemberAlreadyAdded",
    "MemberNotFound",
    "NotFound",
    "OwnerCannotBeRemoved",
    "PermissionDenied",
    "ProductIncomplete",
    "ProductNotEditable",
    "ProductNotInReview",
    "ProductNotListed",
    "RejectReasonRequired",
    "ShopSlugTaken",
    "TooManyDocuments",
    "TooManyImages",
    "UnknownAttribute",
    "UnknownCategory",
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


# --- products -----------------------------------------------------------------------------------


class InvalidPrice(ValidationFailed):
    code = "invalid_price"
    default_message = _("价格必须大于 0（以分为单位的整数）。")


class InvalidStock(ValidationFailed):
    code = "invalid_stock"
    default_message = _("库存不能小于 0。")


class InvalidSku(ValidationFailed):
    code = "invalid_sku"
    default_message = _("SKU 编码只能用字母、数字、连字符和下划线，1 到 40 个字符。")


class InvalidProductImage(InvalidImage):
    code = "invalid_image"
    default_message = _("商品图片只接受 JPEG、PNG 或 WebP 图片。")


class ImageTooLarge(ValidationFailed):
    code = "image_too_large"
    status = 413
    default_message = _("商品图片不能超过 8 MB。")


class TooManyImages(ValidationFailed):
    code = "too_many_images"
    default_message = _("每件商品最多 12 张图片。")


class UnknownCategory(ValidationFailed):
    code = "unknown_category"
    default_message = _("未知的商品分类。")


class UnknownAttribute(ValidationFailed):
    code = "unknown_attribute"
    default_message = _("未知的文化属性。")


class InvalidProductKind(ValidationFailed):
    code = "invalid_product_kind"
    default_message = _(
        "商品类型与其参数不符：限量款需填写限量数量和每人限购，定制款需填写制作周期。"
    )


class InvalidCustomisation(ValidationFailed):
    code = "invalid_customisation"
    default_message = _("定制选项无效。")


class CustomisationTextTooLong(ValidationFailed):
    code = "customisation_text_too_long"
    default_message = _("定制文字超出了字数限制。")


class ProductNotEditable(Conflict):
    code = "product_not_editable"
    default_message = _("只有草稿或未通过审核的商品可以修改。")


class ProductIncomplete(ValidationFailed):
    code = "product_incomplete"
    default_message = _("提交审核前请至少添加一个规格和一张图片。")


class ProductNotInReview(Conflict):
    code = "product_not_in_review"
    default_message = _("该商品不在审核中。")


class ProductNotListed(Conflict):
    code = "product_not_listed"
    default_message = _("该商品未上架。")
