"""The declaration of a use case, one package at the bottom of the layers: source,
contract, feature view, enrichment, training and serving sections, each a strict model,
and the loader that reads ``<usecases>/<name>/usecase.yaml``. It depends on no other
package of tabship (only its errors); every other package may depend on it."""

from tabship.usecase.declaration import (
    DECLARATION,
    EnrichSpec,
    FeatureViewSpec,
    SourceSpec,
    UseCase,
    load_usecase,
)

__all__ = [
    "DECLARATION",
    "EnrichSpec",
    "FeatureViewSpec",
    "SourceSpec",
    "UseCase",
    "load_usecase",
]
