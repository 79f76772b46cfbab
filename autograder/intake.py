"""Intake: turn a folder of handed-in files into grading jobs.

``SUBMISSIONS/<student>/`` holds one student's files, named as in
``assignments/`` (``tensors.py`` or ``tensors.ipynb``). Every (student, unit)
pair becomes a job; a missing or unreadable file becomes a job with its
problem stated, so it is reported, never dropped. Notebooks are read as JSON
on the trusted side (nothing in them runs here) and their code cells joined
into a module for the sandbox.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.plugin import Job
from autograder.units import Course, Unit

__all__ = ["Intake", "discover", "notebook_to_source", "IntakeError"]

MAX_FILE_BYTES = 5 << 20
_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")


class IntakeError(Exception):
    pass


@dataclass(frozen=True)
class Intake:
    jobs: list[Job]
    notes: list[str]  # files that map to nothing, or were passed over, with why


def discover(course: Course, root: Path, units: list[Unit], staging: Path) -> Intake:
    """Jobs for every student folder under ``root`` and every unit in ``units``."""
    if not root.is_dir():
        raise IntakeError(f"{root} is not a folder: expected SUBMISSIONS/<student>/<unit files>")
    jobs: list[Job] = []
    notes: list[str] = []
    students = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        raise IntakeError(f"{root} has no student folders: expected SUBMISSIONS/<student>/<unit files>")
    wanted = {u.module for u in units}
    for folder in students:
        if not _STUDENT_ID.match(folder.name):
            notes.append(f"{folder.name}/: skipped, not a usable student id (letters, digits, _ . @ + -)")
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            if path.suffix not in (".py", ".ipynb") or not path.is_file():
                notes.append(f"{folder.name}/{path.name}: not a Python file or notebook, ignored")
            elif course.for_file(path.name) is None:
                notes.append(f"{folder.name}/{path.name}: matches no unit, ignored")
            elif path.stem not in wanted:
                continue
        for unit in units:
            jobs.append(_job(folder, unit, staging, notes))
    return Intake(jobs, notes)


def _job(folder: Path, unit: Unit, staging: Path, notes: list[str]) -> Job:
    student = folder.name
    py, nb = folder / unit.filename, folder / f"{unit.module}.ipynb"
    if py.is_file() and nb.is_file():
        notes.append(f"{student}/{nb.name}: {py.name} is there too and was graded instead")
    if py.is_file():
        problem = _unreadable(py)
        return Job(student, unit, None if problem else py, problem)
    if nb.is_file():
        problem = _unreadable(nb)
        if problem:
            return Job(student, unit, None, problem)
        try:
            source = notebook_to_source(nb.read_text(encoding="utf-8"))
        except IntakeError as exc:
            return Job(student, unit, None, f"{nb.name}: {exc}")
        out = staging / student / unit.filename
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(source, encoding="utf-8")
        return Job(student, unit, out)
    return Job(student, unit, None, f"missing: no {py.name} or {nb.name} in {student}/")


def _unreadable(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return f"{path.name} is {size >> 20} MiB, over the {MAX_FILE_BYTES >> 20} MiB limit"
        path.read_bytes().decode("utf-8")
    except OSError as exc:
        return f"{path.name} cannot be read: {exc.strerror}"
    except UnicodeDecodeError:
        return f"{path.name} is not UTF-8 text"
    return ""


def notebook_to_source(text: str) -> str:
    """The code cells of a notebook as one module; IPython magics are commented out."""
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError):
        raise IntakeError("not a readable Jupyter notebook (expected nbformat 4 JSON)") from None
    parts = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        lines = [f"# {line}" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines()]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
