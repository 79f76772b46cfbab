"""Running checks: the typed API under every command.

``run_jobs`` grades (student, unit) jobs with pytest sessions, in this
process or spread over worker processes that each keep one zygote. Results
are plain dicts; ``scoring.score`` turns them into scores.
"""

from __future__ import annotations

import math
import multiprocessing.util
import os
import shutil
import sys
import random
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import redirect_stdout, redirect_stderr
from dataclasses import dataclass, field
from io import StringIO
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Literal

import pytest
import torch

from autograder.confinement import bwrap_status, plan
from autograder.plugin import GradingPlugin, Job
from autograder.runtime_probe import RuntimeUnreachable, prove_runtime
from autograder.sandbox import fakegpu
from autograder.units import HIDDEN_CHECKS, PUBLIC_CHECKS, Course, Unit, UnitError, makes_optimizers
from autograder.zygote import Zygote, forget_prestarted, reap_prestarted, take_prestarted

__all__ = ["RunSettings", "GradingError", "run_jobs", "private_tempdir", "sweep_stale_scratch", "warm_up", "resolve_devices", "new_seed", "cuda_note", "isolation_warnings"]

Which = Literal["hidden", "public", "auto"]
Progress = Callable[[int, int], None]
ChunkDone = Callable[[list[Job], list[dict]], None]


#: (student, unit) jobs per extra worker: a worker is a fork of this process
#: and shares its zygote, but each pytest session it runs costs ~0.15 s
JOBS_PER_WORKER = 6


class GradingError(Exception):
    """The run itself cannot go on (bad settings, broken checks): say why."""


@dataclass(frozen=True)
class RunSettings:
    """Everything a run needs besides the jobs; defaults live here only."""

    devices: tuple[str, ...] = ("cpu",)
    seed: int = 0
    workers: int = 1
    which: Which = "auto"
    # Folders no sandbox may reach, whatever sys.path says (the class, the output).
    protected: tuple[str, ...] = field(default_factory=tuple)
    # Run submissions without bubblewrap where it cannot be had: for a
    # learner's own code, or when an instructor says so (--unconfined).
    allow_unconfined: bool = False
    # Only these exercises' checks (a learner's watch on the current one); all when empty.
    exercises: tuple[str, ...] = ()
    # A Dask scheduler's address: grade on that cluster (autograder.cluster) instead of here.
    scheduler: str | None = None
    # Only the checks on these devices (a cluster task's CPU or CUDA part); all when empty.
    only_devices: tuple[str, ...] = ()


def new_seed() -> int:
    """A fresh run seed, too large to guess by trying them all."""
    return random.SystemRandom().randrange(1, 2**63)


def resolve_devices(requested: list[str] | None = None, require_cuda: bool = False) -> tuple[str, ...]:
    """The run's devices: ``cpu`` always, ``cuda`` when asked for (default) and present."""
    wanted = check_device_names(requested)
    has_cuda = torch.cuda.is_available()
    if require_cuda and not has_cuda:
        raise GradingError("CUDA is required (--require-cuda) but torch.cuda.is_available() is False on this machine")
    return ("cpu", "cuda") if has_cuda and ("cuda" in wanted or require_cuda) else ("cpu",)


def check_device_names(requested: list[str] | None) -> list[str]:
    """The devices asked for (default: cpu and cuda), each one known."""
    wanted = list(requested) if requested else ["cpu", "cuda"]
    unknown = set(wanted) - {"cpu", "cuda"}
    if unknown:
        raise GradingError(f"unknown device(s) {sorted(unknown)}: use cpu and/or cuda")
    return wanted


def cuda_note(devices: tuple[str, ...]) -> str:
    if "cuda" in devices and not torch.cuda.is_available():
        return "cuda: on the cluster's GPU workers, GPU checks run there"
    if "cuda" in devices:
        return f"cuda: {torch.cuda.get_device_name(0)}, GPU checks run"
    return "cuda: not available, GPU checks not run"


def check_files(units: list[Unit], which: Which) -> dict[Path, Unit]:
    files: dict[Path, Unit] = {}
    for unit in units:
        hidden = unit.hidden_checks.is_file()
        if which == "hidden" or (which == "auto" and hidden):
            if not hidden:
                raise GradingError(f"{unit.name}: no hidden checks at {unit.hidden_checks}")
            files[unit.hidden_checks] = unit
        else:
            if not unit.public_checks.is_file():
                raise GradingError(f"{unit.name}: no public checks at {unit.public_checks}")
            files[unit.public_checks] = unit
    return files


def run_jobs(
    course: Course,
    jobs: list[Job],
    settings: RunSettings,
    progress: Progress | None = None,
    on_chunk: ChunkDone | None = None,
) -> list[dict]:
    """Grade every job; return one result dict per (job, check, device).

    ``on_chunk`` sees each chunk's jobs and results as it completes (in this
    process), so that they can be stored before the next one.
    """
    if not jobs:
        return []
    if settings.scheduler:
        from autograder.cluster import run_on_cluster

        return run_on_cluster(course, jobs, settings, progress, on_chunk)
    if not settings.allow_unconfined and bwrap_status()[0] is None:
        raise GradingError(
            f"submissions cannot be confined here: {bwrap_status()[1]}. Install bubblewrap, or pass --unconfined "
            "to run untrusted code without confinement (it could read and change whatever this user can)"
        )
    students = sorted({j.student for j in jobs})
    workers = max(1, min(settings.workers, len(students), math.ceil(len(jobs) / JOBS_PER_WORKER)))
    # A pytest session costs ~0.15 s to set up; at most 16 students each and
    # four chunks a worker, so that a killed run loses little and work is shared.
    size = max(2, min(16, len(students) // (workers * 4)))
    groups = [students[i : i + size] for i in range(0, len(students), size)]
    chunks = [[j for j in jobs if j.student in set(g)] for g in groups]
    results: list[dict] = []
    done = 0
    deep = makes_optimizers({j.unit.name: j.unit for j in jobs}.values())
    if workers == 1:
        if len(jobs) > 2:  # worth the zygote's warm imports first, so that no sandbox repeats them
            _ready(_resources(course, settings)[0], deep)
        for chunk in chunks:
            got = _session(course, chunk, settings)
            if on_chunk:
                on_chunk(chunk, got)
            results += got
            done += len(chunk)
            if progress:
                progress(done, len(jobs))
        return results
    fakegpu.warm()  # once, here, rather than in each worker's first check
    # fork: workers start with torch already imported (spawn costs seconds
    # each), unless this process has run autograd: its children could not.
    ctx = get_context("fork" if _fork_keeps_autograd() else "spawn")
    shared = _shared_zygote(course, settings) if ctx.get_start_method() == "fork" else None
    channels = [shared.channel() for _ in range(workers)] if shared else None
    if shared and deep:
        shared.deepen()
    claim = ctx.Value("i", 0)  # which worker takes which channel, or the zygote started early
    initargs = (course, settings, claim, channels, deep)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=initargs) as pool:
        futures = {pool.submit(_session, course, chunk, settings): chunk for chunk in chunks}
        # Every worker is forked by now (fork starts them all at the first submit).
        if shared:
            for channel in channels:
                channel.close()  # the workers' copies serve them
            proof = _Proof(shared)  # once for the shared zygote, awaited before any result is kept
        else:
            forget_prestarted()  # the zygote started early is a worker's
        for future in as_completed(futures):
            got = future.result()
            if shared:
                _await(proof)
            if on_chunk:
                on_chunk(futures[future], got)
            results += got
            done += len(futures[future])
            if progress:
                progress(done, len(jobs))
    reap_prestarted()
    return results


def _shared_zygote(course: Course, settings: RunSettings) -> Zygote | None:
    """This process's zygote, for its workers to share, where it is confined.

    An unconfined zygote's launch names a worker's own scratch folder, so
    there each worker keeps one of its own.
    """
    if bwrap_status()[0] is None:
        return None
    return _zygote_for(plan(_protected(course, settings), cuda="cuda" in settings.devices, allow_unconfined=settings.allow_unconfined))


def _zygote_for(launch) -> Zygote:
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


def _fork_keeps_autograd() -> bool:
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


def _ready(zygote: Zygote, deep: bool) -> None:
    """Wait until ``zygote`` has its warm imports (and dynamo, for ``deep`` units), so no sandbox repeats them."""
    if deep:
        zygote.deepen()
    zygote.ready()


def _worker_init(course: Course, settings: RunSettings, claim, channels: list[Zygote] | None, deep: bool) -> None:
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
    zygote, _ = _resources(course, settings)
    _ready(zygote, deep)  # take work only once it can be done without waiting


def _protected(course: Course, settings: RunSettings) -> list[str]:
    return [str(course.root), *settings.protected]


def _resources(course: Course, settings: RunSettings) -> tuple[Zygote, str]:
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
    zygote = _zygote_for(launch)
    if not _PROOF:
        _PROOF.append(_Proof(zygote))
    return zygote, _SCRATCH


class _Proof(threading.Thread):
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


def _await(proof: _Proof) -> None:
    proof.join()
    if proof.error is not None:
        raise GradingError(str(proof.error))


def _proven() -> None:
    for proof in _PROOF:
        _await(proof)


def warm_up(course: Course, settings: RunSettings) -> None:
    """Start and prove this process's zygote now, before the first job (a warm checker)."""
    zygote, _ = _resources(course, settings)
    _ready(zygote, deep=True)  # it will serve every unit
    _proven()
    fakegpu.warm()


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


def _session(course: Course, jobs: list[Job], settings: RunSettings) -> list[dict]:
    """One pytest session over ``jobs``; runs in this process or a worker."""
    zygote, scratch = _resources(course, settings)
    fakegpu.warm()  # while the zygote may still be starting: before the first sandbox waits for it
    units = list({j.unit.name: j.unit for j in jobs}.values())
    files = check_files(units, settings.which)
    plugin = GradingPlugin(jobs, files, devices=list(settings.devices), seed=settings.seed, zygote=zygote,
                           exercises=settings.exercises, only_devices=settings.only_devices)
    collector = _Collector()
    ini = Path(scratch) / "pytest.ini"
    ini.write_text("[pytest]\n")
    args = [
        *(str(f) for f in files),
        "-c", str(ini), "--rootdir", str(course.root),
        # Installed pytest plugins have no say in grading (and cost imports).
        "--disable-plugin-autoload", "-p", "no:cacheprovider", "--import-mode=importlib",
        # Checks print nothing and their tracebacks are never shown: per-test
        # capture, log capture, warnings capture and the end-of-session
        # gc.collect() passes only cost time (about a second a session).
        "--capture=no", "-p", "no:logging", "-p", "no:warnings", "-p", "no:faulthandler",
        "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:doctest",
        "-q", "--no-header", "-o", "console_output_style=classic",
    ]  # fmt: skip
    _forget_check_modules()
    sink = StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        code = pytest.main(args, plugins=[plugin, collector])
    _proven()  # no result leaves a sandbox whose runtime is not proven whole
    if collector.errors:
        raise GradingError("the checks could not be collected:\n" + "\n".join(collector.errors))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise GradingError(f"pytest ended with {code!r}:\n{sink.getvalue()[-3000:]}")
    return plugin.results + [{"kind": "sandbox", "isolated": list(i)} for i in plugin.isolation]


ISOLATION = ("network", "pid", "files", "ipc")


def isolation_warnings(results: list[dict]) -> list[str]:
    """What confinement the sandboxes lacked in this run, said plainly."""
    missing = sorted({m for r in results if r.get("kind") == "sandbox" for m in ISOLATION if m not in r["isolated"]})
    if not missing:
        return []
    return [
        f"warning: submissions ran unconfined (without {', '.join(missing)} isolation; {bwrap_status()[1] or 'namespaces unavailable'}): "
        "they could reach the network and read or change what this user can"
    ]


def _forget_check_modules() -> None:
    """Drop check modules of earlier sessions: pytest would reuse them by name."""
    for name, module in list(sys.modules.items()):
        if os.path.basename(getattr(module, "__file__", None) or "") in (HIDDEN_CHECKS, PUBLIC_CHECKS):
            del sys.modules[name]


class _Collector:
    """Collects collection errors (a broken check file is the course's bug)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")


def load_units(course: Course, names: list[str] | None) -> list[Unit]:
    """The units named (all when none are), refusing to go on over a broken one."""
    if not names:
        if course.broken:
            raise GradingError("some units cannot be loaded:\n" + "\n".join(course.broken.values()))
        return list(course.units)
    try:
        return [course.unit(n) for n in names]
    except UnitError as exc:
        raise GradingError(str(exc)) from None
