"""API token authentication: django-rest-knox with device tokens that remember their last
use. The expiry is renewed on use (``AUTO_REFRESH``) and, with it, ``last_used_at``, in one
write at most once a minute per token (knox's ``MIN_REFRESH_INTERVAL``)."""

from __future__ import annotations

from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.settings import knox_settings


class DeviceTokenAuthentication(TokenAuthentication):
    def renew_token(self, auth_token) -> None:
        now = timezone.now()
        new_expiry = now + knox_settings.TOKEN_TTL
        if (new_expiry - auth_token.expiry).total_seconds() > knox_settings.MIN_REFRESH_INTERVAL:
            auth_token.expiry = new_expiry
            auth_token.last_used_at = now
            auth_token.save(update_fields=("expiry", "last_used_at"))
