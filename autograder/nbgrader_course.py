"""``torchgrade nbgrader assign``: an nbgrader course's ``source/`` from torchgrade units.

Each unit becomes an nbgrader assignment of one notebook, written for
nbgrader's own ``generate_assignment``, ``autograde`` and formgrader:

- a read-only setup cell: ``%load_ext autograder``, ``%unit`` with the
  course's path (where the hidden checks are), the module's imports;
- per exercise, its contract in markdown and a solution cell: the
  reference definition with each function body inside ``### BEGIN
  SOLUTION`` / ``### END SOLUTION``, which nbgrader replaces with its stub;
- per exercise, an autograded test cell worth the exercise's points that
  runs torchgrade's checks on what the kernel has run (``%check``) and
  outputs the points earned: nbgrader's partial credit, so an nbgrader
  grade matches torchgrade's exercise by exercise.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from autograder.units import Course, Unit

__all__ = ["write_source", "NBGRADER_CONFIG"]

NBGRADER_CONFIG = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
# torchgrade's checks run in a sandbox from the test cells: give them time
c.ExecutePreprocessor.timeout = 600
"""

_KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def write_source(course: Course, dest: Path, units: list[Unit], course_id: str = "torchgrade") -> list[Path]:
    """Write ``dest/source/<unit>/<module>.ipynb`` for each unit (and a config if there is none)."""
    dest.mkdir(parents=True, exist_ok=True)
    config = dest / "nbgrader_config.py"
    if not config.exists():
        config.write_text(NBGRADER_CONFIG.format(root=str(dest.resolve()), course_id=course_id))
    written = []
    for unit in units:
        path = dest / "source" / unit.name / f"{unit.module}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_notebook(course, unit), indent=1) + "\n")
        for data in unit.stub.parent.iterdir():  # data files the unit reads (wine.csv, ...)
            if data.is_file() and data.suffix not in (".py", ".ipynb", ".toml"):
                (path.parent / data.name).write_bytes(data.read_bytes())
        written.append(path)
    return written


def _notebook(course: Course, unit: Unit) -> dict:
    source = unit.solution.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(getattr(n, "value", None), ast.Constant))]
    defs = {n.name: n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    preamble = "\n".join(ast.get_source_segment(source, n) for n in body if not isinstance(n, (ast.FunctionDef, ast.ClassDef)))
    preamble = re.sub(r"^from __future__ import [^\n]*\n?", "", preamble, flags=re.M)
    stub = ast.parse(unit.stub.read_text())
    contracts = {n.name: ast.get_docstring(n) or "" for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    setup = f"%load_ext autograder\n%unit {unit.name} {course.root.resolve()}\n\n{preamble}".rstrip()
    cells = [
        _cell("markdown", f"# {unit.title}\n\n{ast.get_docstring(stub) or ''}"),
        _cell("code", setup, {"grade": False, "solution": False, "locked": True, "grade_id": "setup"}),
    ]
    for exercise in unit.exercises:
        node = defs.get(exercise.name)
        if node is None:
            continue
        cells.append(_cell("markdown", f"### `{exercise.name}`: {exercise.title} ({exercise.points:g} points)\n\n"
                                       f"{contracts.get(exercise.name) or ast.get_docstring(node) or ''}"))  # fmt: skip
        cells.append(_cell("code", _with_solution_regions(lines, node), {"grade": False, "solution": True, "locked": False,
                                                                          "grade_id": exercise.name}))  # fmt: skip
        test = f"r = %check {exercise.name}\ndisplay(r)\nr.score  # the points earned: nbgrader's partial credit"
        cells.append(_cell("code", test, {"grade": True, "solution": False, "locked": True, "grade_id": f"test_{exercise.name}",
                                          "points": exercise.points}))  # fmt: skip
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": dict(_KERNEL), "language_info": {"name": "python"}},
            "cells": cells}  # fmt: skip


def _cell(kind: str, text: str, nbgrader: dict | None = None) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": text}
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = {**nbgrader, "schema_version": 3, "task": False}
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    return cell


def _with_solution_regions(lines: list[str], node: ast.AST) -> str:
    """The definition, each function body (after its docstring) inside a solution region."""
    start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
    out = list(lines[start - 1 : node.end_lineno])
    functions = [n for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    # innermost last so that earlier insertions do not move later ones: work bottom up
    for fn in sorted(functions, key=lambda f: f.lineno, reverse=True):
        if any(fn is not other and other.lineno < fn.lineno <= other.end_lineno for other in functions):
            continue  # a nested function is inside its parent's region already
        code = [s for s in fn.body if not (s is fn.body[0] and isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        if not code:
            continue
        indent = " " * code[0].col_offset
        first, last = code[0].lineno - start, fn.end_lineno - start
        out[last + 1 : last + 1] = [f"{indent}### END SOLUTION"]
        out[first:first] = [f"{indent}### BEGIN SOLUTION"]
    return "\n".join(out)
