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
from autograder import timeline
from autograder.hints import LEVELS, hint_levels
from autograder.progress import gave_up, hints_seen, load_progress, note_gave_up, note_hint, passed
from autograder.units import Course


@click.command("list")
@_course_option
def list_units(course: Path | None) -> None:
    """List the units and exercises: ✓ passed, ✗ tried, · not yet, ·hN hints seen."""
    c = _course(course)
    progress = load_progress(c)
    table = Table(title=f"Units in {c.root}")
    for col in ("unit", "exercises", "points", "your last check"):
        table.add_column(col)
    for u in c.units:
        got = progress.get(u.name, {})
        done, hints = got.get("exercises", {}), got.get("hints", {})
        marks = " ".join(("[green]✓[/]" if done.get(e.name) else "[red]✗[/]" if e.name in done else "·") + e.name
                         + (f"[dim]·h{hints[e.name]}[/]" if hints.get(e.name) else "") for e in u.exercises)  # fmt: skip
        last = f"{got['score']:g}/{got['max_score']:g}" if "score" in got else "not checked"
        table.add_row(f"{u.name}\n[dim]{escape(u.title)}[/]", marks, f"{u.max_score:g}", last)
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
    units = c.select([unit] if unit else None)
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
    _prestart_zygote(c, units)  # before the engine's imports: its import of torch overlaps ours
    from autograder.grading import check_work
    from autograder.runner import RunSettings, cuda_note, new_seed

    timeline.mark("engine imported")
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


def _current(c: Course, u, exercise: str | None) -> str:
    """The exercise named, else the first of the unit the learner has not passed."""
    if exercise is not None:
        if exercise not in {e.name for e in u.exercises}:
            raise _UserError(f"{u.name} has no exercise {exercise!r}: it has {', '.join(e.name for e in u.exercises)}")
        return exercise
    done = load_progress(c).get(u.name, {}).get("exercises", {})
    return next((e.name for e in u.exercises if not done.get(e.name)), u.exercises[-1].name)


@click.command()
@click.argument("unit")
@click.argument("exercise", required=False)
@click.option("--level", type=click.IntRange(1, LEVELS), default=None, help="Show this level (1: the concept, 2: the APIs, 3: a sketch).")
@_course_option
def hint(unit: str, exercise: str | None, level: int | None, course: Path | None) -> None:
    """A hint for EXERCISE of UNIT (default: the first not yet passed), one level more each time it is asked."""
    c = _course(course)
    u = c.unit(unit)
    name = _current(c, u, exercise)
    levels = hint_levels(u, name)
    if not levels:
        raise _UserError(f"{u.name}.{name} has no hints in this copy of the course")
    seen = hints_seen(c, u.name, name)
    shown = min(level or seen + 1, len(levels))
    ex = next(e for e in u.exercises if e.name == name)
    console.print(f"[bold]{name}[/] ({ex.points:g} points): {escape(ex.title)}  ·  hint {shown} of {len(levels)}")
    console.print(escape(levels[shown - 1]))
    note_hint(c, u.name, name, shown)
    if shown < len(levels):
        err.print(f"[dim]asked again, `torchgrade hint {u.name} {name}` gives level {shown + 1}[/]")


@click.command()
@click.argument("unit")
@click.argument("exercise", required=False)
@click.option("--give-up", is_flag=True, help="Show it before your answer passes (recorded in your progress).")
@_course_option
def solution(unit: str, exercise: str | None, give_up: bool, course: Path | None) -> None:
    """The reference answer to EXERCISE of UNIT, once your own passes (check it first)."""
    from autograder.grading import working_file
    from autograder.solutions import differences, reference

    c = _course(course)
    u = c.unit(unit)
    names = [_current(c, u, exercise)] if exercise else [e.name for e in u.exercises]
    locked = [n for n in names if not passed(c, u.name, n) and not gave_up(c, u.name, n)]
    if locked and not give_up:
        raise _UserError(f"not yet: {', '.join(locked)} of {u.name} has not passed. Run `torchgrade check {u.name}` until it does, "
                         f"ask for a hint (`torchgrade hint {u.name} {locked[0]}`), or see it anyway with --give-up")  # fmt: skip
    mine = working_file(u)
    for name in names:
        if name in locked:
            note_gave_up(c, u.name, name)
        console.print(f"[bold]{name}[/]: the reference" + (" (you gave up on this one)" if gave_up(c, u.name, name) else ""))
        console.print(escape(reference(u, name)), highlight=False)
        diff = differences(u, name, mine) if mine.suffix == ".py" and mine.is_file() else ""
        if diff and name not in locked:
            console.print("[bold]how it differs from yours[/] (both pass):")
            console.print(escape(diff), highlight=False)


@click.command()
@click.argument("unit")
@click.argument("exercise", required=False)
@_course_option
def reset(unit: str, exercise: str | None, course: Path | None) -> None:
    """Put the stub of UNIT (or of one EXERCISE in it) back in your file, keeping a backup of it."""
    from autograder.grading import working_file
    from autograder.notebooks import notebook_text
    from autograder.solutions import pristine_stub
    from autograder.solutions import reset as put_back

    c = _course(course)
    u = c.unit(unit)
    mine = working_file(u)
    if mine.suffix == ".ipynb":
        if exercise is not None:
            raise _UserError(f"{mine.name} is a notebook: reset the whole unit (torchgrade reset {u.name}), or copy the cell back by hand")
        backup = put_back(u, None, mine, c.root)
        mine.write_text(notebook_text(u, pristine_stub(u, c.root)))
    else:
        backup = put_back(u, _current(c, u, exercise) if exercise else None, mine, c.root)
    console.print(f"reset {mine}" + (f" ({exercise})" if exercise else "") + f"; your version is kept in {backup}")


@click.command()
@click.argument("unit", required=False)
@_course_option
def watch(unit: str | None, course: Path | None) -> None:
    """Re-check the current exercise each time you save; move on when it passes (keys: h hint, n next, r re-run, q quit)."""
    from autograder.watch import Watch

    c = _course(course)
    chosen = c.unit(unit) if unit else None
    _prestart_zygote(c, [chosen] if chosen else list(c.units))
    Watch(c, chosen, console).run()
