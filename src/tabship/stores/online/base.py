"""The one small interface every online store implements.

A store holds, per use case, one live *snapshot*: a map from entity key to the JSON of
that entity's latest feature row. A new snapshot is written aside and made live in one
atomic step, so a reader sees the old snapshot or the new one, never a mix.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tabship.usecase import UseCase


@dataclass(frozen=True)
class Snapshot:
    """What is live for a use case."""

    use_case: str
    version: str
    rows: int
    written_at: str


@dataclass(frozen=True)
class Lookup:
    """Rows read from one snapshot, with that snapshot's version (None before any)."""

    version: str | None
    rows: list[str | None]


class OnlineStore(ABC):
    """Latest feature rows by entity key."""

    name: str
    # Rows arriving in key order are written faster (a B-tree fills and updates pages in
    # order); a hash-based store gains nothing, and the sort is skipped for it.
    wants_key_order: bool = False

    @abstractmethod
    def write_snapshot(
        self, use_case: str, version: str, rows: Iterable[Sequence[tuple[str, str]]]
    ) -> int:
        """Write ``(key, row_json)`` chunks as a new snapshot and make it live; returns rows."""

    @abstractmethod
    def update_snapshot(
        self, use_case: str, base: str, version: str, rows: Iterable[Sequence[tuple[str, str]]]
    ) -> int:
        """Replace or add the ``(key, row_json)`` rows in the live snapshot ``base``, making
        it ``version`` in one atomic step; returns the snapshot's rows. Refused (StoreError)
        when ``base`` is not the live snapshot."""

    @abstractmethod
    def lookup(self, use_case: str, keys: Sequence[str]) -> Lookup:
        """The live JSON rows for ``keys`` (None where absent) and their snapshot's version,
        read in one step so the version always describes the rows."""

    def get_raw(self, use_case: str, keys: Sequence[str]) -> list[str | None]:
        """The stored JSON text of each key's row (None where unknown)."""
        return self.lookup(use_case, keys).rows

    @abstractmethod
    def snapshot(self, use_case: str) -> Snapshot | None:
        """The live snapshot's description, or None before the first materialisation."""

    @abstractmethod
    def keys(self, use_case: str, limit: int) -> list[str]:
        """Up to ``limit`` keys of the live snapshot (for samples and smoke tests)."""

    def get(self, use_case: str, key: str) -> dict[str, Any] | None:
        """One entity's row, or None."""
        raw = self.get_raw(use_case, [key])[0]
        return None if raw is None else json.loads(raw)

    def get_many(self, use_case: str, keys: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Rows by key (None where unknown)."""
        raws = self.get_raw(use_case, keys)
        return {k: (None if r is None else json.loads(r)) for k, r in zip(keys, raws, strict=True)}

    def close(self) -> None:
        """Release connections."""


def not_live(use_case: str, base: str, live: str | None) -> str:
    """Why an incremental update is refused: it was computed on another snapshot."""
    return (
        f"{use_case}: the incremental update is on snapshot {base} but {live or 'nothing'} is "
        "live; materialize without --incremental"
    )


def entity_answer(usecase: UseCase, key: str, row: dict[str, Any]) -> dict[str, Any]:
    """An entity's live row as the feature API and ``tabship features get`` show it: its
    id, its features (the declared ones, in order) and the event time they are as of."""
    return {
        "id": key,
        "features": {f: row.get(f) for f in usecase.feature_view.features},
        "event_time": row.get(usecase.event_time) if usecase.event_time else None,
    }
