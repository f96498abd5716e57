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
from tabship.explain.display import shown as display_value
from tabship.explain.groups import group_of, projection, units
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
        self.groups: dict[str, Any] = dict(spec.get("groups") or {})
        self.units = units(self.inputs, spec.get("texts", {}), self.groups)
        self.unit_sums = projection(self.units, len(self.inputs))  # contributions → units
        self.group_of = group_of(self.inputs, self.groups)

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
        """The inputs (or declared groups) that moved this row's score most, in words,
        strongest first."""
        moved = values @ self.unit_sums
        order = np.argsort(-np.abs(moved), kind="stable")[: top or int(self.spec.get("top", 4))]
        out = []
        for j in order:
            if moved[j] == 0:
                continue
            unit = self.units[j]
            label = unit.said.get("label", unit.name)
            if not unit.group:
                label = f"{label} ({self.display(unit.name, row[unit.members[0]])})"
            if moved[j] > 0:
                out.append(unit.said.get("raises") or f"{label} raises the score")
            else:
                out.append(unit.said.get("lowers") or f"{label} lowers the score")
        return out

    def grouped(self, values: np.ndarray) -> list[dict[str, Any]]:
        """Each declared group's contribution for one row, largest first."""
        moved = values @ self.unit_sums
        found = [(u, float(v)) for u, v in zip(self.units, moved, strict=True) if u.group]
        return [
            {
                "group": u.name,
                "label": u.said.get("label", u.name),
                "inputs": [self.inputs[i] for i in u.members],
                "contribution": v,
            }
            for u, v in sorted(found, key=lambda f: -abs(f[1]))
        ]

    def similar(
        self,
        client_id: str,
        coded: np.ndarray,
        values: np.ndarray,
        shown: list[Any],
        k: int,
        compare: str | None = None,
    ) -> dict[str, Any] | None:
        """The client's nearest held-out clients (among its peers by a declared comparison,
        where named), summarised; None: no reference kept. Raises ``KeyError`` for an
        undeclared comparison and ``CohortTooSmallError`` for fewer than ten matches."""
        if self.reference is None:
            return None
        text = set(self.spec.get("text", []))
        by = None
        if compare is not None:
            declared = self.comparisons()[compare]
            by = (declared["label"], [n for n in declared["by"] if n in self.inputs])
        found = cohort(self.reference, client_id, coded, values, self.inputs, shown, k, text, by=by)
        for standing in found["inputs"]:  # as a person reads it: label, unit, factor
            said = self.spec.get("texts", {}).get(standing["input"], {})
            standing["label"] = said.get("label", standing["input"])
            standing["shown"] = display_value(standing["value"], said)
            if said.get("unit") or said.get("factor"):
                standing["display"] = {"unit": said.get("unit"), "factor": said.get("factor")}
        return found

    def comparisons(self) -> dict[str, dict[str, Any]]:
        """Declared ways to find a client's peers: name → label and the inputs shared."""
        return dict(self.spec.get("compare") or {})

    def words(self, decision: int | None = None) -> dict[str, str]:
        """The score's name and, for ``decision``, the decision's: as the declaration says."""
        said = {"score": "score", "positive": "positive", "negative": "negative"}
        said["outcome"] = "positive"
        said.update(self.spec.get("words") or {})
        found = {"score_label": said["score"], "outcome_label": said["outcome"]}
        if decision is not None:
            found["decision_label"] = said["positive" if decision else "negative"]
        return found

    @property
    def boundary(self) -> float:
        """How close to the threshold a score is 'close to the boundary'."""
        return float(self.spec.get("boundary", 0.03))

    def label(self, name: str) -> str:
        """An input's declared label (its name where none is declared)."""
        return str(self.spec.get("texts", {}).get(name, {}).get("label", name))

    def display(self, name: str, value: Any) -> str:
        """An input's value as a person reads it (declared unit and factor applied)."""
        return display_value(value, self.spec.get("texts", {}).get(name, {}))

    def sample(self, n: int) -> list[str]:
        """Ids of ``n`` known clients (held-out ones, in a fixed random order)."""
        return [] if self.reference is None else [str(i) for i in self.reference["ids"][:n]]

    def importance(self) -> list[dict[str, Any]]:
        """Mean absolute contribution per input on held-out rows, largest first."""
        return list(self.spec.get("importance", []))

    def group_importance(self) -> list[dict[str, Any]]:
        """Mean absolute contribution per declared group on held-out rows, largest first."""
        return list(self.spec.get("group_importance", []))
