"""The layers of design.md, enforced by import-linter (contracts in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    # lint-imports reads the package from the working directory (PYTHONPATH=root), never the installed one
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(root), "PATH": ""})


def test_the_package_keeps_its_layers_and_has_no_cycles():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def copy_of_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "musicgen", tmp_path / "musicgen", ignore=shutil.ignore_patterns("__pycache__", "splits"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_an_upward_import_breaks_the_contract(tmp_path):
    root = copy_of_package(tmp_path)
    with open(root / "musicgen" / "sequence.py", "a") as f:
        f.write("\n\ndef _upward():\n    from musicgen.systems import make_clip  # a function-level import counts too\n")
    result = lint(root)
    assert result.returncode != 0
    assert "musicgen.sequence -> musicgen.systems" in result.stdout


def test_a_new_module_must_be_given_a_layer(tmp_path):
    root = copy_of_package(tmp_path)
    (root / "musicgen" / "newthing.py").write_text('"""Not in any layer yet."""\n')
    result = lint(root)
    assert result.returncode != 0 and "musicgen.newthing" in result.stdout


def test_a_cycle_between_siblings_breaks_the_contract(tmp_path):
    root = copy_of_package(tmp_path)
    with open(root / "musicgen" / "corpora" / "base.py", "a") as f:
        f.write("\n\ndef _cycle():\n    from musicgen.corpora.toy import toy_corpus  # toy imports base\n")
    result = lint(root)
    assert result.returncode != 0 and "musicgen.corpora" in result.stdout
