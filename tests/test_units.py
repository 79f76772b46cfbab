"""Every unit grades what it should, and the course covers its curriculum.

For each unit: the untouched stub scores zero, the reference solution scores
full marks, every trap mutant loses exactly the points of the checks aimed at
that trap (each naming it), and the metadata agrees with the checks.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from autograder.devcheck import declared_checks, mutants, prove_unit
from autograder.runner import RunSettings, run_jobs
from autograder.jobs import Job
from autograder.scoring import score
from autograder.units import load_course

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT)
CURRICULUM = tomllib.loads((ROOT / "curriculum.toml").read_text())["units"]
UNITS = [u.name for u in COURSE.units]


@pytest.mark.parametrize("name", UNITS)
def test_unit_proves(name):
    """Stub 0, solution full marks, each trap mutant loses exactly its checks (seed 2024)."""
    proof = prove_unit(COURSE, COURSE.unit(name), RunSettings(seed=2024))
    assert proof.ok, "\n".join(proof.problems)


@pytest.mark.parametrize("name", UNITS)
def test_public_checks_pass_on_the_solution(name):
    """The public checks a student reads pass on the reference solution."""
    unit = COURSE.unit(name)
    jobs = [Job("solution", unit, unit.solution)]
    s = score(jobs, run_jobs(COURSE, jobs, RunSettings(seed=5, which="public")))["solution"][name]
    assert s.score == s.max_score > 0, [c for c in s.checks if c["status"] != "passed"]


@pytest.mark.parametrize("name", UNITS)
def test_unit_covers_its_curriculum(name):
    """Every concept of the unit has an exercise; every trap has a check and a mutant."""
    unit = COURSE.unit(name)
    wanted = CURRICULUM[name]
    covered = {c for e in unit.exercises for c in e.concepts}
    assert set(wanted["concepts"]) <= covered
    checks = declared_checks(unit.hidden_checks)
    aimed = {t for c in checks.values() for t in c["traps"]}
    assert set(wanted["traps"]) <= aimed & set(unit.traps) & set(mutants(unit))


@pytest.mark.parametrize("name", UNITS)
def test_stub_teaches(name):
    """Stub functions are typed, documented, and raise NotImplementedError with a TODO."""
    unit = COURSE.unit(name)
    tree = ast.parse(unit.stub.read_text())
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
    assert functions
    for fn in functions:
        assert ast.get_docstring(fn), f"{fn.name} has no docstring"
        assert fn.returns is not None or fn.name == "__init__", f"{fn.name} has no return type"
    todos = [n for n in ast.walk(tree) if isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n)]
    assert todos and all("TODO" in ast.unparse(t) for t in todos)


@pytest.mark.parametrize("name", UNITS)
def test_solution_mirrors_stub(name):
    """The solution defines the same public names with the same signatures as the stub."""
    unit = COURSE.unit(name)

    def signatures(path: Path) -> dict[str, str]:
        tree = ast.parse(path.read_text())
        out = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                out[node.name] = ast.unparse(node.args)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        out[f"{node.name}.{item.name}"] = ast.unparse(item.args)
        return out

    assert signatures(unit.stub) == signatures(unit.solution)


def test_every_curriculum_unit_that_exists_is_listed():
    """A unit folder that curriculum.toml does not describe is an error."""
    assert set(UNITS) <= set(CURRICULUM)


def test_coverage_table_is_current_and_complete():
    """docs/coverage.md is what `torchgrade dev coverage` makes, and no concept or trap lacks a check."""
    from autograder.coverage import coverage

    found = coverage(COURSE)
    assert found.problems == []
    assert (ROOT / "docs" / "coverage.md").read_text() == found.markdown, "run: torchgrade dev coverage --write docs/coverage.md"


def test_list_shows_the_twelve_units_in_order():
    """`torchgrade list` on the course shows every unit, in curriculum order."""
    from click.testing import CliRunner

    from autograder.cli import main

    out = CliRunner().invoke(main, ["list", "--course", str(ROOT)], terminal_width=200).output
    positions = [out.index(name) for name in sorted(CURRICULUM)]
    assert len(positions) == 12 and positions == sorted(positions)


def test_a_solution_that_follows_the_docstring_is_not_rejected(tmp_path):
    """Unit 07's mse_loss docstring promises target (N,) and suggests pred.squeeze(1):
    a solution written that way gets every mse_loss point (checks test only what the stub says)."""
    unit = COURSE.unit("07_linear_regression")
    source = unit.solution.read_text() + (
        "\n\ndef mse_loss(pred, target):\n    return nn.MSELoss()(pred.squeeze(1), target)\n"
    )
    path = tmp_path / unit.filename
    path.write_text(source)
    jobs = [Job("other", unit, path)]
    s = score(jobs, run_jobs(COURSE, jobs, RunSettings(seed=8, which="hidden")))["other"][unit.name]
    rows = [r for r in s.checks if r["exercise"] == "mse_loss"]
    assert rows and all(r["status"] == "passed" for r in rows), rows


def test_a_correct_classifier_keeps_its_points_on_a_noisy_draw():
    """Unit 08's accuracy check wanted 90% on new samples; training as the stub
    says reaches 88% on rare draws of the noisy labels (this seed, found in a
    demo run). It now asks for what correct training reaches there, less two
    samples, so the reference keeps full marks (1 draw in 6,000 was below 90%)."""
    unit = COURSE.unit("08_logistic_regression")
    jobs = [Job("solution", unit, unit.solution)]
    settings = RunSettings(seed=4254772919523822354, which="hidden", exercises=("train_classifier",))
    s = score(jobs, run_jobs(COURSE, jobs, settings))["solution"][unit.name]
    rows = [r for r in s.checks if r["exercise"] == "train_classifier"]
    assert rows and all(r["status"] == "passed" for r in rows), rows
