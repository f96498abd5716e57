"""Judging a regression: errors a person understands (in the target's units and in
percent), and whether a model over- or under-fits (train vs. cross-validated vs. test
error, learning curve), broken down by value band and by a declared group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import learning_curve

Folds = list[tuple[np.ndarray, np.ndarray]]
CURVE_SIZES = (0.1, 0.25, 0.5, 0.75, 1.0)


def metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, R² and MAPE of predictions."""
    return {
        "mae": float(mean_absolute_error(y, pred)),
        "rmse": float(root_mean_squared_error(y, pred)),
        "r2": float(r2_score(y, pred)),
        "mape": float(mean_absolute_percentage_error(y, pred)),
    }


@dataclass(frozen=True)
class Fit:
    """One model's errors on the rows it learnt, on rows it did not (cross-validated), and
    on the test split; plus how its errors move with more training rows."""

    name: str
    train: dict[str, float]
    cv: dict[str, float]
    test: dict[str, float]
    curve: list[tuple[int, float, float]]  # training rows, train RMSE, validation RMSE
    test_pred: np.ndarray

    @property
    def gap(self) -> float:
        """How much worse unseen rows are than learnt ones (0: no gap)."""
        return 1 - self.train["rmse"] / self.cv["rmse"] if self.cv["rmse"] else 0.0

    def verdict(self) -> str:
        """Over- or under-fit, in plain words (both can hold at once)."""
        said = []
        if self.gap > 0.15:
            said.append(
                f"overfits: on rows it learnt from it is off by {self.train['mae']:,.0f} on "
                f"average, on rows it has not seen by {self.cv['mae']:,.0f} "
                f"({self.gap:.0%} lower RMSE on what it learnt)"
            )
        if self.train["r2"] < 0.85:
            said.append(
                f"underfits: even on rows it learnt from it explains only "
                f"{self.train['r2']:.0%} of the differences in the target"
            )
        if not said:
            said.append("fits well: its errors on learnt and unseen rows are close")
        if len(self.curve) > 1 and self.curve[-1][2] < 0.97 * self.curve[-2][2]:
            said.append("its error on unseen rows was still falling with more training rows")
        return "; ".join(said)


def diagnose(
    name: str,
    make: Callable[[], Any],
    fitted: Any,
    x: pd.DataFrame,
    y: np.ndarray,
    x_test: pd.DataFrame,
    y_test: np.ndarray,
    folds: Folds,
    oof: np.ndarray | None = None,
    curve_rows: int | None = None,
) -> Fit:
    """Measure ``fitted`` (``make()`` fitted on all of ``x``) three ways; ``oof`` (when the
    search already has out-of-fold predictions on the same folds) saves refitting them; the
    learning curve (its five refits per fold) runs on at most ``curve_rows`` rows."""
    if oof is None:
        oof = np.full(len(y), np.nan)
        for train_idx, valid_idx in folds:
            oof[valid_idx] = make().fit(x.iloc[train_idx], y[train_idx]).predict(x.iloc[valid_idx])
    scored = ~np.isnan(oof)
    xs, ys, sampled = _within(x, y, folds, curve_rows)
    sizes, train_scores, valid_scores = learning_curve(
        make(),
        xs,
        ys,
        cv=sampled,
        train_sizes=list(CURVE_SIZES),
        scoring="neg_root_mean_squared_error",
    )
    curve = [
        (int(n), float(-t.mean()), float(-v.mean()))
        for n, t, v in zip(sizes, train_scores, valid_scores, strict=True)
    ]
    pred = np.asarray(fitted.predict(x_test), dtype=float)
    return Fit(
        name,
        metrics(y, fitted.predict(x)),
        metrics(y[scored], oof[scored]),
        metrics(y_test, pred),
        curve,
        pred,
    )


def _within(
    x: pd.DataFrame, y: np.ndarray, folds: Folds, rows: int | None, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, Folds]:
    """At most ``rows`` rows, at random, with the folds restricted to them (the split's
    rule still holds: a fold's rows are a subset of the same fold's)."""
    if rows is None or len(x) <= rows:
        return x, y, folds
    keep = np.sort(np.random.default_rng(seed).choice(len(x), rows, replace=False))
    position = np.full(len(x), -1)
    position[keep] = np.arange(rows)
    restricted = [(position[a][position[a] >= 0], position[b][position[b] >= 0]) for a, b in folds]
    return x.iloc[keep], y[keep], restricted


def by_band(y: np.ndarray, fits: list[Fit], bands: int = 5) -> pd.DataFrame:
    """Test errors per band of the true value (quantiles: each band holds as many rows)."""
    edges = np.unique(np.quantile(y, np.linspace(0, 1, bands + 1)))
    band = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        inside = band == b
        row: dict[str, Any] = {
            "band": f"{edges[b]:,.0f} – {edges[b + 1]:,.0f}",
            "rows": inside.sum(),
        }
        for fit in fits:
            err = fit.test_pred[inside] - y[inside]
            row[f"{fit.name} MAE"] = float(np.abs(err).mean())
            row[f"{fit.name} bias"] = float(err.mean())
            row[f"{fit.name} MAPE"] = float(np.abs(err / y[inside]).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def by_group(groups: pd.Series, y: np.ndarray, fits: list[Fit], show: int = 5) -> pd.DataFrame:
    """Test MAPE per group, the worst and the best ``show`` groups of the first fit."""
    frame = pd.DataFrame({"group": groups.astype(str).to_numpy(), "y": y})
    for fit in fits:
        frame[f"{fit.name} MAPE"] = np.abs(fit.test_pred - y) / y
    table = frame.groupby("group").agg(
        rows=("y", "size"), **{f"{f.name} MAPE": (f"{f.name} MAPE", "mean") for f in fits}
    )
    table = table[table["rows"] >= 5].sort_values(f"{fits[0].name} MAPE", ascending=False)
    return pd.concat([table.head(show), table.tail(show)]).reset_index()


def plot(y_test: np.ndarray, fits: list[Fit], bands: pd.DataFrame, folder: Path) -> Path:
    """Predicted vs. true, learning curves and errors by band, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    top = float(np.quantile(y_test, 0.995))
    for fit in fits:
        axes[0, 0].scatter(y_test, fit.test_pred, s=4, alpha=0.35, label=fit.name)
    axes[0, 0].plot([0, top], [0, top], linestyle="--", color="grey")
    axes[0, 0].set(
        title="Test split: predicted vs. true",
        xlabel="true",
        ylabel="predicted",
        xlim=(0, top),
        ylim=(0, top),
    )
    axes[0, 0].legend()
    for ax, fit in zip((axes[0, 1], axes[1, 0]), fits[:2], strict=False):
        rows = [c[0] for c in fit.curve]
        ax.plot(rows, [c[1] for c in fit.curve], marker="o", label="rows it learnt from")
        ax.plot(rows, [c[2] for c in fit.curve], marker="o", label="unseen rows (cross-validated)")
        ax.set(title=f"Learning curve: {fit.name}", xlabel="training rows", ylabel="RMSE")
        ax.legend()
    width = 0.8 / len(fits)
    at = np.arange(len(bands))
    for i, fit in enumerate(fits):
        axes[1, 1].bar(at + i * width, bands[f"{fit.name} MAPE"] * 100, width, label=fit.name)
    axes[1, 1].set(
        title="Test error by true-value band",
        ylabel="mean absolute % error",
        xticks=at + width * (len(fits) - 1) / 2,
    )
    axes[1, 1].set_xticklabels(bands["band"], rotation=20, fontsize=7)
    axes[1, 1].legend()
    fig.tight_layout()
    path = folder / "evaluation.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
