"""Admin for support staff: read-mostly views. Decisions go through the review pages, which
call the services (audit, roles, outbox)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yaji.catalog import services
from yaji.catalog.models import (
    CreatorProfile,
    DownloadGrant,
    Shop,
    ShopApplication,
    ShopDocument,
    ShopMembership,
)


class ShopDocumentInline(admin.TabularInline):
    model = ShopDocument
    extra = 0
    can_delete = False
    fields = ("original_name", "content_type", "size", "sha256", "created_at")
    readonly_fields = fields


@admin.register(ShopApplication)
class ShopApplicationAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "slug", "shop_type", "applicant", "status", "created_at")
    list_filter = ("status", "shop_type")
    search_fields = ("name_zh", "name_en", "slug")
    readonly_fields = ("applicant", "status", "reviewed_by", "reviewed_at", "reject_reason", "shop")
    inlines = (ShopDocumentInline,)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False


class ShopMembershipInline(admin.TabularInline):
    model = ShopMembership
    extra = 0
    fields = ("user", "role", "added_by", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "slug", "shop_type", "owner", "status", "created_at")
    list_filter = ("status", "shop_type")
    search_fields = ("name_zh", "name_en", "slug")
    readonly_fields = ("owner", "slug")
    inlines = (ShopMembershipInline,)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(CreatorProfile)
class CreatorProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "updated_at")
    raw_id_fields = ("user",)


@admin.register(DownloadGrant)
class DownloadGrantAdmin(admin.ModelAdmin):
    """Issued download links (ADR 0016): support can see their use and revoke a leaked one."""

    list_display = (
        "id",
        "product",
        "user",
        "expires_at",
        "download_count",
        "max_downloads",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    raw_id_fields = ("product", "user")
    readonly_fields = (
        "product",
        "user",
        "file_sha256",
        "ttl_seconds",
        "expires_at",
        "max_downloads",
        "download_count",
        "last_downloaded_at",
        "revoked_at",
    )
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    @admin.action(description=_("吊销所选下载链接"))
    def revoke(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        for grant_id in queryset.values_list("pk", flat=True):
            services.digital_download_revoke(actor=request.user, grant_id=grant_id)
