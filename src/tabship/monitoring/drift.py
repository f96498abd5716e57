"""Drift of logged traffic against each version's reference profile, aggregated in DuckDB.

One pass per version counts every input and the score into the profile's fixed bins; PSI,
missing-share changes and never-seen text levels are then read off the counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tabship.errors import TabshipError
from tabship.monitoring.logread import PREFIX, LogScan, quote
from tabship.monitoring.profile import SCORE, Binned, Profile
from tabship.monitoring.psi import Band, band, psi, shares
from tabship.usecase.monitoring import MonitoringSpec

MISSING_KEY = "\x00"  # stands for a missing text value inside SQL


class MonitorError(TabshipError):
    """Monitoring cannot run as asked (no profile, nothing logged): the message says why."""


@dataclass(frozen=True)
class InputDrift:
    """One input (or the score) of one version: its bins then and now, and the verdict."""

    name: str
    kind: str
    labels: list[str]
    expected: list[float]
    actual: list[float]
    psi: float
    band: Band
    missing_expected: float
    missing_actual: float
    unseen: dict[str, int] = field(default_factory=dict)  # never-seen levels, most frequent
    unseen_share: float = 0.0
    failed: list[str] = field(default_factory=list)  # why it fails, in words


@dataclass(frozen=True)
class VersionDrift:
    """One version's traffic in the window against its profile."""

    version: str
    rows: int
    first: str
    last: str
    enough: bool  # as many rows as a verdict needs
    score: InputDrift
    inputs: list[InputDrift]

    @property
    def failed(self) -> list[InputDrift]:
        """The inputs (and score) that cross a threshold, worst PSI first."""
        if not self.enough:
            return []
        found = [d for d in [self.score, *self.inputs] if d.failed]
        return sorted(found, key=lambda d: -d.psi)


@dataclass(frozen=True)
class DriftResult:
    """Every version's drift in one window of one model's log."""

    model: str
    since: str | None
    until: str | None
    versions: list[VersionDrift]
    skipped_lines: int
    without_profile: list[str]  # versions logged in the window that have no profile
    thresholds: dict[str, Any]

    @property
    def crossed(self) -> bool:
        """Whether any version crosses a threshold (the command then exits non-zero)."""
        return any(v.failed for v in self.versions)

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        out = asdict(self)
        out["crossed"] = self.crossed
        for version, data in zip(self.versions, out["versions"], strict=True):
            data["failed"] = [d.name for d in version.failed]
        return out


def measure(
    con: Any,
    scan: LogScan,
    model: str,
    profiles: Mapping[str, Profile | None],
    spec: MonitoringSpec,
    versions: list[str] | None = None,
) -> DriftResult:
    """Drift of each logged version (or of ``versions``) against its profile."""
    kinds = _kinds(p for p in profiles.values() if p is not None)
    scan.register(con, kinds)
    found = con.execute(
        "SELECT request_id IS NULL, version, count(*), min(time)::VARCHAR, max(time)::VARCHAR "
        "FROM log_read GROUP BY ALL"
    ).fetchall()
    logged = {str(v): (int(n), str(a), str(b)) for bad, v, n, a, b in found if not bad}
    skipped = sum(int(n) for bad, _, n, _, _ in found if bad)  # unreadable lines
    asked = versions if versions is not None else sorted(logged, key=_number)
    missing = [v for v in asked if profiles.get(v) is None]
    if versions is not None and missing:
        raise MonitorError(
            f"{model} version {', '.join(missing)} has no reference profile "
            "(trained before profiles were kept): train a new version to monitor it"
        )
    results = []
    for version in (v for v in asked if v not in missing):
        profile = profiles[version]
        assert profile is not None
        rows, first, last = logged.get(version, (0, "", ""))
        counts = _counts(con, version, profile) if rows else {}
        drifts = [_drift(b, counts.get(name, {}), spec) for name, b in profile.inputs.items()]
        score = _drift(profile.score, counts.get(SCORE, {}), spec)
        results.append(
            VersionDrift(version, rows, first, last, rows >= spec.min_rows, score, drifts)
        )
    if not results:
        raise MonitorError(_nothing(model, logged, missing))
    since, until = scan.window.since, scan.window.until
    return DriftResult(
        model,
        None if since is None else since.isoformat(),
        None if until is None else until.isoformat(),
        results,
        skipped,
        missing if versions is None else [],
        spec.model_dump(),
    )


def _counts(con: Any, version: str, profile: Profile) -> dict[str, dict[Any, int]]:
    """Histogram of every input's bin (text: of its raw level) and of the score's bin."""
    exprs = {name: _bin_sql(PREFIX + name, b) for name, b in profile.inputs.items()}
    exprs[SCORE] = _bin_sql("prediction", profile.score)
    names = list(exprs)
    select = ", ".join(f"histogram({e})" for e in exprs.values())
    row = con.execute(f"SELECT {select} FROM log WHERE version = ?", [version]).fetchone()
    return {name: dict(found or {}) for name, found in zip(names, row, strict=True)}


def _bin_sql(column: str, binned: Binned) -> str:
    """SQL giving a value's bin (numbers) or its level, MISSING_KEY when missing (text)."""
    c = quote(column)
    if binned.kind == "text":
        return f"coalesce({c}::VARCHAR, chr(0))"
    steps = " + ".join(f"({c} >= {e!r})::INT" for e in binned.edges or []) or "0"
    return f"CASE WHEN {c} IS NULL OR isnan({c}) THEN {len(binned.labels) - 1} ELSE {steps} END"


def _drift(binned: Binned, found: dict[Any, int], spec: MonitoringSpec) -> InputDrift:
    """PSI and the missing and never-seen shares of one input, with its failures."""
    counts = np.zeros(len(binned.labels))
    unseen: dict[str, int] = {}
    if binned.kind == "text":
        at = {level: i for i, level in enumerate(binned.levels or [])}
        for level, n in found.items():
            if level == MISSING_KEY:
                counts[-1] += n
            elif level in at:
                counts[at[level]] += n
            else:
                counts[-2] += n
                unseen[str(level)] = int(n)
    else:
        for index, n in found.items():
            counts[int(index)] += n
    actual = shares(counts)
    value = psi(np.asarray(binned.shares), actual)
    unseen_share = float(actual[-2]) if binned.kind == "text" else 0.0
    drift = InputDrift(
        binned.name,
        binned.kind,
        binned.labels,
        binned.shares,
        actual.tolist(),
        value,
        band(value, spec.psi),
        binned.missing_share,
        float(actual[-1]),
        dict(sorted(unseen.items(), key=lambda kv: -kv[1])[:20]),
        unseen_share,
    )
    drift.failed.extend(_failures(drift, spec))
    return drift


def _failures(d: InputDrift, spec: MonitoringSpec) -> list[str]:
    out = []
    if d.band == "act":
        out.append(f"PSI {d.psi:.3f} ≥ {spec.psi.act:g}")
    if d.missing_actual - d.missing_expected >= spec.missing_change:
        out.append(f"missing on {d.missing_actual:.1%} of rows (training {d.missing_expected:.1%})")
    if d.unseen_share >= spec.unseen_share:
        out.append(f"{d.unseen_share:.1%} of rows have a level training never saw")
    return out


def _kinds(profiles: Any) -> dict[str, str]:
    """Every profiled input's SQL type (the first profile naming it decides)."""
    kinds: dict[str, str] = {}
    for profile in profiles:
        for name, b in profile.inputs.items():
            kinds.setdefault(name, "VARCHAR" if b.kind == "text" else "DOUBLE")
    return kinds


def _number(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (0, version)


def _nothing(model: str, logged: dict[str, Any], missing: list[str]) -> str:
    if not logged:
        return f"no prediction of {model} is logged in the window"
    return (
        f"no logged version of {model} has a reference profile "
        f"(versions {', '.join(missing)} were trained before profiles were kept)"
    )
