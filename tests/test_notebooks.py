"""Every unit as a notebook: generated from its stub without drift, run top to
bottom in a real kernel, checked from inside it with ``%check``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.notebooks import check_drift, notebook_path, notebook_text
from autograder.units import load_course

ROOT = Path(__file__).resolve().parent.parent
COURSE = load_course(ROOT)


def test_the_course_notebooks_are_what_the_stubs_generate():
    """Drift check: regenerating the notebooks changes nothing (`torchgrade dev notebooks` rewrites them)."""
    assert check_drift(COURSE) == []


def test_a_notebook_has_a_contract_a_todo_and_a_check_per_exercise():
    unit = COURSE.unit("04_autograd")
    nb = json.loads(notebook_text(unit))
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert sources[1].startswith("%load_ext autograder\n%unit 04_autograd")
    for exercise in unit.exercises:
        at = next(i for i, s in enumerate(sources) if s.startswith(f"### `{exercise.name}`"))
        assert nb["cells"][at]["cell_type"] == "markdown" and f"({exercise.points:g} points)" in sources[at]
        assert sources[at + 1].startswith(("def ", "class ")) and "TODO" in sources[at + 1]
        assert '"""' not in sources[at + 1].split("\n", 1)[1][:8]  # the contract is the markdown above, not repeated
        assert sources[at + 2] == f"%check {exercise.name}"
    assert sources[-1] == "%check"
    assert len({c["id"] for c in nb["cells"]}) == len(nb["cells"])


def _run(unit_name: str, tmp_path: Path, extra: list[str] = (), keep_exercise_checks: bool = False, course: Path | None = None) -> list:
    """Run a unit's notebook, plus ``extra`` cells before its last, in a kernel
    started in a copy of the course (the notebook file itself is never changed)."""
    if course is None:
        course = tmp_path / "course"
        shutil.copytree(ROOT / "assignments", course / "assignments", ignore=shutil.ignore_patterns("__pycache__"))
        for part in ("solutions", "checks"):
            shutil.copytree(ROOT / part, course / part, ignore=shutil.ignore_patterns("__pycache__"))
    unit = COURSE.unit(unit_name)
    path = notebook_path(unit, course / "assignments" / unit.name)
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if keep_exercise_checks or not c.source.startswith("%check ")]
    nb.cells = cells[:-1] + [nbformat.v4.new_code_cell(s) for s in extra] + cells[-1:]
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(path.parent)}}).execute()
    return [c for c in nb.cells if c.cell_type == "code"]


def _errors(cells: list) -> list[str]:
    return [f"{c.source[:40]!r}: {o.get('ename')}: {o.get('evalue')}" for c in cells for o in c.outputs if o.output_type == "error"]


def _shown(cell) -> str:
    return "\n".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs)


@pytest.mark.parametrize("unit", [u.name for u in COURSE.units])
def test_each_untouched_notebook_runs_top_to_bottom_and_scores_zero(unit, tmp_path):
    cells = _run(unit, tmp_path)
    assert _errors(cells) == []
    most = sum(e.points for e in COURSE.unit(unit).exercises)
    assert _shown(cells[-1]).startswith(f"{unit}: 0/{most:g} points"), _shown(cells[-1])[:500]


def test_reference_code_run_in_the_kernel_gets_full_marks_unsaved(tmp_path):
    """%check grades what the kernel has run, not the file on disk: the notebook was never saved."""
    unit = COURSE.unit("04_autograd")
    cells = _run(unit.name, tmp_path, [unit.solution.read_text().replace("from __future__ import annotations\n", ""),
                                       "r = %check\nprint(r.score, r.max_score, len(r.rows), r.passed)"])  # fmt: skip
    assert _errors(cells) == []
    assert _shown(cells[-2]).split() == ["22.0", "22.0", str(len({c for c in _shown(cells[-1]).splitlines() if "✓" in c})), "True"]
    assert "all checks pass" in _shown(cells[-1])
    assert any("text/html" in o.get("data", {}) and "<table>" in o["data"]["text/html"] for o in cells[-1].outputs)


def test_one_exercise_and_a_last_cell_that_raises(tmp_path):
    """`%check EXERCISE` shows that exercise; a raising cell is skipped by number, the marks stay."""
    unit = COURSE.unit("01_tensors")
    cells = _run(unit.name, tmp_path, [unit.solution.read_text().replace("from __future__ import annotations\n", ""),
                                       "r = %check basic_tensors\nprint(r.score, r.max_score, {row['exercise'] for row in r.rows})",
                                       "%check no_such_exercise", "undefined_name + 1"])  # fmt: skip
    points = next(e.points for e in unit.exercises if e.name == "basic_tensors")
    assert _shown(cells[-4]).split()[:2] == [f"{points:.1f}", f"{points:.1f}"] and "{'basic_tensors'}" in _shown(cells[-4])
    assert "UsageError: 01_tensors has no exercise 'no_such_exercise': it has basic_tensors," in _shown(cells[-3])  # IPython prints it
    shown = _shown(cells[-1])
    most = sum(e.points for e in unit.exercises)
    assert shown.startswith(f"01_tensors: {most:g}/{most:g} points")
    assert "NameError: name 'undefined_name' is not defined; skipped" in shown and "note: In [" in shown


def test_in_a_student_release_check_runs_the_public_checks(tmp_path):
    from autograder.release import build_release

    unit = COURSE.unit("02_reshaping")
    release = tmp_path / "release"
    build_release(COURSE, release, [unit])
    cells = _run(unit.name, tmp_path, [unit.solution.read_text().replace("from __future__ import annotations\n", ""),
                                       "r = %check\nprint(r.score == r.max_score, {row['id'].split('::')[0] for row in r.rows})"],
                 course=release)  # fmt: skip
    assert _errors(cells) == []
    public = {line.split("(")[0].removeprefix("def ") for line in unit.public_checks.read_text().splitlines() if line.startswith("def test_")}
    assert _shown(cells[-2]).strip() == "True {'02_reshaping'}"
    assert {line.split()[1] for line in _shown(cells[-1]).splitlines()[1:] if line.strip().startswith("✓")} <= public
