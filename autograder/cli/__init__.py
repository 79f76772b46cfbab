"""``torchgrade``: the command line, a thin layer over ``autograder.grading``.

Each module holds the commands of one kind of user; this one puts them
under ``main``. The grading engine (and torch with it) is imported inside
the commands that grade: --help, list and hint answer without it.
"""

from __future__ import annotations

import os
import sys

import click

from autograder import timeline
from autograder.cli import dev, instructor, learner, platforms
from autograder.cli.common import _Group

__all__ = ["main", "run"]


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="torchgrade")
def main() -> None:
    """Auto-graded PyTorch exercises: check your work, grade a class."""


for _command in (learner.list_units, learner.check, learner.hint, learner.solution, learner.reset, learner.watch, instructor.grade, instructor.release, instructor.demo,
                 dev.dev, platforms.gradescope, platforms.nbgrader, platforms.prairielearn):
    main.add_command(_command)


def run() -> None:
    """The console script: ``main``, then an exit that skips tearing torch down.

    Once torch is loaded, the interpreter's own shutdown (freeing every module
    and torch's C++ state) takes most of a second after the work is done.
    Exit handlers still run (scratch folders, temporary files, the zygote's
    socket); only the freeing is skipped.
    """
    timeline.mark("command line loaded")
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    timeline.mark("command done")
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
