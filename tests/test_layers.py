"""The package's layer order (pyproject.toml, [tool.importlinter]) holds, and is enforced."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]
GROUND_FLOOR = {"__init__.py", "__main__.py", "cli.py", "units.py", "errors.py", "params.py", "io.py"}


def lint_imports(root: pathlib.Path) -> subprocess.CompletedProcess:
    exe = pathlib.Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.fail(f"lint-imports not found beside {sys.executable}: install the test extra")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(exe), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)


def test_layer_contracts_are_kept():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 kept, 0 broken" in run.stdout


def test_a_backward_import_breaks_the_contract(tmp_path):
    """The check is not vacuous: the circulation importing the assimilation is caught."""
    shutil.copytree(ROOT / "cardiosim", tmp_path / "cardiosim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    blocks = tmp_path / "cardiosim" / "circulation" / "blocks.py"
    blocks.write_text(blocks.read_text() + "\nfrom ..assimilation import operator  # noqa\n")
    run = lint_imports(tmp_path)
    assert run.returncode != 0
    assert "cardiosim.circulation.blocks -> cardiosim.assimilation.operator" in run.stdout


def test_ground_floor_holds_only_the_face_and_the_foundations():
    assert {p.name for p in (ROOT / "cardiosim").glob("*.py")} <= GROUND_FLOOR
