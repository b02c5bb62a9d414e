"""Signing in through real HTTP (the live test server), the three ways a person can."""

from __future__ import annotations

import re

import requests

PASSWORD = "pw-for-tests-1"
WAYS_IN = ("web", "admin", "api")


def _form_sign_in(session: requests.Session, url: str, username: str, password: str, headers):
    page = session.get(url, headers=headers, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        url,
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        headers={"Referer": url, **headers},
        allow_redirects=False,
        timeout=30,
    )


def sign_in(
    base_url: str,
    way: str,
    username: str,
    password: str = PASSWORD,
    *,
    forwarded_for: str | None = None,
    extra: dict | None = None,
) -> requests.Response:
    """One sign-in attempt by a fresh client (no cookies kept between attempts)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    session = requests.Session()
    if way == "web":
        return _form_sign_in(session, f"{base_url}/accounts/login/", username, password, headers)
    if way == "admin":
        return _form_sign_in(session, f"{base_url}/admin/login/", username, password, headers)
    return session.post(
        f"{base_url}/api/v1/auth/token/",
        json={"username": username, "password": password, **(extra or {})},
        headers=headers,
        timeout=30,
    )


def signed_in(way: str, response: requests.Response) -> bool:
    """Whether the attempt let the person in (a redirect away from the form, or a token)."""
    if way == "api":
        return response.status_code == 200 and "token" in response.json()
    return response.status_code == 302
