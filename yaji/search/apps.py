from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "yaji.search"
    label = "search"
    verbose_name = _("搜索")

    def ready(self) -> None:
        from yaji.search.services import search_subscribers_register

        # Explicit registration (no discovery): catalog events keep the index current.
        search_subscribers_register()
