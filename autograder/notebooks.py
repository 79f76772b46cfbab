"""Each unit's stub as a notebook, generated from the stub itself.

One source, two formats: the stub module is the source; its notebook is
written as jupytext's percent text and converted by jupytext. A markdown
cell per exercise (its title, points and docstring), a code cell per TODO
(the definition, without the docstring the cell above shows), and a
``%check EXERCISE`` cell after each; the first code cell loads the
extension and names the unit, the last checks the whole unit. Cell ids are
fixed, so regenerating an unchanged unit changes nothing (``check_drift``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.units import Course, Unit

__all__ = ["notebook_text", "notebook_path", "write_notebook", "check_drift", "Drift"]

# A section line in a stub: "# ------------------------------ A1: the graph"
_SECTION = re.compile(r"^#\s*-{3,}\s*(?P<title>\S.*)$")

_KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def notebook_path(unit: Unit, folder: Path | None = None) -> Path:
    """Where a unit's notebook lives: beside its stub (``assignments/<unit>/<module>.ipynb``)."""
    return (folder or unit.stub.parent) / f"{unit.module}.ipynb"


def notebook_text(unit: Unit, stub: str | None = None) -> str:
    """The unit's notebook (nbformat 4 JSON), generated from its stub (or from ``stub``, its text)."""
    import jupytext

    nb = jupytext.reads(_percent(unit, stub), fmt="py:percent")
    nb.metadata = {"kernelspec": dict(_KERNEL), "language_info": {"name": "python"}, "torchgrade": {"unit": unit.name}}
    for i, cell in enumerate(nb.cells):
        cell.id = f"{unit.name}-{i:03d}".replace("_", "-")
        cell.metadata = {}
    return jupytext.writes(nb, fmt="ipynb")


def write_notebook(unit: Unit, folder: Path | None = None) -> Path:
    path = notebook_path(unit, folder)
    path.write_text(notebook_text(unit))
    return path


@dataclass(frozen=True)
class Drift:
    unit: str
    path: Path
    why: str  # "missing" or "differs"


def check_drift(course: Course) -> list[Drift]:
    """The units whose notebook in the course tree is not what their stub generates."""
    drifted = []
    for unit in course.units:
        path = notebook_path(unit)
        if not path.is_file():
            drifted.append(Drift(unit.name, path, "missing"))
        elif path.read_text() != notebook_text(unit):
            drifted.append(Drift(unit.name, path, "differs"))
    return drifted


def _percent(unit: Unit, stub: str | None = None) -> str:
    source = unit.stub.read_text() if stub is None else stub
    lines = source.splitlines()
    tree = ast.parse(source)
    exercises = {e.name: e for e in unit.exercises}
    body = list(tree.body)
    doc = ast.get_docstring(tree) or ""
    if doc and body and isinstance(body[0], ast.Expr):
        body = body[1:]
    first_def = next((i for i, n in enumerate(body) if isinstance(n, (ast.FunctionDef, ast.ClassDef))), len(body))
    preamble = _segment(lines, body[0].lineno, body[first_def - 1].end_lineno) if first_def else ""
    # A cell that starts with magics cannot hold a __future__ import; a kernel needs none.
    preamble = re.sub(r"^from __future__ import [^\n]*\n+", "", preamble, flags=re.M)
    cells = [_markdown(f"# {unit.title}\n\n{doc}\n\n" + _HOW), _code("%load_ext autograder\n%unit " + unit.name + "\n\n" + preamble)]
    previous_end = body[first_def - 1].end_lineno if first_def else 0
    for node in body[first_def:]:
        start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
        for line in lines[previous_end : start - 1]:
            section = _SECTION.match(line.strip())
            if section:
                cells.append(_markdown(f"## {section['title']}"))
        previous_end = node.end_lineno
        name = getattr(node, "name", None)
        exercise = exercises.get(name)
        if exercise is None:
            cells.append(_code(_segment(lines, start, node.end_lineno)))
            continue
        contract = ast.get_docstring(node) or ""
        cells.append(_markdown(f"### `{name}`: {exercise.title} ({exercise.points:g} points)\n\n{contract}"))
        cells.append(_code(_without_docstring(lines, node, start)))
        cells.append(_code(f"%check {name}"))
    cells.append(_markdown("## The whole unit\n\nEvery check of the unit, on everything this kernel has run:"))
    cells.append(_code("%check"))
    return "\n\n".join(cells) + "\n"


_HOW = (
    "Fill in each TODO in the code cells, run the cell, then run the `%check` cell under it: it checks what "
    "this kernel has run (saved or not) in a sandbox and shows what passes. `%check` alone checks the whole "
    "unit; `r = %check` keeps the result (`r.score`, `r.max_score`, `r.rows`)."
)


def _segment(lines: list[str], first: int, last: int) -> str:
    return "\n".join(lines[first - 1 : last]).strip("\n")


def _without_docstring(lines: list[str], node: ast.AST, start: int) -> str:
    head = node.body[0] if node.body else None
    if not (isinstance(head, ast.Expr) and isinstance(head.value, ast.Constant) and isinstance(head.value.value, str)):
        return _segment(lines, start, node.end_lineno)
    kept = lines[start - 1 : head.lineno - 1] + lines[head.end_lineno : node.end_lineno]
    if len(node.body) == 1:  # the docstring was the whole body: keep a body
        kept.insert(head.lineno - start, " " * head.col_offset + "...")
    return "\n".join(kept).strip("\n")


def _markdown(text: str) -> str:
    return "# %% [markdown]\n" + "\n".join(f"# {line}".rstrip() for line in text.strip("\n").splitlines())


def _code(text: str) -> str:
    # jupytext reads a magic commented out ("# %check") as the magic itself
    escaped = "\n".join(f"# {line}" if line.startswith("%") else line for line in text.splitlines())
    return "# %%\n" + escaped
