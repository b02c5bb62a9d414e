"""API token authentication: django-rest-knox with device tokens that remember their last
use. The expiry is renewed on use (``AUTO_REFRESH``) and, with it, ``last_used_at``, in one
write at most once a minute per token (knox's ``MIN_REFRESH_INTERVAL``)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.settings import knox_settings
from knox.signals import token_expired


class DeviceTokenAuthentication(TokenAuthentication):
    def _cleanup_token(self, auth_token) -> bool:
        """Refuse (and delete) this token if it has expired. knox would also read every other
        token of the user on each request to delete theirs: one query more per request, so
        that is left to the daily purge (``accounts.device_tokens_purge``)."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False

    def renew_token(self, auth_token) -> None:
        now = timezone.now()
        new_expiry = now + knox_settings.TOKEN_TTL
        if (new_expiry - auth_token.expiry).total_seconds() > knox_settings.MIN_REFRESH_INTERVAL:
            auth_token.expiry = new_expiry
            auth_token.last_used_at = now
            auth_token.save(update_fields=("expiry", "last_used_at"))


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI description: ``Authorization: Token <token>``."""

    target_class = "services_directory.authentication.DeviceTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Token",  # noqa: S106 - the header scheme's name
        )
