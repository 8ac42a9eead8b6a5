import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaji.settings")

from yaji.core.proxies import wsgi_application_build

# Django behind the fast path (ADR 0043): hot refusals registered by the apps are answered
# before Django; every other request goes to Django at the cost of one dict look-up. In front
# of both, the client's address behind trusted proxies (ADR 0062).
application = wsgi_application_build()
