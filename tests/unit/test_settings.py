"""Settings refuse what would silently do something else: misspelled variables, weak
keys, an admin scope open to anyone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from tabship.errors import SettingsError
from tabship.settings import Settings


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tabship", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_misspelled_variable_exits_non_zero_naming_the_right_one() -> None:
    done = _cli("models", "list", "credit_risk", TABSHIP_ONLNE="redis")
    assert done.returncode != 0
    assert "TABSHIP_ONLNE" in done.stderr
    assert "did you mean TABSHIP_ONLINE?" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_variables_are_refused_in_code_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABSHIP_HIDE_INPUTS", "true")
    with pytest.raises(SettingsError, match="did you mean TABSHIP_HIDE_INPUT_VALUES"):
        Settings()


@pytest.mark.parametrize("key", ["", "   ", "short", "changeme-changeme-changeme", "a" * 40])
def test_an_empty_or_placeholder_key_refuses_to_start(key: str) -> None:
    done = _cli("serve", "--port", "1", TABSHIP_API_KEY=key)
    assert done.returncode != 0
    assert "TABSHIP_API_KEY" in done.stderr
    assert key.strip() == "" or key not in done.stderr  # the key is never printed


def test_scoped_keys_are_checked_and_admin_is_never_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TABSHIP_API_KEYS", '[{"name": "dash", "key": "0123", "scopes": ["predict"]}]'
    )
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings()
    monkeypatch.delenv("TABSHIP_API_KEYS")
    with pytest.raises(ValidationError, match="admin cannot be open"):
        Settings(open_scopes=["predict", "admin"])
