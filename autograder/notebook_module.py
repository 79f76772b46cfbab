"""A submitted notebook as a module that keeps the work of every cell that runs.

Read as JSON on the trusted side (nothing in it runs here): its code cells
become one module in which each cell runs on its own, in order, inside the
sandbox. A cell that raises (or does not parse) is skipped and named by its
number and first line; the definitions of the other cells count, as they
would for a student who runs the notebook top to bottom past the error.

Left out before anything runs, each with a note:

- cells that nbgrader marks as its tests (``grade`` without ``solution``):
  the old grader's asserts, not the student's work;
- IPython magics and shell escapes (``%matplotlib``, ``!pip``): there is no
  IPython in the sandbox. A cell magic that only times or captures
  (``%%time``) keeps its body; any other cell magic skips the cell.

nbgrader's read-only cells are the instructor's: where the released
notebook is at hand (an nbgrader course's ``release/``), they run as
released, whatever the student's copy says, as nbgrader's autograde
restores them.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass

__all__ = ["NotebookError", "NotebookModule", "notebook_module", "released_cells", "OWN_MAGICS", "SKIPPED_CELLS", "MAX_NOTEBOOK_CELLS"]

MAX_NOTEBOOK_CELLS = 5_000
#: The module global where the sandbox lists the cells that raised.
SKIPPED_CELLS = "torchgrade_skipped_cells"
# torchgrade's own magics (the setup and check cells of its notebooks): left out without a note
OWN_MAGICS = re.compile(r"^\s*([A-Za-z_][\w.]*\s*=\s*)?%(load_ext\s+autograder|reload_ext\s+autograder|unit|check)\b")
# "files = !ls" and "r = %check": IPython's assignment from a magic or shell
_ASSIGNED_MAGIC = re.compile(r"^[A-Za-z_][\w.]*\s*=\s*[%!]")
# Cell magics whose body is plain Python that runs as it is.
_BODY_RUNS = ("%%time", "%%timeit", "%%capture", "%%python", "%%python3", "%%prun")


class NotebookError(Exception):
    """Not a notebook that can be read: the message says what is wrong."""


@dataclass(frozen=True)
class NotebookModule:
    source: str  # the module the sandbox imports
    notes: tuple[str, ...]  # what was left out before running, in words


def notebook_module(text: str, released: dict[str, str] | None = None) -> NotebookModule:
    """The module for a notebook's JSON text, and what was left out of it.

    ``released`` maps the grade ids of nbgrader's read-only cells to their
    source as released: such a cell runs as the instructor wrote it, not as
    the student's copy says (a changed one is noted).
    """
    released = released or {}
    notes: list[str] = []
    runs: list[tuple[int, str, str]] = []  # (code cell number, first line, source)
    tests = 0
    number = 0
    for cell in _cells(text):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        if _nbgrader_test(cell):
            tests += 1
            continue
        source = _source(cell)
        original = released.get(_read_only_id(cell))
        if original is not None and original != source:
            notes.append(f"code cell {number}: a read-only cell was changed; it ran as released")
        source = source if original is None else original
        first = next((line.strip() for line in source.splitlines() if line.strip()), "")
        if not first:
            continue
        body = _without_ipython(number, first, source, notes)
        if body is not None and body.strip():
            runs.append((number, first, body))
    if tests:
        notes.append(f"{tests} nbgrader test cell(s) not run: torchgrade's checks grade this unit")
    return NotebookModule(_module(runs), tuple(notes))


def _cells(text: str) -> list:
    try:
        cells = json.loads(text)["cells"]
    except RecursionError:
        raise NotebookError("not a readable Jupyter notebook (its JSON is nested too deeply)") from None
    except (ValueError, KeyError, TypeError):
        raise NotebookError("not a readable Jupyter notebook (expected nbformat 4 JSON)") from None
    if not isinstance(cells, list) or len(cells) > MAX_NOTEBOOK_CELLS:
        raise NotebookError(f"not a readable Jupyter notebook (cells must be a list of at most {MAX_NOTEBOOK_CELLS})")
    return cells


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    if isinstance(src, list) and all(isinstance(line, str) for line in src):
        return "".join(src)
    if isinstance(src, str):
        return src
    raise NotebookError("not a readable Jupyter notebook (a code cell's source is neither text nor a list of lines)")


def _nbgrader_test(cell: dict) -> bool:
    meta = cell.get("metadata")
    marks = meta.get("nbgrader") if isinstance(meta, dict) else None
    return isinstance(marks, dict) and marks.get("grade") is True and marks.get("solution") is not True


def _read_only_id(cell: dict) -> str | None:
    meta = cell.get("metadata")
    marks = meta.get("nbgrader") if isinstance(meta, dict) else None
    if isinstance(marks, dict) and marks.get("locked") is True and marks.get("solution") is not True:
        return marks.get("grade_id") if isinstance(marks.get("grade_id"), str) else None
    return None


def released_cells(text: str) -> dict[str, str]:
    """``{grade id: source}`` of the read-only code cells of a released nbgrader notebook."""
    out = {}
    for cell in _cells(text):
        if isinstance(cell, dict) and cell.get("cell_type") == "code" and _read_only_id(cell):
            out[_read_only_id(cell)] = _source(cell)
    return out


def _short(line: str) -> str:
    return line if len(line) <= 60 else line[:57] + "..."


def _without_ipython(number: int, first: str, source: str, notes: list[str]) -> str | None:
    """The cell's Python, without IPython's own syntax; None to skip the whole cell."""
    if first.startswith("%%"):
        magic = first.split()[0]
        if magic not in _BODY_RUNS:
            notes.append(f"code cell {number} ({_short(first)}): a {magic} cell is not Python, skipped")
            return None
        lines = source.splitlines()
        at = next(i for i, line in enumerate(lines) if line.strip())
        notes.append(f"code cell {number}: {magic} ignored, its body runs")
        return "\n".join(lines[:at] + [""] + lines[at + 1 :])
    kept = []
    inside = _lines_inside_strings(source)
    for i, line in enumerate(source.splitlines(), start=1):
        stripped = line.lstrip()
        if i in inside:
            kept.append(line)
        elif OWN_MAGICS.match(line):
            kept.append("")
        elif stripped.startswith(("%", "!")) or _ASSIGNED_MAGIC.match(stripped) or (stripped.endswith("?") and not stripped.startswith("#") and "=" not in stripped):
            notes.append(f"code cell {number}: {_short(stripped)} is IPython, not Python: skipped")
            kept.append("")  # keep line numbers as the student sees them
        else:
            kept.append(line)
    return "\n".join(kept)


def _lines_inside_strings(source: str) -> set[int]:
    """Lines that continue a string begun on an earlier line (a docstring's
    ``%`` is text, not a magic). Tokenizing reads, never runs."""
    inside: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.STRING or getattr(tokenize, "FSTRING_MIDDLE", None) == tok.type:
                inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # the cell will not compile: the sandbox says so
    return inside


# Runs in the sandbox, as the start of the submission's module. Each cell is
# compiled under its own name and put in linecache, so tracebacks and
# inspect show the cell's lines.
_RUNNER = '''\
# A notebook handed in, as torchgrade runs it: each code cell on its own, in
# order; one that raises is skipped and listed in {names}.
import linecache as _torchgrade_linecache
{names} = []


def _torchgrade_cell(number, first, source):
    name = "<code cell %d>" % number
    _torchgrade_linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    try:
        exec(compile(source, name, "exec"), globals())
    except (Exception, SystemExit) as exc:  # the next cell runs regardless
        globals().setdefault({names!r}, []).append(
            "code cell %d (%s) raised %s: %s; skipped, the other cells count" % (number, first, type(exc).__name__, exc))


'''


def _module(runs: list[tuple[int, str, str]]) -> str:
    calls = [f"_torchgrade_cell({n}, {_short(first)!r}, {body!r})" for n, first, body in runs]
    return _RUNNER.format(names=SKIPPED_CELLS) + "\n".join(calls) + "\ndel _torchgrade_cell, _torchgrade_linecache\n"
