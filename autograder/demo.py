"""``torchgrade demo DIR``: a demo class made from the course itself, when needed.

Seven students, built from the units' own stubs, solutions and trap
mutants, so that the demo can never drift from the units: full marks
(ada), untouched stubs (ben), half the units done and the last missing
(cleo), one typical bug per unit (dev, eve: the trap mutants), notebooks
(finn), and a submission that hangs in one unit and exits at import in
another, beside a file that is not a submission (gus).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from autograder.devcheck import mutants
from autograder.units import Course, Unit

__all__ = ["DemoError", "demo_students", "write_demo"]

MARK = ".torchgrade-demo"  # a folder holding it was written here, and may be written again


class DemoError(Exception):
    pass


def _with_trap(unit: Unit, index: int) -> str:
    found = list(mutants(unit).values())
    mutant = found[index % len(found)]
    return unit.solution.read_text() + f"\n\n# --- a typical bug: {mutant.stem} ---\n" + mutant.read_text()


def _as_notebook(source: str) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["My work for this unit."]}]
    cells += [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": chunk.strip("\n") + "\n"}
              for chunk in source.split("\n\n\n") if chunk.strip()]  # fmt: skip
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"  # fmt: skip


def demo_students(units: list[Unit]) -> dict[str, dict[str, str]]:
    """``{student: {file name: content}}``."""
    first = units[0]
    out: dict[str, dict[str, str]] = {
        "ada": {u.filename: u.solution.read_text() for u in units},
        "ben": {u.filename: u.stub.read_text() for u in units},
        "cleo": {u.filename: (u.solution if i < len(units) // 2 else u.stub).read_text() for i, u in enumerate(units[:-1])},
        "dev": {u.filename: _with_trap(u, 0) for u in units},
        "eve": {u.filename: _with_trap(u, 1) for u in units},
        "finn": {f"{u.module}.ipynb": _as_notebook(u.solution.read_text()) for u in units},
        "gus": {u.filename: u.solution.read_text() for u in units},
    }
    gus = out["gus"]  # one unit hangs in a call, another exits at import; the rest is right
    gus[first.filename] += "\n\ndef " + first.exercises[0].name + "(*args, **kwargs):\n    while True:\n        pass\n"
    if len(units) > 1:
        gus[units[1].filename] = "import sys\nsys.exit(0)\n" + gus[units[1].filename]
    gus["notes.txt"] = "not a submission: reported, never graded\n"
    return out


def write_demo(course: Course, out: Path) -> Path:
    """Write the demo class to ``out``: a new or empty folder, or an earlier demo (rewritten)."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARK).is_file():
            raise DemoError(f"{out} is not empty and holds no earlier demo: give a new folder")
        shutil.rmtree(out)
    units = [u for u in course.units if u.solution.is_file()]
    if not units:
        raise DemoError(f"{course.root} has no solutions to make a demo class from (a student release?)")
    for student, files in demo_students(units).items():
        for name, content in files.items():
            path = out / student / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    (out / MARK).write_text("written by torchgrade demo; torchgrade demo may rewrite this folder\n")
    return out
