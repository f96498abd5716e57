"""Explanations add up to the served score for each family (ONNX and calibration
included), group encoded columns back to the raw inputs, and speak in declared words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tabship.explain.explanation import FOLDER, VersionExplainer
from tabship.training.calibration import Platt
from tabship.training.explainer import ADDITIVITY_TOLERANCE, build, column_map
from tabship.training.export import export
from tabship.training.fitted import Fitted
from tabship.training.pipeline import build as build_pipeline
from tabship.usecase.explain import ExplainSpec, GroupSpec, ReasonSpec

FEATURES = ["income", "debt", "home"]


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(8)
    n = 3000
    x = pd.DataFrame(
        {
            "income": rng.lognormal(10, 0.4, n),
            "debt": rng.normal(0, 1, n),
            "home": rng.choice(
                ["own", "rent", "free", *[f"rare{i}" for i in range(5)]],
                n,
                p=[0.5, 0.3, 0.15, *[0.01] * 5],
            ).astype(object),
        }
    )
    x.loc[rng.random(n) < 0.1, "debt"] = np.nan
    x.loc[rng.random(n) < 0.05, "home"] = np.nan
    logit = (
        -2
        + 0.8 * x["debt"].fillna(1)
        + 1.2 * (x["home"] == "rent")
        - 0.00003 * (x["income"] - 22000)
    )
    return x, pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))


def _usecase(
    texts: dict[str, ReasonSpec] | None = None, groups: dict[str, GroupSpec] | None = None
) -> Any:
    class _Stub:  # what the builder reads of a use case
        explain = ExplainSpec(top=2, inputs=texts or {}, groups=groups or {})
        entity, target = "client", "label"

    return _Stub()


PARAMS: dict[str, dict[str, Any]] = {
    "lightgbm": {"n_estimators": 80, "num_leaves": 15},
    "random_forest": {"n_estimators": 40, "max_depth": 8},
    "logistic_regression": {"C": 1.0},
}


def _fitted(family: str, data: tuple[pd.DataFrame, pd.Series], platt: Platt | None) -> Fitted:
    x, y = data
    pipe = build_pipeline(family, PARAMS[family], "class_weight", 1, "classification", ["home"])  # type: ignore[arg-type]
    pipe.fit(x, y)
    return Fitted(pipe, "classification", FEATURES, ["home"], platt)


@pytest.mark.parametrize("family", ["lightgbm", "random_forest", "logistic_regression"])
@pytest.mark.parametrize("calibrated", [False, True])
def test_contributions_add_up_to_the_served_score(
    family: str, calibrated: bool, data: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    x, _ = data
    fitted = _fitted(family, data, Platt(0.7, -1.1) if calibrated else None)
    exported = export(fitted, x.iloc[:1000])
    assert exported.usable, exported.reason
    built = build(_usecase(), fitted, x.iloc[:1000], exported)
    assert built is not None
    assert built.gate.passed, built.gate.describe()  # against ONNX Runtime, in log-odds
    assert built.gate.value <= ADDITIVITY_TOLERANCE
    # the bundle's copy gives the same explanation as the one checked
    built.write(tmp_path)
    loaded = VersionExplainer.load(tmp_path / FOLDER)
    coded = fitted.encode(x.iloc[:50])
    total = loaded.contributions(coded).total
    served = fitted.score_codes(coded)
    assert 1 / (1 + np.exp(-total)) == pytest.approx(served, abs=1e-6)
    ranked = [r["input"] for r in loaded.importance()]
    assert set(ranked) == set(fitted.inputs)  # one importance per raw input, not per column


def test_encoded_columns_are_grouped_back_to_their_input(
    data: tuple[pd.DataFrame, pd.Series],
) -> None:
    x, _ = data
    fitted = _fitted("logistic_regression", data, None)
    columns = column_map(fitted)
    coded = fitted.encode(x.iloc[:200])
    # the map rebuilds exactly what the fitted preprocessing gives the model
    expected = fitted.predictor[:-1].transform(coded)
    assert columns.model_rows(coded) == pytest.approx(np.asarray(expected), abs=1e-9)
    kinds = {(fitted.inputs[c.input], c.kind) for c in columns.columns}
    assert ("home", "level") in kinds  # one column per level of the text input ...
    assert ("debt", "missing") in kinds  # ... and the missing-value flag of a number
    levels = sum(1 for c in columns.columns if fitted.inputs[c.input] == "home")
    assert levels > 3
    grouped = columns.group(np.ones((1, len(columns.columns))), len(fitted.inputs))
    assert grouped[0, fitted.inputs.index("home")] == levels  # summed into one input


def test_reasons_use_the_declared_words(data: tuple[pd.DataFrame, pd.Series]) -> None:
    x, _ = data
    fitted = _fitted("logistic_regression", data, None)
    texts = {
        "home": ReasonSpec(label="Housing", raises="renting raises the risk", lowers="owning"),
    }
    built = build(_usecase(texts), fitted, x.iloc[:500], export(fitted, x.iloc[:500]))
    assert built is not None
    explainer = VersionExplainer(built.spec, _reload(built))
    renter = x[(x["home"] == "rent") & x["debt"].notna()].iloc[:1]
    coded = fitted.encode(renter)
    values = explainer.contributions(coded).values[0]
    row = [renter[name].iloc[0] for name in fitted.inputs]
    reasons = explainer.reasons(values, row)
    assert len(reasons) == 2  # explain.top
    assert "renting raises the risk" in reasons
    assert any("(" in r and "the score" in r for r in reasons)  # undeclared: label (value)


def test_declared_groups_are_told_as_one(data: tuple[pd.DataFrame, pd.Series]) -> None:
    x, _ = data
    fitted = _fitted("lightgbm", data, None)
    money = GroupSpec(
        label="Money", inputs=["income", "debt"], raises="money raises it", lowers="money lowers it"
    )
    built = build(_usecase(groups={"money": money}), fitted, x.iloc[:500], export(fitted, x))
    assert built is not None
    explainer = VersionExplainer(built.spec, _reload(built))
    coded = fitted.encode(x.iloc[:40])
    values = explainer.contributions(coded).values
    at = [fitted.inputs.index("income"), fitted.inputs.index("debt")]
    for i, row in enumerate(values):
        (told,) = explainer.grouped(row)
        assert told["inputs"] == ["income", "debt"]
        assert told["contribution"] == pytest.approx(row[at].sum(), abs=1e-12)  # exact sum
        reasons = explainer.reasons(row, [x[n].iloc[i] for n in fitted.inputs])
        said = "money raises it" if told["contribution"] > 0 else "money lowers it"
        assert said in reasons  # one reason for the group, whatever its members' signs
        assert not any(r.startswith(("income", "debt")) for r in reasons)
    (ranked,) = built.spec["group_importance"]
    assert ranked["importance"] == pytest.approx(
        np.abs(explainer.contributions(fitted.encode(x.iloc[:500])).values[:, at].sum(1)).mean(),
        rel=1e-9,  # the same 500 held-out rows, in another order
    )


def test_an_input_belongs_to_one_group_only() -> None:
    with pytest.raises(ValueError, match="already in group a"):
        ExplainSpec(
            groups={
                "a": GroupSpec(label="A", inputs=["x", "y"]),
                "b": GroupSpec(label="B", inputs=["y", "z"]),
            }
        )


def _reload(built: Any) -> Any:
    from tabship.training.explainer import _in_memory

    return _in_memory(built.kind, built.payload, True)


def test_a_family_without_an_explainer_gets_none(data: tuple[pd.DataFrame, pd.Series]) -> None:
    x, y = data
    pipe = build_pipeline("knn", {"n_neighbors": 5}, "none", 1, "regression", ["home"])
    pipe.fit(x, y.astype(float))
    fitted = Fitted(pipe, "regression", FEATURES, ["home"])
    assert build(_usecase(), fitted, x.iloc[:100], export(fitted, x.iloc[:100])) is None
