"""Clients like this one: the nearest held-out clients in contribution space (scored for
the same reasons), summarised. Aggregates only: no other client's row leaves."""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_COHORT = 10  # smaller groups would describe individuals
MAX_COHORT = 500


def cohort(
    reference: dict[str, np.ndarray],
    client_id: str,
    coded: np.ndarray,
    contributions: np.ndarray,
    inputs: list[str],
    shown: list[Any],
    k: int,
    text: set[str],
    top: int = 4,
) -> dict[str, Any]:
    """The ``k`` nearest other reference clients and where this client stands among them."""
    others = reference["ids"] != client_id  # never the client itself
    pool = {name: values[others] for name, values in reference.items()}
    k = min(k, len(pool["ids"]))
    distance = np.linalg.norm(pool["contributions"] - contributions, axis=1)
    nearest = np.argsort(distance, kind="stable")[:k]
    scores = pool["scores"][nearest].astype(np.float64)
    outcomes = pool["outcomes"][nearest].astype(np.float64)
    order = np.argsort(-np.abs(contributions), kind="stable")[:top]
    return {
        "cohort_size": int(k),
        "space": "contributions (clients scored for the same reasons)",
        "observed_rate": float(np.nanmean(outcomes)),
        "scores": {f"p{q}": float(np.quantile(scores, q / 100)) for q in (10, 25, 50, 75, 90)},
        "inputs": [
            _standing(inputs[i], shown[i], coded[i], pool["inputs"][nearest, i], inputs[i] in text)
            for i in order
        ],
    }


def _standing(
    name: str, shown: Any, value: float, cohort: np.ndarray, text: bool
) -> dict[str, Any]:
    """Where the client's value stands in the cohort: its percentile (a number) or the
    share of the cohort with the same level (text)."""
    out: dict[str, Any] = {"input": name, "value": shown}
    known = cohort[~np.isnan(cohort)].astype(np.float64)
    out["cohort_missing_share"] = float(1 - len(known) / len(cohort)) if len(cohort) else 0.0
    if text:  # a level's code: who shares it
        out["same_level_share"] = float(np.mean(cohort == value)) if len(cohort) else 0.0
    elif np.isnan(value) or not len(known):
        out["percentile"] = None
    else:
        below, equal = np.sum(known < value), np.sum(known == value)
        out["percentile"] = float(100 * (below + equal / 2) / len(known))
        out["cohort_median"] = float(np.median(known))
    return out
