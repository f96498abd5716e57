"""Find and fingerprint a use case's source files, refusing what cannot be read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import xxhash

from tabship.errors import SourceError

FORMATS = {".csv", ".parquet"}
_PARQUET_MAGIC = b"PAR1"


def resolve_files(path: Path, pattern: str = "*.parquet") -> list[Path]:
    """The source files at ``path`` (a file, or a folder searched with ``pattern``)."""
    if not path.exists():
        raise SourceError(f"no such file or folder: {path}")
    if path.is_dir():
        files = sorted(path.glob(pattern)) or sorted(
            p for p in path.iterdir() if p.suffix in FORMATS
        )
        if not files:
            raise SourceError(f"no CSV or Parquet file in {path}")
    else:
        files = [path]
    suffixes = {f.suffix for f in files}
    if not suffixes <= FORMATS:
        raise SourceError(f"{files[0]} is not a CSV or Parquet file (.csv or .parquet expected)")
    if len(suffixes) > 1:
        raise SourceError(f"{path} mixes CSV and Parquet files; use one format")
    for file in files:
        _check_content(file)
    return files


def _check_content(file: Path) -> None:
    size = file.stat().st_size
    if size == 0:
        raise SourceError(f"{file} is empty")
    if file.suffix == ".parquet":
        with file.open("rb") as handle:
            head = handle.read(4)
            handle.seek(-4, 2)
            tail = handle.read(4)
        if head != _PARQUET_MAGIC or tail != _PARQUET_MAGIC:
            raise SourceError(f"{file} is not a Parquet file (bad magic bytes)")
    else:
        with file.open("rb") as handle:
            sample = handle.read(4096)
        if b"\x00" in sample:
            raise SourceError(f"{file} is not a CSV file (binary content)")


def fingerprint(files: list[Path]) -> str:
    """Content hash of the source files: the raw-data version a build records.

    XXH3 (128 bits), not a cryptographic hash: it names data, it does not authenticate
    it, and it hashes a 185 MB file in 0.03 s where SHA-256 took 0.15 s of a core the
    build needs.
    """
    digest = xxhash.xxh3_128()
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, xxhash.xxh3_128).digest())
    return digest.hexdigest()[:16]
