"""Read-only operator views of the kernel tables, with a manual retry for dead events."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from yaji.core.models import IdempotencyRecord, OutboxEvent
from yaji.core.outbox import outbox_retry


class ReadOnlyAdmin(admin.ModelAdmin):
    """These rows are written by the platform only; editing them by hand breaks its guarantees."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "topic", "key", "status", "attempts", "available_at", "created_at")
    list_filter = ("status", "topic")
    search_fields = ("id", "topic", "key")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ["retry_now"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        # Retrying re-runs side effects (webhooks, e-mails): it needs the change permission
        # even though the rows themselves cannot be edited here.
        return request.user.has_perm("core.change_outboxevent")

    @admin.action(description="Retry now (dead or waiting events)", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        count = outbox_retry(event_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} event(s) queued for delivery now.", messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "scope", "method", "path", "state", "response_status", "created_at")
    list_filter = ("state", "method")
    search_fields = ("key", "scope", "path")
    ordering = ("-created_at",)
    exclude = ("response_body",)
    readonly_fields = ("response_preview",)

    @admin.display(description="response body")
    def response_preview(self, obj: IdempotencyRecord) -> str:
        return bytes(obj.response_body)[:2000].decode("utf-8", errors="replace")
