"""Grading on a Dask cluster: ``torchgrade grade ... --scheduler ADDRESS``.

The trusted side stays with the command: intake, the gradebook and every
result it records as it arrives. What goes to a Dask worker is a chunk of
jobs as plain data (student, unit, the file's bytes) and the run's
settings; the worker grades it with torchgrade's own confined engine
(zygote, sandboxes, limits: unchanged) and sends back plain result rows,
tagged with its address. The course must be at the same path on every
worker (a shared filesystem or the same image): a worker that cannot load
it fails the chunk with that message.

Faults: Dask runs a chunk again elsewhere when its worker dies (its own
``allowed-failures``); a chunk that fails for good is split and its jobs
tried one by one, and a job that still fails is graded 0 with the reason,
never tried a third time. A lost scheduler ends the run; what was recorded
stays in the gradebook, and the next run picks up from there.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path

from autograder.plugin import Job
from autograder.units import Course

__all__ = ["run_on_cluster", "grade_chunk", "GPU"]

GPU = "GPU"  # the Dask resource a worker started with --resources GPU=1 offers


def _payload(jobs: list[Job]) -> list[dict]:
    out = []
    for j in jobs:
        out.append({"student": j.student, "unit": j.unit.name, "source": j.source.read_bytes() if j.source else None,
                    "problem": j.problem, "submitted": j.submitted, "notes": list(j.notes), "notebook": j.notebook})  # fmt: skip
    return out


def grade_chunk(course_root: str, payload: list[dict], settings) -> list[dict]:
    """On a Dask worker: grade one chunk with the local engine; rows tagged with this worker."""
    from distributed import get_worker

    from autograder.runner import run_jobs
    from autograder.units import load_course

    root = Path(course_root)
    if not (root / "assignments").is_dir():
        raise RuntimeError(f"this worker has no course at {root}: put the course at the same path on every worker")
    course = load_course(root)
    try:
        worker = get_worker()
        me = worker.address
        # Dask puts its scratch space on sys.path (for uploaded files): it is no
        # part of the Python runtime, and the sandbox must not be given it.
        scratch = str(Path(worker.local_directory).parent)
        sys.path[:] = [p for p in sys.path if not os.path.abspath(p or ".").startswith(scratch)]
    except ValueError:
        me = "local"
    with tempfile.TemporaryDirectory(prefix="torchgrade-dask-") as tmp:
        jobs = []
        for i, item in enumerate(payload):
            source = None
            if item["source"] is not None:
                source = Path(tmp) / str(i) / course.unit(item["unit"]).filename
                source.parent.mkdir()
                source.write_bytes(item["source"])
            jobs.append(Job(item["student"], course.unit(item["unit"]), source, item["problem"], item["submitted"],
                            notes=tuple(item["notes"]), notebook=item["notebook"]))  # fmt: skip
        local = dataclasses.replace(settings, scheduler=None, workers=1)
        rows = run_jobs(course, jobs, local)
    return [dict(r, worker=me) for r in rows]


def run_on_cluster(course: Course, jobs: list[Job], settings, progress=None, on_chunk=None) -> list[dict]:
    """Grade ``jobs`` on the cluster at ``settings.scheduler``; as ``runner.run_jobs`` does locally."""
    from distributed import Client, as_completed

    from autograder.runner import GradingError

    try:
        client = Client(settings.scheduler, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise GradingError(f"cannot reach the Dask scheduler at {settings.scheduler}: {exc}") from None
    try:
        workers = client.scheduler_info()["workers"]
        if not workers:
            raise GradingError(f"the Dask scheduler at {settings.scheduler} has no workers: start some with `dask worker {settings.scheduler}`")
        if "cuda" in settings.devices and not any(w.get("resources", {}).get(GPU) for w in workers.values()):
            raise GradingError("CUDA is required but no Dask worker offers a GPU: start one with `dask worker ADDRESS --resources GPU=1`")
        students = sorted({j.student for j in jobs})
        size = max(1, min(8, len(students) // (4 * len(workers)) or 1))
        groups = [set(students[i : i + size]) for i in range(0, len(students), size)]
        chunks = [[j for j in jobs if j.student in g] for g in groups]
        gpu = {GPU: 1} if "cuda" in settings.devices else None
        # TORCHGRADE_DASK_RESOURCES=NAME=1 keeps the run on the workers that offer NAME (a benchmark's pool of one)
        extra = os.environ.get("TORCHGRADE_DASK_RESOURCES")
        if extra and "=" in extra:
            name, _, amount = extra.partition("=")
            gpu = (gpu or {}) | {name: float(amount)}
        root = str(course.root.resolve())

        def submit(chunk: list[Job]):
            return client.submit(grade_chunk, root, _payload(chunk), settings, pure=False, resources=gpu)

        pending = {submit(c): (c, 0) for c in chunks}
        results: list[dict] = []
        done = 0
        queue = as_completed(list(pending))
        for future in queue:
            chunk, tries = pending.pop(future)
            try:
                got = future.result()
            except Exception as exc:  # noqa: BLE001 - a chunk that failed for good: its jobs alone, then 0
                if tries == 0:
                    for job in chunk:
                        again = submit([job])
                        pending[again] = ([job], 1)
                        queue.add(again)
                    continue
                got = [_zero(chunk[0], f"grading it failed twice on the cluster ({type(exc).__name__}: {exc}); not tried again")]
            if on_chunk:
                on_chunk(chunk, got)
            results += got
            done += len(chunk)
            if progress:
                progress(done, len(jobs))
        return results
    finally:
        client.close()


def _zero(job: Job, why: str) -> dict:
    """A row that gives the job 0 and says why."""
    return {"kind": "problem", "student": job.student, "unit": job.unit.name, "text": why}


def scheduler_address(given: str | None) -> str | None:
    """The scheduler: ``--scheduler``, else ``DASK_SCHEDULER_ADDRESS``."""
    return given or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
