"""Online stores: the latest feature row per entity, for serving."""

from __future__ import annotations

from tabship.settings import Settings
from tabship.stores.online.base import OnlineStore


def open_online_store(settings: Settings, name: str | None = None) -> OnlineStore:
    """The backend named in settings (or ``name``): ``sqlite`` or ``redis``."""
    chosen = name or settings.online
    if chosen == "sqlite":
        from tabship.stores.online.sqlite import SQLiteOnlineStore

        return SQLiteOnlineStore(settings.online_sqlite_path)
    if chosen == "redis":
        from tabship.stores.online.redis import RedisOnlineStore

        return RedisOnlineStore(settings.redis_url)
    raise ValueError(f"unknown online store '{chosen}' (sqlite or redis)")


__all__ = ["OnlineStore", "open_online_store"]
