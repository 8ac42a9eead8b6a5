import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaji.settings")

from yaji.core.fastpath import fastpath_wrap

# Django behind the fast path (ADR 0043): hot refusals registered by the apps are answered
# before Django; every other request goes to Django at the cost of one dict look-up.
application = fastpath_wrap(get_wsgi_application())
