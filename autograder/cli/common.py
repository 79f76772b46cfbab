"""What every command shares: the consoles, the options, the error handling,
and the zygote started before the engine's imports."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autograder.units import Course, Unit, UnitError, find_course, load_course

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


def _prestart_zygote(c: Course, units: list[Unit], submissions: Path | None = None) -> None:
    """Start the sandbox zygote now, before this process imports the engine.

    The launch is the one ``runner`` will ask for (a run of one worker on this
    course), so it is taken over there; a different one is stopped. It is
    told what the units need beyond torch (``units.warm_extras``: sympy,
    dynamo), to import while it waits rather than leave it to each sandbox:
    of a class's ``submissions``, the units some file is handed in for.
    Commands pick their units first: a wrong name is told at once, not after
    an import of torch.
    """
    from autograder.confinement import ConfinementError, bwrap_status, plan
    from autograder.units import warm_extras
    from autograder.zygote import prestart

    if bwrap_status()[0] is not None:
        try:
            launch = plan([str(c.root)], cuda=any(Path("/dev").glob("nvidia*")))
        except ConfinementError:
            return  # a head start only: the run itself says what is wrong
        zygote = prestart(launch)
        # Read off the units' code once it is on its way (0.1 s for all twelve):
        # the zygote imports torch first in any case.
        extras = warm_extras(units)
        if extras and submissions is not None:
            from autograder.intake import units_handed_in

            extras = warm_extras(units_handed_in(submissions, c, units))
        if extras:
            zygote.deepen(extras)


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


# Errors that are the input's or the course's fault, by the module that
# defines each: one clear line each.
_USER_ERRORS = (
    ("autograder.confinement", "ConfinementError"), ("autograder.demo", "DemoError"),
    ("autograder.intake", "IntakeError"), ("autograder.late", "LateError"),
    ("autograder.nbgrader_export", "NbgraderError"), ("autograder.release", "ReleaseError"),
    ("autograder.run_settings", "GradingError"),
)  # fmt: skip


def _user_errors() -> tuple[type[Exception], ...]:
    """The user-error classes whose modules are loaded.

    An exception can only come from a module that is loaded, and importing
    the others would import torch (2 s) for a usage error or ``--help``.
    """
    loaded = (sys.modules.get(module) for module, _ in _USER_ERRORS)
    return (UnitError, *(getattr(m, name) for m, (_, name) in zip(loaded, _USER_ERRORS) if m is not None))
