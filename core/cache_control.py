"""``Cache-Control: no-store, private`` on every answer that may carry a person.

Every API answer (identity, pseudonyms, reasons, notes: deciding per endpoint would be one
more place to get wrong) and every page shown to a signed-in user (the referral pages, the
board, agendas, exports carry pseudonyms and reasons). A shared patrol-car laptop's browser
cache or a proxy must keep none of them. Static files and the sign-in page are left to their
own headers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

_PAGE_TYPES = ("text/html", "text/csv", "application/json", "application/fhir+json")


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/") or (
            getattr(request, "user", None) is not None
            and request.user.is_authenticated
            and response.get("Content-Type", "").startswith(_PAGE_TYPES)
        ):
            # Merged with what the view set (``never_cache`` adds max-age=0 and no-cache);
            # ``private`` drops a ``public``.
            patch_cache_control(response, no_store=True, private=True)
        return response
