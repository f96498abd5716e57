"""Run a use case's own data generator (declared as ``source.generator``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tabship.errors import SourceError, UseCaseError
from tabship.usecase import UseCase

FORMATS = ("parquet", "csv")


def generate(
    usecase: UseCase,
    rows: int,
    out: Path,
    seed: int = 7,
    fmt: str = "parquet",
    dirty: float = 0.0,
    on_rows: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write sample source files for ``usecase`` into ``out``."""
    if usecase.source.generator is None:
        raise UseCaseError(f"{usecase.name} declares no data generator")
    if fmt not in FORMATS:
        raise SourceError(f"unknown format '{fmt}' (parquet or csv)")
    func = usecase.load_callable(usecase.source.generator)
    files: list[Path] = func(rows, out, seed=seed, fmt=fmt, dirty=dirty, on_rows=on_rows)
    return files


def default_source(usecase: UseCase, data_root: Path | None, home: Path) -> Path:
    """Where a use case's data is when no path is given: TABSHIP_DATA, else generated."""
    if data_root is not None and (data_root / usecase.name).is_dir():
        return data_root / usecase.name
    return home / "data" / usecase.name


def ensure_sample(usecase: UseCase, folder: Path, rows: int = 100_000) -> bool:
    """Generate sample data into ``folder`` when it holds none; True if it did."""
    if folder.is_dir() and any(folder.glob(usecase.source.pattern)):
        return False
    generate(usecase, rows, folder)
    return True
