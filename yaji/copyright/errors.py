"""Stable error codes of the copyright app (never rename one; add new ones)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed


class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    default_message = _("找不到该版权登记。")


class WorkNotRegistrable(ValidationFailed):
    code = "work_not_registrable"
    default_message = _("该作品无法登记：只能登记自己已发布的作品。")


class ContentUnreadable(ValidationFailed):
    code = "content_unreadable"
    default_message = _("作品文件无法读取或已损坏，不能登记。")


class AlreadyRegistered(Conflict):
    code = "already_registered"
    default_message = _("该作品已经登记过了。")


class ContentRegisteredByOther(Conflict):
    code = "content_registered_by_other"
    default_message = _("完全相同的内容已由其他作者登记，不能重复登记。")


class LogEmpty(NotFound):
    code = "log_empty"
    default_message = _("存证日志还没有任何签名检查点。")


class ProofUnavailable(ValidationFailed):
    code = "proof_unavailable"
    default_message = _("无法为这些参数生成证明：序号或树的大小超出范围。")


class CaseNotFound(NotFound):
    code = "duplicate_case_not_found"
    default_message = _("找不到该疑似侵权审核。")


class CaseDecided(Conflict):
    code = "duplicate_case_decided"
    default_message = _("该审核已经处理过了。")


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    default_message = _("请填写理由。")


class InvalidCertificate(ApplicationError):
    code = "invalid_certificate"
    status = 422
    default_message = _("证书无效。")


class NoticeNotFound(NotFound):
    code = "takedown_notice_not_found"
    default_message = _("找不到该侵权投诉。")


class ListingNotFound(NotFound):
    code = "listing_not_found"
    default_message = _("找不到该在售商品。")


class CertificateRequired(ValidationFailed):
    code = "certificate_required"
    default_message = _("投诉必须附上您的版权存证证书。")


class CertificateNotYours(ApplicationError):
    code = "certificate_not_yours"
    status = 403
    default_message = _("这份证书登记的作品不属于您，不能据此投诉。")


class NoticeAlreadyOpen(Conflict):
    code = "takedown_already_open"
    default_message = _("针对这件商品和这件作品的投诉正在处理中。")


class NoticeNotOpen(Conflict):
    code = "takedown_not_open"
    default_message = _("该投诉已经处理完毕。")


class PassportInvalid(ValidationFailed):
    code = "passport_invalid"
    default_message = _("这个二维码不是本平台签发的数字护照，或内容已被改动。")


class PassportNotFound(NotFound):
    code = "passport_not_found"
    default_message = _("找不到该数字护照。")


class EditionNotBindable(ValidationFailed):
    code = "edition_not_bindable"
    default_message = _("只能把自己已登记的设计绑定到自己店铺的限量编号商品上。")


class EditionAlreadyBound(Conflict):
    code = "edition_already_bound"
    default_message = _("该限量商品已经绑定了登记的设计。")


class PassportNotTransferable(ApplicationError):
    code = "passport_not_transferable"
    status = 403
    default_message = _("只有护照的当前持有人才能转让，且护照必须有效。")


class CloneCaseNotFound(NotFound):
    code = "clone_case_not_found"
    default_message = _("找不到该克隆审核。")


class CloneCaseDecided(Conflict):
    code = "clone_case_decided"
    default_message = _("该克隆审核已经处理过了。")
