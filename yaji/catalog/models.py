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
