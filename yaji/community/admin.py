from django.contrib import admin

from yaji.community.models import Comment, PlaySession, Post, Share, Topic, Work


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


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "status", "like_count", "comment_count", "created_at")
    list_filter = ("status",)
    search_fields = ("text",)
    raw_id_fields = ("author", "works", "products", "topics")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "post", "author", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("post", "author", "parent", "root")


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name",)
    raw_id_fields = ("created_by",)


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = ("code", "post", "sharer", "channel", "opened_count", "created_at")
    search_fields = ("code",)
    raw_id_fields = ("post", "sharer")
