from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "yaji.catalog"
    label = "catalog"
    verbose_name = _("店铺与商品")

    def ready(self) -> None:
        from yaji.catalog.page_cache import page_cache_signals_connect

        page_cache_signals_connect()
