"""Stable error codes of the community app (never rename one; add new ones)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed


class InvalidMedia(ValidationFailed):
    code = "invalid_media"
    default_message = _(
        "作品文件无法识别，或与声称的格式不符。音频支持 MP3、OGG、M4A、WAV、FLAC，图片支持 JPEG、PNG、WebP。"
    )


class MediaTooLarge(ValidationFailed):
    code = "media_too_large"
    status = 413
    default_message = _("作品文件过大。")


class InvalidCover(ValidationFailed):
    code = "invalid_cover"
    default_message = _("封面只接受不超过 5 MB 的 JPEG、PNG 或 WebP 图片。")


class UnsupportedKind(ValidationFailed):
    code = "unsupported_work_kind"
    default_message = _("暂不支持该类型的作品。")


class InvalidWork(ValidationFailed):
    code = "invalid_work"
    default_message = _("作品信息无效。")


class WorkNotFound(NotFound):
    code = "work_not_found"
    default_message = _("找不到该作品。")


class WorkNotPlayable(Conflict):
    code = "work_not_playable"
    default_message = _("该作品没有可播放的音频。")


class PlayNotFound(NotFound):
    code = "play_not_found"
    default_message = _("播放凭证无效。")


class PlayExpired(ApplicationError):
    code = "play_expired"
    status = 410
    default_message = _("播放凭证已过期，请重新开始播放。")
