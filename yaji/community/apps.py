from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "yaji.community"
    verbose_name = _("社区")

    def ready(self) -> None:
        from yaji.community.services import on_moderation_decided
        from yaji.core.outbox import outbox_subscribe

        # A reviewer's decision on a held post or comment (published by yaji.moderation).
        outbox_subscribe(
            topic="moderation.decided",
            name="community.moderation_decided",
            handler=on_moderation_decided,
        )
