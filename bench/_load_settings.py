"""Settings for bench/load.py's gunicorn and Celery processes: production settings plus the
bare baseline endpoints, mail written to files (to count what was sent) and a fast password
hasher (the bench signs 70 users in; what it measures is the load after that)."""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "_load_urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_FILE_PATH = os.environ["CONTINUUM_LOAD_MAIL_DIR"]
