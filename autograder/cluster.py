"""Grading on a Dask cluster: ``torchgrade grade ... --scheduler ADDRESS``.

The trusted side stays with the command: intake, the gradebook and every
result it records as it arrives. What goes to a Dask worker is a task of
jobs as plain data (student, unit, the file's bytes) and the run's
settings; the worker grades it with torchgrade's own confined engine
(zygote, sandboxes, limits: unchanged) and sends back plain result rows,
tagged with its address. The course travels too: the run's units (metadata,
references, hidden checks and their data) as one archive, sent to each
worker once and unpacked there by its hash, so no worker needs the course
on its own disk.

GPU routing: with CUDA in the run, each chunk is two tasks, its CPU part
(cpu and fakegpu checks) for any worker and its CUDA part for a worker that
offers the ``GPU`` resource; a job is recorded when both are in.

Faults: each task notes on the scheduler that it has started. A task that
finds it started before knows a worker died holding it, and hands it back
instead of running; its jobs are then tried one by one, and a job whose
worker died twice is graded 0 with the reason, never tried a third time. A
lost scheduler ends the run; what was recorded stays in the gradebook, and
the next run picks up from there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import secrets
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.private_folder import private_folder

if TYPE_CHECKING:  # the command imports this module before torch: keep it light
    from autograder.jobs import Job
    from autograder.units import Course

__all__ = ["run_on_cluster", "grade_chunk", "course_bundle", "cluster_devices", "scheduler_address", "GPU"]

GPU = "GPU"  # the Dask resource a worker started with --resources GPU=1 offers
PARTS = {"all": None, "cpu": ("cpu", "fakegpu"), "cuda": ("cuda",)}  # a task's part -> the devices whose checks it runs
_LEDGER = "torchgrade"  # scheduler metadata: [_LEDGER, run, task] -> times started


def scheduler_address(given: str | None) -> str | None:
    """The scheduler: ``--scheduler``, else ``DASK_SCHEDULER_ADDRESS``."""
    return given or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


def _connect(address: str):
    from distributed import Client

    from autograder.runner import GradingError

    try:
        return Client(address, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise GradingError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def cluster_devices(address: str, requested: list[str] | None, require_cuda: bool) -> tuple[str, ...]:
    """The run's devices on a cluster: CUDA where a worker offers a GPU (and it is not left out)."""
    from autograder.runner import check_device_names

    wanted = check_device_names(requested)
    with _connect(address) as client:
        offered = _gpu_offered(client, address, need=require_cuda)
    return ("cpu", "cuda") if offered and ("cuda" in wanted or require_cuda) else ("cpu",)


def _gpu_offered(client, address: str, need: bool) -> bool:
    """Whether a worker of the cluster offers a GPU; refuses a cluster without workers, or without one when ``need``."""
    from autograder.runner import GradingError

    workers = client.scheduler_info()["workers"]
    if not workers:
        raise GradingError(f"the Dask scheduler at {address} has no workers: start some with `dask worker {address}`")
    offered = any(w.get("resources", {}).get(GPU) for w in workers.values())
    if need and not offered:
        raise GradingError(f"CUDA is required but no Dask worker offers a GPU: start one with `dask worker {address} --resources {GPU}=1`")
    return offered


def _payload(jobs: list[Job]) -> list[dict]:
    return [{"student": j.student, "unit": j.unit.name, "source": j.source.read_bytes() if j.source else None,
             "problem": j.problem, "submitted": j.submitted, "notes": list(j.notes), "notebook": j.notebook}
            for j in jobs]  # fmt: skip


def course_bundle(course: Course, units: list) -> bytes:
    """The run's units as a gzipped tar: what ``load_course`` and the checks read, nothing else.

    Regular files only (a link is left out, never followed); no notebooks or
    caches; the course's ``curriculum.toml`` when it has one.
    """
    buf = io.BytesIO()
    root = course.root.resolve()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        if (root / "curriculum.toml").is_file() and not (root / "curriculum.toml").is_symlink():
            tar.add(root / "curriculum.toml", "curriculum.toml")
        for unit in units:
            for top in ("assignments", "solutions", "checks"):
                folder = root / top / unit.name
                if not folder.is_dir() or folder.is_symlink():
                    continue
                for path in sorted(folder.rglob("*")):
                    rel = path.relative_to(root)
                    if path.is_symlink() or not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".ipynb":
                        continue
                    tar.add(path, str(rel), recursive=False)
    return buf.getvalue()


#: Unpacked courses a worker keeps (one per content: a run, an edited course); older ones go.
_KEEP_COURSES = 4


def _unpacked(bundle: bytes) -> Path:
    """This worker's copy of a course bundle, unpacked once per content, in a
    folder only this user can write (another user of the machine could
    otherwise plant a course with checks of their own under the name)."""
    root = _private_cache()
    digest = hashlib.sha256(bundle).hexdigest()[:32]
    home = root / digest
    if (home / "assignments").is_dir():
        os.utime(home)  # recently used: kept by the pruning below
        return home
    tmp = tempfile.mkdtemp(prefix="new-", dir=root)
    try:
        with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")  # no absolute paths, no links out, no devices
            else:  # Python 3.11 before 3.11.4 (Debian 12's 3.11.2) has no filters: the bundle holds files and folders only
                tar.extractall(tmp, members=_plain_members(tar))
        os.rename(tmp, home)  # whole or not at all
    except OSError:
        if not (home / "assignments").is_dir():  # else another task unpacked it first
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(root, keep=home)
    return home


def _private_cache() -> Path:
    """``$TMPDIR/torchgrade-courses-<uid>``, this user's alone (``private_folder``)."""
    try:
        return private_folder(Path(tempfile.gettempdir()) / f"torchgrade-courses-{os.getuid()}")
    except PermissionError as exc:
        raise RuntimeError(f"{exc}: remove it, or point TMPDIR at a private folder") from None


def _prune(root: Path, keep: Path) -> None:
    """Keep the most recently used unpacked courses, ``keep`` among them;
    remove the rest, and what an interrupted unpacking left an hour ago."""
    courses, stale = [], []
    hour_ago = time.time() - 3600
    for entry in os.scandir(root):
        if not entry.is_dir(follow_symlinks=False):
            continue
        mtime = entry.stat(follow_symlinks=False).st_mtime
        if entry.name.startswith("new-"):
            if mtime < hour_ago:  # a younger one may be another task unpacking right now
                stale.append(entry.path)
        elif entry.path != str(keep):
            courses.append((mtime, entry.path))
    courses.sort(reverse=True)
    for path in stale + [p for _, p in courses[_KEEP_COURSES - 1 :]]:
        shutil.rmtree(path, ignore_errors=True)


# How Dask reports a task whose worker died: given up on, or forgotten after it.
_WORKER_DIED = ("KilledWorker", "FutureCancelledError", "CancelledError")


def _plain_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The bundle's members, each a file or folder at a relative path inside it; else ValueError."""
    members = tar.getmembers()
    for m in members:
        parts = m.name.split("/")
        if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in parts:
            raise ValueError(f"the course bundle holds {m.name!r}, which is not a plain file or folder inside it")
        m.mode = 0o755 if m.isdir() else 0o644
    return members


def grade_chunk(bundle: bytes, payload: list[dict], settings, part: str, ledger: list[str]) -> dict:
    """On a Dask worker: grade one task with the local engine; rows tagged with this worker.

    Returns ``{"kind": "rows", "rows": [...]}``, or ``{"kind": "lost"}`` when a
    worker already died holding this task: the command decides what comes next.
    """
    from distributed import get_client, get_worker

    from autograder.jobs import Job
    from autograder.runner import GradingError, run_jobs
    from autograder.units import load_course

    try:
        worker = get_worker()
    except ValueError:  # called in-process (a test): no worker, no ledger
        worker = None
    if worker is not None:
        client = get_client()
        started = client.get_metadata(ledger, 0)
        client.set_metadata(ledger, started + 1)
        if started:
            return {"kind": "lost", "worker": worker.address}
        # Dask puts its scratch space on sys.path (for uploaded files): it is no
        # part of the Python runtime, and the sandbox must not be given it.
        scratch = str(Path(worker.local_directory).parent)
        sys.path[:] = [p for p in sys.path if not os.path.abspath(p or ".").startswith(scratch)]
    me = worker.address if worker is not None else "local"
    if part == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise GradingError(f"worker {me} offers the {GPU} resource but torch there sees no CUDA device: "
                               f"start it on a machine with one, or without --resources {GPU}=1")  # fmt: skip
    course = load_course(_unpacked(bundle))
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
        local = dataclasses.replace(settings, scheduler=None, workers=1, only_devices=PARTS[part] or settings.only_devices)
        rows = run_jobs(course, jobs, local)
    if part == "cuda":  # the CPU part says what a notebook skipped, once
        rows = [r for r in rows if r.get("kind") != "note"]
    return {"kind": "rows", "rows": [dict(r, worker=me) for r in rows]}


@dataclasses.dataclass
class _Task:
    jobs: list[Job]
    part: str  # "all", or the "cpu" or "cuda" part of a GPU run


def run_on_cluster(course: Course, jobs: list[Job], settings, progress=None, on_chunk=None) -> list[dict]:
    """Grade ``jobs`` on the cluster at ``settings.scheduler``; as ``runner.run_jobs`` does locally."""
    from distributed import as_completed

    from autograder.jobs import chunk_jobs, units_of
    from autograder.runner import GradingError

    client = _connect(settings.scheduler)
    run = secrets.token_hex(8)
    done = 0
    try:
        cuda = "cuda" in settings.devices
        _gpu_offered(client, settings.scheduler, need=cuda)
        # Tasks of at most 8 students, down to one each at the end: a task that
        # dies takes only its own students along, and the last leave no worker idle long.
        chunks = chunk_jobs(jobs, len(client.scheduler_info()["workers"]), most=8, least=1)
        parts = ("cpu", "cuda") if cuda else ("all",)
        # TORCHGRADE_DASK_RESOURCES=NAME=1 keeps the run on the workers that offer NAME (a benchmark's pool of one)
        extra: dict[str, float] = {}
        if "=" in os.environ.get("TORCHGRADE_DASK_RESOURCES", ""):
            name, _, amount = os.environ["TORCHGRADE_DASK_RESOURCES"].partition("=")
            extra = {name: float(amount)}
        units = units_of(jobs)
        # Each task carries the bundle (250 KB for all twelve units) rather than
        # a scattered copy: a copy dies with the worker that holds it, and once
        # every worker has been replaced Dask forgets the tasks that need it,
        # which cost students in the killer's company their grades.
        bundle = course_bundle(course, units)
        pending = {}
        queue = as_completed()

        def submit(task_jobs: list[Job], part: str) -> None:
            ledger = [_LEDGER, run, secrets.token_hex(8)]  # where this task notes that it started
            needs = (extra | {GPU: 1}) if part == "cuda" else extra
            future = client.submit(grade_chunk, bundle, _payload(task_jobs), settings, part, ledger,
                                   pure=False, resources=needs or None)  # fmt: skip
            pending[future] = _Task(task_jobs, part)
            queue.add(future)

        for chunk in chunks:
            for part in parts:
                submit(chunk, part)
        waiting = {(j.student, j.unit.name): set(parts) for j in jobs}
        rows_of: dict[tuple[str, str], list[dict]] = {k: [] for k in waiting}
        deaths: dict[tuple[str, str, str], int] = {}
        results: list[dict] = []
        for future in queue:
            task = pending.pop(future)
            try:
                got = future.result()
            except GradingError:
                raise
            except Exception as exc:  # noqa: BLE001 - Dask gave up on it (KilledWorker and the like)
                said = f"{type(exc).__name__}: {exc}"
                # Whether Dask says the worker died or that it forgot the task once it had, it died.
                died = type(exc).__name__ in _WORKER_DIED
                got = {"kind": "lost", "why": f"the worker grading it died, twice (Dask: {said})" if died else said}
            if _lost_scheduler(client):
                raise GradingError(_scheduler_lost_text(settings.scheduler, done, len(jobs)))
            if got["kind"] == "lost":
                for job in task.jobs:
                    key = (job.student, job.unit.name, task.part)
                    deaths[key] = deaths.get(key, 0) + 1
                    if len(task.jobs) > 1 or deaths[key] < 2:
                        submit([job], task.part)
                    else:
                        why = got.get("why") or f"the worker grading it died, twice (last on {got.get('worker')})"
                        got = {"kind": "rows", "rows": [_zero(job, f"{why}; not tried a third time")]}
                if got["kind"] == "lost":
                    continue
            finished = []
            for row in got["rows"]:
                key = (row.get("student"), row.get("unit"))
                if key in rows_of:
                    rows_of[key].append(row)
                elif row.get("kind") == "sandbox":
                    results.append(row)
            for job in task.jobs:
                key = (job.student, job.unit.name)
                waiting[key].discard(task.part)
                if not waiting[key]:
                    finished.append(job)
            if not finished:
                continue
            mine = [r for j in finished for r in rows_of[(j.student, j.unit.name)]]
            if on_chunk:
                on_chunk(finished, mine)
            results += mine
            done += len(finished)
            if progress:
                progress(done, len(jobs))
        return results
    except OSError as exc:  # the connection went with the scheduler
        raise GradingError(_scheduler_lost_text(settings.scheduler, done, len(jobs), exc)) from None
    finally:
        try:
            client.set_metadata([_LEDGER, run], None)
        except Exception:  # noqa: BLE001 - a scheduler that is gone keeps nothing anyway
            pass
        client.close()


def _lost_scheduler(client) -> bool:
    return client.status in ("closed", "closing", "failed")


def _scheduler_lost_text(address: str, done: int, total: int, exc: BaseException | None = None) -> str:
    why = f" ({type(exc).__name__}: {exc})" if exc else ""
    return (f"lost the Dask scheduler at {address}{why}: {done} of {total} gradings are recorded in the gradebook; "
            "run the same command again (with a scheduler, or without --scheduler to grade here) to grade the rest")  # fmt: skip


def _zero(job: Job, why: str) -> dict:
    """A row that gives the job 0 and says why."""
    return {"kind": "problem", "student": job.student, "unit": job.unit.name, "text": why}
