"""Commands for the one who does the exercises: list, check, hint."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from autograder.cli.common import _UserError, _bar, _course, _course_option, _devices, _prestart_zygote, _seed_option, console, err
from autograder.progress import load_progress
from autograder.units import Course


@click.command("list")
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


@click.command()
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


@click.command()
@click.argument("unit")
@click.argument("exercise", required=False)
@_course_option
def hint(unit: str, exercise: str | None, course: Path | None) -> None:
    """Show the hints of UNIT (or of one EXERCISE in it)."""
    u = _course(course).unit(unit)
    for ex in u.exercises:
        if exercise in (None, ex.name):
            console.print(f"[bold]{ex.name}[/] ({ex.points:g} points): {escape(ex.title)}\n  {escape(ex.hint or 'no hint')}")


