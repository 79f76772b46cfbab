"""Grading platforms: Gradescope's autograder, nbgrader courses and gradebooks."""

from __future__ import annotations

import json
from pathlib import Path

import click

from autograder.cli.common import _Group, _course, _course_option, _devices, _seed_option, console, err
from autograder.json_text import lined_json


@click.group(cls=_Group)
def gradescope() -> None:
    """Gradescope: build the autograder zip, or grade one submission inside it."""


@gradescope.command("build")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--units", "unit_names", default=None, help="Comma-separated units this assignment grades. Default: all.")
@_course_option
def gradescope_build(out: Path, unit_names: str | None, course: Path | None) -> None:
    """Write the Gradescope autograder zip (setup.sh, run_autograder, the course) to OUT."""
    from autograder import gradescope as gs
    c = _course(course)
    units = c.select(unit_names.split(",") if unit_names else None)
    gs.build_zip(c, units, out)
    console.print(f"wrote {out}: upload it as the assignment's autograder ({', '.join(u.name for u in units)})")


@gradescope.command("run")
@click.option("--submission", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path), help="The student's files (/autograder/submission).")
@click.option("--results", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Where to write results.json.")
@click.option("--units", "unit_names", required=True, help="Comma-separated units to grade.")
@_seed_option
@_course_option
def gradescope_run(submission: Path, results: Path, unit_names: str, seed: int | None, course: Path | None) -> None:
    """Grade one submission folder and write Gradescope's results.json (used by run_autograder)."""
    from autograder.grading import grade_submission
    from autograder.runner import RunSettings, new_seed

    c = _course(course)
    units = c.select(unit_names.split(","))
    # Gradescope gives each submission a container of its own: where that
    # container cannot run bubblewrap, the container is the only boundary, and
    # the results say so.
    settings = RunSettings(devices=_devices(None, False), seed=seed if seed is not None else new_seed(), workers=1,
                           which="hidden", allow_unconfined=True)  # fmt: skip
    doc = grade_submission(c, units, submission, settings)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(lined_json(doc, "tests"))
    console.print(f"score {doc['score']:g}: wrote {results}")


@click.group(cls=_Group)
def nbgrader() -> None:
    """nbgrader: courses from torchgrade units, and grades into an nbgrader gradebook."""


@nbgrader.command("assign")
@click.argument("course_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--units", "unit_names", default=None, help="Comma-separated units. Default: all.")
@click.option("--course-id", default="torchgrade", show_default=True, help="nbgrader's course_id, for a new nbgrader_config.py.")
@_course_option
def nbgrader_assign(course_dir: Path, unit_names: str | None, course_id: str, course: Path | None) -> None:
    """Write COURSE_DIR/source/<unit>/ for nbgrader: solution regions, test cells that run torchgrade's checks."""
    from autograder.nbgrader_course import write_source
    c = _course(course)
    for path in write_source(c, course_dir, c.select(unit_names.split(",") if unit_names else None), course_id):
        err.print(f"wrote {path}")
    err.print(f"next, in {course_dir}: nbgrader generate_assignment UNIT, then collect, then nbgrader autograde UNIT")


@nbgrader.command("export")
@click.argument("grades", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--course-dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path), help="The nbgrader course folder (its gradebook.db is written).")
@click.option("--assignment", required=True, help="The nbgrader assignment to grade (units become its notebooks).")
@click.option("--db", default=None, help="The gradebook's URL, if not the course folder's gradebook.db.")
def nbgrader_export(grades: Path, course_dir: Path, assignment: str, db: str | None) -> None:
    """Write GRADES (a grades.json) into the nbgrader gradebook: nbgrader export and the formgrader show them."""
    from autograder.nbgrader_export import export_grades

    try:
        doc = json.loads(grades.read_text())
    except ValueError:
        raise click.UsageError(f"{grades} is not a grades.json written by torchgrade grade") from None
    n = export_grades(doc, course_dir, assignment, db)
    console.print(f"wrote {n} students' grades for {assignment} into {course_dir}'s gradebook")




@click.group(cls=_Group)
def prairielearn() -> None:
    """PrairieLearn: grade one external-grader job (/grade/student -> /grade/results/results.json)."""


@prairielearn.command("run")
@click.option("--units", "unit_names", required=True, help="Comma-separated units the question grades.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/grade"), show_default=True, help="The job's folder.")
@_seed_option
@_course_option
def prairielearn_run(unit_names: str, root: Path, seed: int | None, course: Path | None) -> None:
    """Grade ROOT/student/ and write ROOT/results/results.json (PrairieLearn reads it)."""
    from autograder.prairielearn import default_course, grade_job, write_results
    from autograder.runner import RunSettings, new_seed

    c = _course(course if course is not None else (default_course(root) if default_course(root).is_dir() else None))
    units = c.select(unit_names.split(","))
    # One container per job, as on Gradescope: where it cannot run bubblewrap, it is the boundary.
    settings = RunSettings(devices=_devices(None, False), seed=seed if seed is not None else new_seed(), workers=1,
                           which="hidden", allow_unconfined=True)  # fmt: skip
    results = grade_job(c, units, root, settings)
    path = write_results(results, root)
    console.print(f"score {results.get('score', 0):g} (gradable: {results['gradable']}): wrote {path}")
