"""Commands for the one who runs the course: grade a class, release the stubs."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement


from autograder import timeline
from autograder.cli.common import _bar, _course, _course_option, _devices, _prestart_zygote, _seed_option, console, err


@click.command()
@click.argument("submissions", type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for grades.json and grades.csv.")
@click.option("--workers", type=int, default=None, help="Parallel graders. Default: the number of cores.")
@click.option("--devices", default=None, help="Comma-separated devices, e.g. cpu,cuda. Default: cpu, and cuda when available.")
@click.option("--require-cuda", is_flag=True, help="Fail the run if CUDA is not available.")
@click.option("--units", "unit_names", default=None, help="Comma-separated units to grade. Default: all.")
@click.option("--db", default=None, help="Gradebook database URL (SQLAlchemy). Default: sqlite in OUT/gradebook.db.")
@click.option("--deadline", default=None, help="Deadline, ISO 8601 (2026-11-30T23:59, UTC unless +hh:mm): later work loses points.")
@click.option("--extensions", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="CSV of student,deadline rows: their own deadlines.")
@click.option("--late-per-day", type=float, default=10.0, show_default=True, help="Percent of a unit's score lost per started day late.")
@click.option("--late-max", type=float, default=50.0, show_default=True, help="The most percent lateness can cost.")
@click.option("--scheduler", default=None, help="Grade on a Dask cluster: its scheduler's address (default: DASK_SCHEDULER_ADDRESS, if set). Needs pip install -e '.[dask]'.")
@click.option("--unconfined", is_flag=True, help="Grade even where submissions cannot be confined (no bubblewrap or namespaces): they could read and change what this user can.")
@_seed_option
@_course_option
def grade(submissions: Path, out: Path, workers: int | None, devices: str | None, require_cuda: bool, unit_names: str | None, db: str | None,
          deadline: str | None, extensions: Path | None, late_per_day: float, late_max: float, scheduler: str | None, unconfined: bool,
          seed: int | None, course: Path | None) -> None:
    """Grade a class. SUBMISSIONS is a folder (or .zip) of <student>/<unit files>, an nbgrader course, or an LMS download."""
    c = _course(course)
    units = c.select(unit_names.split(",") if unit_names else None)
    from autograder.cluster import cluster_devices, scheduler_address

    scheduler = scheduler_address(scheduler)
    if not scheduler:  # the first worker's zygote: its import of torch overlaps ours
        _prestart_zygote(c, units, submissions)
    from autograder.grading import grade_class
    from autograder.late import LatePolicy, load_extensions, parse_time
    from autograder.report import class_table
    from autograder.runner import RunSettings, cuda_note, new_seed

    timeline.mark("engine imported")
    asked = devices.split(",") if devices else None
    # On a cluster the GPUs are the workers': CUDA where a worker offers one.
    settings = RunSettings(
        devices=cluster_devices(scheduler, asked, require_cuda) if scheduler else _devices(devices, require_cuda),
        seed=seed if seed is not None else new_seed(),
        workers=workers or os.cpu_count() or 1, which="hidden", allow_unconfined=unconfined, scheduler=scheduler,
    )  # fmt: skip
    if deadline is None and extensions is not None:
        raise click.UsageError("--extensions needs --deadline")
    late = None
    if deadline is not None:
        late = LatePolicy(parse_time(deadline), late_per_day / 100, late_max / 100, load_extensions(extensions) if extensions else {})
    where = f"on the Dask cluster at {scheduler}" if scheduler else f"{settings.workers} workers"
    err.print(f"seed {settings.seed}  ·  {cuda_note(settings.devices)}  ·  {where}")
    if late is not None:
        err.print(f"late work: {late.describe()['rule']} (deadline {deadline}, {len(late.extensions)} extensions)")
    with _bar("grading") as bar:
        task = bar.add_task("grading", total=None)
        result = grade_class(c, submissions, out, units, settings, progress=lambda done, total: bar.update(task, completed=done, total=total), db=db, late=late)
    table = class_table(result.document)
    # A terminal squeezes the table to fit; a file or a log gets all of it.
    if console.is_terminal:
        console.print(table)
    else:
        needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
        Console(width=max(console.width, needed), no_color=console.no_color).print(table)
    for note in result.document["notes"]:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if result.reused:
        err.print(f"{result.graded} gradings made, {result.reused} reused from the gradebook (file and checks unchanged)")
    console.print(f"wrote {result.json_path}, {result.csv_path}, {result.feedback.parent / 'summary.html'} and a feedback page per student in {result.feedback}/")


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--units", "unit_names", default=None, help="Comma-separated units to release. Default: all.")
@click.option("--title", default="PyTorch exercises", help="The title of the students' README.")
@click.option("--hint-levels", type=click.IntRange(0, 3), default=2, show_default=True, help="Hint levels to ship (3 adds the sketches, nearly the answers).")
@_course_option
def release(out: Path, unit_names: str | None, title: str, hint_levels: int, course: Path | None) -> None:
    """Build the student release in OUT: stubs, public checks, data, the tool; no solutions, no hidden checks."""
    from autograder.release import build_release
    c = _course(course)
    made = build_release(c, out, c.select(unit_names.split(",") if unit_names else None), title, hint_levels)
    console.print(f"wrote {made.root}: {len(made.units)} units, {made.files} files, no solutions and no hidden checks")




@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@_course_option
def demo(out: Path, course: Path | None) -> None:
    """Write a demo class to OUT, made from the course's stubs, solutions and traps; then: torchgrade grade OUT --out DIR."""
    from autograder.demo import write_demo

    c = _course(course)
    made = write_demo(c, out)
    console.print(f"wrote a demo class of 7 students to {made}; grade it with: torchgrade grade {made} --out demo-out")
