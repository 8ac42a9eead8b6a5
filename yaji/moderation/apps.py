from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "yaji.moderation"
    label = "moderation"
    verbose_name = _("内容审核")

    def ready(self) -> None:
        # Rule edits (admin or services) invalidate the compiled matcher: a cache concern,
        # the one thing conventions allow signals for.
        from yaji.moderation import rules

        rules.connect_invalidation()
