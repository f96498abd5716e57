"""A watched folder of new training files (what continuous training reads): each file no
registered version was trained on trains one new version. "Trained on" is what the
registry says (each version records its raw data's content hash), so the answer survives
throw-away CI machines and is the same for every reader."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from tabship.data.sources import FORMATS, fingerprint
from tabship.errors import SourceError


def pending(folder: Path, pattern: str, trained: Collection[str]) -> list[Path]:
    """Source files in ``folder`` whose content hash is not in ``trained``, by name."""
    if not folder.is_dir():
        raise SourceError(f"no such folder: {folder}")
    files = sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix in FORMATS)
    return [f for f in files if fingerprint([f]) not in trained]
