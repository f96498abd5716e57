"""One typed settings object for the whole toolkit (env prefix ``TABSHIP_``).

Built once by the CLI (or a test) and passed down; nothing reads the environment
behind the caller's back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineName = Literal["duckdb", "spark"]
OnlineName = Literal["sqlite", "redis"]


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
        None, description="Key for admin routes (X-API-Key); admin routes are closed without it."
    )
    poll_interval: float = Field(
        5.0, gt=0, description="Seconds between registry syncs and model-repository checks."
    )
    predlog_flush_interval: float = Field(
        1.0, gt=0, description="Seconds of predictions a killed server may lose at most."
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

    @property
    def offline_dir(self) -> Path:
        return self.home / "offline"

    @property
    def online_sqlite_path(self) -> Path:
        return self.home / "online.sqlite"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def serving_dir(self) -> Path:
        return self.home / "serving"

    @property
    def predictions_dir(self) -> Path:
        return self.home / "predictions"

    @property
    def scratch_dir(self) -> Path:
        return self.home / "tmp"
