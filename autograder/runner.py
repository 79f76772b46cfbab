"""Running checks: the typed API under every command.

``run_jobs`` grades (student, unit) jobs in sessions (``session``), in this
process or spread over worker processes that each keep one zygote and load
each unit's checks once. Results are plain dicts; ``scoring.score`` turns
them into scores.
"""

from __future__ import annotations

import math
import random
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import torch

from autograder import timeline
from autograder.confinement import bwrap_status
from autograder.jobs import Job, chunk_jobs, units_of
from autograder.run_settings import GradingError, RunSettings, Which
from autograder.session import run_session
from autograder.suite import Check, CheckFileError, checks_in
from autograder.units import Course, Unit, trusted_extras, warm_extras
from autograder.worker_resources import (
    Proof, await_proof, fork_keeps_autograd, private_tempdir, proven, ready, resources, shared_zygote,
    sweep_stale_scratch, warm_torch, warm_up, worker_init,
)  # fmt: skip
from autograder.zygote import forget_prestarted, reap_prestarted

__all__ = ["RunSettings", "GradingError", "run_jobs", "private_tempdir", "sweep_stale_scratch", "warm_up", "resolve_devices", "new_seed", "cuda_note", "isolation_warnings"]

Progress = Callable[[int, int], None]
ChunkDone = Callable[[list[Job], list[dict]], None]


#: (student, unit) jobs per extra worker: a worker is a fork of this process
#: and shares its zygote, but waits for it and loads each unit's checks once
JOBS_PER_WORKER = 6


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
    students = {j.student for j in jobs}
    workers = max(1, min(settings.workers, len(students), math.ceil(len(jobs) / JOBS_PER_WORKER)))
    chunks = chunk_jobs(jobs, workers)  # each stored as it comes in
    results: list[dict] = []
    done = 0
    units = _sandboxed_units(jobs)
    extras = warm_extras(units)
    if workers == 1:
        if len(jobs) > 2:  # worth the zygote's warm imports first, so that no sandbox repeats them
            ready(resources(course, settings)[0], extras)
        for chunk in chunks:
            got = _session(course, chunk, settings)
            if on_chunk:
                on_chunk(chunk, got)
            results += got
            done += len(chunk)
            if progress:
                progress(done, len(jobs))
        return results
    # Once, here, rather than in each worker's first check: the workers
    # inherit it, and the zygote imports its own extras meanwhile.
    warm_torch(trusted_extras(units))
    # fork: workers start with torch already imported (spawn costs seconds
    # each), unless this process has run autograd: its children could not.
    ctx = get_context("fork" if fork_keeps_autograd() else "spawn")
    shared = shared_zygote(course, settings) if ctx.get_start_method() == "fork" else None
    channels = [shared.channel() for _ in range(workers)] if shared else None
    if shared and extras:
        shared.deepen(extras)
    claim = ctx.Value("i", 0)  # which worker takes which channel, or the zygote started early
    initargs = (course, settings, claim, channels, extras)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=worker_init, initargs=initargs) as pool:
        futures = {pool.submit(_session, course, chunk, settings): chunk for chunk in chunks}
        # Every worker is forked by now (fork starts them all at the first submit).
        if shared:
            for channel in channels:
                channel.close()  # the workers' copies serve them
            proof = Proof(shared)  # once for the shared zygote, awaited before any result is kept
        else:
            forget_prestarted()  # the zygote started early is a worker's
        for future in as_completed(futures):
            got = future.result()
            if shared:
                await_proof(proof)
            if on_chunk:
                on_chunk(futures[future], got)
            results += got
            done += len(futures[future])
            if progress:
                progress(done, len(jobs))
    reap_prestarted()
    return results


def _session(course: Course, jobs: list[Job], settings: RunSettings) -> list[dict]:
    """One session over ``jobs``; runs in this process or a worker."""
    zygote, _ = resources(course, settings)
    with timeline.span("torch warm"):
        warm_torch(trusted_extras(_sandboxed_units(jobs)))  # while the zygote may still be starting: before the first sandbox waits for it
    checks = {unit.name: _checks(path, settings) for path, unit in check_files(units_of(jobs), settings.which).items()}
    # Expected gradients on fakegpu in this thread, not handed to a device thread (as in the sandboxes).
    with timeline.span("session"), torch.autograd.set_multithreading_enabled(False):
        results = run_session(jobs, checks, seed=settings.seed, cuda="cuda" in settings.devices, zygote=zygote)
    with timeline.span("await runtime proof"):
        proven()  # no result leaves a sandbox whose runtime is not proven whole
    timeline.flush()  # a pool worker ends without exit handlers
    return results


def _sandboxed_units(jobs: list[Job]) -> list[Unit]:
    """The units of the jobs that have a file: only they run checks that need
    the extra imports (a missing file fails every check without running it)."""
    return units_of([j for j in jobs if j.source is not None])


def _checks(path: Path, settings: RunSettings) -> list[Check]:
    """The checks in ``path`` this run asks for: on its devices, of its exercises and device part."""
    try:
        found = checks_in(path, settings.devices)
    except CheckFileError as exc:
        raise GradingError(f"the checks could not be collected: {exc}") from None
    if settings.exercises:
        found = [c for c in found if c.exercise in settings.exercises]
    if settings.only_devices:  # a check without a device runs with the CPU part
        found = [c for c in found if (c.device or "cpu") in settings.only_devices]
    return found


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
