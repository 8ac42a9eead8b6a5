"""Admin for support staff: read-mostly views. Decisions go through the review pages, which
call the services (audit, roles, outbox)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
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
from yaji.core.errors import ApplicationError


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


class ShopActionForm(ActionForm):
    reason = forms.CharField(label=_("原因"), required=False, max_length=1000)


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "slug", "shop_type", "owner", "status", "created_at")
    list_filter = ("status", "shop_type")
    search_fields = ("name_zh", "name_en", "slug")
    # The status changes only through the services (audit entry, search index event).
    readonly_fields = ("owner", "slug", "status")
    inlines = (ShopMembershipInline,)
    action_form = ShopActionForm
    actions = ("suspend", "reinstate")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def _each(self, request, queryset, change) -> None:  # type: ignore[no-untyped-def]
        for shop_id in queryset.values_list("pk", flat=True):
            try:
                change(shop_id)
            except ApplicationError as exc:
                self.message_user(request, f"{shop_id}: {exc.message}", messages.ERROR)

    @admin.action(description=_("暂停所选店铺（填写原因）"))
    def suspend(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        reason = request.POST.get("reason", "")
        self._each(
            request,
            queryset,
            lambda pk: services.shop_suspend(reviewer=request.user, shop_id=pk, reason=reason),
        )

    @admin.action(description=_("恢复所选店铺"))
    def reinstate(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        self._each(
            request,
            queryset,
            lambda pk: services.shop_reinstate(reviewer=request.user, shop_id=pk),
        )


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
