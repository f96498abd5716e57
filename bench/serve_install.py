"""A clean virtualenv holding exactly the locked ``[serve]`` dependency set and tabship:
what the serving image installs. Used by the serving benchmark (its size) and by a test
(its size, and that it answers a prediction)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UV = REPO / ".tools" / "bin" / "uv"


def install_serve(venv: Path, extras: tuple[str, ...] = ("serve",)) -> Path:
    """Create ``venv`` with the locked set of ``extras`` (``[serve]`` by default);
    returns its Python."""
    requirements = venv.parent / f"{'-'.join(extras)}-requirements.txt"
    subprocess.run(
        [
            str(UV),
            "export",
            "-q",
            "--frozen",
            "--no-dev",
            *(arg for extra in extras for arg in ("--extra", extra)),
            "--no-emit-project",
            "--no-hashes",
            "-o",
            str(requirements),
        ],
        cwd=REPO,
        check=True,
    )
    subprocess.run([str(UV), "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [str(UV), "pip", "install", "-q", "--python", str(python)]
    subprocess.run([*pip, "-r", str(requirements)], check=True)
    subprocess.run([*pip, "--no-deps", str(REPO)], check=True)
    return python


def size_mb(venv: Path) -> float:
    """The installed size of a virtual environment, in MB."""
    files = (p for p in venv.rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files) / 2**20
