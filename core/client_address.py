"""The real client address, for throttles, lockout and the audit trail.

``X-Forwarded-For`` is set by whoever sends the request, so it counts only when the request
came from a proxy the operator named in ``CONTINUUM_TRUSTED_PROXIES`` (addresses or CIDRs,
default none). The header is then read from the right: each hop added by a trusted proxy is
believed, and the first address a trusted proxy did not vouch for is the client. A client
that puts its own values in front of the header therefore changes nothing.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=8)
def _networks(names: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(name, strict=False) for name in names)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"CONTINUUM_TRUSTED_PROXIES must list addresses or CIDRs: {exc}"
        ) from exc


def trusted_proxy_networks() -> tuple[IPv4Network | IPv6Network, ...]:
    return _networks(tuple(getattr(settings, "CONTINUUM_TRUSTED_PROXIES", ()) or ()))


def _trusted(address: str, networks) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_ip(request) -> str:
    """The address of the client that sent ``request`` (a Django or DRF request)."""
    meta = getattr(request, "META", {})
    client = meta.get("REMOTE_ADDR", "") or ""
    networks = trusted_proxy_networks()
    if not networks or not _trusted(client, networks):
        return client
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _trusted(client, networks):
            break
        try:
            ip_address(hop)
        except ValueError:
            break  # a malformed hop: keep the last address a trusted proxy vouched for
        client = hop
    return client
