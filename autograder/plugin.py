"""The pytest plugin that runs checks against sandboxed submissions.

One pytest session grades many (student, unit) jobs: every check of a unit
is parametrised over that unit's jobs (session scope, so pytest keeps one
sandbox alive while it runs all checks of one submission) and over the run's
devices. Each check's outcome becomes a plain result dict; the check's own
source never reaches a message.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest

try:  # pytest's own per-item protocol (a private module: without it, pytest's default runs)
    from _pytest.runner import runtestprotocol
except ImportError:  # pragma: no cover
    runtestprotocol = None

import torch

from autograder.checks import FAKE_GPU, CheckFailure, TrapHit
from autograder.safetext import printable
from autograder.notebook_module import SKIPPED_CELLS
from autograder.remote import ImportFailed, MissingAttribute, Remote, Sandbox, SandboxError, StudentError
from autograder.units import Unit
from autograder.zygote import Zygote

__all__ = ["Job", "GradingPlugin", "Student", "MissingSubmission"]


@dataclass(frozen=True)
class Job:
    """One student's file for one unit; ``source`` is None when it is missing."""

    student: str
    unit: Unit
    source: Path | None
    problem: str = ""
    submitted: float | None = None  # when it was handed in (epoch seconds), if known
    origin: Path | None = None  # the file handed in, when ``source`` is the grader's private copy of it
    notes: tuple[str, ...] = ()  # what intake left out of the file (a notebook's magics, say)
    notebook: bool = False  # ``source`` was made from a notebook: its skipped cells are read back


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


class GradingPlugin:
    def __init__(
        self,
        jobs: list[Job],
        check_files: dict[Path, Unit],
        *,
        devices: list[str],
        seed: int,
        zygote: Zygote,
        exercises: tuple[str, ...] = (),
        only_devices: tuple[str, ...] = (),
    ) -> None:
        self.jobs, self.check_files = jobs, {p.resolve(): u for p, u in check_files.items()}
        self.exercises = set(exercises)  # only these exercises' checks, when given (watch: the current one)
        self.only_devices = set(only_devices)  # only the checks on these devices, when given (a cluster task's part)
        self.devices, self.seed, self.zygote = devices, seed, zygote
        self.results: list[dict] = []
        # (student, unit, check) -> device where it timed out: a check earns
        # nothing once it fails anywhere, so its other devices are not waited on
        self.timed_out: dict[tuple[str, str, str], str] = {}
        self.isolation: set[tuple[str, ...]] = set()  # what confinement the sandboxes got
        self.on_result = None  # optional callback(result) for progress
        self._references: dict[Path, ModuleType] = {}

    # -- parametrisation

    def _unit(self, node: Any) -> Unit:
        return self.check_files[Path(node.path).resolve()]

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check(exercise, points, traps, fakegpu, timeout, mutates): a graded check")
        config.stash[RUN] = self
        config.pluginmanager.register(Fixtures())

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        unit = self._unit(metafunc.definition)
        jobs = [j for j in self.jobs if j.unit.name == unit.name]
        metafunc.parametrize("submission", jobs, ids=[j.student for j in jobs], indirect=True, scope="session")
        if "device" in metafunc.fixturenames:
            marker = metafunc.definition.get_closest_marker("check")
            extra = [FAKE_GPU] if marker is None or marker.kwargs.get("fakegpu", True) else []
            metafunc.parametrize("device", [*self.devices, *extra])

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.exercises:
            marked = [(i, i.get_closest_marker("check")) for i in items]
            items[:] = [i for i, m in marked if m is not None and m.kwargs.get("exercise") in self.exercises]
        if self.only_devices:  # a check without a device runs with the CPU part
            items[:] = [i for i in items if getattr(i, "callspec", None) and i.callspec.params.get("device", "cpu") in self.only_devices]

    def reference(self, node: pytest.Item) -> ModuleType:
        unit = self._unit(node)
        path = unit.solution.resolve()
        if path not in self._references:
            spec = importlib.util.spec_from_file_location(f"torchgrade_reference_{unit.module}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._references[path] = module
        return self._references[path]

    # -- results

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        # Setup, call and teardown as pytest runs them, without logging each
        # report to the terminal reporter nobody reads: results are recorded
        # in makereport below.
        if runtestprotocol is None:
            return None
        runtestprotocol(item, nextitem=nextitem, log=False)
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
        """Record the outcome and answer with a report that carries no traceback.

        pytest would format each failure's traceback (tens of milliseconds,
        and the check's source in it); the message is ours to make instead.
        """
        exc = call.excinfo.value if call.excinfo is not None else None
        skipped = isinstance(exc, pytest.skip.Exception)
        outcome = "passed" if exc is None else "skipped" if skipped else "failed"
        if call.when == "call" or (call.when == "setup" and exc is not None):
            self._record(item, call, exc, skipped)
        longrepr = None if exc is None else (str(item.path), 0, "skipped") if skipped else "torchgrade: see the results"
        return pytest.TestReport(
            item.nodeid, item.location, {}, outcome, longrepr, call.when,
            duration=call.duration, start=call.start, stop=call.stop,
        )  # fmt: skip

    def _record(self, item: pytest.Item, call: pytest.CallInfo, exc: BaseException | None, skipped: bool) -> None:
        params = item.callspec.params
        job: Job = params["submission"]
        marker = item.get_closest_marker("check")
        if marker is None:
            return
        status, message, trap_id = classify(exc, job.unit)
        if skipped:
            status, message = "skipped", str(exc or "")
        result = {
            "kind": "check",
            "student": job.student,
            "unit": job.unit.name,
            "check": item.originalname,
            "exercise": marker.kwargs["exercise"],
            "device": params.get("device", "cpu"),
            "max_points": float(marker.kwargs["points"]),
            "status": status,
            "message": message,
            "trap": trap_id,
            "seconds": round(call.duration, 4),
        }
        self.results.append(result)
        if status == "timeout":
            self.timed_out[(job.student, job.unit.name, item.originalname)] = result["device"]
        if self.on_result is not None:
            self.on_result(result)


RUN = pytest.StashKey[GradingPlugin]()


class Fixtures:
    """The fixtures checks use; the run's state comes from ``config.stash``."""

    @pytest.fixture(scope="session")
    @staticmethod
    def submission(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
        run = request.config.stash[RUN]
        job: Job = request.param
        if job.source is None:
            raise MissingSubmission(job.problem)
        box = Sandbox(
            run.zygote,
            job.source,
            job.unit.module,
            limits=job.unit.limits,
            seed=derive_seed(run.seed, job.student, job.unit.name),
            cuda="cuda" in run.devices,
        )
        yield box
        if job.notebook:
            run.results += [{"kind": "note", "student": job.student, "unit": job.unit.name, "text": t} for t in _skipped_cells(box)]
        box.close()
        if box.generation:
            run.isolation.add(tuple(box.isolated))

    @pytest.fixture
    @staticmethod
    def sandbox(submission: Sandbox, request: pytest.FixtureRequest) -> Sandbox:
        run = request.config.stash[RUN]
        job: Job = request.node.callspec.params["submission"]
        where = run.timed_out.get((job.student, job.unit.name, request.node.originalname))
        if where is not None:
            pytest.skip(f"not run: this check already timed out on {where}")
        marker = request.node.get_closest_marker("check")
        submission.call_seconds = (marker.kwargs.get("timeout") if marker else None) or None
        submission.copy_back = (marker.kwargs.get("mutates") or False) if marker else False
        submission.mutated = []
        return submission

    @pytest.fixture
    @staticmethod
    def student(sandbox: Sandbox) -> Student:
        return Student(sandbox)

    @pytest.fixture
    @staticmethod
    def gen(request: pytest.FixtureRequest) -> torch.Generator:
        """A CPU generator seeded from the run's seed and the check's name."""
        return torch.Generator().manual_seed(derive_seed(request.config.stash[RUN].seed, request.node.originalname))

    @pytest.fixture
    @staticmethod
    def reference(request: pytest.FixtureRequest) -> ModuleType:
        """The unit's reference solution, imported on the trusted side."""
        return request.config.stash[RUN].reference(request.node)


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

