"""``torchgrade dev``: tools for course authors."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.markup import escape

from autograder.cli.common import _Group, _course, _course_option, _devices, _seed_option, console, err


@click.group(cls=_Group)
def dev() -> None:
    """Tools for course authors."""


@dev.command("check")
@click.argument("units", nargs=-1)
@_seed_option
@_course_option
def dev_check(units: tuple[str, ...], seed: int | None, course: Path | None) -> None:
    """Prove that each stub scores 0, each solution full marks, and each trap mutant loses exactly its checks."""
    from autograder.devcheck import prove_unit
    from autograder.runner import RunSettings, cuda_note, new_seed

    c = _course(course)
    settings = RunSettings(devices=_devices(None, False), seed=seed if seed is not None else new_seed(), allow_unconfined=True)
    err.print(f"seed {settings.seed}  ·  {cuda_note(settings.devices)}")
    bad = 0
    for u in c.select(list(units) or None):
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
    from autograder.runner import RunSettings, new_seed
    from autograder.mutation import mutate_unit  # libcst: needed only here

    c = _course(course)
    settings = RunSettings(devices=_devices(None, False), seed=seed if seed is not None else new_seed(),
                           workers=workers or os.cpu_count() or 1, which="hidden", allow_unconfined=True)  # fmt: skip
    found = {}
    for u in c.select(list(units) or None):
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


