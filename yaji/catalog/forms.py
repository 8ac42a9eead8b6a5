"""Site forms of the catalog: input shape only. Services decide; their ApplicationErrors come
back here as form errors on the field they concern."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from yaji.catalog.models import ShopMembership, ShopType
from yaji.core.errors import ApplicationError


class ServiceErrorsMixin:
    error_fields: ClassVar[dict[str, str]] = {}

    def add_application_error(self, exc: ApplicationError) -> None:
        field = self.error_fields.get(exc.code) or exc.extra.get("field")
        if field not in getattr(self, "fields", {}):
            field = None
        message = str(exc.message)
        if exc.extra.get("name"):
            message = f"{message}（{exc.extra['name']}）"
        self.add_error(field, message)  # type: ignore[attr-defined]  # mixed into forms.Form


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ShopApplyForm(ServiceErrorsMixin, forms.Form):
    name_zh = forms.CharField(label=_("店铺名称（中文）"), max_length=60)
    name_en = forms.CharField(label=_("店铺名称（英文，可选）"), max_length=80, required=False)
    slug = forms.CharField(
        label=_("店铺地址"),
        max_length=40,
        help_text=_("用于店铺网址 /shops/<地址>/：3–40 位小写字母、数字或连字符。"),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    shop_type = forms.ChoiceField(label=_("店铺类型"), choices=ShopType.choices)
    region = forms.CharField(
        label=_("所在地区"),
        max_length=60,
        required=False,
        help_text=_("例如：江苏 · 苏州"),
    )
    story_zh = forms.CharField(
        label=_("店铺故事（中文）"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("纯文本，可以分段。讲讲手艺的来历、作品背后的人。"),
    )
    story_en = forms.CharField(
        label=_("店铺故事（英文，可选）"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    logo = forms.FileField(
        label=_("店铺标志（可选）"),
        required=False,
        help_text=_("JPEG、PNG 或 WebP，不超过 2 MB。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    documents = MultipleFileField(
        label=_("资质文件"),
        help_text=_(
            "营业执照、非遗传承人证书、机构授权书等，PDF、JPEG 或 PNG，每份不超过 5 MB，最多 6 份。仅审核人员可见。"
        ),
        widget=MultipleFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    error_fields = {
        "invalid_slug": "slug",
        "shop_slug_taken": "slug",
        "invalid_shop_type": "shop_type",
        "invalid_document": "documents",
        "document_too_large": "documents",
        "document_required": "documents",
        "too_many_documents": "documents",
        "invalid_image": "logo",
        "logo_too_large": "logo",
    }


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("驳回原因"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("申请人会看到这段说明，请写清楚需要补充或修改什么。"),
    )


class MemberAddForm(ServiceErrorsMixin, forms.Form):
    identifier = forms.CharField(
        label=_("手机号或邮箱"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "email"}),
    )
    role = forms.ChoiceField(
        label=_("店内角色"),
        choices=[
            (ShopMembership.Role.STAFF, ShopMembership.Role.STAFF.label),
            (ShopMembership.Role.MANAGER, ShopMembership.Role.MANAGER.label),
        ],
        initial=ShopMembership.Role.STAFF,
    )

    error_fields = {
        "shop_member_not_found": "identifier",
        "shop_member_exists": "identifier",
        "invalid_shop_role": "role",
    }


class CreatorProfileForm(forms.Form):
    bio = forms.CharField(
        label=_("简介（中文）"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("纯文本，可以分段。会显示在您的创作者主页上。"),
    )
    bio_en = forms.CharField(
        label=_("简介（英文，可选）"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
