from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkKind(models.TextChoices):
    AUDIO = "audio", _("音频")
    VIDEO = "video", _("视频")
    IMAGE = "image", _("图片")
    DESIGN = "design", _("设计稿")


class WorkStatus(models.TextChoices):
    PUBLISHED = "published", _("已发布")
    HIDDEN = "hidden", _("已隐藏")


class Work(models.Model):
    """A creator's published piece: a song, an aria, an image, a design."""

    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="works"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=WorkKind.choices)
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("简介 / 歌词"), blank=True, default="")
    tags = models.JSONField(_("标签"), default=list, blank=True)
    media = models.FileField(_("作品文件"), upload_to="works/media/%Y/%m/", max_length=200)
    # Read from the file on the server, never from the client.
    media_format = models.CharField(_("文件格式"), max_length=10)
    media_size = models.PositiveBigIntegerField(_("文件大小"))
    duration_ms = models.PositiveIntegerField(_("时长（毫秒）"), default=0)
    cover = models.FileField(
        _("封面"), upload_to="works/covers/%Y/%m/", max_length=200, blank=True, default=""
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=WorkStatus.choices, default=WorkStatus.PUBLISHED
    )
    published_at = models.DateTimeField(_("发布时间"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("作品")
        verbose_name_plural = _("作品")
        indexes = [
            models.Index(fields=["creator", "-published_at"], name="work_creator_pub_idx"),
            models.Index(fields=["status", "-published_at"], name="work_status_pub_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def playable(self) -> bool:
        return self.kind == WorkKind.AUDIO and self.duration_ms > 0


class PlaySession(models.Model):
    """One verified play of a work by a user: a token, its heartbeats and what they proved."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="play_sessions"
    )
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="play_sessions")
    token_hash = models.CharField(max_length=64, unique=True)  # sha256 of the raw token
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_heartbeat_at = models.DateTimeField()
    last_position_ms = models.PositiveIntegerField(default=0)
    max_position_ms = models.PositiveIntegerField(default=0)
    listened_ms = models.PositiveIntegerField(default=0)  # length of the coverage
    coverage = models.JSONField(default=list)  # merged [start, end) intervals, ms
    heartbeats = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("播放记录")
        verbose_name_plural = _("播放记录")
        indexes = [
            models.Index(fields=["user", "work", "completed_at"], name="play_user_work_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("issued_at")),
                name="play_expires_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"play {self.pk} of work {self.work_id}"
