"""From the coded matrix the service scores to the columns the model itself reads, and
back: which raw input each model column comes from (a value, its missing-value flag, or
one level of a text input), so contributions are told per input a person knows."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
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

    @cached_property
    def _plan(self) -> dict[str, np.ndarray]:
        """The map as arrays, so that a row is mapped in a few vector operations."""
        cs = self.columns
        fill = [np.nan if c.fill is None else c.fill for c in cs]
        return {
            "input": np.array([c.input for c in cs], dtype=np.intp),
            "missing": np.array([c.kind == "missing" for c in cs]),
            "level": np.array([c.kind == "level" for c in cs]),
            "code": np.array([np.nan if c.code is None else c.code for c in cs]),
            "fill": np.array(fill, dtype=np.float64),
            "center": np.array([c.center for c in cs], dtype=np.float64),
            "scale": np.array([c.scale for c in cs], dtype=np.float64),
        }

    def model_rows(self, x: np.ndarray) -> np.ndarray:
        """Coded rows (NaN: missing) → the matrix the model reads."""
        plan = self._plan
        v = np.asarray(x, dtype=np.float64)[:, plan["input"]]
        gap = np.isnan(v)
        out = np.where(gap, plan["fill"], v)
        out = np.where(plan["missing"], gap, out)
        out = np.where(plan["level"], v == plan["code"], out)
        return np.asarray((out - plan["center"]) / plan["scale"])

    def group(self, contributions: np.ndarray, inputs: int) -> np.ndarray:
        """Per-column contributions summed per coded input: (rows, inputs)."""
        return np.asarray(contributions @ self._projection(inputs))

    def _projection(self, inputs: int) -> np.ndarray:
        """The (columns, inputs) matrix that sums each input's columns, built once."""
        built = self.__dict__.setdefault("_projections", {})
        if inputs not in built:
            projection = np.zeros((len(self.columns), inputs))
            projection[np.arange(len(self.columns)), self._plan["input"]] = 1.0
            built[inputs] = projection
        return np.asarray(built[inputs])

    def as_json(self) -> list[dict[str, Any]]:
        """The map as plain data (a bundle's file)."""
        return [asdict(c) for c in self.columns]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> ColumnMap:
        """The map from a bundle's file."""
        return cls([Column(**c) for c in data])
