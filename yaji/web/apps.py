from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "yaji.web"
    label = "web"
    verbose_name = "Storefront"

    def ready(self) -> None:
        # Brand the operators' console once, on the default admin site every app registers
        # with. Lazy strings: each request renders them in its own language. The colours are
        # in templates/admin/base_site.html (this app is listed before django.contrib.admin).
        from django.contrib import admin

        admin.site.site_header = _("雅集运营后台 · Yaji Console")
        admin.site.site_title = _("雅集运营后台")
        admin.site.index_title = _("运营概览")
