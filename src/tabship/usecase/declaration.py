"""Load and validate a use-case declaration (``<usecases>/<name>/usecase.yaml``).

A use case is data, not code: the declaration names its sources, entity, event time,
target, contract and feature view. The only Python a use case may carry is its feature
definitions and its data generator, both loaded from its own folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from tabship.errors import UseCaseError
from tabship.usecase.base import Strict
from tabship.usecase.contract import ContractSpec
from tabship.usecase.explain import ExplainSpec
from tabship.usecase.monitoring import MonitoringSpec
from tabship.usecase.serving import ServingSpec
from tabship.usecase.training import TrainingSpec

DECLARATION = "usecase.yaml"


class SourceSpec(Strict):
    """Where raw rows come from."""

    pattern: str = Field("*.parquet", description="Glob of source files inside a data folder.")
    generator: str | None = Field(
        None, description="'file.py:function' in the use-case folder that writes sample data."
    )
    row_key_from: list[str] | None = Field(
        None,
        min_length=2,
        description="Columns whose values, joined, make the row key (a home sold twice is "
        "two rows with one id): the key column is added when the source is read.",
    )
    demo_rows: int = Field(200_000, ge=1000, description="Rows `tabship demo` generates.")
    row_number: str | None = Field(
        None,
        description="For a table without an id: the name of a column tabship adds, holding "
        "each row's number in the source files (1, 2, ... in file order, files in name "
        "order). It is then the row key and, unless one is declared, the entity.",
    )
    exact_duplicates: Literal["keep", "drop"] = Field(
        "keep",
        description="'drop': rows repeating another row in every column are dropped (and "
        "counted) before the contract; 'keep': they meet the contract like any row.",
    )


class EnrichSpec(Strict):
    """Reference data joined by a key on the backend, at build and at serving time (zipcode
    demographics, say): a client never sends these columns, the service adds them."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    file: str = Field(description="File name beside the source files (CSV or Parquet).")
    key: str = Field(description="Join column, in both the source and this file (as text).")
    columns: list[str] = Field(min_length=1, description="Numeric columns it brings.")


class FeatureViewSpec(Strict):
    """The feature definitions: a function from the validated raw table to features."""

    definitions: str | None = Field(
        None,
        description="'file.py:function' in the use-case folder; without it the features are "
        "declared columns of the source, used as they are (after the contract).",
    )
    features: list[str] = Field(min_length=1, description="Feature columns, in model order.")
    on_overlap: Literal["refuse", "rebuild"] = Field(
        "refuse",
        description="What an incremental build does with new rows that overlap the stored "
        "ones (a stored row key, an event earlier than its entity's stored history): refuse "
        "them, naming the rows, or rebuild the table in full from every file.",
    )


class UseCase(Strict):
    """A validated declaration plus the folder it came from."""

    name: str
    description: str = ""
    entity: str = Field(
        description="Column identifying who a row is about (online key); default: the row key."
    )
    event_time: str | None = Field(
        None, description="Column giving when a row's facts were known (none: rows are timeless)."
    )
    row_key: str = Field(
        description="Column that uniquely identifies a raw row; default: source.row_number."
    )
    target: str | None = None
    target_positive: str | int | bool | None = Field(
        None,
        description="The class a classifier scores (its 1): required for a text label or "
        "labels other than 0/1; every other value is a 0. Default: true, or 1.",
    )
    source: SourceSpec = SourceSpec()
    contract: ContractSpec
    enrich: list[EnrichSpec] = Field(default_factory=list)
    feature_view: FeatureViewSpec
    training: TrainingSpec | None = None
    serving: ServingSpec = ServingSpec()
    explain: ExplainSpec | None = None
    monitoring: MonitoringSpec = MonitoringSpec()
    folder: Path

    @model_validator(mode="before")
    @classmethod
    def _default_keys(cls, raw: Any) -> Any:
        """A numbered table's row key is its row number; the entity is the row key."""
        if not isinstance(raw, dict):
            return raw
        source = raw.get("source")
        number = source.get("row_number") if isinstance(source, dict) else None
        if "row_key" not in raw and number:
            raw = {**raw, "row_key": number}
        if "entity" not in raw and "row_key" in raw:
            raw = {**raw, "entity": raw["row_key"]}
        return raw

    def load_callable(self, ref: str) -> Callable[..., Any]:
        """Import ``file.py:function`` from this use case's folder."""
        file_name, _, func_name = ref.partition(":")
        path = self.folder / file_name
        if not path.is_file() or not func_name:
            raise UseCaseError(f"{self.name}: cannot find '{ref}' in {self.folder}")
        module = _import_file(f"tabship_usecase_{self.name}_{path.stem}", path)
        func = getattr(module, func_name, None)
        if not callable(func):
            raise UseCaseError(f"{self.name}: '{func_name}' is not a function in {path}")
        return func  # type: ignore[no-any-return]

    @property
    def enriched_columns(self) -> set[str]:
        """Columns the service joins from reference data (never sent by a client)."""
        return {c for e in self.enrich for c in e.columns}

    @property
    def keys(self) -> list[str]:
        """Row key, entity and event time (when declared), without repeats."""
        return list(dict.fromkeys(c for c in (self.row_key, self.entity, self.event_time) if c))

    def fingerprint(self) -> str:
        """Hash of the declaration and every Python file beside it: the feature-code version."""
        digest = hashlib.sha256()
        for path in sorted(self.folder.glob("*")):
            if path.is_file() and (path.suffix in {".py", ".yaml", ".yml"}):
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()[:16]


def _import_file(module_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UseCaseError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look their module up
    spec.loader.exec_module(module)
    return module


def _check_training_columns(usecase: UseCase, path: Path) -> None:
    """Columns the training section names must be source columns or features."""
    spec = usecase.training
    if spec is None:
        return
    known = (
        set(usecase.contract.columns)
        | set(usecase.feature_view.features)
        | usecase.enriched_columns
        | {c for c in (usecase.source.row_number,) if c}
    )
    for where, column in (
        ("training.split.column", spec.split.column),
        ("training.errors_by", spec.errors_by),
        *_explained(usecase.explain),
    ):
        if column is not None and column not in known:
            raise UseCaseError(
                f"{path}: {where} names '{column}', which is neither a source column nor a feature"
            )


def _explained(explain: ExplainSpec | None) -> list[tuple[str, str]]:
    """(where, column) for every column the ``explain`` section names."""
    if explain is None:
        return []
    return [
        *((f"explain.inputs.{c}", c) for c in explain.inputs),
        *((f"explain.groups.{g}", c) for g, s in explain.groups.items() for c in s.inputs),
        *((f"explain.compare.{g}", c) for g, s in explain.compare.items() for c in s.by),
    ]


def _check_positive(usecase: UseCase, path: Path) -> None:
    """A declared positive class must be a value the contract allows for the target."""
    positive = usecase.target_positive
    if positive is None or usecase.target is None:
        return
    column = usecase.contract.columns.get(usecase.target)
    allowed = None if column is None else column.isin
    if allowed is not None and str(positive) not in {str(v) for v in allowed}:
        raise UseCaseError(
            f"{path}: target_positive '{positive}' is not among the values the contract "
            f"allows for {usecase.target}: {allowed}"
        )


def load_usecase(name: str, usecases_dir: Path) -> UseCase:
    """Read ``usecases_dir/name/usecase.yaml``; every problem becomes a one-line error."""
    folder = usecases_dir / name
    path = folder / DECLARATION
    if not path.is_file():
        known = sorted(p.parent.name for p in usecases_dir.glob(f"*/{DECLARATION}"))
        raise UseCaseError(
            f"unknown use case '{name}': no {name}/{DECLARATION} in {usecases_dir.resolve()} "
            f"(known there: {', '.join(known) or 'none'}); set TABSHIP_USECASES to the folder "
            "holding your declarations"
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise UseCaseError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise UseCaseError(f"{path}: expected a mapping at the top level")
    try:
        usecase = UseCase(**raw, folder=folder.resolve())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        hint = (
            " (a table without an id: declare source.row_number to number its rows)"
            if where == "row_key"
            else ""
        )
        raise UseCaseError(f"{path}: {where}: {first['msg']}{hint}") from exc
    key = usecase.contract.columns.get(usecase.row_key)
    if key is not None and (key.nullable or not key.unique):
        raise UseCaseError(
            f"{path}: row_key '{usecase.row_key}' must be declared unique and not null"
        )
    if usecase.name != name:
        raise UseCaseError(f"{path}: declares name '{usecase.name}', folder is '{name}'")
    _check_training_columns(usecase, path)
    _check_positive(usecase, path)
    added = usecase.source.row_number
    usecase.contract.check_refers_to(
        [c for c in (usecase.entity, usecase.event_time, usecase.row_key) if c and c != added]
        + ([usecase.target] if usecase.target else [])
        + [e.key for e in usecase.enrich]
        + (usecase.source.row_key_from or [])
        + (
            []
            if usecase.feature_view.definitions
            else [f for f in usecase.feature_view.features if f not in usecase.enriched_columns]
        )
    )
    return usecase
