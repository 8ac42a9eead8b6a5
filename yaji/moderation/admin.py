"""Admin for operators: the word lists and the image hash blocklist are edited here (every
save rebuilds the cached matcher); items, reports, appeals and the log are read-only — review
decisions go through the queue page, which calls the services (log, outbox)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yaji.moderation.image_hashes import UnreadableImage, dhash_hex, sha256_hex
from yaji.moderation.models import (
    Appeal,
    ImageHashRule,
    LogEntry,
    ModerationItem,
    Report,
    WordRule,
)
from yaji.moderation.normalize import normalize_text

MAX_RULE_IMAGE_BYTES = 20 * 1024 * 1024


class WordRuleForm(forms.ModelForm):
    class Meta:
        model = WordRule
        fields = ("word", "category", "action", "is_active", "note")

    def clean_word(self) -> str:
        word = self.cleaned_data["word"].strip()
        if not normalize_text(word):
            raise forms.ValidationError(_("词语至少要包含一个文字或数字。"))
        return word


@admin.register(WordRule)
class WordRuleAdmin(admin.ModelAdmin):
    form = WordRuleForm
    list_display = ("word", "normalized", "category", "action", "is_active", "updated_at")
    list_editable = ("category", "action", "is_active")
    list_filter = ("category", "action", "is_active")
    search_fields = ("word", "note")

    @admin.display(description=_("规范化形式"))
    def normalized(self, obj: WordRule) -> str:
        return normalize_text(obj.word)


class ImageHashRuleForm(forms.ModelForm):
    image = forms.FileField(
        label=_("图片"),
        required=False,
        help_text=_("上传图片即可自动计算所选算法的哈希值；也可以直接填写哈希值。"),
    )

    class Meta:
        model = ImageHashRule
        fields = ("algorithm", "image", "value", "action", "label", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        algorithm = data.get("algorithm")
        image = data.get("image")
        value = (data.get("value") or "").strip().lower()
        if image:
            if image.size > MAX_RULE_IMAGE_BYTES:
                raise forms.ValidationError(_("图片太大。"))
            raw = image.read()
            if algorithm == ImageHashRule.Algorithm.SHA256:
                value = sha256_hex(raw)
            else:
                try:
                    value = dhash_hex(raw)
                except UnreadableImage:
                    self.add_error("image", _("无法识别这张图片。"))
                    return data
        expected = 64 if algorithm == ImageHashRule.Algorithm.SHA256 else 16
        if not re.fullmatch(rf"[0-9a-f]{{{expected}}}", value):
            self.add_error(
                "value",
                _("请上传图片，或填写 %(n)d 位十六进制哈希值。") % {"n": expected},
            )
        data["value"] = value
        self.instance.value = value
        return data


@admin.register(ImageHashRule)
class ImageHashRuleAdmin(admin.ModelAdmin):
    form = ImageHashRuleForm
    list_display = ("label", "algorithm", "short_value", "action", "is_active", "created_at")
    list_filter = ("algorithm", "action", "is_active")
    search_fields = ("label", "value")

    @admin.display(description=_("哈希值"))
    def short_value(self, obj: ImageHashRule) -> str:
        return obj.value[:16]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ReportInline(admin.TabularInline):
    model = Report
    extra = 0
    can_delete = False
    fields = ("reporter", "reason", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class LogInline(admin.TabularInline):
    model = LogEntry
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "actor", "from_status", "to_status", "reason")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ModerationItem)
class ModerationItemAdmin(ReadOnlyAdmin):
    list_display = ("kind", "object_id", "status", "pending_review", "sla_due_at", "author")
    list_filter = ("status", "pending_review", "queue_reason", "kind")
    search_fields = ("excerpt", "kind")
    inlines = (ReportInline, LogInline)
    list_select_related = ("author",)


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("item", "author", "state", "created_at")
    list_filter = ("state",)
    list_select_related = ("item", "author")


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "item", "action", "actor", "from_status", "to_status", "reason")
    list_filter = ("action", "to_status")
    list_select_related = ("item", "actor")
