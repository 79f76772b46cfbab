"""``%load_ext autograder``: check a unit from inside its notebook.

    %unit 04_autograd    which unit this notebook is (a generated notebook's first cell says it)
    %unit 04_autograd /path/to/course    ... of a course elsewhere than above this folder
    %check               every check of the unit, on what the kernel has run, saved or not
    %check make_leaf     one exercise's checks
    r = %check           r.score, r.max_score, r.rows

What the kernel has run is its input history, replayed in order in a
sandbox as a handed-in notebook is (``notebook_module``): a cell that
raised there raises again and is skipped, and the others count. In a
student release the public checks run; in a course tree with hidden
checks, those too. JupyterLab shows the result as a table, a terminal as text.
"""

from __future__ import annotations

import html
import io
import json
import re
import tempfile
import warnings
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path

from autograder.units import Course, Unit, UnitError, find_course, load_course

__all__ = ["CheckReport", "load_ipython_extension", "check_history"]



@dataclass
class CheckReport:
    """The outcome of ``%check``: what JupyterLab shows and what code reads."""

    unit: str
    exercise: str | None
    score: float
    max_score: float
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problem: str = ""

    @property
    def passed(self) -> bool:
        return self.score == self.max_score and not self.problem

    def _title(self) -> str:
        what = f"{self.unit} · {self.exercise}" if self.exercise else self.unit
        return f"{what}: {self.score:g}/{self.max_score:g} points" + ("  all checks pass" if self.passed and self.rows else "")

    def __repr__(self) -> str:
        lines = [self._title()]
        if self.problem:
            lines.append(f"not graded: {self.problem}")
        for r in self.rows:
            mark = "✓" if r["status"] == "passed" else "✗"
            lines.append(f"  {mark} {r['check']} [{r['device']}] {r['points']:g}/{r['max_points']:g}" + (f"  {r['message']}" if r["message"] else ""))
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        out = [f"<div class='torchgrade-check'><p><b>{e(self._title())}</b></p>"]
        if self.problem:
            out.append(f"<p style='color:#a00'>not graded: {e(self.problem)}</p>")
        if self.rows:
            out.append("<table><tr><th>check</th><th>device</th><th>result</th><th>points</th><th>message</th></tr>")
            for r in self.rows:
                colour = "#070" if r["status"] == "passed" else "#a00"
                out.append(f"<tr><td>{e(r['check'])}</td><td>{e(r['device'])}</td><td style='color:{colour}'>{e(r['status'])}</td>"
                           f"<td>{r['points']:g}/{r['max_points']:g}</td><td><pre>{e(r['message'])}</pre></td></tr>")  # fmt: skip
            out.append("</table>")
        out += [f"<p><i>note: {e(n)}</i></p>" for n in self.notes]
        return "".join(out) + "</div>"


def check_history(course: Course, unit: Unit, cells: list[str], exercise: str | None = None) -> CheckReport:
    """Check ``unit`` on code cells run in this order (``cells[0]`` is ``In[1]``)."""
    from autograder.grading import check_work
    from autograder.runner import RunSettings, new_seed, resolve_devices

    if exercise is not None and exercise not in {e.name for e in unit.exercises}:
        names = ", ".join(e.name for e in unit.exercises)
        raise UnitError(f"{unit.name} has no exercise {exercise!r}: it has {names}")
    kept = [c or "" for c in cells]  # our own magics are left out by notebook_module, without a note
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None} for c in kept]}  # fmt: skip
    # Nothing on stderr: nbgrader scores a test cell that wrote there 0.
    with tempfile.TemporaryDirectory(prefix="torchgrade-kernel-") as tmp, warnings.catch_warnings(), redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        path = Path(tmp) / f"{unit.module}.ipynb"
        path.write_text(json.dumps(notebook))
        settings = RunSettings(devices=resolve_devices(), seed=new_seed(), which="auto", allow_unconfined=True)
        result = check_work(course, [unit], settings, file=path)
    got = result.scores[unit.name]
    rows = [dict(r, check=r["id"].split("::", 1)[-1]) for r in got.checks if exercise is None or r["exercise"] == exercise]
    notes = [re.sub(r"^code cell (\d+)", r"In [\1]", n) for n in got.notes if not n.startswith("checked ")]
    score = got.score if exercise is None else round(sum(r["points"] for r in rows), 6)
    most = got.max_score if exercise is None else round(sum(r["max_points"] for r in rows), 6)
    return CheckReport(unit.name, exercise, score, most, rows, notes + result.warnings, got.problem)


class _State:
    def __init__(self) -> None:
        self.unit: str | None = None
        self.course: Course | None = None


def _course(state: _State) -> Course:
    if state.course is None:
        state.course = load_course(find_course(Path.cwd()))
    return state.course


def _unit(state: _State, user_ns: dict) -> Unit:
    course = _course(state)
    if state.unit:
        return course.unit(state.unit)
    # The unit whose exercises this kernel defines most of.
    counts = [(sum(e.name in user_ns for e in u.exercises), u) for u in course.units]
    best = max(counts, key=lambda c: c[0], default=(0, None))
    if best[1] is None or best[0] == 0:
        raise UnitError("which unit is this? Say it once with %unit NAME (e.g. %unit 04_autograd)")
    return best[1]


def load_ipython_extension(ipython) -> None:
    """Register ``%unit`` and ``%check`` (``%load_ext autograder`` calls this)."""
    from IPython.core.error import UsageError

    state = _State()

    def unit_magic(line: str):
        name, _, root = line.strip().partition(" ")
        try:
            if root.strip() and Path(root.strip()).is_dir():  # a course elsewhere (an nbgrader course's setup cell says where)
                state.course = load_course(Path(root.strip()))
            state.unit = _course(state).unit(name).name
        except UnitError as exc:
            raise UsageError(str(exc)) from None
        return None

    def check_magic(line: str):
        exercise = line.strip() or None
        try:
            unit = _unit(state, ipython.user_ns)
            cells = list(ipython.history_manager.input_hist_raw[1:])
            return check_history(_course(state), unit, cells, exercise)
        except UnitError as exc:
            raise UsageError(str(exc)) from None

    ipython.register_magic_function(unit_magic, "line", "unit")
    ipython.register_magic_function(check_magic, "line", "check")
