"""How a use case trains (``training:`` in its declaration)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tabship.usecase.base import Strict

Task = Literal["classification", "regression"]
Family = Literal["random_forest", "lightgbm", "logistic_regression", "knn"]
Metric = Literal["average_precision", "roc_auc", "rmse", "mae"]
DEFAULT_FAMILIES: tuple[Family, ...] = ("random_forest", "lightgbm")
REGRESSION_METRICS: tuple[Metric, ...] = ("rmse", "mae")
LOWER_IS_BETTER = frozenset({"rmse", "mae", "mape", "brier", "cost_per_row"})


class SplitSpec(Strict):
    """Hold-out split: by group (no entity on both sides) or by time (test is the latest)."""

    by: Literal["group", "time"] = "group"
    column: str = Field(description="Entity column (group) or event-time column (time).")
    test_size: float = Field(0.25, gt=0, lt=1)


class CostSpec(Strict):
    """What a wrong decision costs, in the business's units: picks the threshold."""

    false_negative: float = Field(5.0, gt=0, description="Cost of accepting a defaulter.")
    false_positive: float = Field(1.0, gt=0, description="Cost of refusing a good client.")


class CategorySpec(Strict):
    """How text features become model inputs: rare levels share one code, levels capped."""

    max_levels: int = Field(50, ge=2, description="At most this many codes per text column.")
    min_rows: int = Field(
        10, ge=1, description="Levels seen on fewer training rows share the 'other' code."
    )


class GateSpec(Strict):
    """Checks a new version must pass before a person may approve it without --override."""

    calibrated: bool = Field(
        True,
        description="Classification: the test Brier score must not be worse than always "
        "predicting the training base rate (scores read as probabilities).",
    )
    min_metrics: dict[str, float] = Field(default_factory=dict)
    beat_baseline: list[str] = Field(default_factory=list, description="Metrics > baseline's.")
    max_drop_vs_champion: dict[str, float] = Field(default_factory=dict)
    max_model_mb: float | None = None
    max_latency_ms: float | None = None


class TrainingSpec(Strict):
    """How a use case is trained: task, split, families, search, imbalance, cost, gates."""

    task: Task = "classification"
    split: SplitSpec
    families: list[Family] = Field(default_factory=lambda: list(DEFAULT_FAMILIES))
    imbalance: Literal["smote", "class_weight", "none"] = "class_weight"
    cv_folds: int = Field(3, ge=2)
    trials: int = Field(20, ge=1)
    search_rows: int | None = Field(
        None, ge=1000, description="Search on a group-preserving sample of this many rows."
    )
    metric: Metric | None = Field(
        None, description="Search objective; default average_precision (classification), rmse."
    )
    baseline: str | None = Field(
        None,
        description="'file.py:function' in the use-case folder returning the original "
        "model as (name, columns, unfitted estimator), or 'notebook' for the credit_risk "
        "notebook's recipe: scored on the same split as ours. Default: a plain logistic "
        "regression on the same features (classification), the target's median (regression).",
    )
    curve_rows: int = Field(
        50_000,
        ge=1000,
        description="Regression: the learning curves (five refits per fold) run on at most "
        "this many training rows, so the diagnosis stays a bounded share of a run.",
    )
    errors_by: str | None = Field(
        None, description="Regression: a column to break test errors down by (e.g. zipcode)."
    )
    calibration: Literal["auto", "sigmoid", "none"] = Field(
        "auto",
        description="Classification: Platt scaling fitted on out-of-fold scores; 'auto' "
        "keeps it where it lowers the out-of-fold Brier score.",
    )
    categories: CategorySpec = CategorySpec()
    cost: CostSpec = CostSpec()
    gates: GateSpec = GateSpec()
    seed: int = 42

    @model_validator(mode="after")
    def _fits_task(self) -> TrainingSpec:
        regression = self.task == "regression"
        if self.metric is not None and (self.metric in REGRESSION_METRICS) != regression:
            raise ValueError(f"metric {self.metric} does not fit a {self.task} task")
        if regression and "logistic_regression" in self.families:
            raise ValueError("logistic_regression is a classifier; not for a regression task")
        return self

    @property
    def objective(self) -> Metric:
        """The metric the search optimises."""
        if self.metric is not None:
            return self.metric
        return "rmse" if self.task == "regression" else "average_precision"
