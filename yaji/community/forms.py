"""Site forms of the community app: input shape only; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from yaji.community.models import WorkKind
from yaji.core.errors import ApplicationError


class WorkPublishForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=120)
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=[(k.value, k.label) for k in WorkKind if k != WorkKind.VIDEO],
        initial=WorkKind.AUDIO,
    )
    description = forms.CharField(
        label=_("简介 / 歌词"), required=False, max_length=10_000, widget=forms.Textarea
    )
    tags = forms.CharField(
        label=_("标签"), required=False, max_length=400, help_text=_("用逗号分隔，最多 10 个。")
    )
    media = forms.FileField(
        label=_("作品文件"), help_text=_("音频：MP3、OGG、M4A、WAV、FLAC；图片：JPEG、PNG、WebP。")
    )
    cover = forms.FileField(label=_("封面（可选）"), required=False)

    def add_application_error(self, exc: ApplicationError) -> None:
        field = exc.extra.get("field")
        self.add_error(field if field in self.fields else None, str(exc.message))
