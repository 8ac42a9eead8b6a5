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
    "BundleItemInvalid",
    "CustomisationTextTooLong",
    "DigitalFileMissing",
    "DocumentRequired",
    "DocumentTooLarge",
    "DownloadFileTooLarge",
    "DownloadLimitReached",
    "DownloadLinkExpired",
    "DownloadLinkInvalid",
    "EditionStockExceeded",
    "ImageTooLarge",
    "InvalidCustomisation",
    "InvalidDocument",
    "InvalidDownloadFile",
    "InvalidImage",
    "InvalidModel3D",
    "InvalidPrice",
    "InvalidProductImage",
    "InvalidProductKind",
    "InvalidSession",
    "InvalidShopType",
    "InvalidSku",
    "InvalidSlug",
    "InvalidStock",
    "InvalidVideo",
    "KycRequired",
    "LogoTooLarge",
    "MemberAlreadyAdded",
    "MemberNotFound",
    "Model3DTooLarge",
    "NotDigitalProduct",
    "NotFound",
    "OwnerCannotBeRemoved",
    "PermissionDenied",
    "ProductHeld",
    "ProductIncomplete",
    "ProductNotEditable",
    "ProductNotHeld",
    "ProductNotInReview",
    "ProductNotListed",
    "RejectReasonRequired",
    "ShopReasonRequired",
    "ShopSlugTaken",
    "ShopStatusUnchanged",
    "TooManyDocuments",
    "TooManyImages",
    "UnknownAttribute",
    "UnknownCategory",
    "ValidationFailed",
    "VideoTooLarge",
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


class ShopReasonRequired(ValidationFailed):
    code = "shop_reason_required"
    default_message = _("暂停店铺时请写明原因，店主会看到它。")


class ShopStatusUnchanged(Conflict):
    code = "shop_status_unchanged"
    default_message = _("店铺已经是这个状态。")


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


class ProductHeld(Conflict):
    code = "product_held"
    default_message = _("该商品正由自动检查暂缓审核，检查完成前不能通过。")


class ProductNotHeld(Conflict):
    code = "product_not_held"
    default_message = _("该商品当前未被这项检查暂缓。")


# --- product kinds and media (ADR 0016) ----------------------------------------------------------


class EditionStockExceeded(ValidationFailed):
    code = "edition_stock_exceeded"
    default_message = _("限量款各规格的库存合计不能超过限量数量。")


class InvalidSession(ValidationFailed):
    code = "invalid_session"
    default_message = _("只有课程 / 服务的规格可以设置开始时间，且时间须在将来。")


class BundleItemInvalid(ValidationFailed):
    code = "invalid_bundle_item"
    default_message = _(
        "套装只能包含本店已上架商品的规格（不能是套装或定制款），数量 1 到 99，最多 20 项。"
    )


class InvalidVideo(ValidationFailed):
    code = "invalid_video"
    default_message = _("商品视频只接受 MP4（H.264/H.265）或 WebM 文件。")


class VideoTooLarge(ValidationFailed):
    code = "video_too_large"
    status = 413
    default_message = _("商品视频不能超过 50 MB。")


class InvalidModel3D(ValidationFailed):
    code = "invalid_model"
    default_message = _(
        "3D 模型只接受 glTF 2.0 文件（.glb，或资源全部内嵌的 .gltf），且不能使用需要外部解码器的压缩。"
    )


class Model3DTooLarge(ValidationFailed):
    code = "model_too_large"
    status = 413
    default_message = _("3D 模型不能超过 30 MB。")


class NotDigitalProduct(ValidationFailed):
    code = "not_digital_product"
    default_message = _("只有数字下载类商品可以上传交付文件。")


class InvalidDownloadFile(ValidationFailed):
    code = "invalid_download_file"
    default_message = _("交付文件只接受 PDF、ZIP、EPUB、JPEG、PNG、WebP、MP3、MP4 或 WebM。")


class DownloadFileTooLarge(ValidationFailed):
    code = "download_file_too_large"
    status = 413
    default_message = _("交付文件不能超过 200 MB。")


class DigitalFileMissing(Conflict):
    code = "digital_file_missing"
    default_message = _("该数字商品还没有可交付的文件。")


class DownloadLinkInvalid(NotFound):
    code = "download_link_invalid"
    default_message = _("下载链接无效。")


class DownloadLinkExpired(ApplicationError):
    code = "download_link_expired"
    status = 410
    default_message = _("下载链接已过期，请到订单中重新获取。")


class DownloadLimitReached(ApplicationError):
    code = "download_limit_reached"
    status = 410
    default_message = _("这个下载链接的下载次数已用完。")
