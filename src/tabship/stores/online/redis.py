"""Redis online store: the scale-out backend.

A snapshot is one Redis hash (entity key -> row JSON) named after its version; a
pointer key names the live hash. Switching the pointer is one SET, and reads resolve
pointer and row in one server-side script, so no reader ever mixes two snapshots.
The previous snapshot is kept (a reader mid-flight may still hold its name); older
ones are unlinked.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import redis

from tabship.errors import StoreError
from tabship.stores.online.base import Lookup, OnlineStore, Snapshot
from tabship.stores.online.base import not_live as _not_live

_READ = """
local live = redis.call('GET', KEYS[1])
if not live then return {} end
local rows = redis.call('HMGET', live, unpack(ARGV))
table.insert(rows, 1, live)
return rows
"""

# KEYS: pointer, meta, staged rows. ARGV: the live hash expected, the new hash, its version,
# the time. Upserts the staged rows into the live hash and renames it, atomically.
_UPDATE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local rows = redis.call('HGETALL', KEYS[3])
for i = 1, #rows, 2000 do
  redis.call('HSET', ARGV[1], unpack(rows, i, math.min(i + 1999, #rows)))
end
redis.call('RENAME', ARGV[1], ARGV[2])
redis.call('SET', KEYS[1], ARGV[2])
local n = redis.call('HLEN', ARGV[2])
redis.call('SET', KEYS[2], cjson.encode({version = ARGV[3], rows = n, written_at = ARGV[4],
  hash = ARGV[2]}))
redis.call('DEL', KEYS[3])
return n
"""


def _version_of(snapshot_hash: str) -> str:
    """``<prefix>:<use case>:snapshot:<version>:<stamp>`` → ``<version>``."""
    return snapshot_hash.split(":snapshot:", 1)[1].split(":", 1)[0]


class RedisOnlineStore(OnlineStore):
    """The online store on Redis: one hash per snapshot, the live snapshot switched atomically."""

    name = "redis"

    def __init__(self, url: str, prefix: str = "tabship") -> None:
        self.client: redis.Redis[str] = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self._read = self.client.register_script(_READ)
        self._update = self.client.register_script(_UPDATE)

    def _pointer(self, use_case: str) -> str:
        return f"{self.prefix}:{use_case}:live"

    def _meta(self, use_case: str) -> str:
        return f"{self.prefix}:{use_case}:meta"

    def _hash(self, use_case: str, version: str, stamp: str) -> str:
        return f"{self.prefix}:{use_case}:snapshot:{version}:{stamp}"

    def write_snapshot(
        self, use_case: str, version: str, rows: Iterable[Sequence[tuple[str, str]]]
    ) -> int:
        """Write a snapshot under a new key, then make it live in one step."""
        written_at = dt.datetime.now(dt.UTC).isoformat()
        target = self._hash(use_case, version, written_at)
        count = 0
        try:
            for chunk in rows:
                if chunk:
                    self.client.hset(target, mapping=dict(chunk))
                    count += len(chunk)
        except BaseException:
            self.client.unlink(target)
            raise
        meta = json.dumps(
            {"version": version, "rows": count, "written_at": written_at, "hash": target}
        )
        previous = self.client.get(self._pointer(use_case))
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self._pointer(use_case), target)
        pipe.set(self._meta(use_case), meta)
        if previous:
            pipe.set(self._meta(use_case) + ":previous", str(previous))
        pipe.execute()
        self._unlink_older(use_case, keep={target, str(previous or "")})
        return count

    def update_snapshot(
        self, use_case: str, base: str, version: str, rows: Iterable[Sequence[tuple[str, str]]]
    ) -> int:
        """Stage the rows aside, then upsert them into the live hash and rename it after
        ``version`` in one server-side script: readers see one snapshot or the other."""
        live = self.client.get(self._pointer(use_case))
        if live is None or _version_of(str(live)) != base:
            raise StoreError(_not_live(use_case, base, live and _version_of(str(live))))
        written_at = dt.datetime.now(dt.UTC).isoformat()
        staged = f"{self.prefix}:{use_case}:staged:{written_at}"
        try:
            for chunk in rows:
                if chunk:
                    self.client.hset(staged, mapping=dict(chunk))
            keys = [self._pointer(use_case), self._meta(use_case), staged]
            args = [str(live), self._hash(use_case, version, written_at), version, written_at]
            count = int(self._update(keys=keys, args=args))
        finally:
            self.client.unlink(staged)
        if count < 0:
            raise StoreError(_not_live(use_case, base, None))
        return count

    def _unlink_older(self, use_case: str, keep: set[str]) -> None:
        pattern = f"{self.prefix}:{use_case}:snapshot:*"
        stale = [k for k in self.client.scan_iter(match=pattern, count=1000) if k not in keep]
        if stale:
            self.client.unlink(*stale)

    def lookup(self, use_case: str, keys: Sequence[str]) -> Lookup:
        """The rows of ``keys`` from the live snapshot."""
        if not keys:
            return Lookup(self._live_version(use_case), [])
        values: list[Any] = self._read(keys=[self._pointer(use_case)], args=list(keys))
        if not values:
            return Lookup(None, [None] * len(keys))
        return Lookup(_version_of(str(values[0])), [v if v is None else str(v) for v in values[1:]])

    def _live_version(self, use_case: str) -> str | None:
        live = self.client.get(self._pointer(use_case))
        return None if live is None else _version_of(str(live))

    def keys(self, use_case: str, limit: int) -> list[str]:
        """Up to ``limit`` keys of the live snapshot."""
        live = self.client.get(self._pointer(use_case))
        if live is None:
            return []
        _, fields = self.client.hscan(str(live), 0, count=max(limit, 10))
        return sorted(str(k) for k in fields)[:limit]

    def snapshot(self, use_case: str) -> Snapshot | None:
        """The live snapshot's version and size, or None."""
        raw = self.client.get(self._meta(use_case))
        if raw is None:
            return None
        meta = json.loads(str(raw))
        return Snapshot(use_case, meta["version"], meta["rows"], meta["written_at"])

    def close(self) -> None:
        """Close the connection."""
        self.client.close()
