"""Declared groups of inputs told as one: contributions add up, so a group's contribution
is the sum of its members' (SHAP values are additive; the group's is exact, not a guess)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Unit:
    """What one reason speaks of: a single input, or a declared group of inputs."""

    name: str
    members: tuple[int, ...]  # positions among the version's inputs
    said: dict[str, Any]  # label, raises, lowers (as declared; may be empty)
    group: bool


def units(inputs: list[str], texts: dict[str, Any], groups: dict[str, Any]) -> list[Unit]:
    """Every input not in a group, then every group whose members are inputs here."""
    at = {name: i for i, name in enumerate(inputs)}
    found = []
    taken: set[int] = set()
    for name, group in groups.items():
        members = tuple(at[m] for m in group["inputs"] if m in at)
        if members:
            found.append(Unit(name, members, group, True))
            taken.update(members)
    singles = [Unit(n, (i,), texts.get(n, {}), False) for n, i in at.items() if i not in taken]
    return singles + found


def projection(of: list[Unit], inputs: int) -> np.ndarray:
    """The (inputs, units) matrix that sums each unit's members."""
    out = np.zeros((inputs, len(of)))
    for j, unit in enumerate(of):
        out[list(unit.members), j] = 1.0
    return out


def sums(values: np.ndarray, of: list[Unit]) -> np.ndarray:
    """Contributions (rows, inputs) → (rows, units)."""
    return np.asarray(values @ projection(of, values.shape[1]))


def group_of(inputs: list[str], groups: dict[str, Any]) -> dict[str, str]:
    """Input → the declared group it belongs to."""
    known = set(inputs)
    return {m: g for g, spec in groups.items() for m in spec["inputs"] if m in known}
