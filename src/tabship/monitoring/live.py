"""Live drift: each served version's last predictions counted into its profile's bins.

The prediction log's writer thread hands every written batch to ``LiveDrift.observe``, so
the request path never pays for it. A version keeps a ring of its last ``window`` rows'
bins (the score and its most important inputs) and running counts, so PSI against the
profile is a few vector operations whenever it is read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tabship.monitoring.profile import SCORE, Binned, Profile
from tabship.monitoring.psi import psi, shares

CHUNK = 256  # entries counted per hold of the interpreter


class Logged(Protocol):
    """What live drift reads of a logged prediction."""

    @property
    def model(self) -> str:
        """The model's name."""

    @property
    def version(self) -> str:
        """The version that scored."""

    @property
    def features(self) -> list[str]:
        """The inputs' names, in ``values`` order."""

    @property
    def values(self) -> list[Any]:
        """The inputs' values (text as text, NaN or None missing)."""

    @property
    def prediction(self) -> float:
        """The served score."""


@dataclass(frozen=True)
class Reading:
    """One gauge: a version's PSI on one input (or the score) over its window."""

    model: str
    version: str
    input: str
    psi: float
    rows: int


class Window:
    """The bins of one version's last ``size`` predictions, with running counts."""

    def __init__(self, profile: Profile, inputs: Sequence[str], size: int) -> None:
        self.binned: list[Binned] = [profile.score, *(profile.inputs[n] for n in inputs)]
        self.inputs = list(inputs)
        self.size = size
        self.ring = np.zeros((size, len(self.binned)), dtype=np.int16)
        self.counts = [np.zeros(len(b.labels)) for b in self.binned]
        self.rows = 0  # predictions seen so far (the window holds min(rows, size))
        self._at: dict[tuple[str, ...], list[int]] = {}

    def add(self, entries: Sequence[Logged]) -> None:
        """Count a batch of one version's entries in; the oldest fall out."""
        entries = entries[-self.size :]
        columns = [[e.prediction for e in entries], *self._columns(entries)]
        new = np.column_stack([b.bin(c) for b, c in zip(self.binned, columns, strict=True)])
        positions = self.rows + np.arange(len(entries))
        slots = positions % self.size
        self._count(self.ring[slots[positions >= self.size]], -1)  # the rows they push out
        self.ring[slots] = new
        self._count(new, +1)
        self.rows += len(entries)

    def psi(self) -> dict[str, float]:
        """PSI of every watched input (and the score) over the window."""
        names = [SCORE, *self.inputs]
        return {
            name: psi(np.asarray(b.shares), shares(c))
            for name, b, c in zip(names, self.binned, self.counts, strict=True)
        }

    def _columns(self, entries: Sequence[Logged]) -> list[list[Any]]:
        key = tuple(entries[0].features)
        at = self._at.get(key)
        if at is None:
            index = {name: i for i, name in enumerate(key)}
            at = self._at[key] = [index[n] for n in self.inputs]
        return [[e.values[i] for e in entries] for i in at]

    def _count(self, bins: np.ndarray, sign: int) -> None:
        for j in range(len(self.counts)):
            self.counts[j] += sign * np.bincount(bins[:, j], minlength=len(self.counts[j]))


class LiveDrift:
    """Windows of every served version that has a profile, fed off the request path."""

    def __init__(
        self,
        profile_of: Callable[[str, str], Profile | None],
        size_of: Callable[[str], tuple[int, int]],
    ) -> None:
        """``profile_of(model, version)``: the loaded version's profile (None: none, or not
        loaded any more); ``size_of(model)``: (window rows, inputs watched)."""
        self.profile_of, self.size_of = profile_of, size_of
        self._windows: dict[tuple[str, str], Window] = {}
        self._lock = threading.Lock()

    def observe(self, entries: Iterable[Logged]) -> None:
        """Count a written batch into its versions' windows."""
        groups: dict[tuple[str, str], list[Logged]] = {}
        for entry in entries:
            groups.setdefault((entry.model, entry.version), []).append(entry)
        for key, batch in groups.items():
            with self._lock:  # readings() drops windows of unloaded versions meanwhile
                window = self._window(*key, batch[0])
            if window is None:
                continue
            for start in range(0, len(batch), CHUNK):
                with self._lock:
                    window.add(batch[start : start + CHUNK])
                # Hand the interpreter back to the request path between chunks: a second
                # of traffic counted in one go would show up as p99 latency.
                time.sleep(0)

    def readings(self) -> list[Reading]:
        """Every loaded version's PSI per watched input; windows of unloaded versions go."""
        out = []
        with self._lock:
            for (model, version), window in list(self._windows.items()):
                if self.profile_of(model, version) is None:
                    del self._windows[(model, version)]
                    continue
                rows = min(window.rows, window.size)
                out += [Reading(model, version, n, v, rows) for n, v in window.psi().items()]
        return out

    def _window(self, model: str, version: str, entry: Logged) -> Window | None:
        window = self._windows.get((model, version))
        if window is not None:
            return window
        profile = self.profile_of(model, version)
        if profile is None:
            return None
        size, watched = self.size_of(model)
        logged = set(entry.features)
        ranked = [n for n in profile.ranked or list(profile.inputs) if n in logged]
        window = self._windows[(model, version)] = Window(profile, ranked[:watched], size)
        return window
