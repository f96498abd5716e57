"""A throwaway copy of the credit_risk declaration per test (its own model name), small
training settings, and one MLflow SQLite database for the whole session."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tabship.pipeline import Pipeline
from tabship.settings import Settings
from tabship.usecase import UseCase, load_usecase
from tests.conftest import EXAMPLES


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def train_settings(tmp_path: Path, mlflow_uri: str) -> Settings:
    return Settings(home=tmp_path / "home", usecases=tmp_path / "cases", tracking_uri=mlflow_uri)


@pytest.fixture
def small_usecase(train_settings: Settings) -> Callable[..., UseCase]:
    def make(**training: object) -> UseCase:
        name = f"cr_{uuid.uuid4().hex[:8]}"
        folder = train_settings.usecases / name
        shutil.copytree(EXAMPLES / "credit_risk", folder)
        declaration = yaml.safe_load((folder / "usecase.yaml").read_text())
        declaration["name"] = name
        declaration["training"].update(
            {"trials": 2, "cv_folds": 2, "search_rows": None, "families": ["lightgbm"], **training}
        )
        (folder / "usecase.yaml").write_text(yaml.safe_dump(declaration))
        return load_usecase(name, train_settings.usecases)

    return make


@pytest.fixture
def built(train_settings: Settings, loans: Path) -> Callable[[UseCase], int]:
    def build(usecase: UseCase) -> int:
        report = Pipeline(train_settings).build(usecase, [loans]).report
        return int(report.feature_version or 0)

    return build
