"""The registry's vocabulary: every alias and tag tabship writes on a model version, and
how to read them back. Nothing else spells a tag; training, approval, the CLI and the
serving mirror all go through here (the serving process may import it: it needs no
MLflow)."""

from __future__ import annotations

from collections.abc import Mapping

CHAMPION, CHALLENGER = "champion", "challenger"
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"

_METRIC = "metric."
_APPROVAL = "approval."
STATUS = "approval.status"
HISTORY = "approval.history"  # a registered model's tag: every decision, newest last
GATES_PASSED, GATES_FAILED = "gates.passed", "gates.failed"


def metric_tags(metrics: Mapping[str, float]) -> dict[str, str]:
    """Tags recording a version's test metrics."""
    return {f"{_METRIC}{name}": str(value) for name, value in metrics.items()}


def metrics_of(tags: Mapping[str, str]) -> dict[str, float]:
    """A version's test metrics, from its tags."""
    return {k.removeprefix(_METRIC): float(v) for k, v in tags.items() if k.startswith(_METRIC)}


def gate_tags(passed: bool, failed: list[str]) -> dict[str, str]:
    """Tags recording whether a version passed its declared gates, and which failed."""
    return {GATES_PASSED: str(passed).lower(), GATES_FAILED: "; ".join(failed)}


def gates_passed(tags: Mapping[str, str]) -> bool:
    """Whether the version passed every declared gate."""
    return tags.get(GATES_PASSED) == "true"


def gates_failed(tags: Mapping[str, str]) -> str:
    """The gates a version failed, as recorded."""
    return tags.get(GATES_FAILED) or "unknown gates"


def pending() -> dict[str, str]:
    """The approval tags of a version just registered."""
    return {STATUS: PENDING}


def decision_tags(
    status: str, by: str, at: str, reason: str, override: bool | None = None
) -> dict[str, str]:
    """Tags recording a person's decision on a version."""
    tags = {
        STATUS: status,
        f"{_APPROVAL}by": by,
        f"{_APPROVAL}at": at,
        f"{_APPROVAL}reason": reason,
    }
    if override is not None:
        tags[f"{_APPROVAL}override"] = str(override).lower()
    return tags


def status_of(tags: Mapping[str, str]) -> str:
    """pending, approved or rejected."""
    return tags.get(STATUS, PENDING)


def approval_of(tags: Mapping[str, str]) -> dict[str, str]:
    """The recorded decision (by, at, reason, override), without the status."""
    return {
        k.removeprefix(_APPROVAL): v
        for k, v in tags.items()
        if k.startswith(_APPROVAL) and k not in {STATUS, HISTORY}
    }


def version_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """A version's tags as the serving mirror keeps them (the model's history apart)."""
    return {k: v for k, v in tags.items() if k != HISTORY}
