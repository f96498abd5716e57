"""From the coded matrix the service scores to the columns the model itself reads, and
back: which raw input each model column comes from (a value, its missing-value flag, or
one level of a text input), so contributions are told per input a person knows."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Column:
    """One model column: the coded input it reads, how, and its preprocessing."""

    input: int  # position in the coded matrix (the bundle's inputs)
    kind: str  # "value", "missing" (1 where the input is missing) or "level" (1 at ``code``)
    code: float | None = None  # kind "level": the level's code
    fill: float | None = None  # kind "value": what a missing value becomes (the median)
    center: float = 0.0  # scaled models: (x - center) / scale
    scale: float = 1.0


@dataclass(frozen=True)
class ColumnMap:
    """Every model column in order; turns coded rows into model rows."""

    columns: list[Column]

    def model_rows(self, x: np.ndarray) -> np.ndarray:
        """Coded rows (NaN: missing) → the matrix the model reads."""
        out = np.empty((len(x), len(self.columns)))
        for j, c in enumerate(self.columns):
            v = x[:, c.input]
            if c.kind == "missing":
                col = np.isnan(v).astype(np.float64)
            elif c.kind == "level":
                col = (v == c.code).astype(np.float64)
            else:
                col = np.where(np.isnan(v), np.nan if c.fill is None else c.fill, v)
            out[:, j] = (col - c.center) / c.scale
        return out

    def group(self, contributions: np.ndarray, inputs: int) -> np.ndarray:
        """Per-column contributions summed per coded input: (rows, inputs)."""
        out = np.zeros((len(contributions), inputs))
        for j, c in enumerate(self.columns):
            out[:, c.input] += contributions[:, j]
        return out

    def as_json(self) -> list[dict[str, Any]]:
        """The map as plain data (a bundle's file)."""
        return [asdict(c) for c in self.columns]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> ColumnMap:
        """The map from a bundle's file."""
        return cls([Column(**c) for c in data])
