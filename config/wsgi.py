import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Import the URLconf, and with it every view module, as the process starts rather than on its first request
# (a sampled gunicorn worker spent about half a second there, in front of whichever request came first).
get_resolver().url_patterns
