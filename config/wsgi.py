import os

from django.core.wsgi import get_wsgi_application

from .startup import settle_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
settle_process()
