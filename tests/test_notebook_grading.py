"""Notebook grading keeps work: cells run on their own, a raising cell is
named and skipped, IPython syntax and nbgrader's test cells are left out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from autograder.grading import grade_class
from autograder.notebook_module import SKIPPED_CELLS, NotebookError, notebook_module
from autograder.runner import RunSettings
from autograder.units import load_course
from tests.test_hostile import FIXTURE

IMPORTS = "import torch"
ZEROS = "def make_zeros(n, m, device='cpu'):\n    return torch.zeros(n, m, device=device)"
FROM_LIST = "def from_list(xs):\n    return torch.tensor(xs, dtype=torch.float32)"
SCALE = "def scale(x, factor):\n    return x * factor"


def notebook(*cells, marks: dict[int, dict] | None = None) -> str:
    """A notebook of code cells (a markdown cell between each), nbgrader marks by code cell index."""
    out = []
    for i, source in enumerate(cells):
        out.append({"cell_type": "markdown", "source": f"## part {i}", "metadata": {}})
        meta = {"nbgrader": (marks or {})[i]} if marks and i in marks else {}
        out.append({"cell_type": "code", "source": source, "metadata": meta, "outputs": [], "execution_count": None})
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": out})


def run(module_source: str) -> dict:
    scope = {"__name__": "submission"}
    exec(compile(module_source, "submission.py", "exec"), scope)
    return scope


def test_a_raising_cell_is_skipped_and_named_the_others_count():
    mod = notebook_module(notebook(IMPORTS, ZEROS, "make_zeros(2)  # forgot m", SCALE, "1 / 0"))
    scope = run(mod.source)
    assert scope["make_zeros"](1, 2).shape == (1, 2) and scope["scale"](2, 3) == 6
    assert scope[SKIPPED_CELLS] == [
        "code cell 3 (make_zeros(2)  # forgot m) raised TypeError: make_zeros() missing 1 required positional argument: 'm'; "
        "skipped, the other cells count",
        "code cell 5 (1 / 0) raised ZeroDivisionError: division by zero; skipped, the other cells count",
    ]
    assert not [name for name in scope if name.startswith("_torchgrade")]  # the runner leaves only the list


def test_a_cell_that_does_not_parse_is_skipped_not_the_module():
    scope = run(notebook_module(notebook(IMPORTS, "def broken(:\n    pass", SCALE)).source)
    assert scope["scale"](2, 2) == 4
    assert "code cell 2 (def broken(:) raised SyntaxError" in scope[SKIPPED_CELLS][0]


def test_magics_and_shell_escapes_are_left_out_with_a_note_but_not_inside_strings():
    cells = ["%matplotlib inline\n!pip install torch\n" + IMPORTS, 'def f():\n    """%d items\n    !not shell\n    why?\n    """\n    return 1',
             "%%bash\necho hi", "%%time\ny = 2 * 3", "torch.zeros?"]  # fmt: skip
    mod = notebook_module(notebook(*cells))
    scope = run(mod.source)
    assert scope["f"].__doc__ == "%d items\n    !not shell\n    why?\n    " and scope["y"] == 6
    assert scope[SKIPPED_CELLS] == []
    assert mod.notes == (
        "code cell 1: %matplotlib inline is IPython, not Python: skipped",
        "code cell 1: !pip install torch is IPython, not Python: skipped",
        "code cell 3 (%%bash): a %%bash cell is not Python, skipped",
        "code cell 4: %%time ignored, its body runs",
        "code cell 5: torch.zeros? is IPython, not Python: skipped",
    )


def test_nbgrader_test_cells_are_not_the_students_code():
    """A notebook released by nbgrader keeps its asserts in locked test cells: they are not run."""
    marks = {0: {"grade": False, "solution": True, "grade_id": "answer"}, 1: {"grade": True, "solution": False, "grade_id": "t", "points": 1}}
    mod = notebook_module(notebook("def f():\n    return 1", "assert f() == 2", marks=marks))
    assert "return 1" in mod.source and "assert f() == 2" not in mod.source
    assert mod.notes == ("1 nbgrader test cell(s) not run: torchgrade's checks grade this unit",)
    marks[1]["solution"] = True  # graded and the student's answer: kept
    assert "assert f() == 2" in notebook_module(notebook("def f():\n    return 1", "assert f() == 2", marks=marks)).source


def test_cell_text_cannot_break_out_of_its_cell():
    """A cell's text is data in the module: quotes and newlines in it stay in it."""
    nasty = "x = 1\n''')\nraise SystemExit\n'''\"\"\"\\"
    scope = run(notebook_module(notebook(IMPORTS, nasty, SCALE)).source)
    assert scope["scale"](1, 5) == 5 and "code cell 2" in scope[SKIPPED_CELLS][0]


@pytest.mark.parametrize("text", ["{not json", json.dumps({"cells": "no"}), json.dumps({"cells": [{"cell_type": "code", "source": 3}]})])
def test_unreadable_notebooks_say_why(text):
    with pytest.raises(NotebookError, match="not a readable Jupyter notebook"):
        notebook_module(text)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbclass")
    subs = root / "subs"
    class_ = {
        # all three right, then a last cell that raises: full marks
        "ada": notebook(IMPORTS, ZEROS, FROM_LIST, SCALE, "scale(undefined, 2)"),
        # two right, one cell that raises before the third: the third still counts
        "ben": notebook(IMPORTS, ZEROS, "raise RuntimeError('half way')", FROM_LIST, SCALE),
        # a cell that raises before it defines make_zeros: only that exercise is lost
        "cy": notebook(IMPORTS, "print(undefined_name)\n" + ZEROS, FROM_LIST, SCALE),
        # a student who claims in the list that every cell ran: words only
        "dee": notebook(IMPORTS, ZEROS, FROM_LIST, SCALE, f"{SKIPPED_CELLS}.append('x' * 10_000)"),
    }
    for student, text in class_.items():
        (subs / student).mkdir(parents=True)
        (subs / student / "toy.ipynb").write_text(text)
    course = load_course(FIXTURE)
    return grade_class(course, subs, root / "out", list(course.units), RunSettings(seed=11, workers=1)).document


def test_a_notebook_whose_last_cell_raises_keeps_its_marks(graded):
    unit = graded["students"]["ada"]["units"]["01_toy"]
    assert unit["score"] == unit["max_score"] == 4
    assert unit["notes"] == ["code cell 5 (scale(undefined, 2)) raised NameError: name 'undefined' is not defined; skipped, the other cells count"]


def test_cells_after_a_raising_cell_still_count(graded):
    unit = graded["students"]["ben"]["units"]["01_toy"]
    assert unit["score"] == 4 and "code cell 3 (raise RuntimeError('half way')) raised RuntimeError" in unit["notes"][0]


def test_a_raising_cell_loses_only_what_it_had_not_defined(graded):
    """As in Jupyter: what a cell defined before it raised stays defined; the rest of it is lost."""
    unit = graded["students"]["cy"]["units"]["01_toy"]
    assert unit["score"] == 2  # from_list and scale; make_zeros' cell raised before its def
    assert {c["exercise"] for c in unit["checks"] if c["status"] == "passed"} == {"from_list", "scale"}


def test_what_the_sandbox_lists_is_bounded_and_changes_no_score(graded):
    unit = graded["students"]["dee"]["units"]["01_toy"]
    assert unit["score"] == 4 and len(unit["notes"]) == 1 and len(unit["notes"][0]) <= 300


def test_check_file_reads_a_notebook(tmp_path):
    """``torchgrade check --file work.ipynb`` grades the notebook's cells, not its JSON as Python."""
    course = tmp_path / "course"
    shutil.copytree(FIXTURE, course)  # a check keeps progress in the course
    work = tmp_path / "work.ipynb"
    work.write_text(notebook(IMPORTS, ZEROS, FROM_LIST, SCALE, "%timeit scale(1, 2)"))
    done = subprocess.run([sys.executable, "-m", "autograder", "check", "01_toy", "--file", str(work), "--json", "--course", str(course)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    doc = json.loads(done.stdout)
    unit = doc["units"]["01_toy"]
    assert done.returncode == 0 and unit["score"] == unit["max_score"] == 4, done.stderr[-2000:]
    assert unit["notes"] == ["checked work.ipynb", "code cell 5: %timeit scale(1, 2) is IPython, not Python: skipped"]


def test_read_only_cells_run_as_released():
    """A student who edits nbgrader's read-only setup cell runs the instructor's instead, and is told."""
    marks = {0: {"grade": False, "solution": False, "locked": True, "grade_id": "setup"}}
    edited = notebook("import torch\nimport builtins\nbuiltins.FLAG = 'tampered'", SCALE, marks=marks)
    mod = notebook_module(edited, released={"setup": "import torch\nFLAG = 'as released'"})
    scope = run(mod.source)
    assert scope["FLAG"] == "as released" and mod.notes == ("code cell 1: a read-only cell was changed; it ran as released",)
    assert run(notebook_module(edited).source)[SKIPPED_CELLS] == []  # without the release at hand, the cell runs as it is
