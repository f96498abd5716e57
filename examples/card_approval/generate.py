"""Applicants of the same shape as the training_set.parquet of Nubank's public "Data
Scientist coding test" (2018), for when the real file is not at hand: UUID ids as bytes,
~15% defaults among labelled rows, ~7% rows without a label, score_3 and income missing
together in ~2% of rows, ~20% of rows repeated verbatim, and a weak signal (an AUC near
0.6)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd


def generate(
    rows: int,
    out: Path,
    seed: int = 7,
    fmt: str = "parquet",
    dirty: float = 0.0,
    on_rows: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write ``rows`` applicants: four scores, income and a default label, partly missing."""
    rng = np.random.default_rng(seed)
    unique = max(int(rows * 0.8), 1)
    frame = pd.DataFrame(
        {
            "ids": [
                uuid.UUID(int=int(v)).bytes.hex().encode() for v in rng.integers(0, 2**63, unique)
            ],
            "score_3": rng.normal(340, 120, unique).clip(70, 760).round(-1),
            "score_4": rng.normal(100, 3, unique).clip(90.7, 111.0),
            "score_5": rng.uniform(0.003, 0.999, unique),
            "score_6": rng.normal(100, 10, unique).clip(68.5, 130.7),
            "income": rng.lognormal(11.0, 0.5, unique).clip(10_220, 500_044).round(2),
        }
    )
    logit = -1.9 + 0.0015 * (frame["score_3"] - 340) - 0.04 * (frame["score_4"] - 100)
    default = rng.random(unique) < 1 / (1 + np.exp(-logit))
    frame["default"] = pd.array(default, dtype="boolean")
    frame.loc[rng.random(unique) < 0.07, "default"] = pd.NA
    gaps = rng.random(unique) < 0.02
    frame.loc[gaps, ["score_3", "income"]] = np.nan
    if dirty:
        frame.loc[rng.random(unique) < dirty, "score_5"] = 7.0  # out of range: quarantined
    repeats = frame.sample(rows - unique, replace=True, random_state=seed)
    frame = pd.concat([frame, repeats], ignore_index=True)
    frame = frame[["ids", "default", "score_3", "score_4", "score_5", "score_6", "income"]]
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"applicants.{fmt}"
    if fmt == "csv":
        frame.assign(ids=frame["ids"].str.decode("ascii")).to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    if on_rows is not None:
        on_rows(len(frame))
    return [path]
