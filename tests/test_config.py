"""Settings and keys: production settings pass the deploy checks; keys never silently appear
in production; the development key file is made once."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit import keys

ROOT = Path(settings.BASE_DIR)


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CONTINUUM_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_env(tmp_path) -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "continuum.example.org",
        "CONTINUUM_KEYS": keys.generate_keyring().to_json(),
        "CONTINUUM_VAR_DIR": str(tmp_path),
        # Shared by every worker, so throttles count across them (continuum.W001 otherwise).
        "CACHE_URL": "redis://127.0.0.1:6379/1",
    }


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_warns_that_limits_are_per_worker_without_a_shared_cache(tmp_path):
    env = production_env(tmp_path)
    del env["CACHE_URL"]
    result = run_manage("check", "--deploy", env=env)
    assert "continuum.W001" in result.stdout + result.stderr
    assert "per worker" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_never_generates_keys(tmp_path, settings):
    settings.CONTINUUM_KEYS = ""
    settings.CONTINUUM_GENERATE_KEYS = False
    settings.CONTINUUM_KEY_FILE = tmp_path / "keys.json"
    with pytest.raises(ImproperlyConfigured, match="CONTINUUM_KEYS"):
        keys.load_keyring()
    assert not (tmp_path / "keys.json").exists()


def test_development_key_file_is_generated_once_and_kept(tmp_path, settings, caplog):
    settings.CONTINUUM_KEYS = ""
    settings.CONTINUUM_GENERATE_KEYS = True
    settings.CONTINUUM_KEY_FILE = tmp_path / "keys.json"
    first = keys.load_keyring()
    assert "CONTINUUM_KEYS is not set" in caplog.text
    assert oct((tmp_path / "keys.json").stat().st_mode & 0o777) == "0o600"
    second = keys.load_keyring()
    assert first == second
    assert first.encryption.current_key != first.blind_index.current_key


def test_keys_from_the_environment_win_over_the_file(tmp_path, settings):
    ring = keys.generate_keyring()
    settings.CONTINUUM_KEYS = ring.to_json()
    settings.CONTINUUM_KEY_FILE = tmp_path / "keys.json"
    assert keys.load_keyring() == ring
    assert not (tmp_path / "keys.json").exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.pop("signing"),
        lambda d: d["encryption"].update(current="missing"),
        lambda d: d["encryption"]["keys"].update({d["encryption"]["current"]: "c2hvcnQ="}),
    ],
)
def test_a_malformed_keyring_is_refused_with_a_reason(settings, mangle):
    data = json.loads(keys.generate_keyring().to_json())
    mangle(data)
    settings.CONTINUUM_KEYS = json.dumps(data)
    with pytest.raises(ImproperlyConfigured, match="not a valid Continuum keyring"):
        keys.load_keyring()


def test_only_the_tests_use_a_fast_password_hasher(tmp_path):
    """``tests/conftest.py`` swaps in MD5 for speed; a real deployment keeps Django's
    PBKDF2 default."""
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])",
        env=production_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    )
