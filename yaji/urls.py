from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path

from yaji.api.api import api_urls
from yaji.api.views import api_not_found
from yaji.core import views as core_views
from yaji.web import views as web_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    # Before the admin's own URLs, so signing out of the console is audited like the site.
    path("admin/logout/", web_views.admin_logout, name="admin_logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls()),
    re_path(r"^api/(?P<path>.*)$", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("yaji.catalog.urls")),
    path("", include("yaji.search.urls")),
    path("", include("yaji.moderation.urls")),
    path("", include("yaji.trade.urls")),
    path("", include("yaji.payments.urls")),
    path("", include("yaji.community.urls")),
    path("", include("yaji.copyright.urls")),
    path("", include("yaji.redpackets.urls")),
    path("", include("yaji.web.urls")),
]
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
