"""One typed settings object for the whole toolkit (env prefix ``TABSHIP_``).

Built once by the CLI (or a test) and passed down; nothing reads the environment
behind the caller's back.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tabship.errors import SettingsError

EngineName = Literal["duckdb", "spark"]
OnlineName = Literal["sqlite", "redis"]
Scope = Literal["features", "predict", "models", "admin"]
SCOPES: tuple[Scope, ...] = ("features", "predict", "models", "admin")
PREFIX = "TABSHIP_"
MIN_KEY_CHARS = 16
_PLACEHOLDERS = (
    "changeme",
    "change-me",
    "change_me",
    "replace",
    "secret",
    "password",
    "example",
    "placeholder",
    "your-key",
    "xxx",
    "todo",
    "<",
    "...",
)


def check_key(key: str, what: str) -> str:
    """``key`` unless it is empty, short or a placeholder: a guessable key is no key."""
    if len(key.strip()) < MIN_KEY_CHARS:
        raise ValueError(
            f"{what} must have at least {MIN_KEY_CHARS} characters "
            "(e.g. the output of 'openssl rand -hex 32'); unset it to close what it opens"
        )
    lowered = key.lower()
    if any(p in lowered for p in _PLACEHOLDERS) or len(set(key)) < 6:
        raise ValueError(f"{what} looks like a placeholder; generate a random key")
    return key


class ApiKey(BaseModel):
    """A caller's key and what it may do: ``features`` (read an entity's features),
    ``predict``, ``models`` (versions and approval records), ``admin`` (reload)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        min_length=1, max_length=64, description="Who holds it (logged, not the key)."
    )
    key: SecretStr
    scopes: tuple[Scope, ...] = Field(min_length=1)

    @field_validator("key")
    @classmethod
    def _strong(cls, key: SecretStr) -> SecretStr:
        check_key(key.get_secret_value(), "an API key")
        return key


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One message per ``TABSHIP_`` variable no setting reads, naming the closest one."""
    known = [PREFIX + name.upper() for name in Settings.model_fields]
    messages = []
    for variable in sorted(v for v in environ if v.upper().startswith(PREFIX)):
        if variable.upper() in known:
            continue
        close = difflib.get_close_matches(variable.upper(), known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
        messages.append(f"unknown setting {variable} ({hint})")
    return messages


class Settings(BaseSettings):
    """Where state lives and which backends run it."""

    model_config = SettingsConfigDict(env_prefix="TABSHIP_", extra="forbid")

    home: Path = Field(Path(".tabship"), description="Root of all local state.")
    data: Path | None = Field(
        None, description="Folder holding <use case>/ source data (optional)."
    )
    usecases: Path = Field(
        Path("examples"), description="Folder holding one declaration folder per use case."
    )
    engine: EngineName = Field("duckdb", description="Feature compute engine.")
    spark_master: str = Field("local[*]", description="Spark master URL (engine spark).")
    online: OnlineName = Field("sqlite", description="Online store backend.")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis online store.")
    duckdb_memory_limit: str = Field("4GB", description="DuckDB spills to disk past this.")
    duckdb_threads: int | None = Field(None, description="DuckDB threads (default: all cores).")
    tracking_uri: str | None = Field(
        None, description="MLflow tracking/registry URI (default: SQLite under home)."
    )
    max_invalid_share: float | None = Field(
        None, ge=0, le=1, description="Override the use case's tolerated invalid-row share."
    )

    api_key: SecretStr | None = Field(
        None,
        description="A key with every scope (X-API-Key); admin routes are closed without one.",
    )
    api_keys: list[ApiKey] = Field(
        default_factory=list,
        description='Keys with scopes, as JSON: [{"name": "dashboard", "key": "...", '
        '"scopes": ["features", "predict"]}].',
    )
    features_key: SecretStr | None = Field(
        None,
        description="Key 'serve predictions --features-url' presents to the feature service.",
    )
    open_scopes: list[Scope] = Field(
        default_factory=lambda: list[Scope](["features", "predict", "models"]),
        description="What callers without a key may do ([] closes every route but health "
        "and docs; admin is never open).",
    )
    poll_interval: float = Field(
        5.0, gt=0, description="Seconds between registry syncs and model-repository checks."
    )
    predlog_flush_interval: float = Field(
        1.0, gt=0, description="Seconds of predictions a killed server may lose at most."
    )
    predlog_per_host: bool = Field(
        False,
        description="Name log files after the host (<day>.<host>.jsonl), so that replicas "
        "can share one volume for the prediction log.",
    )
    hide_input_values: bool = Field(
        False, description="Never echo request values in error messages."
    )
    serve_max_versions: int = Field(
        5, ge=1, description="Newest versions kept loaded per model, besides aliased ones."
    )
    fast_path: bool = Field(
        True, description="Answer prediction and feature lookups as plain ASGI before FastAPI."
    )
    telemetry: bool = Field(
        False, description="FastAPI's OpenTelemetry traces/metrics/logs (costs per request)."
    )
    max_body_bytes: int = Field(
        2**20, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    reload_timeout: float = Field(
        8.0, gt=0, description="Longest wait of the admin reload for a registry sync pass."
    )
    swap_drain_seconds: float = Field(
        10.0, ge=0, description="Longest wait for in-flight requests before unloading a version."
    )
    dashboard_api_url: str = Field(
        "http://127.0.0.1:8000", description="The API the dashboard reads (it reads nothing else)."
    )
    dashboard_api_key: SecretStr | None = Field(
        None, description="The dashboard's key (scopes features and models) where keys are set."
    )
    dashboard_login: bool = Field(
        False,
        description="Officers sign in before any client shows (OIDC through Streamlit's "
        "st.login; the provider goes in .streamlit/secrets.toml [auth]).",
    )
    dashboard_timeout: float = Field(
        5.0, gt=0, description="Seconds the dashboard waits for one API answer."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_variables(cls, data: Any) -> Any:
        problems = unknown_variables(os.environ)
        if problems:
            raise SettingsError("; ".join(problems))
        return data

    @field_validator("api_key")
    @classmethod
    def _strong_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None:
            check_key(key.get_secret_value(), "TABSHIP_API_KEY")
        return key

    @field_validator("open_scopes")
    @classmethod
    def _admin_never_open(cls, scopes: list[Scope]) -> list[Scope]:
        if "admin" in scopes:
            raise ValueError("admin cannot be open to callers without a key")
        return scopes

    @property
    def offline_dir(self) -> Path:
        """Delta tables of every use case."""
        return self.home / "offline"

    @property
    def online_sqlite_path(self) -> Path:
        """The SQLite online store's file."""
        return self.home / "online.sqlite"

    @property
    def reports_dir(self) -> Path:
        """Data-quality reports per build."""
        return self.home / "reports"

    @property
    def serving_dir(self) -> Path:
        """The local mirror of the registry that servers serve from."""
        return self.home / "serving"

    @property
    def predictions_dir(self) -> Path:
        """The durable prediction log."""
        return self.home / "predictions"

    @property
    def scratch_dir(self) -> Path:
        """Scratch space (engine spills, staging)."""
        return self.home / "tmp"
