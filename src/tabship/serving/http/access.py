"""Who may call what: API keys carry scopes, and callers without a key get the scopes
the settings leave open.

``features`` reads an entity's features (personal data), ``predict`` scores, ``models``
reads versions and approval records (who approved, and why), ``admin`` reloads. Keys are
compared in constant time against every configured key, so timing tells nothing about
which key, or how much of one, matched.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from tabship.serving.http.errors import ApiError
from tabship.settings import SCOPES, Scope, Settings

HEADER = "X-API-Key"


@dataclass(frozen=True)
class Caller:
    """Who called: a key's name, or ``anonymous``."""

    name: str
    scopes: frozenset[str]


class Access:
    """The configured keys and open scopes, checked on every request."""

    def __init__(self, settings: Settings) -> None:
        self.open = frozenset(settings.open_scopes)
        self._keys: list[tuple[bytes, Caller]] = []
        if settings.api_key is not None:
            self._add(settings.api_key.get_secret_value(), Caller("admin", frozenset(SCOPES)))
        for entry in settings.api_keys:
            self._add(entry.key.get_secret_value(), Caller(entry.name, frozenset(entry.scopes)))

    def _add(self, key: str, caller: Caller) -> None:
        self._keys.append((_digest(key), caller))

    def caller(self, presented: str | None) -> Caller | None:
        """The key's holder, None for a wrong key; ``anonymous`` without one."""
        if presented is None or presented == "":
            return Caller("anonymous", self.open)
        digest = _digest(presented)
        found: Caller | None = None
        for known, caller in self._keys:  # no early exit: every key is compared
            if hmac.compare_digest(digest, known):
                found = caller
        return found

    def require(self, scope: Scope, presented: str | None) -> Caller:
        """The caller, if allowed ``scope``; 401 without a valid key, 403 with too few
        rights."""
        if scope in self.open and not presented:
            return Caller("anonymous", self.open)
        caller = self.caller(presented)
        if caller is None:
            raise ApiError(401, "unauthorized", f"wrong {HEADER}", HEADER)
        if scope not in caller.scopes:
            if caller.name == "anonymous":
                raise ApiError(
                    401,
                    "unauthorized",
                    f"this route needs a {HEADER} with the '{scope}' scope",
                    HEADER,
                )
            raise ApiError(
                403, "forbidden", f"key '{caller.name}' lacks the '{scope}' scope", HEADER
            )
        return caller


def _digest(key: str) -> bytes:
    """Keys are compared as digests: equal lengths, whatever was sent."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
