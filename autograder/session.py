"""One grading session: every check of every job, run against the job's sandbox.

Checks are written as pytest functions (``suite`` loads them); this module
runs them, without pytest's per-test protocol, which cost more than the
checks themselves (measured in bench/: about 17 ms of the grader's 42 ms per
submission of unit 01). A job's sandbox is started at its first check and
kept for all of them; the fixtures a check takes are built directly; each
outcome becomes a plain result dict. The check's own source never reaches a
message.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
import torch

from autograder.checks import CheckFailure, TrapHit
from autograder.jobs import Job
from autograder.notebook_module import SKIPPED_CELLS
from autograder.remote import ImportFailed, MissingAttribute, Remote, Sandbox, SandboxError, StudentError
from autograder.safetext import printable
from autograder.suite import Check, reference_module
from autograder.units import Unit
from autograder.zygote import Zygote

__all__ = ["run_session", "Student", "MissingSubmission", "classify", "derive_seed"]


class MissingSubmission(Exception):
    pass


class Student:
    """The ``student`` fixture: the submission's module, reloaded after a crash."""

    __slots__ = ("_sandbox",)

    def __init__(self, sandbox: Sandbox) -> None:
        object.__setattr__(self, "_sandbox", sandbox)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        box = self._sandbox
        module = box.module  # (re)starts the sandbox, which forgets what it had looked up
        found = box.callables.get(name)
        if found is not None:
            return found
        try:
            value = getattr(module, name)
        except MissingAttribute:
            raise MissingAttribute(f"your file has no {name!r}", {"type": "AttributeError", "message": "define it as the stub does"}) from None
        if isinstance(value, Remote) and value._callable:
            box.callables[name] = value
        return value

    def __repr__(self) -> str:
        return f"<submission {self._sandbox.source.name}>"


def derive_seed(seed: int, *parts: str) -> int:
    """A stable seed for one check or sandbox, from the run's seed.

    One-way: a sandbox can read its own seed, and must not be able to work
    back to the run's seed and so to the hidden checks' inputs.
    """
    digest = hashlib.blake2b("/".join((str(seed), *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def run_session(
    jobs: list[Job],
    checks: dict[str, list[Check]],
    *,
    seed: int,
    cuda: bool,
    zygote: Zygote,
) -> list[dict]:
    """Run ``checks[unit name]`` for every job, in order; one result dict per check
    and device, a note per skipped notebook cell, a ``sandbox`` row per kind of
    confinement the sandboxes got."""
    results: list[dict] = []
    isolation: set[tuple[str, ...]] = set()
    for job in jobs:
        box = None
        if job.source is not None:
            box = Sandbox(zygote, job.source, job.unit.module, limits=job.unit.limits,
                          seed=derive_seed(seed, job.student, job.unit.name), cuda=cuda)  # fmt: skip
        try:
            results += _run_job(job, checks.get(job.unit.name, []), box, seed)
        finally:
            if box is not None:
                if job.notebook:
                    results += [{"kind": "note", "student": job.student, "unit": job.unit.name, "text": t} for t in _skipped_cells(box)]
                box.close()
                if box.generation:
                    isolation.add(tuple(box.isolated))
    return results + [{"kind": "sandbox", "isolated": list(i)} for i in isolation]


def _run_job(job: Job, checks: list[Check], box: Sandbox | None, seed: int) -> list[dict]:
    rows = []
    timed_out: dict[str, str] = {}  # check -> the device it timed out on: its other devices are not waited on
    for check in checks:
        device = check.device or "cpu"
        start = time.perf_counter()
        if box is None:
            status, text, trap_id = classify(MissingSubmission(job.problem), job.unit)
        elif check.name in timed_out and ("sandbox" in check.fixtures or "student" in check.fixtures):
            status, text, trap_id = "skipped", f"not run: this check already timed out on {timed_out[check.name]}", None
        else:
            status, text, trap_id = classify(_outcome(check, job, box, seed), job.unit)
        rows.append({
            "kind": "check", "student": job.student, "unit": job.unit.name, "check": check.name,
            "exercise": check.exercise, "device": device, "max_points": check.points,
            "status": status, "message": text, "trap": trap_id, "seconds": round(time.perf_counter() - start, 4),
        })  # fmt: skip
        if status == "timeout":
            timed_out[check.name] = device
    return rows


def _outcome(check: Check, job: Job, box: Sandbox, seed: int) -> BaseException | None:
    """What running ``check`` raised, if anything; only an interrupt stops the session."""
    try:
        check.function(**_fixtures(check, job, box, seed))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - every outcome of a check is a result
        return exc
    return None


def _fixtures(check: Check, job: Job, box: Sandbox, seed: int) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in check.fixtures:
        if name in ("sandbox", "student"):
            box.call_seconds = check.timeout or None
            box.copy_back = check.mutates
            box.mutated = []
            values[name] = box if name == "sandbox" else Student(box)
        elif name == "device":
            values[name] = check.device
        elif name == "gen":  # a CPU generator seeded from the run's seed and the check's name
            values[name] = torch.Generator().manual_seed(derive_seed(seed, check.name))
        elif name == "reference":
            values[name] = reference_module(job.unit.solution)
    return values


_MAX_MESSAGE = 2000


def _skipped_cells(box: Sandbox) -> list[str]:
    """The notebook cells that raised in the sandbox, as it lists them.

    Words for the student only, never a score: a submission that lies here
    misleads no one but itself. Read only from a sandbox still running the
    module (a crashed one is not restarted for this), bounded and escaped.
    """
    if not box.alive:
        return []
    try:
        listed = getattr(box.module, SKIPPED_CELLS)
    except Exception:  # noqa: BLE001 - no list, nothing to say
        return []
    if not isinstance(listed, list):
        return []
    return [printable(t, 300) for t in listed[:20] if isinstance(t, str)]


def classify(exc: BaseException | None, unit: Unit) -> tuple[str, str, str | None]:
    """``(status, message, trap id)`` for a check's outcome."""
    if exc is None:
        return "passed", "", None
    if isinstance(exc, TrapHit):
        trap = unit.traps.get(exc.trap_id)
        if trap is None:
            return "failed", f"[unknown trap {exc.trap_id}] {exc.detail}", exc.trap_id
        text = f"Trap: {trap.title}. {trap.explain}"
        return "failed", _cut(f"{text} ({exc.detail})" if exc.detail else text), trap.id
    if isinstance(exc, CheckFailure):
        return "failed", _cut(str(exc)), None
    if isinstance(exc, AssertionError):
        # A plain assert: keep its message and compared values, not pytest's
        # "+ where" lines that retrace the expression.
        lines = [line for line in str(exc).splitlines() if not line.lstrip().startswith("+")]
        return "failed", _cut("\n".join(lines) or "the check's assertion failed"), None
    if isinstance(exc, StudentError):
        if exc.type == "NotImplementedError":
            return "failed", _cut(f"{exc}: the TODO is not done yet"), None
        tb = f"\n{exc.traceback}" if exc.traceback else ""
        return "error", _cut(f"{exc}{tb}"), None
    if isinstance(exc, ImportFailed):
        return exc.status, _cut(str(exc)), None
    if isinstance(exc, SandboxError):
        return exc.status, _cut(str(exc)), None
    if isinstance(exc, MissingSubmission):
        return "error", _cut(f"not graded: {exc}"), None
    if isinstance(exc, pytest.skip.Exception):
        return "skipped", str(exc), None
    # Anything else came from using what the submission returned.
    return "error", _cut(f"the check could not use your result: {type(exc).__name__}: {exc}"), None


def _cut(text: str) -> str:
    # Messages carry what the submission said and returned: escaped, then cut.
    return printable(text, _MAX_MESSAGE)
