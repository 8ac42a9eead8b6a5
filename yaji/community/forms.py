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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):  # type: ignore[no-untyped-def]
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


def _id_list(raw: str) -> list[int]:
    parts = [p for p in raw.replace("，", ",").replace(" ", ",").split(",") if p]
    if not all(p.isdigit() for p in parts):
        raise forms.ValidationError(_("请填写以逗号分隔的编号。"))
    return [int(p) for p in parts]


class PostForm(forms.Form):
    text = forms.CharField(
        label=_("说点什么"),
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("用 #话题 加入话题，用 @昵称 提到别人。"),
    )
    topics = forms.CharField(
        label=_("话题"), required=False, max_length=200, help_text=_("用逗号分隔，最多 5 个。")
    )
    images = MultipleFileField(
        label=_("图片"), required=False, help_text=_("最多 9 张 JPEG、PNG 或 WebP。")
    )
    video = forms.FileField(
        label=_("视频（与图片二选一）"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "video/mp4,video/webm"}),
    )
    product_ids = forms.CharField(label=_("关联商品编号"), required=False, max_length=250)
    work_ids = forms.CharField(label=_("关联作品编号"), required=False, max_length=250)

    def clean_product_ids(self) -> list[int]:
        return _id_list(self.cleaned_data["product_ids"])

    def clean_work_ids(self) -> list[int]:
        return _id_list(self.cleaned_data["work_ids"])

    def add_application_error(self, exc: ApplicationError) -> None:
        field = exc.extra.get("field")
        self.add_error(field if field in self.fields else None, str(exc.message))


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("评论"), max_length=1_000, widget=forms.Textarea(attrs={"rows": 2})
    )
    parent_id = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
