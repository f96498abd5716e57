"""Clients like this one: the nearest held-out clients in contribution space (scored for
the same reasons), summarised. Aggregates only: no other client's row leaves."""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_COHORT = 10  # smaller groups would describe individuals
MAX_COHORT = 500
QUANTILES = (5, 25, 50, 75, 95)  # a number's spread in the cohort, for a box plot


class CohortTooSmallError(ValueError):
    """Fewer than ``MIN_COHORT`` held-out clients match: a summary would describe people."""


NEAREST = "contributions (clients scored for the same reasons)"


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
    by: tuple[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The ``k`` nearest other reference clients (among those sharing the client's ``by``
    inputs, where a declared comparison is given: (label, inputs)) and where this client
    stands among them."""
    others = reference["ids"] != client_id  # never the client itself
    if by is not None:
        others &= _peers(reference, coded, [inputs.index(n) for n in by[1]], inputs, text)
    pool = {name: values[others] for name, values in reference.items()}
    if len(pool["ids"]) < MIN_COHORT:
        raise CohortTooSmallError(
            f"only {len(pool['ids'])} held-out clients match ({by[0] if by else NEAREST}); "
            f"a cohort needs at least {MIN_COHORT}"
        )
    k = min(k, len(pool["ids"]))
    distance = np.linalg.norm(pool["contributions"] - contributions, axis=1)
    nearest = np.argsort(distance, kind="stable")[:k]
    scores = pool["scores"][nearest].astype(np.float64)
    outcomes = pool["outcomes"][nearest].astype(np.float64)
    order = np.argsort(-np.abs(contributions), kind="stable")[:top]
    return {
        "cohort_size": int(k),
        "space": NEAREST if by is None else by[0],
        "observed_rate": float(np.nanmean(outcomes)),
        "scores": {f"p{q}": float(np.quantile(scores, q / 100)) for q in (10, 25, 50, 75, 90)},
        "inputs": [
            _standing(inputs[i], shown[i], coded[i], pool["inputs"][nearest, i], inputs[i] in text)
            for i in order
        ],
    }


def _peers(
    reference: dict[str, np.ndarray],
    coded: np.ndarray,
    at: list[int],
    inputs: list[str],
    text: set[str],
) -> np.ndarray:
    """Reference clients with the client's level of each text input and its fifth (among
    the reference clients) of each number; missing matches missing."""
    found = np.ones(len(reference["ids"]), dtype=bool)
    for i in at:
        column, value = reference["inputs"][:, i].astype(np.float64), float(coded[i])
        if np.isnan(value):
            found &= np.isnan(column)
        elif inputs[i] in text:
            found &= column == value
        else:
            known = column[~np.isnan(column)]
            edges = np.quantile(known, [0.2, 0.4, 0.6, 0.8]) if len(known) else np.array([])
            band = np.searchsorted(edges, value, side="right")
            found &= ~np.isnan(column) & (np.searchsorted(edges, column, side="right") == band)
    return found


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
        quantiles = np.quantile(known, [q / 100 for q in QUANTILES])
        out["cohort_quantiles"] = {
            f"p{q}": float(v) for q, v in zip(QUANTILES, quantiles, strict=True)
        }
    return out
