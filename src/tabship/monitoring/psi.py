"""The population stability index over fixed bins, as credit teams compute and read it.

PSI = Σ (actual − expected) · ln(actual / expected) over the bins, with every share floored
at ``FLOOR`` so that an empty bin (a level training never saw) counts as a large shift
instead of an infinity.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from tabship.usecase.monitoring import PsiSpec

FLOOR = 1e-4
Band = Literal["stable", "watch", "act"]


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts per bin → shares (all zeros stay zeros)."""
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of ``actual`` shares against ``expected`` shares, bin by bin."""
    e = np.maximum(np.asarray(expected, dtype=float), FLOOR)
    a = np.maximum(np.asarray(actual, dtype=float), FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def band(value: float, spec: PsiSpec) -> Band:
    """Stable, watch or act, by the declared bands."""
    if value >= spec.act:
        return "act"
    return "watch" if value >= spec.watch else "stable"
