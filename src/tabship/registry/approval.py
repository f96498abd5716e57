"""The manual approval gate: the only way a version becomes ``champion``."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from tabship.errors import TabshipError
from tabship.registry import vocabulary as vocab
from tabship.registry.client import Registry


class ApprovalError(TabshipError):
    """An approval or rejection that must not happen."""


@dataclass(frozen=True)
class Decision:
    """A person's recorded decision on a version: what, who, when, why, the champion before."""

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
    champion = registry.alias(name, vocab.CHAMPION)
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
    if vocab.status_of(tags) == vocab.REJECTED and not override:
        raise ApprovalError(
            f"{name} version {version} was rejected by {vocab.approval_of(tags).get('by')}; "
            "approve with --override to reverse that"
        )
    if not vocab.gates_passed(tags) and not override:
        failed = vocab.gates_failed(tags)
        raise ApprovalError(
            f"{name} version {version} failed its gates ({failed}); "
            "approve with --override to take responsibility"
        )
    registry.tag_version(
        name,
        version,
        vocab.decision_tags(vocab.APPROVED, decision.by, decision.at, decision.reason, override),
    )
    registry.append_history(name, asdict(decision))
    registry.set_alias(name, vocab.CHAMPION, version)  # last: the step that makes it live
    return decision


def reject(registry: Registry, name: str, version: str, by: str, reason: str) -> Decision:
    """Record that a person refused ``version``; approving it later needs --override."""
    decision = _decide(registry, "reject", name, version, by, reason, False)
    version = decision.version
    registry.tag_version(
        name,
        version,
        vocab.decision_tags(vocab.REJECTED, decision.by, decision.at, decision.reason),
    )
    registry.append_history(name, asdict(decision))
    return decision
