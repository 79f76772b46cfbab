"""For a self-learner: the reference answer once earned, and a fresh start.

``reference`` gives an exercise's reference definition; ``differences``
puts it beside the learner's own as a diff, which is where a second way of
doing it teaches something. ``reset`` puts the stub back (a whole unit, or
one exercise's definition inside the learner's file), keeping a backup in
``.torchgrade/backups/`` first. Nothing here is needed for grading.
"""

from __future__ import annotations

import ast
import difflib
import shutil
import subprocess
import time
from pathlib import Path

from autograder.units import Unit, UnitError

__all__ = ["BACKUPS", "STUBS", "pristine_stub", "reference", "differences", "reset"]

BACKUPS = Path(".torchgrade") / "backups"
STUBS = Path(".torchgrade") / "stubs"  # a release's untouched stubs: the files in assignments/ are the learner's


def pristine_stub(unit: Unit, course_root: Path) -> str:
    """The stub as it was handed out: a release keeps a copy; a course checkout has git."""
    kept = course_root / STUBS / unit.name / unit.filename
    if kept.is_file():
        return kept.read_text()
    relative = unit.stub.resolve().relative_to(course_root.resolve()).as_posix()
    try:
        done = subprocess.run(["git", "-C", str(course_root), "show", f"HEAD:{relative}"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done is not None and done.returncode == 0:
        return done.stdout
    raise UnitError(f"no untouched copy of {relative} here (neither {STUBS}/ nor git history): "
                    "get the stub again from your course's release")  # fmt: skip


def _definitions(source: str) -> dict[str, tuple[int, int]]:
    """``{name: (first line, last line)}`` of the module's top-level functions and classes (1-based, decorators included)."""
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            out[node.name] = (first, node.end_lineno)
    return out


def _definition(source: str, name: str) -> str | None:
    span = _definitions(source).get(name)
    if span is None:
        return None
    return "\n".join(source.splitlines()[span[0] - 1 : span[1]]) + "\n"


def _exercise(unit: Unit, name: str) -> None:
    if name not in {e.name for e in unit.exercises}:
        raise UnitError(f"{unit.name} has no exercise {name!r}: it has {', '.join(e.name for e in unit.exercises)}")


def reference(unit: Unit, exercise: str) -> str:
    """The reference definition of ``exercise``."""
    _exercise(unit, exercise)
    if not unit.solution.is_file():
        raise UnitError(f"{unit.name}: this copy of the course has no solutions (a student release): ask your instructor")
    found = _definition(unit.solution.read_text(), exercise)
    if found is None:
        raise UnitError(f"{unit.name}: the reference solution has no {exercise}")
    return found


def differences(unit: Unit, exercise: str, mine: Path) -> str:
    """A diff from the learner's definition to the reference's, or "" if they are the same."""
    try:
        own = _definition(mine.read_text(), exercise) or ""
    except (OSError, SyntaxError, UnicodeDecodeError):
        own = ""
    theirs = reference(unit, exercise)
    if own.strip() == theirs.strip():
        return ""
    return "".join(difflib.unified_diff(own.splitlines(True), theirs.splitlines(True), "yours", "reference", n=2))


def reset(unit: Unit, exercise: str | None, mine: Path, course_root: Path) -> Path:
    """Put the stub back into ``mine`` (all of it, or one exercise's definition); return the backup's path."""
    stub = pristine_stub(unit, course_root)
    backups = course_root / BACKUPS
    backups.mkdir(parents=True, exist_ok=True)
    backup = backups / f"{mine.stem}-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**6:06d}{mine.suffix}"
    if mine.exists():
        shutil.copy2(mine, backup)
    if exercise is None or not mine.exists():
        mine.write_text(stub)
        return backup
    _exercise(unit, exercise)
    text = mine.read_text()
    try:
        spans = _definitions(text)
    except SyntaxError:
        raise UnitError(f"{mine} does not parse, so one exercise cannot be put back alone: reset the whole unit "
                        f"(torchgrade reset {unit.name}); the backup is {backup}") from None  # fmt: skip
    fresh = _definition(stub, exercise)
    lines = text.splitlines(keepends=True)
    if exercise in spans:
        first, last = spans[exercise]
        lines[first - 1 : last] = [fresh]
    else:
        lines.append("\n\n" + fresh)
    mine.write_text("".join(lines))
    return backup
