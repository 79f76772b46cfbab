"""``torchgrade``: the command line, a thin layer over ``autograder.grading``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from autograder.progress import load_progress
from autograder.units import Course, UnitError, find_course, load_course

# The grading engine (and torch with it) is imported inside the commands that
# grade: --help, list and hint answer without it.

console = Console(stderr=False)
err = Console(stderr=True)

_course_option = click.option(
    "--course", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The course folder (the one with assignments/). Default: the nearest one at or above the current folder.",
)  # fmt: skip
_seed_option = click.option("--seed", type=int, default=None, help="Seed for the checks' inputs; a run prints its seed so that --seed reproduces it.")


def _course(path: Path | None) -> Course:
    return load_course(find_course(path) if path is None else path.resolve())


def _devices(value: str | None, require_cuda: bool) -> tuple[str, ...]:
    from autograder.runner import resolve_devices

    return resolve_devices(value.split(",") if value else None, require_cuda)


def _bar(total_label: str) -> Progress:
    return Progress(
        TextColumn(total_label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    )  # fmt: skip


def _prestart_zygote(c: Course, units: list[str] | None = None) -> None:
    """Start the sandbox zygote now, before this process imports the engine.

    The launch is the one ``runner`` will ask for (a run of one worker on this
    course), so it is taken over there; a different one is stopped. Where the
    units make optimizers (whose constructor imports dynamo), the zygote is
    told to import dynamo before the first sandbox rather than leave it to them.
    """
    from autograder.confinement import bwrap_status, plan
    from autograder.zygote import prestart

    if bwrap_status()[0] is not None:
        prestart(plan([str(c.root)], cuda=any(Path("/dev").glob("nvidia*"))), deep=_makes_optimizers(c, units))


def _names_optim(path: Path) -> bool:
    """Whether code (not a comment or docstring) in ``path`` names ``optim``."""
    import io
    import tokenize

    with path.open() as fh:
        return any(t.type == tokenize.NAME and t.string == "optim" for t in tokenize.generate_tokens(io.StringIO(fh.read()).readline))


def _makes_optimizers(c: Course, names: list[str] | None) -> bool:
    try:
        units = [c.unit(n) for n in names] if names else list(c.units)
        return any(_names_optim(path) for u in units for path in (u.solution, u.hidden_checks) if path.is_file())
    except Exception:  # noqa: BLE001 - a speed hint only; load_units reports broken units
        return False


class _UserError(click.ClickException):
    """A problem with the input or the course: one clear line, exit status 2."""

    exit_code = 2


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if isinstance(exc, _user_errors()):
                raise _UserError(str(exc)) from None
            raise


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that are the input's or the course's fault: one clear line each."""
    from autograder.intake import IntakeError
    from autograder.late import LateError
    from autograder.nbgrader_export import NbgraderError
    from autograder.release import ReleaseError
    from autograder.runner import GradingError

    return (UnitError, GradingError, IntakeError, ReleaseError, LateError, NbgraderError)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="torchgrade")
def main() -> None:
    """Auto-graded PyTorch exercises: check your work, grade a class."""


@main.command("list")
@_course_option
def list_units(course: Path | None) -> None:
    """List the units and exercises, with what you have passed."""
    c = _course(course)
    progress = load_progress(c)
    table = Table(title=f"Units in {c.root}")
    for col in ("unit", "exercises", "points", "your last check"):
        table.add_column(col)
    for u in c.units:
        done = progress.get(u.name, {}).get("exercises", {})
        marks = " ".join(("[green]✓[/]" if done.get(e.name) else "[red]✗[/]" if e.name in done else "·") + e.name for e in u.exercises)
        got = progress.get(u.name)
        table.add_row(f"{u.name}\n[dim]{escape(u.title)}[/]", marks, f"{u.max_score:g}", f"{got['score']:g}/{got['max_score']:g}" if got else "not checked")
    for folder, why in c.broken.items():
        table.add_row(f"[red]{folder}[/]", f"[red]cannot be loaded:[/] {escape(why)}", "", "")
    console.print(table)


@main.command()
@click.argument("unit", required=False)
@click.option("--file", "file", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Check this file instead of the one in assignments/ (needs UNIT unless the name says it).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--public", is_flag=True, help="Run only the public checks, as a student release does.")
@_seed_option
@_course_option
def check(unit: str | None, file: Path | None, as_json: bool, public: bool, seed: int | None, course: Path | None) -> None:
    """Check your work on UNIT (or on every unit). Exit status 0 only if all checks pass."""
    c = _course(course)
    if file is not None and unit is None:
        found = c.for_file(file.name)
        if found is None:
            raise click.UsageError(f"{file.name} is not a unit's file name; name the unit: torchgrade check UNIT --file {file}")
        unit = found.name
    which = "public" if public else "auto"
    # On a terminal, a warm checker of this course answers in the time the checks take.
    warm_ok = (console.is_terminal and not as_json and not os.environ.get("TORCHGRADE_NO_WARM")) or os.environ.get("TORCHGRADE_WARM") == "1"
    if warm_ok:
        from autograder import warm

        request = {"units": [unit] if unit else [], "file": str(file.resolve()) if file else None, "seed": seed, "which": which}
        reply = warm.ask(c.root, request)
        if reply is not None:
            if not reply.get("ok"):
                raise _UserError(str(reply.get("error")))
            from autograder.scoring import UnitScore

            scores = {n: UnitScore(d["student"], d["unit"], d["score"], d["max_score"], d["problem"] or "", d["checks"], notes=d.get("notes", []))
                      for n, d in reply["scores"].items()}  # fmt: skip
            _report_check(c, [c.unit(n) for n in reply["units"]], scores, reply["seed"], reply["cuda"], reply["warnings"], as_json,
                           reply.get("devices"))  # fmt: skip
    _prestart_zygote(c, [unit] if unit else None)  # before the engine's imports: its import of torch overlaps ours
    from autograder.grading import check_work
    from autograder.runner import RunSettings, cuda_note, load_units, new_seed

    units = load_units(c, [unit] if unit else None)
    # A learner's own code may run unconfined where bubblewrap is missing; the run says so.
    settings = RunSettings(devices=_devices(None, False), seed=seed if seed is not None else new_seed(),
                           which=which, allow_unconfined=True)  # fmt: skip
    if not as_json:
        err.print(f"seed {settings.seed}  ·  {cuda_note(settings.devices)}")
    with _bar("checking") as bar:
        task = bar.add_task("checking", total=len(units))
        result = check_work(c, units, settings, file, progress=lambda done, total: bar.update(task, completed=done))
    if warm_ok:
        warm.start(c.root)  # for the next check
    _report_check(c, units, result.scores, result.seed, None, result.warnings, as_json, list(result.devices))


def _report_check(c: Course, units: list, scores: dict, seed: int, cuda: str | None, warnings: list[str], as_json: bool,
                  devices: list[str] | None) -> None:  # fmt: skip
    """Print a check's results (tables, or JSON) and exit: 0 only if every check passed."""
    from autograder.report import unit_table

    passed = all(s.score == s.max_score and not s.problem for s in scores.values())
    if cuda is not None and not as_json:
        err.print(f"seed {seed}  ·  {cuda}  ·  warm")
    for warning in warnings:
        err.print(f"[yellow]{escape(warning)}[/]")
    if as_json:
        doc = {"seed": seed, "devices": devices, "passed": passed, "warnings": warnings,
               "units": {n: s.as_dict() for n, s in scores.items()}}  # fmt: skip
        click.echo(json.dumps(doc, indent=1))
    else:
        for u in units:
            console.print(unit_table(u, scores[u.name]))
            for note in scores[u.name].notes:
                err.print(f"[yellow]note:[/] {escape(note)}")
        total = sum(s.score for s in scores.values())
        most = sum(s.max_score for s in scores.values())
        console.print(f"[bold]{total:g}/{most:g}[/] points" + ("  [green]all checks pass[/]" if passed else ""))
    sys.exit(0 if passed else 1)


@main.command()
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
@click.option("--unconfined", is_flag=True, help="Grade even where submissions cannot be confined (no bubblewrap or namespaces): they could read and change what this user can.")
@_seed_option
@_course_option
def grade(submissions: Path, out: Path, workers: int | None, devices: str | None, require_cuda: bool, unit_names: str | None, db: str | None,
          deadline: str | None, extensions: Path | None, late_per_day: float, late_max: float, unconfined: bool, seed: int | None, course: Path | None) -> None:
    """Grade a class. SUBMISSIONS is a folder (or .zip) of <student>/<unit files>, an nbgrader course, or an LMS download."""
    c = _course(course)
    _prestart_zygote(c, unit_names.split(",") if unit_names else None)  # the first worker's: its import of torch overlaps ours
    from autograder.grading import grade_class
    from autograder.late import LatePolicy, load_extensions, parse_time
    from autograder.report import class_table
    from autograder.runner import RunSettings, cuda_note, load_units, new_seed

    units = load_units(c, unit_names.split(",") if unit_names else None)
    settings = RunSettings(
        devices=_devices(devices, require_cuda), seed=seed if seed is not None else new_seed(),
        workers=workers or os.cpu_count() or 1, which="hidden", allow_unconfined=unconfined,
    )  # fmt: skip
    if deadline is None and extensions is not None:
        raise click.UsageError("--extensions needs --deadline")
    late = None
    if deadline is not None:
        late = LatePolicy(parse_time(deadline), late_per_day / 100, late_max / 100, load_extensions(extensions) if extensions else {})
    err.print(f"seed {settings.seed}  ·  {cuda_note(settings.devices)}  ·  {settings.workers} workers")
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


@main.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--units", "unit_names", default=None, help="Comma-separated units to release. Default: all.")
@click.option("--title", default="PyTorch exercises", help="The title of the students' README.")
@_course_option
def release(out: Path, unit_names: str | None, title: str, course: Path | None) -> None:
    """Build the student release in OUT: stubs, public checks, data, the tool; no solutions, no hidden checks."""
    from autograder.release import build_release
    from autograder.runner import load_units

    c = _course(course)
    made = build_release(c, out, load_units(c, unit_names.split(",") if unit_names else None), title)
    console.print(f"wrote {made.root}: {len(made.units)} units, {made.files} files, no solutions and no hidden checks")


@main.command()
@click.argument("unit")
@click.argument("exercise", required=False)
@_course_option
def hint(unit: str, exercise: str | None, course: Path | None) -> None:
    """Show the hints of UNIT (or of one EXERCISE in it)."""
    u = _course(course).unit(unit)
    for ex in u.exercises:
        if exercise in (None, ex.name):
            console.print(f"[bold]{ex.name}[/] ({ex.points:g} points): {escape(ex.title)}\n  {escape(ex.hint or 'no hint')}")


@main.group(cls=_Group)
def dev() -> None:
    """Tools for course authors."""


@dev.command("check")
@click.argument("units", nargs=-1)
@_seed_option
@_course_option
def dev_check(units: tuple[str, ...], seed: int | None, course: Path | None) -> None:
    """Prove that each stub scores 0, each solution full marks, and each trap mutant loses exactly its checks."""
    from autograder.devcheck import prove_unit
    from autograder.runner import RunSettings, cuda_note, load_units, new_seed

    c = _course(course)
    settings = RunSettings(devices=_devices(None, False), seed=seed if seed is not None else new_seed(), allow_unconfined=True)
    err.print(f"seed {settings.seed}  ·  {cuda_note(settings.devices)}")
    bad = 0
    for u in load_units(c, list(units) or None):
        proof = prove_unit(c, u, settings)
        mark = "[green]ok[/]" if proof.ok else "[red]FAILED[/]"
        console.print(f"{mark} {u.name}")
        for line in proof.lines:
            console.print(f"    {escape(line)}")
        for p in proof.problems:
            console.print(f"    [red]✗[/] {escape(p)}")
        bad += not proof.ok
    sys.exit(1 if bad else 0)


@dev.command("mutants")
@click.argument("units", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print {units: {UNIT: {mutants, killed, equivalent, survived}}} as JSON.")
@click.option("--workers", type=int, default=None, help="Parallel graders. Default: the number of cores.")
@click.option("--threshold", type=float, default=0.95, show_default=True, help="Exit 1 if a unit kills less than this share of its non-equivalent mutants.")
@_seed_option
@_course_option
def dev_mutants(units: tuple[str, ...], as_json: bool, workers: int | None, threshold: float, seed: int | None, course: Path | None) -> None:
    """Mutation-test the hidden checks: mutants of each reference solution that the checks must catch."""
    from autograder.runner import RunSettings, load_units, new_seed
    from autograder.mutation import mutate_unit  # libcst: needed only here

    c = _course(course)
    settings = RunSettings(devices=_devices(None, False), seed=seed if seed is not None else new_seed(),
                           workers=workers or os.cpu_count() or 1, which="hidden", allow_unconfined=True)  # fmt: skip
    found = {}
    for u in load_units(c, list(units) or None):
        result = mutate_unit(c, u, settings)
        found[u.name] = result
        if not as_json:
            mark = "[green]ok[/]" if result.kill_rate >= threshold else "[red]LOW[/]"
            console.print(f"{mark} {u.name}: {result.mutants} mutants, {result.killed} killed, {len(result.equivalent)} equivalent, "
                          f"{len(result.survived)} survived ({100 * result.kill_rate:.1f}%)")
            for s in result.survived:
                console.print(f"    [yellow]{escape(s['id'])}[/]\n" + escape("\n".join("      " + line for line in s["diff"].splitlines()[2:])))
    if as_json:
        click.echo(json.dumps({"seed": settings.seed, "units": {n: r.as_dict() for n, r in found.items()}}, indent=1))
    sys.exit(0 if all(r.kill_rate >= threshold and r.mutants >= 20 for r in found.values()) else 1)


@dev.command("coverage")
@click.option("--write", "write", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the table to this file (e.g. docs/coverage.md).")
@_course_option
def dev_coverage(write: Path | None, course: Path | None) -> None:
    """The table of every curriculum concept and trap and the checks that cover it."""
    from autograder.coverage import coverage

    found = coverage(_course(course))
    if write is None:
        click.echo(found.markdown)
    else:
        write.write_text(found.markdown)
        err.print(f"wrote {write}")
    for problem in found.problems:
        err.print(f"[red]✗[/] {escape(problem)}")
    sys.exit(1 if found.problems else 0)


@dev.command("notebooks")
@click.option("--check", "check_only", is_flag=True, help="Write nothing: fail if a notebook is missing or differs from what its stub generates.")
@_course_option
def dev_notebooks(check_only: bool, course: Path | None) -> None:
    """Write each unit's notebook (assignments/<unit>/<module>.ipynb) from its stub, or check them for drift."""
    from autograder.notebooks import check_drift, write_notebook

    c = _course(course)
    if check_only:
        drifted = check_drift(c)
        for d in drifted:
            err.print(f"[red]✗[/] {d.path}: {d.why}; run: torchgrade dev notebooks")
        sys.exit(1 if drifted else 0)
    for unit in c.units:
        err.print(f"wrote {write_notebook(unit)}")


@main.group(cls=_Group)
def gradescope() -> None:
    """Gradescope: build the autograder zip, or grade one submission inside it."""


@gradescope.command("build")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--units", "unit_names", default=None, help="Comma-separated units this assignment grades. Default: all.")
@_course_option
def gradescope_build(out: Path, unit_names: str | None, course: Path | None) -> None:
    """Write the Gradescope autograder zip (setup.sh, run_autograder, the course) to OUT."""
    from autograder import gradescope as gs
    from autograder.runner import load_units

    c = _course(course)
    units = load_units(c, unit_names.split(",") if unit_names else None)
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
    from autograder.runner import RunSettings, load_units, new_seed

    c = _course(course)
    units = load_units(c, unit_names.split(","))
    # Gradescope gives each submission a container of its own: where that
    # container cannot run bubblewrap, the container is the only boundary, and
    # the results say so.
    settings = RunSettings(devices=_devices(None, False), seed=seed if seed is not None else new_seed(), workers=1,
                           which="hidden", allow_unconfined=True)  # fmt: skip
    doc = grade_submission(c, units, submission, settings)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(doc, indent=1))
    console.print(f"score {doc['score']:g}: wrote {results}")


@main.group(cls=_Group)
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
    from autograder.runner import load_units

    c = _course(course)
    for path in write_source(c, course_dir, load_units(c, unit_names.split(",") if unit_names else None), course_id):
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


def run() -> None:
    """The console script: ``main``, then an exit that skips tearing torch down.

    Once torch is loaded, the interpreter's own shutdown (freeing every module
    and torch's C++ state) takes most of a second after the work is done.
    Exit handlers still run (scratch folders, temporary files, the zygote's
    socket); only the freeing is skipped.
    """
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if "torch" not in sys.modules:
        sys.exit(code)
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
