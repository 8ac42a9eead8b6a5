"""Site forms of the catalog: input shape only. Services decide; their ApplicationErrors come
back here as form errors on the field they concern."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from yaji.catalog.models import (
    Attribute,
    Category,
    CustomisationOption,
    ProductKind,
    ShopMembership,
    ShopType,
)
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


# --- products -----------------------------------------------------------------------------------


def _pairs(text: str, *, sep: str = "=") -> list[tuple[str, str]]:
    """``颜色=青`` lines (or ``;``-separated) as pairs; a line without ``=`` is an error."""
    pairs = []
    for part in (text or "").replace(";", "\n").replace("；", "\n").splitlines():
        part = part.strip()
        if not part:
            continue
        key, found, value = part.partition(sep)
        if not found:
            part = part.replace("＝", "=")
            key, found, value = part.partition(sep)
        if not found or not key.strip() or not value.strip():
            raise forms.ValidationError(_("每行写成「名称=值」。"))
        pairs.append((key.strip(), value.strip()))
    return pairs


class ProductForm(ServiceErrorsMixin, forms.Form):
    title_zh = forms.CharField(label=_("标题（中文）"), max_length=80)
    title_en = forms.CharField(label=_("标题（英文，可选）"), max_length=120, required=False)
    kind = forms.ChoiceField(label=_("商品类型"), choices=ProductKind.choices)
    category = forms.ChoiceField(label=_("分类"), required=False)
    attribute_ids = forms.MultipleChoiceField(
        label=_("文化属性"), required=False, widget=forms.CheckboxSelectMultiple
    )
    tags = forms.CharField(
        label=_("标签"),
        max_length=400,
        required=False,
        help_text=_("用逗号分隔，例如：宋韵, 书房, 送礼"),
    )
    story_zh = forms.CharField(
        label=_("作品故事（中文）"),
        max_length=8000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("纯文本，空一行分段。"),
    )
    story_en = forms.CharField(
        label=_("作品故事（英文，可选）"),
        max_length=8000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    designer_notes = forms.CharField(
        label=_("设计师手记"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    edition_size = forms.IntegerField(label=_("限量数量"), min_value=1, required=False)
    per_buyer_limit = forms.IntegerField(label=_("每人限购"), min_value=1, required=False)
    lead_time_days = forms.IntegerField(
        label=_("制作周期（天）"), min_value=1, max_value=365, required=False
    )
    duration_minutes = forms.IntegerField(
        label=_("每场时长（分钟）"),
        min_value=1,
        max_value=7 * 24 * 60,
        required=False,
        help_text=_("课程 / 服务填写；场次和名额在「规格」里添加。"),
    )
    location = forms.CharField(
        label=_("地点"),
        max_length=120,
        required=False,
        help_text=_("线下课程的地址；线上课程可留空。"),
    )
    online = forms.BooleanField(label=_("线上进行"), required=False)

    error_fields = {
        "unknown_category": "category",
        "unknown_attribute": "attribute_ids",
        "invalid_product_kind": "kind",
        "too_many_tags": "tags",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [
            (c.slug, c.name_zh) for c in Category.objects.order_by("position", "id")
        ]
        self.fields["attribute_ids"].choices = [
            (str(a.pk), f"{a.get_kind_display()} · {a.value_zh}")
            for a in Attribute.objects.order_by("kind", "id")
        ]

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data["tags"].replace("，", ",")
        return [tag.strip() for tag in raw.split(",") if tag.strip()]

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["category_slug"] = data.pop("category") or ""
        data["attribute_ids"] = [int(pk) for pk in data["attribute_ids"]]
        return data


class VariantForm(ServiceErrorsMixin, forms.Form):
    sku = forms.CharField(label=_("SKU 编码"), max_length=40)
    starts_at = forms.DateTimeField(
        label=_("开始时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("课程 / 服务的场次时间；库存即名额。"),
    )
    price = forms.CharField(label=_("价格（元）"), max_length=16, help_text=_("例如 168.00"))
    stock = forms.IntegerField(label=_("库存"))
    weight_g = forms.IntegerField(label=_("重量（克）"), min_value=0, required=False)
    options = forms.CharField(
        label=_("规格"),
        max_length=200,
        required=False,
        help_text=_("例如：颜色=青; 尺寸=大"),
    )

    error_fields = {
        "invalid_price": "price",
        "invalid_amount": "price",
        "invalid_stock": "stock",
        "invalid_sku": "sku",
        "invalid_variant_options": "options",
        "invalid_session": "starts_at",
        "edition_stock_exceeded": "stock",
        "bundle_single_variant": "sku",
    }

    def clean_options(self) -> dict[str, str]:
        return dict(_pairs(self.cleaned_data["options"]))

    def clean_price(self) -> int:
        from yaji.core.errors import InvalidAmount
        from yaji.core.money import Money

        try:
            return Money.parse(self.cleaned_data["price"].strip(), "CNY").amount
        except InvalidAmount as exc:
            raise forms.ValidationError(_("请填写金额，例如 168.00。")) from exc


class ProductImageForm(ServiceErrorsMixin, forms.Form):
    image = forms.FileField(
        label=_("商品图片"),
        help_text=_("JPEG、PNG 或 WebP，不超过 8 MB；会自动去除拍摄信息并生成缩略图。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    alt = forms.CharField(label=_("图片说明（可选）"), max_length=120, required=False)

    error_fields = {
        "invalid_image": "image",
        "image_too_large": "image",
        "too_many_images": "image",
    }


class CustomisationForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("定制类型"), choices=CustomisationOption.Kind.choices)
    label_zh = forms.CharField(label=_("名称（中文）"), max_length=40)
    label_en = forms.CharField(label=_("名称（英文，可选）"), max_length=60, required=False)
    max_length = forms.IntegerField(label=_("最多字数"), min_value=1, max_value=200, required=False)
    choices = forms.CharField(
        label=_("可选项"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一项：名称=加价（元），例如：紫檀=20.00"),
    )
    required = forms.BooleanField(label=_("必填"), required=False)

    error_fields = {"invalid_customisation": "choices", "invalid_price": "choices"}

    def clean_choices(self) -> list[dict[str, object]]:
        from yaji.core.errors import InvalidAmount
        from yaji.core.money import Money

        result: list[dict[str, object]] = []
        for name, delta in _pairs(self.cleaned_data["choices"]):
            try:
                fen = Money.parse(delta, "CNY").amount
            except InvalidAmount as exc:
                raise forms.ValidationError(_("加价请写金额，例如 20.00。")) from exc
            result.append({"value_zh": name, "value_en": "", "price_delta_fen": fen})
        return result


class BundleItemForm(ServiceErrorsMixin, forms.Form):
    variant_id = forms.TypedChoiceField(label=_("商品规格"), coerce=int)
    quantity = forms.IntegerField(
        label=_("数量"), min_value=0, max_value=99, help_text=_("填 0 即从套装中移除。")
    )

    error_fields = {"invalid_bundle_item": "variant_id"}

    def __init__(self, *args: Any, variants: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant_id"].choices = [
            (
                v.pk,
                f"{v.product.title_zh} · {v.sku}"
                + (
                    f" ({'; '.join(f'{k}={x}' for k, x in v.options.items())})" if v.options else ""
                ),
            )
            for v in variants
        ]


class VideoForm(ServiceErrorsMixin, forms.Form):
    video = forms.FileField(
        label=_("商品视频"),
        help_text=_("MP4 或 WebM，不超过 50 MB。"),
        widget=forms.ClearableFileInput(attrs={"accept": "video/mp4,video/webm"}),
    )

    error_fields = {"invalid_video": "video", "video_too_large": "video"}


class Model3DForm(ServiceErrorsMixin, forms.Form):
    model = forms.FileField(
        label=_("3D 模型"),
        help_text=_(
            "glTF 2.0：.glb，或资源全部内嵌的 .gltf，不超过 30 MB；单位为米，买家可在手机上按真实尺寸摆进房间。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".glb,.gltf,model/gltf-binary"}),
    )

    error_fields = {"invalid_model": "model", "model_too_large": "model"}


class DigitalFileForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(
        label=_("交付文件"),
        help_text=_(
            "PDF、ZIP、EPUB、图片、MP3、MP4 或 WebM，不超过 200 MB；只有付款的买家能通过有时效的链接下载。"
        ),
    )

    error_fields = {
        "invalid_download_file": "file",
        "download_file_too_large": "file",
        "not_digital_product": "file",
    }
