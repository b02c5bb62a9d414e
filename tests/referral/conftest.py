"""Referral tests each run with a keyring of their own."""

from __future__ import annotations

import pytest

from audit.keys import generate_keyring, reset_keyring_cache, write_key_file


@pytest.fixture(autouse=True)
def test_keyring(settings, tmp_path):
    """A keyring of the test's own, in a temporary key file: a key rotation or an erasure in
    one test never reaches another. Yields the key file."""
    settings.CONTINUUM_KEYS = ""
    settings.CONTINUUM_KEY_FILE = tmp_path / "keys.json"
    write_key_file(generate_keyring(), settings.CONTINUUM_KEY_FILE)
    reset_keyring_cache()
    yield settings.CONTINUUM_KEY_FILE
    reset_keyring_cache()
