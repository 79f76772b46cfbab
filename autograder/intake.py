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
(nothing in them runs here) and become a module that runs each code cell
on its own (``notebook_module``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder.notebook_module import NotebookError, notebook_module, released_cells
from autograder.jobs import Job
from autograder.safetext import printable
from autograder.units import Course, Unit

__all__ = ["Intake", "discover", "units_handed_in", "job_for_file", "collect_uploaded", "IntakeError"]

MAX_FILE_BYTES = 5 << 20
# A zip of a class: bounded before and while it is unpacked (its own claims may lie).
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_TOTAL = 1 << 30
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
    layout, found = _layout(root, course, notes)
    if not found:
        raise IntakeError(f"{root} has no student submissions: expected SUBMISSIONS/<student>/<unit files>, "
                          "an nbgrader course, or an LMS download")  # fmt: skip
    for student in [s for s in found if not _STUDENT_ID.match(s)]:
        safe = _safe_id(student)
        notes.append(f"{safe}: graded under this id; the name it came under has characters an id cannot hold ({student!r})")
        found[safe] = found.pop(student)
    released = _released(root / "release" if layout == "nbgrader" and (root / "submitted").is_dir() else None)
    jobs = [_job(student, unit, files, staging, notes, released) for student, files in sorted(found.items()) for unit in units]
    return Intake(jobs, [printable(n, 1000) for n in notes], layout)


def units_handed_in(root: Path, course: Course, units: list[Unit]) -> list[Unit]:
    """Of ``units``, those a file under ``root`` is handed in for, by the files'
    names (the files are neither read nor copied; a zip, unopened, counts as
    all of them).

    For what a run's zygote imports ahead (``units.warm_extras``) before the
    intake proper: a class that handed in unit 01 only does not wait for the
    optimizers' imports because the course has unit 10.
    """
    if not root.is_dir():
        return list(units)
    _, found = _layout(root, course, [])
    named = {unit.name for files in found.values() for name in files if (unit := course.for_file(name)) is not None}
    return [u for u in units if u.name in named]


def _layout(root: Path, course: Course, notes: list[str]) -> tuple[str, dict[str, Files]]:
    """Which layout ``root`` is in, and each student's files by the name they count as."""
    if (root / "submitted").is_dir() or root.name == "submitted":
        return "nbgrader", _nbgrader(root / "submitted" if (root / "submitted").is_dir() else root, course, notes)
    if any(kind == "file" and _CANVAS.match(p.name) for p, kind in _entries(root)):
        return "lms", _lms(root, course, notes)
    return "folders", _folders(root, course, notes)


def _safe_id(name: str) -> str:
    """A usable student id for a name that is not one, distinct for distinct names."""
    tag = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9_.@+-]", "_", name)[:100].lstrip("_.@+-")
    return f"{stem or 'student'}-{tag}"


def _entries(folder: Path) -> list[tuple[Path, str]]:
    """A folder's entries, sorted, each with its kind ("file", "dir" or "other"), never following links."""
    out = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.is_symlink():
                    kind = "link"
                elif entry.is_dir(follow_symlinks=False):
                    kind = "dir"
                elif entry.is_file(follow_symlinks=False):
                    kind = "file"
                else:
                    kind = "other"
                out.append((Path(entry.path), kind))
    except OSError:
        return []
    return sorted(out)


def _unzip(archive: Path, dest: Path) -> Path:
    """Unpack a class zip, bounding members, each member's size and the total."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise IntakeError(f"{archive.name} holds {len(members)} files, over the {MAX_ZIP_MEMBERS} limit; unpack it yourself")
            total = 0
            for member in members:
                target = (dest / member.filename).resolve()
                if not target.is_relative_to(dest.resolve()):
                    raise IntakeError(f"{archive.name}: {printable(member.filename)!r} would land outside the folder; refusing the archive")
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                # A member over the file limit is cut there; intake then refuses it by size.
                with zf.open(member) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        total += len(chunk)
                        if total > MAX_ZIP_TOTAL:
                            raise IntakeError(f"{archive.name} unpacks to more than {MAX_ZIP_TOTAL >> 20} MiB; unpack it yourself")
                        out.write(chunk)
                        if out.tell() > MAX_FILE_BYTES:
                            break
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise IntakeError(f"{archive} is not a readable zip file ({exc})") from None
    except (OSError, UnicodeError) as exc:
        raise IntakeError(f"{archive} could not be unpacked: {exc}") from None
    entries = [p for p, _ in _entries(dest) if not p.name.startswith(("__MACOSX", "."))]
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
    for folder, kind in _entries(root):
        if kind != "dir" or folder.name.startswith("."):
            if kind in ("link", "other"):
                notes.append(f"{folder.name}: not a plain folder (a link or special file), not followed")
            continue
        files: Files = {}
        for path, what in _entries(folder):
            if path.name.startswith("."):
                continue
            if what == "file" and _sort_out(path, path.name, course, f"{folder.name}/{path.name}", notes):
                files[path.name] = (path, ())
            elif what == "dir":
                notes.append(f"{folder.name}/{path.name}/: a folder, ignored (files go directly in the student's folder)")
            elif what in ("link", "other"):
                notes.append(f"{folder.name}/{path.name}: not a regular file (a link, FIFO or device), not read")
        found[folder.name] = files
    return found


def _nbgrader(submitted: Path, course: Course, notes: list[str]) -> dict[str, Files]:
    found: dict[str, Files] = {}
    for folder in [p for p, kind in _entries(submitted) if kind == "dir" and not p.name.startswith(".")]:
        files: Files = {}
        for assignment in [p for p, kind in _entries(folder) if kind == "dir" and not p.name.startswith(".")]:
            when = _read_stamp(assignment / "timestamp.txt")
            for path in _walk_files(assignment):
                if ".ipynb_checkpoints" in path.parts or path.name.startswith(".") or path.name == "timestamp.txt":
                    continue
                label = f"{folder.name}/{assignment.name}/{path.relative_to(assignment)}"
                if _sort_out(path, path.name, course, label, notes):
                    _offer(files, path.name, path, (when, path.stat().st_mtime), folder.name, notes)
        found[folder.name] = files
    return found


def _walk_files(top: Path) -> list[Path]:
    """Regular files at any depth under ``top``, links never followed."""
    found = []
    for folder, dirs, names in os.walk(top):  # followlinks=False: a linked folder is not entered
        for name in names:
            path = Path(folder) / name
            try:
                if stat.S_ISREG(os.lstat(path).st_mode):
                    found.append(path)
            except OSError:
                pass
    return sorted(found)


def _read_stamp(path: Path) -> str:
    data, problem = read_regular(path, 4096)
    return "" if data is None else data.decode("utf-8", "replace").strip()


def collect_uploaded(upload: Path, wanted: set[str], dest: Path) -> list[str]:
    """Copy the unit files of one upload (at any depth, the first of each name
    wins) into ``dest``, as plain files; return what was passed over, and why.

    A platform unpacks what the student uploaded, links included: a link is
    never followed (a ``toy.py`` pointing at the course's solution would
    otherwise be graded as the student's), nor is a linked folder entered.
    """
    notes: list[str] = []
    dest.mkdir(parents=True, exist_ok=True)
    for folder, dirs, names in sorted(os.walk(upload, followlinks=False)):
        dirs.sort()
        for d in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            notes.append(f"{printable(d)}/: a link to a folder, not followed")
        for name in sorted(names):
            if name not in wanted or (dest / name).exists():
                continue
            data, problem = read_regular(Path(folder) / name)
            if data is None:
                notes.append(printable(problem))
                continue
            (dest / name).write_bytes(data)
    return notes


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> tuple[bytes | None, str]:
    """A regular file's bytes, never through a link or from a FIFO or device; or why not."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return None, f"{path.name} cannot be read: {exc.strerror}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, f"{path.name} is not a regular file"
        if info.st_size > limit:
            return None, f"{path.name} is {info.st_size >> 20} MiB, over the {limit >> 20} MiB limit"
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            return None, f"{path.name} is over the {limit >> 20} MiB limit"
        return data, ""
    except OSError as exc:
        return None, f"{path.name} cannot be read: {exc.strerror}"
    finally:
        os.close(fd)


def _lms(root: Path, course: Course, notes: list[str]) -> dict[str, Files]:
    found: dict[str, Files] = {}
    for path, kind in _entries(root):
        if path.name.startswith("."):
            continue
        match = _CANVAS.match(path.name) if kind == "file" else None
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
        stamp = _read_stamp(folder / "timestamp.txt")
        if stamp:
            try:
                return dt.datetime.fromisoformat(stamp.removesuffix(" UTC")).replace(tzinfo=dt.timezone.utc).timestamp()
            except ValueError:
                break
    return os.lstat(path).st_mtime


def job_for_file(student: str, unit: Unit, path: Path, staging: Path) -> Job:
    """The job for one file of ``unit`` (a ``.py`` module or an ``.ipynb``
    notebook, whatever its name), read and converted as a class's files are."""
    name = f"{unit.module}.ipynb" if path.suffix == ".ipynb" else unit.filename
    return _job(student, unit, {name: (path, ())}, staging, [])


def _released(release: Path | None):
    """For an nbgrader course: a notebook's read-only cells as released, by the submitted path."""
    cache: dict[Path, dict[str, str]] = {}

    def lookup(path: Path) -> dict[str, str]:
        if release is None:
            return {}
        try:
            assignment, name = path.parent.name, path.name
            original = release / assignment / name
            if original not in cache:
                data, _ = read_regular(original) if original.is_file() else (None, "")
                cache[original] = released_cells(data.decode("utf-8")) if data else {}
        except (NotebookError, UnicodeDecodeError, OSError):
            cache[original] = {}
        return cache[original]

    return lookup


def _job(student: str, unit: Unit, files: Files, staging: Path, notes: list[str], released=None) -> Job:
    """One (student, unit) job, its file read once and kept in the staging folder.

    Whatever the bytes, the outcome is a job: graded from a private copy, or
    given 0 with the reason. Nothing read here is followed or run.
    """
    py, nb = files.get(unit.filename), files.get(f"{unit.module}.ipynb")
    if py and nb:
        notes.append(f"{student}: {nb[0].name} passed over, {py[0].name} is there too and was graded instead")
    chosen = py or nb
    if chosen is None:
        return Job(student, unit, None, f"missing: no {unit.filename} or {unit.module}.ipynb from {student}")
    path = chosen[0]
    try:
        when = submitted_at(path)
    except OSError:
        when = None
    data, problem = read_regular(path)
    if data is None:
        return Job(student, unit, None, printable(problem), when)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Job(student, unit, None, f"{printable(path.name)} is not UTF-8 text (byte {exc.start}): save it as UTF-8", when)
    notes: tuple[str, ...] = ()
    if nb and not py:
        try:
            converted = notebook_module(text, released(path) if released else None)
        except NotebookError as exc:
            return Job(student, unit, None, printable(f"{path.name}: {exc}"), when)
        text, notes = converted.source, tuple(printable(n, 300) for n in converted.notes[:50])
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        return Job(student, unit, None, f"{printable(path.name)} holds text that cannot be encoded (a lone surrogate)", when)
    out = staging / "files" / student / unit.filename
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(encoded)
    return Job(student, unit, out, "", when, origin=path, notes=notes, notebook=bool(nb and not py))
