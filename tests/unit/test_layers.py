"""The layer contracts (import-linter, run by ``make lint``) hold for this tree and catch
an import that runs up the layers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-logo", "--no-cache", str(REPO / "pyproject.toml")],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_its_layers(tmp_path: Path) -> None:
    done = _lint(REPO / "src", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("usecase/base.py", "import tabship.features.build"),  # declaration -> features
        ("serving/scoring.py", "import tabship.training.train"),  # serving -> training
        ("stores/offline.py", "import tabship.registry.client"),  # stores -> registry
    ],
)
def test_an_upward_import_breaks_the_contracts(tmp_path: Path, module: str, upward: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        REPO / "src" / "tabship", src / "tabship", ignore=shutil.ignore_patterns("__pycache__")
    )
    target = src / "tabship" / module
    target.write_text(target.read_text() + f"\n{upward}  # noqa\n")
    done = _lint(src, tmp_path)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout


def test_no_module_imports_itself_back() -> None:
    import grimp

    graph = grimp.build_graph("tabship")
    cycles = sorted(
        {
            tuple(sorted((module, imported)))
            for module in graph.modules
            for imported in graph.find_modules_directly_imported_by(module)
            if graph.chain_exists(importer=imported, imported=module)
        }
    )
    assert cycles == []
