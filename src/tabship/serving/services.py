"""Everything a running API holds, built once at start-up and closed at shutdown."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio.to_thread

from tabship.serving.http.access import Access
from tabship.serving.http.errors import Redactor
from tabship.serving.lookup import FeatureSource
from tabship.serving.metrics import Metrics
from tabship.serving.models.mirror import Repository
from tabship.serving.models.pool import Change, Pool, Served
from tabship.serving.models.sync_worker import Syncer
from tabship.serving.predlog import PredictionLog
from tabship.serving.scoring import Scorer
from tabship.settings import Settings
from tabship.stores.online.base import OnlineStore
from tabship.usecase import UseCase

Role = Literal["all", "features", "predictions"]
_log = logging.getLogger("tabship.serve")


@dataclass
class Services:
    """What a running server holds: declarations, stores, the model pool, sync, log, metrics,
    access."""

    settings: Settings
    role: Role
    usecases: dict[str, UseCase]
    online: OnlineStore | None
    features: FeatureSource | None
    repo: Repository
    pool: Pool
    syncer: Syncer
    log: PredictionLog
    metrics: Metrics
    redact: Redactor
    scorer: Scorer
    access: Access
    last_error: str | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _stamp: tuple[tuple[str, float], ...] = ()

    @property
    def serves_predictions(self) -> bool:
        """Whether this server answers predictions (its role is all or predictions)."""
        return self.role in {"all", "predictions"}

    async def reconcile(self) -> list[Change]:
        """Load what the repository names, swap it in, then drain and unload the rest."""
        async with self._lock:
            self._stamp = self.repo.stamp()
            views, changes, dropped = await anyio.to_thread.run_sync(self.pool.plan)
            self.pool.swap(views)
        for change in changes:
            self._report(change)
        for model, view in views.items():
            self.metrics.loaded.labels(model).set(len(view.versions))
        if dropped:
            await self._drain(dropped)
        return changes

    def _report(self, change: Change) -> None:
        if change.aliases or change.loaded:
            self.metrics.swaps.labels(change.model, "applied").inc()
            _log.info(
                "model updated",
                extra={
                    "model": change.model,
                    "loaded": change.loaded,
                    "aliases": change.aliases,
                    "unloaded": change.unloaded,
                },
            )
        for version, why in change.failed.items():
            self.metrics.swaps.labels(change.model, "refused").inc()
            _log.error(
                "version not swapped in; the previous one keeps serving",
                extra={"model": change.model, "version": version, "why": why},
            )

    async def _drain(self, dropped: list[Served]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.swap_drain_seconds
        while any(s.in_flight for s in dropped) and loop.time() < deadline:
            await asyncio.sleep(0.01)
        busy = [f"{s.model} v{s.version}" for s in dropped if s.in_flight]
        if busy:
            _log.warning("unloading with requests in flight", extra={"versions": busy})
        dropped.clear()  # the last references: the runtimes are freed

    async def watch(self) -> None:
        """Follow the repository (and keep the sync worker alive) until cancelled."""
        while True:
            await asyncio.sleep(self.settings.poll_interval)
            try:
                self.syncer.start()
                if self.repo.stamp() != self._stamp:
                    await self.reconcile()
                status = self.repo.sync_status()
                self.last_error = status.get("error")
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("model repository check failed")

    async def reload(self) -> dict[str, Any]:
        """Sync from the registry now, retry refused versions, and apply the result."""
        await self.syncer.request(timeout=self.settings.reload_timeout)
        self.pool.forget_refusals()
        changes = await self.reconcile()
        return {
            "changes": [c.__dict__ for c in changes],
            "models": {m: v.aliases for m, v in self.pool.views.items()},
        }
