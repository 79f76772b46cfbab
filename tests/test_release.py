"""The student release holds what students need and nothing they must not see."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.notebooks import notebook_text
from autograder.units import load_course

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def functions(path: Path) -> dict[str, str]:
    """``{qualified name: unparsed body}`` of every function in a file."""
    out = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = ast.unparse(node.body)
    return out


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rel") / "release"
    result = run("release", str(out), "--course", str(ROOT))
    assert result.exit_code == 0, result.output
    return out


def test_release_has_no_solution_and_no_hidden_check(release):
    """No solutions/ or checks/, and no solution body or hidden check body in any file."""
    assert not (release / "solutions").exists() and not (release / "checks").exists()
    shipped = set()
    for path in release.rglob("*.py"):
        shipped |= set(functions(path).values())
    for unit in COURSE.units:
        stub = functions(unit.stub)
        answers = {body for name, body in functions(unit.solution).items() if stub.get(name) != body}
        assert not answers & shipped, f"{unit.name}: a solution body is in the release"
        public = set(functions(unit.public_checks).values())
        hidden = set(functions(unit.hidden_checks).values()) - public
        assert not hidden & shipped, f"{unit.name}: a hidden check is in the release"


def test_release_has_every_unit_and_the_tool(release):
    """Every unit's stub, metadata, public checks and data ship, with the package and a README."""
    for unit in COURSE.units:
        folder = release / "assignments" / unit.name
        assert (folder / unit.filename).read_text() == unit.stub.read_text()
        assert (folder / "unit.toml").is_file() and (folder / "check_public.py").is_file()
        assert (folder / f"{unit.module}.ipynb").read_text() == notebook_text(unit)  # the notebook, generated from the stub
    assert (release / "assignments" / "11_data" / "wine.csv").is_file()
    assert (release / "autograder" / "cli" / "__init__.py").is_file() and (release / "pyproject.toml").is_file()
    assert "torchgrade check" in (release / "README.md").read_text()


def test_check_works_from_the_release(tmp_path):
    """In a release, check runs the public checks: the stub fails, the solution passes."""
    out = tmp_path / "release"
    assert run("release", str(out), "--units", "01", "--course", str(ROOT)).exit_code == 0
    assert run("check", "01", "--course", str(out), "--seed", "3").exit_code == 1
    shutil.copyfile(COURSE.unit("01").solution, out / "assignments" / "01_tensors" / "tensors.py")
    result = run("check", "01", "--course", str(out), "--seed", "3")
    assert result.exit_code == 0, result.output


def test_release_refuses_a_folder_in_use(tmp_path):
    """A non-empty folder, or one inside the course's own folders, is refused with a reason."""
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x.txt").write_text("x")
    result = run("release", str(tmp_path / "old"), "--course", str(ROOT))
    assert result.exit_code == 2 and "not empty" in result.output
    result = run("release", str(ROOT / "assignments" / "rel"), "--course", str(ROOT))
    assert result.exit_code == 2 and "inside the course" in result.output
