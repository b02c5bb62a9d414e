"""What the debug error page and error e-mails may show of settings and the environment.

Django hides settings and request META entries whose names match ``API|TOKEN|KEY|SECRET|
PASS|SIGNATURE|HTTP_COOKIE``. Ours also carry credentials in URLs (``DATABASE_URL``,
``CELERY_BROKER_URL``, ``CACHE_URL``, the result backend) and in ``DATABASES``, parsed
from ``DATABASE_URL``: any name with DATABASE, BROKER, BACKEND, CACHE, DSN or URL in it
is hidden too, in settings and in the environment the development server passes as META.
"""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class ReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE|BROKER|BACKEND|CACHE|DSN|URL",
        flags=re.IGNORECASE,
    )
