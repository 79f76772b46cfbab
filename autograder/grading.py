"""The typed API behind the commands: grade a class, check one student's work.

``grade_class`` is what ``torchgrade grade`` runs; ``check_work`` is what
``torchgrade check`` runs. Both return plain data; the CLI only renders it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import timeline
from autograder.feedback import write_feedback
from autograder.gradescope import results_json, visibility, write_results
from autograder.intake import collect_uploaded, discover, job_for_file
from autograder.late import LatePolicy
from autograder.jobs import Job
from autograder.report import grades_document, write_grades
from autograder.runner import private_tempdir, Progress, RunSettings, cuda_note, isolation_warnings, run_jobs
from autograder.scoring import UnitScore, score
from autograder.progress import save_progress
from autograder.units import Course, Unit

__all__ = ["GradeResult", "CheckResult", "grade_class", "grade_submission", "check_work", "default_gradebook_url"]



@dataclass(frozen=True)
class GradeResult:
    document: dict  # the grades.json content
    json_path: Path
    csv_path: Path
    feedback: Path  # a folder of one HTML page per student
    reused: int  # gradings taken from the gradebook: file and checks unchanged
    graded: int  # gradings made in this run


@dataclass(frozen=True)
class CheckResult:
    scores: dict[str, UnitScore]  # by unit name
    units: list[Unit]
    devices: tuple[str, ...]
    seed: int
    warnings: list[str]

    @property
    def passed(self) -> bool:
        return all(s.score == s.max_score and not s.problem for s in self.scores.values())


def grade_class(
    course: Course,
    submissions: Path,
    out: Path,
    units: list[Unit],
    settings: RunSettings,
    progress: Progress | None = None,
    db: str | None = None,
    late: LatePolicy | None = None,
) -> GradeResult:
    """Grade what students handed in (see ``intake``) for ``units``.

    Writes to ``out``: grades.json, grades.csv, feedback/<student>.html,
    summary.html and gradescope/<student>/results.json; keeps every grading
    in the gradebook ``db`` (default: SQLite at ``out/gradebook.db``) and
    reuses those whose file and checks are unchanged.
    """
    out.mkdir(parents=True, exist_ok=True)
    with private_tempdir("intake") as staging:
        protected = (*settings.protected, str(submissions.resolve()), str(out.resolve()), staging)
        settings = dataclasses.replace(settings, protected=protected)
        with timeline.span("intake"):
            intake = discover(course, submissions, units, Path(staging))
        from autograder import __version__

        # A gradebook not made yet holds nothing to reuse.
        new = db is None and not (out / GRADEBOOK_FILE).exists()
        ledger = _RunLedger(db or default_gradebook_url(out), new, settings.seed, {
            "devices": list(settings.devices), "workers": settings.workers, "units": [u.name for u in units],
            "submissions": str(submissions), "layout": intake.layout, "torchgrade": __version__,
        })  # fmt: skip
        cached = ledger.cached(intake.jobs)
        todo = [j for j in intake.jobs if (j.student, j.unit.name) not in cached]
        results = [r for rows in cached.values() for r in rows]
        with timeline.span("grading"):
            results += run_jobs(course, todo, settings, progress, on_chunk=ledger.save)
        ledger.finish()
    scores = score(intake.jobs, results)
    if late is not None:
        _apply_late(late, intake.jobs, scores)
    doc = grades_document(
        scores, units, seed=settings.seed, devices=settings.devices,
        cuda=cuda_note(settings.devices), notes=isolation_warnings(results) + intake.notes,
    )  # fmt: skip
    doc["late_policy"] = late.describe() if late is not None else None
    with timeline.span("outputs"):
        json_path, csv_path = write_grades(doc, out)
        write_feedback(doc, out / "feedback")
        write_results(doc, out / "gradescope", visibility(units))
    return GradeResult(doc, json_path, csv_path, out / "feedback", len(intake.jobs) - len(todo), len(todo))


GRADEBOOK_FILE = "gradebook.db"


def default_gradebook_url(out: Path) -> str:
    """The gradebook of a run that names none: SQLite in its output folder."""
    return f"sqlite:///{(out / GRADEBOOK_FILE).resolve()}"


class _RunLedger:
    """A run's record in the gradebook, opened at its first use.

    A ``new`` gradebook (not made yet) holds nothing to reuse, so grading
    starts without it and it opens when the first chunk is in: SQLAlchemy's
    import (0.15 s) is then off the path to the first check, where only one
    core was busy (80 submissions of unit 01: 4.47 to 4.37 s, 10 rounds).
    """

    def __init__(self, url: str, new: bool, seed: int, settings: dict) -> None:
        self.url, self.new, self.seed, self.settings = url, new, seed, settings
        self._book, self._run = None, 0

    def _open(self):
        if self._book is None:
            with timeline.span("gradebook open"):
                from autograder.gradebook import Gradebook  # SQLAlchemy: grade needs it, check does not

                self._book = Gradebook(self.url)
            self._run = self._book.start_run(self.seed, self.settings)
        return self._book

    def cached(self, jobs: list[Job]) -> dict[tuple[str, str], list[dict]]:
        return {} if self.new else self._open().cached(jobs)

    def save(self, jobs: list[Job], results: list[dict]) -> None:
        self._open().save(self._run, jobs, results)

    def finish(self) -> None:
        self._open().finish_run(self._run)


def _apply_late(late: LatePolicy, jobs: list[Job], scores: dict[str, dict[str, UnitScore]]) -> None:
    for job in jobs:
        days, penalty = late.assess(job.student, job.submitted)
        s = scores[job.student][job.unit.name]
        if days and s.score:
            s.late = {"days": days, "penalty": penalty, "score_before": s.score, "due": late.due(job.student).isoformat()}
            s.score = round(s.score * (1 - penalty), 6)


def grade_submission(course: Course, units: list[Unit], submission: Path, settings: RunSettings) -> dict:
    """Grade one Gradescope submission folder; return its results.json content.

    Students may upload their files inside a folder: unit files are found at
    any depth (the first of each name wins).
    """
    with private_tempdir("gradescope") as tmp:
        mine = Path(tmp) / "subs" / "submission"
        wanted = {u.filename for u in units} | {f"{u.module}.ipynb" for u in units}
        passed_over = collect_uploaded(submission, wanted, mine)
        start = time.perf_counter()
        done = grade_class(course, mine.parent, Path(tmp) / "out", units, settings)
        done.document["notes"] += [f"submission: {n}" for n in passed_over]
        return results_json(done.document, "submission", time.perf_counter() - start, visibility(units))


def check_work(
    course: Course,
    units: list[Unit],
    settings: RunSettings,
    file: Path | None = None,
    progress: Progress | None = None,
) -> CheckResult:
    """Check the student's files in ``assignments/`` (or ``file`` for one unit).

    A unit's notebook counts where it is newer than its ``.py`` (the learner
    works in JupyterLab); the check says which file it read.
    """
    with private_tempdir("check") as staging:
        jobs = [_job_to_check(unit, file, Path(staging)) for unit in units]
        return _checked(course, units, settings, jobs, progress)


def working_file(unit: Unit, file: Path | None = None) -> Path:
    """The file a check of ``unit`` reads: ``file``, else the newer of the stub and its notebook."""
    if file is not None:
        return file
    notebook = unit.stub.with_suffix(".ipynb")
    try:
        if notebook.is_file() and (not unit.stub.is_file() or notebook.stat().st_mtime > unit.stub.stat().st_mtime):
            return notebook
    except OSError:
        pass
    return unit.stub


def _job_to_check(unit: Unit, file: Path | None, staging: Path) -> Job:
    path = working_file(unit, file)
    if not path.is_file():
        return Job("you", unit, None, f"missing: {path} does not exist")
    return job_for_file("you", unit, path, staging)


def _checked(course: Course, units: list[Unit], settings: RunSettings, jobs: list[Job], progress: Progress | None) -> CheckResult:
    with timeline.span("grading"):
        results = run_jobs(course, jobs, settings, progress)
    scores = score(jobs, results).get("you", {})
    for job in jobs:
        if job.notebook and job.origin is not None:
            scores[job.unit.name].notes.insert(0, f"checked {job.origin.name}")
    save_progress(course, scores, partial=bool(settings.exercises))
    return CheckResult(scores, units, settings.devices, settings.seed, isolation_warnings(results))
