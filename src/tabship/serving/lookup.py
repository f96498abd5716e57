"""Where the prediction service gets an entity's features: in process, or over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
import orjson

from tabship.serving.http.errors import ApiError
from tabship.stores.online.base import OnlineStore


@dataclass(frozen=True)
class Rows:
    """Feature rows for the keys asked (None where unknown) and the snapshot they came from."""

    version: str | None
    rows: list[dict[str, Any] | None]


class FeatureSource(Protocol):
    """Where an entity's features come from: the online store in process, or a feature service."""

    async def fetch(self, use_case: str, keys: list[str]) -> Rows:
        """The rows of ``keys`` (None where unknown)."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


async def fetch_rows(
    source: FeatureSource, use_case: str, keys: list[str], advice: str = "retry"
) -> Rows:
    """Rows from a feature source; a 503 naming the store when it cannot be read."""
    try:
        return await source.fetch(use_case, keys)
    except ApiError:
        raise
    except Exception as exc:  # the store's client raises its own types (redis, httpx, ...)
        raise ApiError(
            503,
            "feature_store_unavailable",
            f"the online store of {use_case} cannot be read ({type(exc).__name__}); {advice}",
            model=use_case,
        ) from exc


class LocalFeatures:
    """The online store, read in process (the default: no network hop)."""

    def __init__(self, store: OnlineStore) -> None:
        self.store = store
        # SQLite answers in microseconds from the page cache; a network store must not
        # block the event loop, so it is read from a worker thread.
        self._inline = store.name == "sqlite"

    def fetch_now(self, use_case: str, keys: list[str]) -> Rows:
        """The rows of ``keys``, read now (SQLite answers from its page cache in microseconds)."""
        found = self.store.lookup(use_case, keys)
        return Rows(found.version, [None if r is None else orjson.loads(r) for r in found.rows])

    async def fetch(self, use_case: str, keys: list[str]) -> Rows:
        """The rows of ``keys``; a network store is read off the event loop."""
        if self._inline:
            return self.fetch_now(use_case, keys)
        return await anyio.to_thread.run_sync(self.fetch_now, use_case, keys)

    async def close(self) -> None:
        """Close the store."""
        self.store.close()


class RemoteFeatures:
    """The feature API of another tabship service (``serve predictions --features-url``)."""

    def __init__(self, base_url: str, key: str | None = None) -> None:
        import httpx

        headers = {"x-api-key": key} if key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=5.0, headers=headers
        )

    async def fetch(self, use_case: str, keys: list[str]) -> Rows:
        """The rows of ``keys``, from the feature service's batch route."""
        response = await self._client.post(f"/v1/features/{use_case}", json={"ids": keys})
        response.raise_for_status()
        body = response.json()
        by_id = {str(r["id"]): r["features"] for r in body["rows"]}
        return Rows(body["feature_table_version"], [by_id.get(k) for k in keys])

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
