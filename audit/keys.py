"""The keyring: encryption, signing and blind-index keys, each addressed by a key id.

Keys come from ``CONTINUUM_KEYS`` (JSON, production: environment or a secrets manager) or,
when that is unset, from a key file generated once with a logged warning (development).
They are never derived from ``SECRET_KEY``. Old keys stay in the ring so that data written
under them stays readable; ``current`` names the key new data is written with.

Format::

    {"version": 1,
     "encryption":  {"current": "enc-...", "keys": {"enc-...": "<base64 32 bytes>"}},
     "signing":     {"current": "sig-...", "keys": {"sig-...": "<base64 Ed25519 seed>"}},
     "blind_index": {"current": "bix-...", "keys": {"bix-...": "<base64 32 bytes>"}}}
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

PURPOSES = ("encryption", "signing", "blind_index")
_PREFIX = {"encryption": "enc", "signing": "sig", "blind_index": "bix"}


@dataclass(frozen=True)
class KeySet:
    current: str
    keys: dict[str, bytes]

    def get(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise ImproperlyConfigured(f"key {key_id!r} is not in the keyring") from None

    @property
    def current_key(self) -> bytes:
        return self.get(self.current)


@dataclass(frozen=True)
class Keyring:
    encryption: KeySet
    signing: KeySet
    blind_index: KeySet

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": 1,
                **{
                    purpose: {
                        "current": getattr(self, purpose).current,
                        "keys": {
                            kid: base64.b64encode(raw).decode()
                            for kid, raw in getattr(self, purpose).keys.items()
                        },
                    }
                    for purpose in PURPOSES
                },
            },
            indent=2,
            sort_keys=True,
        )


def new_key_id(purpose: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"{_PREFIX[purpose]}-{stamp}-{secrets.token_hex(3)}"


def generate_keyring() -> Keyring:
    return Keyring(
        **{
            purpose: KeySet(current=(kid := new_key_id(purpose)), keys={kid: os.urandom(32)})
            for purpose in PURPOSES
        }
    )


def parse_keyring(text: str, *, source: str) -> Keyring:
    try:
        data = json.loads(text)
        sets = {}
        for purpose in PURPOSES:
            entry = data[purpose]
            keys = {kid: base64.b64decode(raw, validate=True) for kid, raw in entry["keys"].items()}
            if entry["current"] not in keys:
                raise ValueError(f"{purpose}.current names no key")
            if any(len(raw) != 32 for raw in keys.values()):
                raise ValueError(f"{purpose} keys must be 32 bytes")
            sets[purpose] = KeySet(current=entry["current"], keys=keys)
    except (ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"{source} is not a valid Continuum keyring: {exc}") from exc
    return Keyring(**sets)


_lock = threading.Lock()
_cached: Keyring | None = None


def _key_file() -> Path:
    return Path(settings.CONTINUUM_KEY_FILE)


def write_key_file(keyring: Keyring, path: Path | None = None) -> Path:
    path = path or _key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(keyring.to_json())
    os.replace(tmp, path)
    return path


def keys_from_environment() -> bool:
    return bool(settings.CONTINUUM_KEYS)


def load_keyring() -> Keyring:
    if settings.CONTINUUM_KEYS:
        return parse_keyring(settings.CONTINUUM_KEYS, source="CONTINUUM_KEYS")
    path = _key_file()
    if not path.exists():
        if not settings.CONTINUUM_GENERATE_KEYS:
            raise ImproperlyConfigured(
                "CONTINUUM_KEYS is not set and generated keys are off (DJANGO_DEBUG is off): "
                "production keys must come from the environment (see README, Configuration)."
            )
        logger.warning(
            "CONTINUUM_KEYS is not set: generated development keys into %s. "
            "Do not use this for real data; set CONTINUUM_KEYS in production.",
            path,
        )
        # O_EXCL: two processes starting at once must not write two different keyrings.
        try:
            fd = os.open(path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            # Another process is writing it; a lock older than its write means it crashed.
            for _ in range(50):
                if path.exists():
                    break
                time.sleep(0.1)
            if not path.exists():
                write_key_file(generate_keyring(), path)
        else:
            os.close(fd)
            if not path.exists():
                write_key_file(generate_keyring(), path)
    return parse_keyring(path.read_text(), source=str(path))


def keyring() -> Keyring:
    """The process-wide keyring, loaded on first use."""
    global _cached
    if _cached is None:
        with _lock:
            if _cached is None:
                _cached = load_keyring()
    return _cached


def reset_keyring_cache() -> None:
    global _cached
    with _lock:
        _cached = None
