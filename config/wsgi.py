"""The WSGI entry point (gunicorn ``config.wsgi:application``).

After Django has loaded every app, the objects made so far (modules, models, URL patterns,
serializer classes: about 70,000) live as long as the process. ``gc.freeze()`` moves them
out of the cyclic collector's reach, so a full collection during a request scans only what
later requests made: measured after one request, a full collection took 23 ms with them in
the heap and 7 ms frozen. With gunicorn's ``--preload`` the frozen objects also stay shared
between the workers instead of being copied when the collector touches them.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
gc.freeze()
