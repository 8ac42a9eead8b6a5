from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "yaji.search"
    label = "search"
    verbose_name = _("搜索")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from yaji.catalog.models import Category
        from yaji.search.selectors import categories_cache_clear
        from yaji.search.services import search_subscribers_register

        # Explicit registration (no discovery): catalog events keep the index current.
        search_subscribers_register()
        # The cached category tree (ADR 0056): cache invalidation is what signals are for here.
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(
                categories_cache_clear, sender=Category, dispatch_uid=f"search.categories.{name}"
            )
