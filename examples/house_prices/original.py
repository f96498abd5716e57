"""The agency's original model (phData's MLE project, `create_model.py`), kept as the
baseline to beat.

Robust scaling then 5 nearest neighbours on 33 numeric columns: seven of the house and
the zipcode's 26 demographic columns (grade, location, age and the rest unused).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import RobustScaler

HOUSE = [
    "bedrooms",
    "bathrooms",
    "sqft_living",
    "sqft_lot",
    "floors",
    "sqft_above",
    "sqft_basement",
]
DEMOGRAPHICS: list[str] = yaml.safe_load((Path(__file__).parent / "usecase.yaml").read_text())[
    "enrich"
][0]["columns"]
COLUMNS = HOUSE + DEMOGRAPHICS


def recipe() -> Pipeline:
    """The agency's model: a robust scaler, then 5 nearest neighbours."""
    return make_pipeline(RobustScaler(), KNeighborsRegressor())


def baseline(seed: int) -> tuple[str, list[str], Pipeline]:
    """Declared as ``training.baseline``: scored on the same split as every new model."""
    return "original 5-NN on 33 columns", COLUMNS, recipe()


@dataclass(frozen=True)
class Original:
    """The original script's split sizes and its train and test errors."""

    train_rows: int
    test_rows: int
    train: dict[str, float]
    test: dict[str, float]


def original(sales: pd.DataFrame, demographics: pd.DataFrame) -> Original:
    """The original script's own protocol: left join, random 75/25 split (seed 42)."""
    from tabship.training.regression import metrics

    data = sales[["price", *HOUSE, "zipcode"]].merge(demographics, how="left", on="zipcode")
    y = data.pop("price")
    x = data.drop(columns="zipcode")[COLUMNS]
    x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=42)
    model = recipe().fit(x_train, y_train)
    return Original(
        len(x_train),
        len(x_test),
        metrics(y_train.to_numpy(), model.predict(x_train)),
        metrics(y_test.to_numpy(), model.predict(x_test)),
    )
