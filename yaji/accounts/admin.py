"""Operator views of identity data. Personal identifiers are only ever shown masked here;
roles are granted and revoked through the services, so the audit log sees every change."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yaji.accounts import selectors, services
from yaji.accounts.auth import request_ip
from yaji.accounts.identifiers import phone_index, phone_normalize
from yaji.accounts.models import (
    ApiToken,
    AuditEntry,
    Device,
    LoginEvent,
    RealNameVerification,
    Role,
    RoleAssignment,
    User,
)
from yaji.accounts.permissions import has_role
from yaji.core.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    fields = ("role", "scope", "granted_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("角色（在“角色”页授予或撤销）")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "display_name",
        "email_masked_col",
        "phone_masked_col",
        "kyc_col",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active", "is_staff", "language")
    search_fields = ("email", "display_name")
    fields = (
        "id",
        "email_masked_col",
        "phone_masked_col",
        "display_name",
        "language",
        "kyc_col",
        "is_minor_col",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "last_login",
        "created_at",
        "deleted_at",
    )
    readonly_fields = (
        "id",
        "email_masked_col",
        "phone_masked_col",
        "kyc_col",
        "is_minor_col",
        "last_login",
        "created_at",
        "deleted_at",
    )
    inlines = [RoleInline]
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people sign up on the site; staff accounts come from `yaji createsuperuser`

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # deletion is the PIPL erasure service, which keeps the row

    @admin.display(description=_("电子邮箱"))
    def email_masked_col(self, obj: User) -> str:
        return obj.email_masked

    @admin.display(description=_("手机号"))
    def phone_masked_col(self, obj: User) -> str:
        return obj.phone_masked

    @admin.display(description=_("实名"))
    def kyc_col(self, obj: User) -> str:
        summary = selectors.kyc_status(user=obj)
        return summary.status

    @admin.display(description=_("未成年"))
    def is_minor_col(self, obj: User) -> str:
        minor = obj.is_minor
        return "—" if minor is None else (_("是") if minor else _("否"))

    def get_search_results(self, request, queryset, search_term):  # type: ignore[no-untyped-def]
        phone = phone_normalize(search_term or "")
        if phone:  # the number is encrypted; look it up through its blind index
            return queryset.filter(phone_index=phone_index(phone)), False
        return super().get_search_results(request, queryset, search_term)


class RoleGrantForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "scope")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    form = RoleGrantForm
    list_display = ("id", "user", "role", "scope", "granted_by", "created_at")
    list_filter = ("role",)
    raw_id_fields = ("user",)
    search_fields = ("scope",)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return obj is None and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or has_role(request.user, Role.OPERATOR)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return request.user.is_superuser or has_role(request.user, Role.OPERATOR)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        try:
            granted = services.role_grant(
                actor=request.user,
                user=obj.user,
                role=obj.role,
                scope=obj.scope,
                ip=request_ip(request),
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
            return
        obj.pk = granted.pk

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        try:
            services.role_revoke(actor=request.user, assignment_id=obj.pk, ip=request_ip(request))
        except ApplicationError as exc:
            messages.error(request, str(exc.message))

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "action",
        "actor",
        "target_user",
        "target_type",
        "target_id",
        "ip",
    )
    list_filter = ("action",)
    search_fields = ("target_id", "target_type")
    date_hierarchy = "created_at"


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "label", "last_ip", "first_seen_at", "last_seen_at", "revoked_at")
    exclude = ("fingerprint", "session_key")
    raw_id_fields = ("user",)


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "user", "success", "reason", "ip", "device")
    list_filter = ("success", "reason")
    exclude = ("identifier_index",)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "user",
        "kind",
        "device",
        "created_at",
        "expires_at",
        "used_at",
        "revoked_at",
    )
    list_filter = ("kind",)
    exclude = ("token_hash",)


@admin.register(RealNameVerification)
class RealNameVerificationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "user",
        "name_masked",
        "id_masked",
        "status",
        "reason_code",
        "provider",
        "verified_at",
    )
    list_filter = ("status", "provider")
    fields = (
        "user",
        "name_masked",
        "id_masked",
        "birth_date",
        "status",
        "reason_code",
        "provider",
        "provider_ref",
        "verified_at",
        "face_verified_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("姓名"))
    def name_masked(self, obj: RealNameVerification) -> str:
        return obj.real_name_masked

    @admin.display(description=_("身份证号"))
    def id_masked(self, obj: RealNameVerification) -> str:
        return obj.id_number_masked
