"""Training end to end: tracked, registered as challenger, reproducible, and refused on
bad input with the registry unchanged."""

from __future__ import annotations

from collections.abc import Callable

import mlflow
import numpy as np
import pytest

from tabship.errors import StoreError, TabshipError
from tabship.registry.client import Registry
from tabship.registry.vocabulary import CHALLENGER
from tabship.settings import Settings
from tabship.training.frame import load
from tabship.training.train import train
from tabship.usecase import UseCase

pytestmark = pytest.mark.slow


def test_a_run_is_tracked_and_registered_as_challenger(
    small_usecase: Callable[..., UseCase], built: Callable[[UseCase], int], train_settings: Settings
) -> None:
    usecase = small_usecase()
    built(usecase)
    result = train(usecase, train_settings)
    registry = Registry(train_settings)
    assert registry.aliases(usecase.name) == {CHALLENGER: result.version}
    version = registry.version(usecase.name, result.version)
    assert version.tags["approval.status"] == "pending"
    assert version.tags["feature_table_version"] == "0"
    assert float(version.tags["metric.pr_auc"]) == result.metrics["pr_auc"]
    run = mlflow.MlflowClient(train_settings.tracking_uri).get_run(result.run_id)
    for tag in ("raw_data_version", "feature_code_version", "git_commit", "declaration_hash"):
        assert run.data.tags[tag]
    assert "test_pr_auc" in run.data.metrics
    assert "baseline_pr_auc" in run.data.metrics
    assert "id" not in usecase.feature_view.features
    assert "## Against the baseline: the notebook's recipe" in result.report


def test_same_data_declaration_and_seed_give_identical_results(
    small_usecase: Callable[..., UseCase], built: Callable[[UseCase], int], train_settings: Settings
) -> None:
    usecase = small_usecase()
    built(usecase)
    first, second = train(usecase, train_settings), train(usecase, train_settings)
    assert first.metrics == second.metrics
    assert first.version != second.version
    frame = load(usecase, train_settings, None).rows
    rows = frame[usecase.feature_view.features].iloc[:500]
    mlflow.set_tracking_uri(train_settings.tracking_uri)
    a = mlflow.sklearn.load_model(f"models:/{usecase.name}/{first.version}").predict_proba(rows)
    b = mlflow.sklearn.load_model(f"models:/{usecase.name}/{second.version}").predict_proba(rows)
    np.testing.assert_array_equal(a, b)


def test_unknown_feature_version_is_refused(
    small_usecase: Callable[..., UseCase], built: Callable[[UseCase], int], train_settings: Settings
) -> None:
    usecase = small_usecase()
    built(usecase)
    with pytest.raises(StoreError, match="has no version 5"):
        train(usecase, train_settings, feature_version=5)
    assert usecase.name not in Registry(train_settings).names()


def test_single_class_target_is_refused(
    small_usecase: Callable[..., UseCase], train_settings: Settings, tmp_path: object
) -> None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from tabship.data.generate import generate
    from tabship.features.build import build_features
    from tabship.features.engine import DuckDBEngine
    from tabship.stores.offline import OfflineStore

    usecase = small_usecase()
    path = generate(usecase, 3_000, train_settings.home / "src", seed=2)[0]
    table = pq.read_table(path)
    table = table.set_column(
        table.schema.get_field_index("status"), "status", pc.multiply(table.column("status"), 0)
    )
    pq.write_table(table, path)
    build_features(
        usecase,
        [path],
        DuckDBEngine(train_settings),
        OfflineStore(train_settings.offline_dir),
        train_settings.reports_dir,
    )
    with pytest.raises(TabshipError, match="single class"):
        train(usecase, train_settings)
    assert usecase.name not in Registry(train_settings).names()
