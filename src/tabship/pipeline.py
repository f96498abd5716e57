"""The whole path as one object over one settings object, in the spirit of Feast's
``FeatureStore``: generate, build, materialize, train, approve, reject, publish, score.

The CLI, the demo, the benchmarks and the test fixtures all go through it, so the wiring
(which engine, which stores, which registry, when the serving repository is refreshed)
is written once. Heavy libraries are imported inside the steps that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tabship.registry import vocabulary as vocab
from tabship.settings import EngineName, OnlineName, Settings
from tabship.usecase import UseCase, load_usecase

if TYPE_CHECKING:
    from tabship.features.build import BuildResult
    from tabship.features.engine import Engine
    from tabship.registry.approval import Decision
    from tabship.registry.client import Registry
    from tabship.stores.materialize import MaterializeResult
    from tabship.training.train import TrainResult

Step = Callable[[str], None]
Rows = Callable[[int], None]


def _quiet(_: str) -> None:
    return None


class Pipeline:
    """Every step of a use case's life, from raw files to a served champion."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._registry: Registry | None = None

    def usecase(self, name: str | UseCase) -> UseCase:
        """The declaration ``name`` (a one-line error when unknown or invalid); a loaded
        declaration passes through (tests and notebooks may adjust one in memory)."""
        if isinstance(name, UseCase):
            return name
        return load_usecase(name, self.settings.usecases)

    @property
    def registry(self) -> Registry:
        """The model registry (MLflow), opened on first use."""
        if self._registry is None:
            from tabship.registry.client import Registry

            self._registry = Registry(self.settings)
        return self._registry

    def generate(
        self,
        name: str | UseCase,
        rows: int,
        out: Path,
        seed: int = 7,
        fmt: str = "parquet",
        dirty: float = 0.0,
    ) -> list[Path]:
        """Sample source files from the use case's own generator."""
        from tabship.data.generate import generate

        return generate(self.usecase(name), rows, out, seed=seed, fmt=fmt, dirty=dirty)

    def source_files(
        self, name: str | UseCase, data: Path | None = None, say: Step = _quiet
    ) -> list[Path]:
        """The files a build reads: ``data``, else TABSHIP_DATA/<name>, else a generated
        sample under the home (``say`` tells when one is generated)."""
        from tabship.data.generate import default_source, ensure_sample
        from tabship.data.sources import resolve_files

        usecase = self.usecase(name)
        if data is not None:
            return resolve_files(data, usecase.source.pattern)
        folder = default_source(usecase, self.settings.data, self.settings.home)
        if folder.is_relative_to(self.settings.home) and ensure_sample(usecase, folder):
            say(f"no source data given: generated a sample in {folder}")
        return resolve_files(folder, usecase.source.pattern)

    def build(
        self,
        name: str | UseCase,
        data: Path | Sequence[Path] | None = None,
        engine: EngineName | Engine | None = None,
        max_invalid_share: float | None = None,
        step: Step = _quiet,
        incremental: bool = False,
    ) -> BuildResult:
        """Contract, quarantine, features, one new version of the offline tables. An
        engine given connected (a benchmark's, a notebook's) stays open afterwards.
        ``incremental``: ``data`` holds only new rows, added to the stored version (or,
        when they overlap it and the declaration says so, a full rebuild of every file)."""
        from tabship.errors import SourceError
        from tabship.features import engine as engines
        from tabship.features.build import build_features
        from tabship.features.incremental import Base, OverlapError, stored_base
        from tabship.stores.offline import OfflineStore

        usecase = self.usecase(name)
        if incremental and data is None:
            raise SourceError("an incremental build needs the new rows' files (--data)")
        files = list(data) if isinstance(data, Sequence) else self.source_files(name, data, step)
        share = self.settings.max_invalid_share if max_invalid_share is None else max_invalid_share
        given = isinstance(engine, engines.Engine)
        eng = (
            engine if isinstance(engine, engines.Engine) else engines.connect(self.settings, engine)
        )
        offline = OfflineStore(self.settings.offline_dir)

        def run(files: list[Path], base: Base | None) -> BuildResult:
            return build_features(
                usecase,
                files,
                eng,
                offline,
                self.settings.reports_dir,
                max_invalid_share=share,
                step=step,
                base=base,
            )

        try:
            base = stored_base(usecase, offline) if incremental else None
            try:
                return run(files, base)
            except OverlapError as exc:
                if base is None or usecase.feature_view.on_overlap != "rebuild":
                    raise
                step(f"rebuilding in full: {exc}")
                every = [Path(f) for f in base.files] + files
                missing = [str(f) for f in every if not f.exists()]
                if missing:
                    raise SourceError(f"cannot rebuild: missing {', '.join(missing)}") from exc
                return run(every, None)
        finally:
            if not given:
                eng.close()

    def materialize(
        self,
        name: str | UseCase,
        online: OnlineName | None = None,
        version: int | None = None,
        force: bool = False,
        on_rows: Rows | None = None,
        incremental: bool = False,
    ) -> MaterializeResult:
        """The latest row of every entity, live in the online store in one step
        (``incremental``: only the entities whose rows were appended since)."""
        from tabship.stores.materialize import materialize
        from tabship.stores.offline import OfflineStore
        from tabship.stores.online import open_online_store

        store = open_online_store(self.settings, online)
        try:
            return materialize(
                self.usecase(name),
                OfflineStore(self.settings.offline_dir),
                store,
                self.settings,
                version=version,
                force=force,
                on_rows=on_rows,
                incremental=incremental,
            )
        finally:
            store.close()

    def train(
        self,
        name: str | UseCase,
        trials: int | None = None,
        feature_version: int | None = None,
        step: Step = _quiet,
        on_trial: Callable[[int, float], None] | None = None,
    ) -> TrainResult:
        """Search, fit, judge, track and register the next version as challenger, then
        publish it to the serving repository."""
        from tabship.training.train import train

        usecase = self.usecase(name)
        result = train(
            usecase,
            self.settings,
            feature_version=feature_version,
            trials=trials,
            step=step,
            on_trial=on_trial,
        )
        self.publish()
        return result

    def approve(
        self, name: str, version: str, by: str, reason: str, override: bool = False
    ) -> Decision:
        """A person's approval: the version becomes champion, then is published."""
        from tabship.registry.approval import approve

        decision = approve(self.registry, name, version, by, reason, override)
        self.publish()
        return decision

    def reject(self, name: str, version: str, by: str, reason: str) -> Decision:
        """A person's refusal, recorded and published."""
        from tabship.registry.approval import reject

        decision = reject(self.registry, name, version, by, reason)
        self.publish()
        return decision

    def publish(self) -> list[str]:
        """Bring the serving repository in step with the registry (running servers pick
        it up at their next check; a server started next finds it at once)."""
        from tabship.serving.models.sync import sync_and_mark

        return sync_and_mark(self.settings, self.registry)

    def score(
        self,
        name: str,
        rows: Sequence[Mapping[str, Any]],
        version: str = vocab.CHAMPION,
    ) -> list[float]:
        """Scores of feature rows by a published version (number or alias), with the
        runtime the service uses: the same numbers the API answers."""
        import numpy as np

        from tabship.serving.models.mirror import Repository
        from tabship.serving.models.pool import load_published

        served = load_published(Repository(self.settings.serving_dir), name, version)
        x = np.array(
            [[np.nan if r.get(f) is None else float(r[f]) for f in served.features] for r in rows],
            dtype=served.runtime.dtype,
        )
        return [float(s) for s in served.runtime.score(x)]
