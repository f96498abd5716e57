"""A version's explanations: contributions per raw input in the served score's scale,
the base value they start from, global importance, and the top reasons in words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tabship.explain import explainers
from tabship.explain.columns import ColumnMap
from tabship.explain.similar import cohort

SPEC = "spec.json"
REFERENCE = "reference.npz"  # held-out clients to compare a client with
FOLDER = "explain"  # inside a version's serving bundle


@dataclass(frozen=True)
class Contributions:
    """Rows' contributions per raw input and their base, in the served score's scale."""

    base: np.ndarray  # (rows,)
    values: np.ndarray  # (rows, inputs)

    @property
    def total(self) -> np.ndarray:
        """Base plus contributions: the served score in its scale."""
        return np.asarray(self.base + self.values.sum(axis=1))


def _logit(p: np.ndarray, eps: float = 1e-15) -> np.ndarray:
    p = np.clip(p, eps, 1 - eps)
    return np.asarray(np.log(p / (1 - p)))


class VersionExplainer:
    """One version's explainer, read from its bundle: column map, family explainer, the
    calibration that maps its raw output to the served scale, and the reason texts."""

    def __init__(
        self,
        spec: dict[str, Any],
        explainer: explainers.Explainer,
        reference: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.spec, self.explainer, self.reference = spec, explainer, reference
        self.columns = ColumnMap.from_json(spec["columns"])
        self.inputs: list[str] = list(spec["inputs"])
        self.scale: str = spec["scale"]  # "log-odds" or "value"
        self.raw: str = spec["raw"]  # "log-odds", "probability" or "value"
        cal = spec.get("calibration")
        self.slope: float = 1.0 if cal is None else float(cal["slope"])
        self.intercept: float = 0.0 if cal is None else float(cal["intercept"])
        # The calibration's own clip of probabilities before their log-odds.
        self.eps: float = 1e-15 if cal is None else float(cal.get("eps", 1e-6))

    @classmethod
    def load(cls, folder: Path) -> VersionExplainer:
        """The explainer in a bundle's ``explain`` folder."""
        spec = json.loads((folder / SPEC).read_text())
        explainer = explainers.load(spec["kind"], folder, spec["scale"] == "log-odds")
        reference = None
        if (folder / REFERENCE).is_file():
            with np.load(folder / REFERENCE, allow_pickle=False) as data:
                reference = {name: data[name] for name in data.files}
        return cls(spec, explainer, reference)

    @property
    def method(self) -> str:
        """How contributions are computed, in words."""
        return str(self.spec["method"])

    def contributions(self, coded: np.ndarray) -> Contributions:
        """Contributions of coded rows (the served runtime's inputs), per raw input."""
        phi, base = self.explainer.contributions(self.columns.model_rows(coded))
        if self.raw == "log-odds":
            phi, base = phi * self.slope, base * self.slope + self.intercept
        elif self.raw == "probability":  # a forest averages probabilities: rescaled
            phi, base = self._to_log_odds(phi, base)
        return Contributions(base, self.columns.group(phi, len(self.inputs)))

    def _to_log_odds(self, phi: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact probability contributions, each scaled by one factor per row so that
        they add up to the served log-odds (signs and proportions kept)."""
        p, p0 = base + phi.sum(axis=1), base
        served, served0 = self._calibrated(p), self._calibrated(p0)
        moved = p - p0
        far = np.abs(moved) > 1e-12
        # Rows scored at the base itself take the curve's slope there instead.
        slope = self.slope / np.clip(p * (1 - p), 1e-15, None)
        slope[far] = (served - served0)[far] / moved[far]
        return phi * slope[:, None], served0

    def _calibrated(self, p: np.ndarray) -> np.ndarray:
        return np.asarray(self.slope * _logit(p, self.eps) + self.intercept)

    def reasons(self, values: np.ndarray, row: list[Any], top: int | None = None) -> list[str]:
        """The inputs that moved this row's score most, in words, strongest first."""
        texts = self.spec.get("texts", {})
        order = np.argsort(-np.abs(values), kind="stable")[: top or int(self.spec.get("top", 4))]
        out = []
        for i in order:
            if values[i] == 0:
                continue
            name = self.inputs[i]
            said = texts.get(name, {})
            label = said.get("label", name)
            shown = "missing" if row[i] is None else row[i]
            if values[i] > 0:
                out.append(said.get("raises") or f"{label} ({shown}) raises the score")
            else:
                out.append(said.get("lowers") or f"{label} ({shown}) lowers the score")
        return out

    def similar(
        self, client_id: str, coded: np.ndarray, values: np.ndarray, shown: list[Any], k: int
    ) -> dict[str, Any] | None:
        """The client's nearest held-out clients, summarised (None: no reference kept)."""
        if self.reference is None:
            return None
        text = set(self.spec.get("text", []))
        return cohort(self.reference, client_id, coded, values, self.inputs, shown, k, text)

    def sample(self, n: int) -> list[str]:
        """Ids of ``n`` known clients (held-out ones, in a fixed random order)."""
        return [] if self.reference is None else [str(i) for i in self.reference["ids"][:n]]

    def importance(self) -> list[dict[str, Any]]:
        """Mean absolute contribution per input on held-out rows, largest first."""
        return list(self.spec.get("importance", []))
