from django.contrib import admin

from yaji.community.models import PlaySession, Work


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "kind", "creator", "media_format", "duration_ms", "status")
    list_filter = ("kind", "status")
    search_fields = ("title",)
    raw_id_fields = ("creator",)


@admin.register(PlaySession)
class PlaySessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "work", "listened_ms", "completed_at", "issued_at")
    raw_id_fields = ("user", "work")
    readonly_fields = ("token_hash",)
