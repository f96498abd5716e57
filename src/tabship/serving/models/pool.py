"""The versions a server has loaded, and the atomic swap that changes them.

A ``ModelView`` is an immutable picture of one model: its loaded versions and which
version each alias names. Requests read the current view once and keep using it; a
reconcile builds new views beside the old ones (loading, warming and checking new
versions off the event loop) and replaces the map in one assignment. Versions no view
uses any more are unloaded once their in-flight requests finish.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tabship.errors import StoreError
from tabship.monitoring.profile import PROFILE_FILE, Profile
from tabship.registry import vocabulary as vocab
from tabship.runtime.base import Runtime, deviation
from tabship.serving.models.mirror import ONNX_FILE, ModelState, Repository, now
from tabship.usecase.serving import ServingSpec

_log = logging.getLogger("tabship.pool")


@dataclass(frozen=True)
class Enrichment:
    """Reference rows a payload is joined with, by key (as trained with)."""

    name: str
    key: str
    columns: list[str]
    version: str
    rows: dict[str, list[float | None]]

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Enrichment:
        """Reference data from a bundle's metadata."""
        return cls(meta["name"], meta["key"], list(meta["columns"]), meta["version"], meta["rows"])


@dataclass(eq=False)
class Served:
    """One loaded, checked, warmed version."""

    model: str
    version: str
    meta: dict[str, Any]
    runtime: Runtime
    loaded_at: str
    load_seconds: float
    in_flight: int = 0
    explainer: Any = None  # tabship.explain's VersionExplainer, where the version has one
    no_explainer: str = ""  # why there is none
    profile: Profile | None = None  # the reference profile live drift is measured against
    features: list[str] = field(init=False)
    threshold: float | None = field(init=False)
    enrich: list[Enrichment] = field(init=False)
    payload: dict[str, str] = field(init=False)  # field -> number | string | boolean | text
    minimal: dict[str, str] = field(init=False)  # only what the model uses
    levels: dict[str, dict[str, Any]] = field(init=False)  # text input -> its codes

    def __post_init__(self) -> None:
        # Read on every request: derived from the bundle once, here.
        self.features = list(self.meta["features"])
        value = self.meta.get("threshold")
        self.threshold = None if value is None else float(value)
        self.enrich = [Enrichment.from_meta(e) for e in self.meta.get("enrich", [])]
        joined = {c for e in self.enrich for c in e.columns}
        keys = {e.key: "string" for e in self.enrich}
        kinds = dict(self.meta.get("kinds") or {})
        self.minimal = {f: kinds.get(f, "number") for f in self.features if f not in joined} | keys
        self.payload = dict(self.meta.get("payload") or self.minimal)
        self.levels = dict(self.meta.get("vocabulary") or {})
        for name in self.levels:  # a text input is sent as text, whatever the contract said
            self.payload[name] = self.minimal[name] = "text"

    def code(self, name: str, value: Any) -> tuple[float, bool]:
        """A text input's code, and whether its level is one the model never saw."""
        return text_code(self.levels[name], value)


@dataclass(frozen=True)
class ModelView:
    """One model as served: its loaded versions, aliases, state and policy, swapped as a whole."""

    name: str
    versions: dict[str, Served]
    aliases: dict[str, str]
    state: ModelState
    failures: dict[str, str]
    spec: ServingSpec
    entity: str

    def by_alias(self, alias: str) -> Served | None:
        """The loaded version an alias names, or None."""
        version = self.aliases.get(alias)
        return None if version is None else self.versions.get(version)


@dataclass
class Change:
    """What a reconcile did to one model: loaded, unloaded, refused, aliases moved."""

    model: str
    loaded: list[str] = field(default_factory=list)
    unloaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether nothing changed."""
        return not (self.loaded or self.unloaded or self.failed or self.aliases)


def load_version(repo: Repository, model: str, version: str) -> Served:
    """Load a bundle, replay its check rows, warm it; raises when any step fails."""
    started = time.perf_counter()
    meta = repo.read_meta(model, version)
    folder = repo.version_dir(model, version)
    classifier = meta.get("task") == "classification"
    runtime: Runtime
    if meta.get("runtime") == "onnx" and (folder / ONNX_FILE).is_file():
        from tabship.runtime.onnx import OnnxRuntime

        runtime = OnnxRuntime(folder / ONNX_FILE, classifier)
        tolerance = float(meta["onnx"]["tolerance"])
    else:
        from tabship.runtime.native import NativeRuntime

        runtime = NativeRuntime(folder / "native", list(meta["features"]), classifier)
        tolerance = 1e-9
    check = meta["check"]
    x = coded(meta, check["inputs"]).astype(runtime.dtype)
    if len(x):
        got = runtime.score(x)
        diff = deviation(got, np.asarray(check["outputs"]), classifier)
        if not diff <= tolerance:
            raise ValueError(f"check failed: max abs diff {diff:.3g} > {tolerance:g}")
        for _ in range(20):  # warm the single-row path
            runtime.score(x[:1])
    explainer, why = _explainer(folder, meta)
    served = Served(model, version, meta, runtime, now(), time.perf_counter() - started)
    served.explainer, served.no_explainer = explainer, why
    if (folder / PROFILE_FILE).is_file():
        served.profile = Profile.load(folder)
    return served


def load_published(repo: Repository, model: str, version: str) -> Served:
    """The published version a number or an alias names, loaded and checked (a one-line
    error where nothing is published under that name)."""
    state = repo.read_state(model)
    if state is None:
        raise StoreError(f"nothing published for '{model}' (train, approve, then publish)")
    number = version if version.isdigit() else state.aliases.get(version)
    if number is None or not repo.has_bundle(model, number):
        raise StoreError(f"'{model}' has no published version or alias '{version}'")
    return load_version(repo, model, number)


def _explainer(folder: Path, meta: dict[str, Any]) -> tuple[Any, str]:
    """The version's explainer, or None and why (its family has none, or the
    ``[explain]`` extra is not installed here)."""
    if not meta.get("explainer") or not (folder / "explain" / "spec.json").is_file():
        return None, "its model family has no explainer"
    try:
        from tabship.explain.explanation import VersionExplainer

        return VersionExplainer.load(folder / "explain"), ""
    except ImportError as exc:
        return None, f"this service lacks the [explain] extra ({exc.name} is not installed)"


def text_code(codes: dict[str, Any], value: Any) -> tuple[float, bool]:
    """The code of a text value (as the version's encoder gives it, from its bundle:
    ``levels``, and the codes of ``missing`` and ``unseen``), and whether it is unseen."""
    if value is None:
        return float(codes["missing"]), False
    found = codes["levels"].get(value if isinstance(value, str) else str(value))
    return (float(codes["unseen"]), True) if found is None else (float(found), False)


def coded(meta: dict[str, Any], rows: list[list[Any]]) -> np.ndarray:
    """Raw rows (text as text) in a bundle's input order → the matrix its runtime scores."""
    levels = meta.get("vocabulary") or {}
    at = [levels.get(name) for name in meta["features"]]
    out = np.full((len(rows), len(at)), np.nan)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            codes = at[j]
            if codes is not None:
                out[i, j] = text_code(codes, value)[0]
            elif value is not None:
                out[i, j] = float(value)
    return out


def _wanted(state: ModelState, keep: int) -> list[str]:
    """Aliased versions plus the newest ``keep`` servable, non-rejected ones."""
    live = [v for v, info in state.versions.items() if info.servable and info.status != "rejected"]
    newest = sorted(live, key=int)[-keep:]
    aliased = [v for v in state.aliases.values() if v in state.versions]
    return sorted(set(newest) | set(aliased), key=int)


class Pool:
    """Every model's loaded versions, planned from the mirror and swapped in one assignment."""

    def __init__(self, repo: Repository, specs: dict[str, ServingSpec], keep: int) -> None:
        self.repo, self.specs, self.keep = repo, specs, keep
        self.views: dict[str, ModelView] = {}
        self._refused: dict[tuple[str, str], str] = {}

    def ready(self) -> tuple[bool, str]:
        """Ready once every model with a champion in the repository serves one."""
        models = self.repo.models()
        if not models:
            return False, "no model in the repository (train, approve, then sync)"
        waiting = [
            m
            for m in models
            if m not in self.views or self.views[m].by_alias(vocab.CHAMPION) is None
        ]
        if waiting:
            return False, f"no champion loaded for: {', '.join(waiting)}"
        return True, "ok"

    def forget_refusals(self) -> None:
        """Let the next reconcile retry versions that failed to load."""
        self._refused.clear()

    def plan(self) -> tuple[dict[str, ModelView], list[Change], list[Served]]:
        """New views for every model, loading what is new (blocking: run off the loop)."""
        views: dict[str, ModelView] = {}
        changes: list[Change] = []
        for model in self.repo.models():
            state = self.repo.read_state(model)
            if state is None:
                continue
            view, change = self._plan_model(model, state)
            if view is not None:
                views[model] = view
            if not change.empty:
                changes.append(change)
        kept = {id(s) for v in views.values() for s in v.versions.values()}
        dropped = [s for v in self.views.values() for s in v.versions.values() if id(s) not in kept]
        return views, changes, dropped

    def _plan_model(self, model: str, state: ModelState) -> tuple[ModelView | None, Change]:
        old = self.views.get(model)
        loaded = dict(old.versions) if old else {}
        change = Change(model)
        wanted = _wanted(state, self.keep)
        failures = {
            v: f"not servable: {info.reason}"
            for v, info in state.versions.items()
            if not info.servable
        }
        versions: dict[str, Served] = {}
        for version in wanted:
            if version in loaded:
                versions[version] = loaded[version]
                continue
            refused = self._refused.get((model, version))
            if refused is None:
                try:
                    versions[version] = load_version(self.repo, model, version)
                    change.loaded.append(version)
                    continue
                except Exception as exc:
                    refused = f"{type(exc).__name__}: {exc}"[:300]
                    self._refused[(model, version)] = refused
                    change.failed[version] = refused
                    _log.error(
                        "version refused",
                        extra={"model": model, "version": version, "why": refused},
                    )
            failures[version] = refused
        aliases: dict[str, str] = {}
        for alias, version in state.aliases.items():
            if version in versions:
                aliases[alias] = version
            elif old is not None and alias in old.aliases:  # refused: the old one keeps serving
                kept = aliases[alias] = old.aliases[alias]
                versions.setdefault(kept, old.versions[kept])
        if old is None or old.aliases != aliases:
            change.aliases = {
                a: v for a, v in aliases.items() if not old or old.aliases.get(a) != v
            }
        change.unloaded = sorted(set(loaded) - set(versions), key=int)
        if not versions:
            return None, change
        entity = str(next(iter(versions.values())).meta.get("entity", "id"))
        view = ModelView(
            model, versions, aliases, state, failures, self.specs.get(model, ServingSpec()), entity
        )
        return view, change

    def swap(self, views: dict[str, ModelView]) -> None:
        """Make the planned views live (one assignment: a request sees old or new)."""
        self.views = views  # one assignment: a request sees the old map or the new one
