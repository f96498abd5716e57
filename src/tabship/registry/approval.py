"""The manual approval gate: the only way a version becomes ``champion``."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from tabship.errors import TabshipError
from tabship.registry.client import CHAMPION, Registry


class ApprovalError(TabshipError):
    """An approval or rejection that must not happen."""


@dataclass(frozen=True)
class Decision:
    action: str
    model: str
    version: str
    by: str
    at: str
    reason: str
    override: bool
    previous_champion: str | None


def _decide(
    registry: Registry, action: str, name: str, version: str, by: str, reason: str, override: bool
) -> Decision:
    if not by.strip():
        raise ApprovalError(f"{action} needs the name of who decides (--by)")
    if not reason.strip():
        raise ApprovalError(f"{action} needs a reason (--reason)")
    mv = registry.resolve(name, version)
    champion = registry.alias(name, CHAMPION)
    return Decision(
        action=action,
        model=name,
        version=str(mv.version),
        by=by.strip(),
        at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        reason=reason.strip(),
        override=override,
        previous_champion=None if champion is None else str(champion.version),
    )


def approve(
    registry: Registry, name: str, version: str, by: str, reason: str, override: bool = False
) -> Decision:
    """Move ``champion`` to ``version``; a version that failed its gates needs ``override``."""
    decision = _decide(registry, "approve", name, version, by, reason, override)
    version = decision.version
    tags = registry.version(name, version).tags
    if tags.get("approval.status") == "rejected" and not override:
        raise ApprovalError(
            f"{name} version {version} was rejected by {tags.get('approval.by')}; "
            "approve with --override to reverse that"
        )
    if tags.get("gates.passed") != "true" and not override:
        failed = tags.get("gates.failed", "unknown gates")
        raise ApprovalError(
            f"{name} version {version} failed its gates ({failed}); "
            "approve with --override to take responsibility"
        )
    registry.tag_version(
        name,
        version,
        {
            "approval.status": "approved",
            "approval.by": decision.by,
            "approval.at": decision.at,
            "approval.reason": decision.reason,
            "approval.override": str(override).lower(),
        },
    )
    registry.append_history(name, asdict(decision))
    registry.set_alias(name, CHAMPION, version)  # last: the step that makes it live
    return decision


def reject(registry: Registry, name: str, version: str, by: str, reason: str) -> Decision:
    """Record that a person refused ``version``; approving it later needs --override."""
    decision = _decide(registry, "reject", name, version, by, reason, False)
    version = decision.version
    registry.tag_version(
        name,
        version,
        {
            "approval.status": "rejected",
            "approval.by": decision.by,
            "approval.at": decision.at,
            "approval.reason": decision.reason,
        },
    )
    registry.append_history(name, asdict(decision))
    return decision
