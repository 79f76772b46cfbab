"""Intake: turn what students handed in into grading jobs.

Three layouts are understood, and a ``.zip`` of any of them:

- ``SUBMISSIONS/<student>/<unit files>``: the files named as in
  ``assignments/`` (``tensors.py`` or ``tensors.ipynb``);
- an nbgrader course (or its ``submitted/`` folder):
  ``submitted/<student>/<assignment>/<unit files>``;
- an LMS download (Canvas): flat files named
  ``<name>_<userid>_<submissionid>_<original name>`` (``_LATE`` may follow
  the name), where a resubmission adds ``-1``, ``-2`` to the original name;
  the newest counts.

Every (student, unit) pair becomes a job; a missing or unreadable file
becomes a job with its problem stated, and every file passed over (not
Python, matching no unit, an older duplicate) is listed with the reason, so
nothing is dropped silently. Notebooks are read as JSON on the trusted side
(nothing in them runs here) and their code cells joined into a module.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder.plugin import Job
from autograder.units import Course, Unit

__all__ = ["Intake", "discover", "notebook_to_source", "IntakeError"]

MAX_FILE_BYTES = 5 << 20
_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")
_CANVAS = re.compile(r"^(?P<name>[^_]+?)(?:_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")
_RESUBMISSION = re.compile(r"^(?P<stem>.+?)-(?P<rev>\d+)(?P<ext>\.[A-Za-z]+)$")
_KINDS = (".py", ".ipynb")


class IntakeError(Exception):
    pass


@dataclass(frozen=True)
class Intake:
    jobs: list[Job]
    notes: list[str]  # files passed over, with why
    layout: str  # "folders", "nbgrader" or "lms"


# A student's files: the unit file name it counts as -> (path, rank); a higher
# rank is newer and wins when one name turns up twice.
Files = dict[str, tuple[Path, tuple]]


def discover(course: Course, root: Path, units: list[Unit], staging: Path) -> Intake:
    """Jobs for every student found under ``root`` and every unit in ``units``."""
    if root.is_file() and root.suffix == ".zip":
        root = _unzip(root, staging / "unzipped")
    if not root.is_dir():
        raise IntakeError(f"{root} is not a folder or a .zip: expected SUBMISSIONS/<student>/<unit files>, "
                          "an nbgrader course, or an LMS download")  # fmt: skip
    notes: list[str] = []
    if (root / "submitted").is_dir() or root.name == "submitted":
        layout, found = "nbgrader", _nbgrader(root / "submitted" if (root / "submitted").is_dir() else root, course, notes)
    elif any(p.is_file() and _CANVAS.match(p.name) for p in root.iterdir()):
        layout, found = "lms", _lms(root, course, notes)
    else:
        layout, found = "folders", _folders(root, course, notes)
    if not found:
        raise IntakeError(f"{root} has no student submissions: expected SUBMISSIONS/<student>/<unit files>, "
                          "an nbgrader course, or an LMS download")  # fmt: skip
    for student in [s for s in found if not _STUDENT_ID.match(s)]:
        notes.append(f"{student}: skipped, not a usable student id (letters, digits, _ . @ + -)")
        del found[student]
    jobs = [_job(student, unit, files, staging, notes) for student, files in sorted(found.items()) for unit in units]
    return Intake(jobs, notes, layout)


def _unzip(archive: Path, dest: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                target = (dest / member.filename).resolve()
                if not target.is_relative_to(dest.resolve()):
                    raise IntakeError(f"{archive.name}: {member.filename!r} would land outside the folder; refusing the archive")
            zf.extractall(dest)
    except zipfile.BadZipFile:
        raise IntakeError(f"{archive} is not a readable zip file") from None
    entries = [p for p in dest.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    # an archive of one folder holds the submissions inside it
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else dest


def _offer(files: Files, name: str, path: Path, rank: tuple, student: str, notes: list[str]) -> None:
    """Keep the newer of two files that count as ``name``; note the other."""
    if name in files:
        kept, dropped = sorted([files[name], (path, rank)], key=lambda f: f[1], reverse=True)
        old, new = ("/".join(f[0].parts[-2:]) for f in (dropped, kept))
        notes.append(f"{student}: {old} passed over, {new} is newer and was graded as {name}")
        files[name] = kept
    else:
        files[name] = (path, rank)


def _sort_out(path: Path, name: str, course: Course, label: str, notes: list[str]) -> bool:
    """Whether ``path``, counting as ``name``, is a unit file; if not, say why."""
    if Path(name).suffix not in _KINDS:
        notes.append(f"{label}: not a Python file or notebook, ignored")
    elif course.for_file(name) is None:
        notes.append(f"{label}: matches no unit, ignored")
    else:
        return True
    return False


def _folders(root: Path, course: Course, notes: list[str]) -> dict[str, Files]:
    found: dict[str, Files] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files: Files = {}
        for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
            if path.is_file() and _sort_out(path, path.name, course, f"{folder.name}/{path.name}", notes):
                files[path.name] = (path, ())
            elif path.is_dir():
                notes.append(f"{folder.name}/{path.name}/: a folder, ignored (files go directly in the student's folder)")
        found[folder.name] = files
    return found


def _nbgrader(submitted: Path, course: Course, notes: list[str]) -> dict[str, Files]:
    found: dict[str, Files] = {}
    for folder in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files: Files = {}
        for assignment in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            stamp = assignment / "timestamp.txt"
            when = stamp.read_text().strip() if stamp.is_file() else ""
            for path in sorted(p for p in assignment.rglob("*") if p.is_file() and p.name != "timestamp.txt"):
                if ".ipynb_checkpoints" in path.parts or path.name.startswith("."):
                    continue
                label = f"{folder.name}/{assignment.name}/{path.relative_to(assignment)}"
                if _sort_out(path, path.name, course, label, notes):
                    _offer(files, path.name, path, (when, path.stat().st_mtime), folder.name, notes)
        found[folder.name] = files
    return found


def _lms(root: Path, course: Course, notes: list[str]) -> dict[str, Files]:
    found: dict[str, Files] = {}
    for path in sorted(p for p in root.iterdir() if not p.name.startswith(".")):
        match = _CANVAS.match(path.name) if path.is_file() else None
        if match is None:
            notes.append(f"{path.name}: not named <name>_<userid>_<submissionid>_<file> as an LMS download is, ignored")
            continue
        student = f"{match['name']}_{match['uid']}"
        name, rev = match["file"], 0
        if (again := _RESUBMISSION.match(name)) and course.for_file(again["stem"] + again["ext"]) is not None:
            name, rev = again["stem"] + again["ext"], int(again["rev"])
        files = found.setdefault(student, {})
        if _sort_out(path, name, course, path.name, notes):
            _offer(files, name, path, (rev, int(match["sid"])), student, notes)
    return found


def submitted_at(path: Path) -> float:
    """When a file was handed in: nbgrader's timestamp.txt above it, else its modification time."""
    for folder in list(path.parents)[:3]:
        stamp = folder / "timestamp.txt"
        if stamp.is_file():
            try:
                return dt.datetime.fromisoformat(stamp.read_text().strip().removesuffix(" UTC")).replace(
                    tzinfo=dt.timezone.utc
                ).timestamp()
            except ValueError:
                break
    return path.stat().st_mtime


def _job(student: str, unit: Unit, files: Files, staging: Path, notes: list[str]) -> Job:
    py, nb = files.get(unit.filename), files.get(f"{unit.module}.ipynb")
    if py and nb:
        notes.append(f"{student}: {nb[0].name} passed over, {py[0].name} is there too and was graded instead")
    if py:
        problem = _unreadable(py[0])
        return Job(student, unit, None if problem else py[0], problem, submitted_at(py[0]))
    if nb:
        problem = _unreadable(nb[0])
        if problem:
            return Job(student, unit, None, problem, submitted_at(nb[0]))
        try:
            source = notebook_to_source(nb[0].read_text(encoding="utf-8"))
        except IntakeError as exc:
            return Job(student, unit, None, f"{nb[0].name}: {exc}")
        out = staging / student / unit.filename
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(source, encoding="utf-8")
        return Job(student, unit, out, "", submitted_at(nb[0]))
    return Job(student, unit, None, f"missing: no {unit.filename} or {unit.module}.ipynb from {student}")


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
