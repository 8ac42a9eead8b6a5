"""Stable error codes of the moderation app (never rename one; add new ones)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed


class ModerationItemNotFound(NotFound):
    code = "moderation_item_not_found"
    default_message = _("找不到该审核内容。")


class InvalidKind(ValidationFailed):
    code = "moderation_invalid_kind"
    default_message = _("内容类型无效。")


class InvalidObjectId(ValidationFailed):
    code = "moderation_invalid_object_id"
    default_message = _("内容编号无效。")


class ReasonRequired(ValidationFailed):
    code = "moderation_reason_required"
    default_message = _("请填写原因。")


class CannotReportOwn(ApplicationError):
    code = "moderation_cannot_report_own"
    status = 400
    default_message = _("不能举报自己发布的内容。")


class AlreadyReported(Conflict):
    code = "moderation_already_reported"
    default_message = _("您已经举报过该内容。")


class NotBlocked(Conflict):
    code = "moderation_not_blocked"
    default_message = _("只有被屏蔽的内容可以申诉。")


class AlreadyAppealed(Conflict):
    code = "moderation_already_appealed"
    default_message = _("每条内容只能申诉一次。")


class NotPendingReview(Conflict):
    code = "moderation_not_pending"
    default_message = _("该内容已经处理过，或不在审核队列中。")


class InvalidDecision(ValidationFailed):
    code = "moderation_invalid_decision"
    default_message = _("审核决定无效。")
