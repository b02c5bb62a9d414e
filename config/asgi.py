"""The ASGI entry point; see ``config.wsgi`` for why the startup objects are frozen."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
gc.freeze()
