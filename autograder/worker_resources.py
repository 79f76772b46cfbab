"""Each grading process's own resources: its zygote, its scratch folder, the runtime proof.

A process keeps one zygote for all its sessions: the one started early
(``zygote.prestart``), a channel to its parent's shared one (a forked
worker), or its own. Before any result of a zygote's sandboxes is kept, the
runtime probe must have shown that a sandbox reads the whole Python runtime.
"""

from __future__ import annotations

import importlib
import multiprocessing.util
import os
import shutil
import tempfile
import threading

import torch

from autograder import timeline
from autograder.confinement import bwrap_status, plan
from autograder.run_settings import GradingError, RunSettings
from autograder.runtime_probe import RuntimeUnreachable, prove_runtime
from autograder.sandbox import fakegpu, rehearsal
from autograder.sandbox.zygote import EXTRA_IMPORTS
from autograder.units import Course
from autograder.zygote import Zygote, forget_prestarted, take_prestarted

__all__ = ["warm_torch", "shared_zygote", "zygote_for", "fork_keeps_autograd", "ready", "worker_init", "resources", "Proof", "await_proof",
           "proven", "warm_up", "private_tempdir", "sweep_stale_scratch"]


def warm_torch(extras: tuple[str, ...] = ()) -> None:
    """This process's first use of fakegpu and of the common operators, and
    the imports its checks need beyond torch (``units.trusted_extras``: sympy,
    dynamo), each done once: before a pool forks its workers (they inherit
    it), or while a command waits for its zygote, which imports its own
    meanwhile."""
    todo = [part for part in ("base", *extras) if part not in _WARMED]
    if not todo:
        return
    fakegpu.warm()
    for module in dict.fromkeys(m for e in todo for m in EXTRA_IMPORTS.get(e, ())):
        try:
            importlib.import_module(module)
        except ImportError:
            pass  # a speed-up only: the first check that needs it imports it
    rehearsal.rehearse(tuple(todo))
    _WARMED.update(todo)


_WARMED: set[str] = set()  # what warm_torch has done in this process (a forked worker inherits it)


def shared_zygote(course: Course, settings: RunSettings) -> Zygote | None:
    """This process's zygote, for its workers to share, where it is confined.

    An unconfined zygote's launch names a worker's own scratch folder, so
    there each worker keeps one of its own.
    """
    if bwrap_status()[0] is None:
        return None
    return zygote_for(plan(_protected(course, settings), cuda="cuda" in settings.devices, allow_unconfined=settings.allow_unconfined))


def zygote_for(launch) -> Zygote:
    """This process's zygote for ``launch``: the one it has, the one started early, or a new one."""
    global _ZYGOTE
    if _ZYGOTE is not None and _ZYGOTE.launch != launch:
        _ZYGOTE.close()  # another run's allow-list: never reuse a zygote across them
        _ZYGOTE = None
    if _ZYGOTE is None:
        _PROOF.clear()
        _ZYGOTE = take_prestarted(launch) or Zygote(launch)
        _ZYGOTE.start()
    return _ZYGOTE


def fork_keeps_autograd() -> bool:
    """Whether a child forked now can still run backward().

    Once a process has run autograd, torch refuses it in forked children
    ("Unable to handle autograd's threading in combination with fork-based
    multiprocessing"), and every check that computes an expected gradient
    would fail: a library user who trained a model before grading, a test
    suite. A throwaway child tries, and the pool spawns workers instead.
    """
    pid = os.fork()
    if pid == 0:
        try:
            torch.ones(1, requires_grad=True).sum().backward()
            os._exit(0)
        except BaseException:  # noqa: BLE001 - the child only reports
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


# Each worker process keeps one zygote and one private scratch folder for all its sessions.
_ZYGOTE: Zygote | None = None
_SCRATCH: str | None = None
_PROOF: list = []  # the runtime probe's outcome, once per zygote
_INHERITED: list = []
_SCRATCH_PREFIX = "torchgrade-"


def ready(zygote: Zygote, extras: tuple[str, ...]) -> None:
    """Wait until ``zygote`` has its warm imports and those ``extras`` need (``units.warm_extras``), so no sandbox repeats them."""
    if extras:
        zygote.deepen(extras)
    zygote.ready()


def worker_init(course: Course, settings: RunSettings, claim, channels: list[Zygote] | None, extras: tuple[str, ...]) -> None:
    """In a forked worker: leave the parent's zygote alone and take a channel
    to the shared one; without channels, take the one started early if no
    other worker has, else start our own now."""
    global _ZYGOTE, _SCRATCH
    # Kept referenced so that no finaliser closes or deletes the parent's.
    _INHERITED.append((_ZYGOTE, _SCRATCH))
    _ZYGOTE = _SCRATCH = None
    _PROOF.clear()
    with claim.get_lock():
        index, claim.value = claim.value, claim.value + 1
    if channels:
        _ZYGOTE = channels[index]
        for other in channels[:index] + channels[index + 1 :]:
            other.close()
        _PROOF.append(_PROVEN_BY_PARENT)
    elif index != 0:
        forget_prestarted()
    torch.set_num_threads(1)
    with timeline.span("worker ready"):
        zygote, _ = resources(course, settings)
        ready(zygote, extras)  # take work only once it can be done without waiting


def _protected(course: Course, settings: RunSettings) -> list[str]:
    return [str(course.root), *settings.protected]


def resources(course: Course, settings: RunSettings) -> tuple[Zygote, str]:
    """This process's zygote (started and proven once) and scratch folder."""
    global _SCRATCH
    if _SCRATCH is None:
        sweep_stale_scratch()
        _SCRATCH = tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-")
        # Run at exit by this process and by a pool worker alike (a worker skips
        # atexit); a killed one leaves it for the next run's sweep.
        multiprocessing.util.Finalize(None, shutil.rmtree, args=(_SCRATCH, True), exitpriority=1)
    launch = plan(_protected(course, settings), cuda="cuda" in settings.devices, scratch=_SCRATCH,
                  allow_unconfined=settings.allow_unconfined)  # fmt: skip
    zygote = zygote_for(launch)
    if not _PROOF:
        _PROOF.append(Proof(zygote))
    return zygote, _SCRATCH


class Proof(threading.Thread):
    """The runtime probe of one zygote, run beside the first session rather than before it.

    Its outcome is awaited before any result of that zygote's sandboxes is
    handed back (``proven``): a run on a runtime the sandbox cannot read
    stops with nothing kept, as it would if the probe had gone first.
    """

    def __init__(self, zygote: Zygote) -> None:
        super().__init__(daemon=True)
        self.zygote, self.error = zygote, None
        self.start()

    def run(self) -> None:
        try:
            with timeline.span("runtime proof"):
                prove_runtime(self.zygote)
        except RuntimeUnreachable as exc:
            self.error = exc
        except Exception as exc:  # noqa: BLE001 - any failure to probe stops the run
            self.error = RuntimeUnreachable(f"the runtime probe failed: {exc}")


class _ProvenByParent:
    """A worker's stand-in for the probe of the zygote it shares: the parent
    runs that probe and awaits it before it keeps any of the worker's results."""

    error = None

    def join(self) -> None:
        pass


_PROVEN_BY_PARENT = _ProvenByParent()


def await_proof(proof: Proof) -> None:
    proof.join()
    if proof.error is not None:
        raise GradingError(str(proof.error))


def proven() -> None:
    for proof in _PROOF:
        await_proof(proof)


def warm_up(course: Course, settings: RunSettings) -> None:
    """Start and prove this process's zygote now, before the first job (a warm checker)."""
    zygote, _ = resources(course, settings)
    ready(zygote, tuple(EXTRA_IMPORTS))  # it will serve every unit
    proven()
    warm_torch(tuple(EXTRA_IMPORTS))


def private_tempdir(kind: str) -> tempfile.TemporaryDirectory:
    """A private temporary folder for this process, named so that a later run
    sweeps it if this one is killed before it can remove it."""
    return tempfile.TemporaryDirectory(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-{kind}-")


def sweep_stale_scratch() -> int:
    """Remove scratch folders of grader processes that no longer run (killed, say)."""
    removed = 0
    root = tempfile.gettempdir()
    for entry in os.scandir(root):
        if not entry.name.startswith(_SCRATCH_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        owner = entry.name[len(_SCRATCH_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and entry.stat(follow_symlinks=False).st_uid == os.getuid() and not _alive(int(owner)):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
