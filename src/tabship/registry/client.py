"""The model registry: MLflow's, on a local SQLite file by default or any MLflow server.

Versions are addressed by name and number; the aliases ``challenger`` (newest candidate)
and ``champion`` (approved, serving) point at them. Only ``approval.approve`` moves
``champion``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from pathlib import Path
from typing import Any

from tabship.errors import StoreError
from tabship.monitoring.profile import PROFILE_FILE, Profile
from tabship.registry import vocabulary as vocab
from tabship.registry.vocabulary import HISTORY
from tabship.settings import Settings

_HISTORY_CHARS = 4000


def tracking_uri(settings: Settings) -> str:
    """The MLflow tracking and registry URI: the configured one, else SQLite under the home."""
    if settings.tracking_uri:
        return settings.tracking_uri
    settings.home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(settings.home / 'mlflow.db').resolve()}"


def artifact_root(settings: Settings) -> str | None:
    """Where a new experiment keeps its artifacts: a tracking server decides for itself
    (it proxies them); a database or file store beside it uses $TABSHIP_HOME/mlartifacts."""
    if tracking_uri(settings).startswith(("http://", "https://")):
        return None
    return (settings.home / "mlartifacts").resolve().as_uri()


class Registry:
    """Thin typed access to the MLflow model registry."""

    def __init__(self, settings: Settings) -> None:
        from mlflow.tracking import MlflowClient

        # MLflow narrates database set-up at INFO; a command's output should be its own.
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        self.uri = tracking_uri(settings)
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def register(
        self, name: str, model_uri: str, tags: dict[str, str], version_tags: dict[str, str]
    ) -> str:
        """Register a logged model as ``name``'s next version, tag it, and make it the
        challenger; returns the version number."""
        import mlflow

        mlflow.set_tracking_uri(self.uri)
        # MLflow announces the registration on stderr; the caller's summary says it once.
        with contextlib.redirect_stderr(io.StringIO()):
            registered = mlflow.register_model(model_uri, name, tags={**tags})
        self.tag_version(name, registered.version, version_tags)
        self.set_alias(name, vocab.CHALLENGER, registered.version)
        return str(registered.version)

    def version(self, name: str, version: str | int) -> Any:
        """One version by number (a one-line error when absent)."""
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_model_version(name, str(version))
        except MlflowException as exc:
            raise StoreError(f"model '{name}' has no version {version}") from exc

    def resolve(self, name: str, version_or_alias: str) -> Any:
        """A version by number, or by alias (``challenger``)."""
        if version_or_alias.isdigit():
            return self.version(name, version_or_alias)
        found = self.alias(name, version_or_alias)
        if found is None:
            raise StoreError(f"model '{name}' has no version or alias '{version_or_alias}'")
        return found

    def versions(self, name: str) -> list[Any]:
        """Every version of a model, oldest first."""
        found = self.client.search_model_versions(f"name = '{name}'")
        return sorted(found, key=lambda v: int(v.version))

    def names(self) -> list[str]:
        """Every registered model's name."""
        return sorted(m.name for m in self.client.search_registered_models())

    def alias(self, name: str, alias: str) -> Any | None:
        """The version an alias names, or None."""
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_model_version_by_alias(name, alias)
        except MlflowException:
            return None

    def aliases(self, name: str) -> dict[str, str]:
        """A model's aliases: name to version number."""
        try:
            model = self.client.get_registered_model(name)
        except Exception as exc:
            raise StoreError(f"no registered model '{name}'") from exc
        return {alias: str(version) for alias, version in model.aliases.items()}

    def set_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point an alias at a version."""
        self.client.set_registered_model_alias(name, alias, str(version))

    def tag_version(self, name: str, version: str | int, tags: dict[str, str]) -> None:
        """Set tags on a version."""
        for key, value in tags.items():
            self.client.set_model_version_tag(name, str(version), key, value)

    def profile(self, name: str, version: str | int) -> Profile | None:
        """A version's reference profile (None: trained before profiles were kept)."""
        import tempfile

        import mlflow
        from mlflow.exceptions import MlflowException

        run_id = self.version(name, version).run_id
        with tempfile.TemporaryDirectory() as tmp:
            try:
                local = mlflow.artifacts.download_artifacts(
                    run_id=run_id,
                    artifact_path=f"serving/{PROFILE_FILE}",
                    dst_path=tmp,
                    tracking_uri=self.uri,
                )
            except (MlflowException, OSError):
                return None
            return Profile.load(Path(local).parent)

    def history(self, name: str) -> list[dict[str, Any]]:
        """Every decision taken on a model, oldest first."""
        model = self.client.get_registered_model(name)
        raw = model.tags.get(HISTORY)
        return list(json.loads(raw)) if raw else []

    def append_history(self, name: str, event: dict[str, Any]) -> None:
        """Record a decision (the oldest are dropped past MLflow's tag size)."""
        events = [*self.history(name), event]
        text = json.dumps(events)
        while len(text) > _HISTORY_CHARS and len(events) > 1:  # MLflow caps tag values
            events = events[1:]
            text = json.dumps(events)
        self.client.set_registered_model_tag(name, HISTORY, text)
