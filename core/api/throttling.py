"""DRF throttles keyed by the real client address (``core.client_address``), never by a
header the client chose."""

from __future__ import annotations

from rest_framework import throttling

from core.client_address import client_ip


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    def get_ident(self, request) -> str:
        return client_ip(request)
