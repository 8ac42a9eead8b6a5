"""Shops, their onboarding applications and staff, and creators' public profiles.

Products (later) reference :class:`Shop`; a shop exists only once a reviewer approved the
application that asked for it.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yaji.catalog.uploads import private_storage_get

# A shop's address in /shops/<slug>/: lowercase letters, digits and single hyphens, 3–40 long.
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")


class ShopType(models.TextChoices):
    CREATOR = "creator", _("个人创作者")
    STUDIO = "studio", _("工作室")
    BRAND = "brand", _("品牌")
    MUSEUM = "museum", _("博物馆")
    HERITAGE_WORKSHOP = "heritage_workshop", _("非遗工坊")


class ShopProfileFields(models.Model):
    """What a shop shows the public; asked for in the application, copied on approval."""

    name_zh = models.CharField(_("店铺名称（中文）"), max_length=60)
    name_en = models.CharField(_("店铺名称（英文）"), max_length=80, blank=True)
    slug = models.SlugField(_("店铺地址"), max_length=40)
    shop_type = models.CharField(_("店铺类型"), max_length=20, choices=ShopType.choices)
    story_zh = models.TextField(_("店铺故事（中文）"), max_length=4000, blank=True)
    story_en = models.TextField(_("店铺故事（英文）"), max_length=4000, blank=True)
    region = models.CharField(_("所在地区"), max_length=60, blank=True)
    logo = models.FileField(_("店铺标志"), upload_to="shops/logos/", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ShopApplication(ShopProfileFields):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("审核中")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shop_applications"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED
    )
    reject_reason = models.TextField(_("驳回原因"), max_length=1000, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    shop = models.OneToOneField(
        "Shop", null=True, blank=True, on_delete=models.SET_NULL, related_name="application"
    )

    class Meta:
        verbose_name = _("开店申请")
        verbose_name_plural = _("开店申请")
        ordering = ["created_at", "id"]
        constraints = [
            # One open application per person; one open claim on each slug.
            models.UniqueConstraint(
                fields=["applicant"],
                condition=Q(status="submitted"),
                name="shop_application_one_open",
            ),
            models.UniqueConstraint(
                fields=["slug"], condition=Q(status="submitted"), name="shop_application_open_slug"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""),
                name="shop_application_rejected_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="shop_app_queue_idx")]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.get_status_display()})"


class ShopDocument(models.Model):
    """A qualification document (licence, ID, heritage certificate); never public."""

    application = models.ForeignKey(
        ShopApplication, on_delete=models.CASCADE, related_name="documents"
    )
    file = models.FileField(
        storage=private_storage_get, upload_to="shops/documents/", max_length=200
    )
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("资质文件")
        verbose_name_plural = _("资质文件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class Shop(ShopProfileFields):
    class Status(models.TextChoices):
        ACTIVE = "active", _("营业中")
        SUSPENDED = "suspended", _("已暂停")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_shops"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )

    class Meta:
        verbose_name = _("店铺")
        verbose_name_plural = _("店铺")
        constraints = [models.UniqueConstraint(fields=["slug"], name="shop_slug_uniq")]
        indexes = [models.Index(fields=["status", "-id"], name="shop_status_id_idx")]

    def __str__(self) -> str:
        return self.name_zh

    @property
    def role_scope(self) -> str:
        """The accounts role scope of this shop's staff (``merchant_staff`` in ``shop:<id>``)."""
        return f"shop:{self.pk}"


class ShopMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("店主")
        MANAGER = "manager", _("店长")
        STAFF = "staff", _("店员")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shop_memberships"
    )
    role = models.CharField(_("店内角色"), max_length=10, choices=Role.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("店铺成员")
        verbose_name_plural = _("店铺成员")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="shop_membership_uniq"),
            models.UniqueConstraint(
                fields=["shop"], condition=Q(role="owner"), name="shop_membership_one_owner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.shop}"


class CreatorProfile(models.Model):
    """What a creator tells the public about themselves (the account stays in accounts)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creator_profile"
    )
    bio = models.TextField(_("简介（中文）"), max_length=2000, blank=True)
    bio_en = models.TextField(_("简介（英文）"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("创作者资料")
        verbose_name_plural = _("创作者资料")

    def __str__(self) -> str:
        return str(self.user)


# --- products -----------------------------------------------------------------------------------


class Category(models.Model):
    """A node of the category tree (top level: ``parent`` is None)."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    slug = models.SlugField(_("分类地址"), max_length=60, unique=True)
    name_zh = models.CharField(_("分类名称（中文）"), max_length=40)
    name_en = models.CharField(_("分类名称（英文）"), max_length=60, blank=True)
    position = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("商品分类")
        verbose_name_plural = _("商品分类")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name_zh


class AttributeKind(models.TextChoices):
    ERA = "era", _("年代")
    CRAFT = "craft", _("工艺")
    REGION = "region", _("地域")
    MATERIAL = "material", _("材质")
    SERIES = "series", _("IP / 系列")
    MUSEUM = "museum", _("博物馆")


class Attribute(models.Model):
    """One value of a typed cultural attribute (宋代 is an ``era``, 苏绣 a ``craft``)."""

    kind = models.CharField(_("属性类型"), max_length=12, choices=AttributeKind.choices)
    value_zh = models.CharField(_("属性值（中文）"), max_length=40)
    value_en = models.CharField(_("属性值（英文）"), max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("文化属性")
        verbose_name_plural = _("文化属性")
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value_zh"], name="attribute_kind_value_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value_zh}"


class Tag(models.Model):
    name = models.CharField(_("标签"), max_length=30, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProhibitedWord(models.Model):
    """A word the listing pre-check refuses (besides ``YAJI_PROHIBITED_WORDS``); edit in admin."""

    word = models.CharField(_("违禁词"), max_length=40, unique=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("违禁词")
        verbose_name_plural = _("违禁词")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class ProductKind(models.TextChoices):
    STANDARD = "standard", _("普通商品")
    LIMITED_EDITION = "limited_edition", _("限量编号")
    MADE_TO_ORDER = "made_to_order", _("定制")
    DIGITAL_DOWNLOAD = "digital_download", _("数字下载")
    COURSE = "course", _("课程 / 服务")
    BUNDLE = "bundle", _("组合套装")


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    IN_REVIEW = "in_review", _("审核中")
    LISTED = "listed", _("已上架")
    REJECTED = "rejected", _("未通过")
    DELISTED = "delisted", _("已下架")


class Product(models.Model):
    Kind = ProductKind
    Status = ProductStatus

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="products")
    kind = models.CharField(
        _("商品类型"), max_length=20, choices=ProductKind.choices, default=ProductKind.STANDARD
    )
    title_zh = models.CharField(_("标题（中文）"), max_length=80)
    title_en = models.CharField(_("标题（英文）"), max_length=120, blank=True)
    # Plain text; paragraphs are blank lines. Rendered escaped (|linebreaks), never as HTML.
    story_zh = models.TextField(_("作品故事（中文）"), max_length=8000, blank=True)
    story_en = models.TextField(_("作品故事（英文）"), max_length=8000, blank=True)
    designer_notes = models.TextField(_("设计师手记"), max_length=4000, blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    attributes = models.ManyToManyField(Attribute, blank=True, related_name="products")
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")
    edition_size = models.PositiveIntegerField(_("限量数量"), null=True, blank=True)
    per_buyer_limit = models.PositiveIntegerField(_("每人限购"), null=True, blank=True)
    lead_time_days = models.PositiveIntegerField(_("制作周期（天）"), null=True, blank=True)
    # A course or service: how long one session lasts, and where (or online). Sessions are the
    # variants (their ``starts_at``), each with its capacity as stock.
    duration_minutes = models.PositiveIntegerField(_("时长（分钟）"), null=True, blank=True)
    location = models.CharField(_("地点"), max_length=120, blank=True, default="")
    online = models.BooleanField(_("线上"), default=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    reject_reason = models.TextField(_("驳回原因"), max_length=1000, blank=True)
    # Set while a pre-check holds the product in review (see yaji/catalog/prechecks.py): the
    # check's name and its reason; a reviewer cannot approve until that check's app decides.
    hold_check = models.CharField(_("暂缓审核的检查"), max_length=40, blank=True, default="")
    hold_reason = models.TextField(_("暂缓原因"), max_length=1000, blank=True, default="")
    held_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    listed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""),
                name="product_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind="limited_edition") | Q(edition_size__gt=0, per_buyer_limit__gt=0),
                name="product_limited_edition_sizes",
            ),
            models.CheckConstraint(
                condition=~Q(kind="made_to_order") | Q(lead_time_days__gt=0),
                name="product_made_to_order_lead_time",
            ),
            models.CheckConstraint(
                condition=Q(hold_check="") | Q(status="in_review"),
                name="product_hold_only_in_review",
            ),
            models.CheckConstraint(
                condition=~Q(kind="course")
                | (Q(duration_minutes__gt=0) & (Q(online=True) | ~Q(location=""))),
                name="product_course_duration_place",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-id"], name="product_status_id_idx"),
            models.Index(fields=["shop", "status", "-id"], name="product_shop_status_idx"),
            models.Index(fields=["category", "status", "-id"], name="product_cat_status_idx"),
            models.Index(fields=["status", "submitted_at"], name="product_queue_idx"),
        ]

    def __str__(self) -> str:
        return self.title_zh


class Variant(models.Model):
    """A SKU: option values such as ``{"颜色": "青"}``, a price in fen, stock and weight."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(_("SKU 编码"), max_length=40)
    options = models.JSONField(_("规格"), default=dict, blank=True)
    price_fen = models.BigIntegerField(_("价格（分）"))
    stock = models.IntegerField(_("库存"), default=0)
    weight_g = models.PositiveIntegerField(_("重量（克）"), default=0)
    # A course's session: when it starts (its stock is the number of places left).
    starts_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("规格")
        verbose_name_plural = _("规格")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "sku"], name="variant_product_sku_uniq"),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="variant_price_positive"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="variant_stock_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}/{self.sku}"


class CustomisationOption(models.Model):
    """What a buyer may ask of a made-to-order piece: engraved text, or one of some choices."""

    class Kind(models.TextChoices):
        ENGRAVING = "engraving", _("刻字")
        CHOICE = "choice", _("选项")

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="customisation_options"
    )
    kind = models.CharField(_("定制类型"), max_length=12, choices=Kind.choices)
    label_zh = models.CharField(_("名称（中文）"), max_length=40)
    label_en = models.CharField(_("名称（英文）"), max_length=60, blank=True)
    max_length = models.PositiveIntegerField(_("最多字数"), null=True, blank=True)
    # [{"value_zh": "紫檀", "value_en": "Rosewood", "price_delta_fen": 2000}, ...]
    choices = models.JSONField(_("可选项"), default=list, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("定制选项")
        verbose_name_plural = _("定制选项")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="engraving") | Q(max_length__gt=0),
                name="customisation_engraving_max_length",
            )
        ]

    def __str__(self) -> str:
        return self.label_zh


class ProductImage(models.Model):
    """A gallery image, re-encoded (metadata stripped) with 400 px and 1200 px thumbnails."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to="products/", max_length=200)
    thumb_400 = models.FileField(upload_to="products/", max_length=200)
    thumb_1200 = models.FileField(upload_to="products/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    alt = models.CharField(_("图片说明"), max_length=120, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("商品图片")
        verbose_name_plural = _("商品图片")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.product_id}#{self.pk}"


class BundleItem(models.Model):
    """One component of a bundle: ``quantity`` units of another listed product's variant."""

    bundle = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="bundle_items")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("数量"))
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("套装内容")
        verbose_name_plural = _("套装内容")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "variant"], name="bundle_item_uniq"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bundle_item_quantity_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.bundle_id} ⊃ {self.variant_id} × {self.quantity}"


class MediaFileFields(models.Model):
    """A checked upload: random storage name, the type its bytes proved, size and digest."""

    content_type = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ProductVideo(MediaFileFields):
    """The optional product video (MP4 or WebM), served like the images (ADR 0016)."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="video")
    file = models.FileField(upload_to="products/", max_length=200)

    class Meta:
        verbose_name = _("商品视频")
        verbose_name_plural = _("商品视频")

    def __str__(self) -> str:
        return f"{self.product_id}: {self.original_name or self.file.name}"


class ProductModel3D(MediaFileFields):
    """The optional 3D model (glTF 2.0: ``.glb`` or self-contained ``.gltf``) for the viewer."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="model_3d")
    file = models.FileField(upload_to="products/", max_length=200)

    class Meta:
        verbose_name = _("3D 模型")
        verbose_name_plural = _("3D 模型")

    def __str__(self) -> str:
        return f"{self.product_id}: {self.original_name or self.file.name}"


class DigitalFile(MediaFileFields):
    """What a digital-download product delivers: kept in private storage, never public."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="digital_file")
    file = models.FileField(storage=private_storage_get, upload_to="downloads/", max_length=200)

    class Meta:
        verbose_name = _("数字商品文件")
        verbose_name_plural = _("数字商品文件")

    def __str__(self) -> str:
        return f"{self.product_id}: {self.original_name or self.file.name}"


class DownloadGrant(models.Model):
    """One issued download link: who it was for, until when, how often it was used."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="download_grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="download_grants"
    )
    # The file the link was issued for: a replaced file does not leak through an old link.
    file_sha256 = models.CharField(max_length=64)
    ttl_seconds = models.PositiveIntegerField()
    expires_at = models.DateTimeField()
    max_downloads = models.PositiveIntegerField(null=True, blank=True)
    download_count = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("下载授权")
        verbose_name_plural = _("下载授权")
        indexes = [models.Index(fields=["user", "product"], name="download_grant_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_downloads__isnull=True)
                | Q(download_count__lte=models.F("max_downloads")),
                name="download_grant_count_within_max",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.user_id}"


class PageVersion(models.Model):
    """A counter bumped after every committed change that public pages show (ADR 0037): the
    cached pages of visitors without a session are keyed by the counters they depend on, so a
    bump retires them at once in every process. Names: ``catalog`` (shops, categories,
    attribute names: everything), ``lists`` (list and category pages, the search index),
    ``product:<id>`` (one product page)."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "catalog_page_version"

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
