"""``torchgrade release``: what students get, and nothing they must not see.

A release is a course folder of its own: each unit's ``assignments/<unit>/``
(stub, ``unit.toml``, public checks, data and licences), the ``autograder``
package and ``pyproject.toml`` so that ``pip install .`` gives the
``torchgrade`` command, and a README for students. ``solutions/`` and
``checks/`` never go in; ``build_release`` checks the result before it
returns.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.hints import released_hints_toml
from autograder.notebooks import write_notebook
from autograder.solutions import STUBS
from autograder.units import Course, Unit

__all__ = ["ReleaseError", "Release", "build_release", "tool_pyproject"]

_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".torchgrade", ".ipynb_checkpoints")

STUDENT_README = """# {title}

Your exercises: one folder per unit in `assignments/`, in order. Each
unit comes twice, work in the one you like: a notebook
(`assignments/01_tensors/tensors.ipynb`) and a module
(`assignments/01_tensors/tensors.py`). Their functions and classes say
`TODO`: read what they must do, write the code.

In JupyterLab, set up once and open a unit (Python 3.11 or newer):

```
python3 -m venv .venv && .venv/bin/pip install torch -e ".[notebook]"
.venv/bin/jupyter lab assignments/01_tensors/tensors.ipynb
```

Run each `%check` cell after your code: it checks what the notebook has run,
saved or not, and shows what passes.

In an editor, set up once:

```
python3 -m venv .venv && .venv/bin/pip install torch -e .
```

Then, as often as you like:

```
.venv/bin/torchgrade list              # the units and what you have passed
.venv/bin/torchgrade check 01          # check unit 01 (or: check, for every unit)
.venv/bin/torchgrade hint 01           # hints for unit 01
```

`check` runs the public checks that come with each unit
(`check_public.py`, which you may read). Your instructor grades with more,
hidden checks on other inputs, so passing here is a good sign, not a grade.
Hand in the files in `assignments/` as your course asks, under their names
(`tensors.py`, or `tensors.ipynb` if you work in JupyterLab).

Units in this release:

{units}
"""


class ReleaseError(Exception):
    pass


_MINIMAL_PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "torchgrade"
version = "{version}"
requires-python = ">=3.11"
dependencies = ["torch>=2.2", "numpy>=1.26", "pytest>=8.4", "click>=8.1", "rich>=13", "sqlalchemy>=2", "jupytext>=1.16", "watchfiles>=0.21"]

[project.optional-dependencies]
notebook = ["jupyterlab>=4", "ipykernel>=6"]

[project.scripts]
torchgrade = "autograder.cli:run"

[tool.setuptools.packages.find]
include = ["autograder*"]
"""


def tool_pyproject() -> str:
    """The pyproject.toml that installs this autograder package where it is copied to.

    The tool's own, when it runs from a checkout; a minimal one when it was
    installed from a wheel (which carries no pyproject.toml).
    """
    from autograder import __version__

    own = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if own.is_file() and 'name = "torchgrade"' in own.read_text():
        return own.read_text()
    return _MINIMAL_PYPROJECT.format(version=__version__)


@dataclass(frozen=True)
class Release:
    root: Path
    units: list[str]
    files: int


def build_release(course: Course, out: Path, units: list[Unit], title: str = "PyTorch exercises", hint_levels: int = 2) -> Release:
    """Write the student release of ``units`` to ``out`` (which must not exist or be empty)."""
    if out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} is not empty: give a new folder, so that nothing old is shipped by mistake")
    if out.resolve().is_relative_to(course.root.resolve()) and out.resolve() != course.root.resolve():
        inside = out.resolve().relative_to(course.root.resolve()).parts[0]
        if inside in ("assignments", "solutions", "checks", "autograder"):
            raise ReleaseError(f"{out} lies inside the course's {inside}/ folder: choose a folder elsewhere")
    out.mkdir(parents=True, exist_ok=True)
    for unit in units:
        shutil.copytree(unit.stub.parent, out / "assignments" / unit.name, ignore=_SKIP)
        write_notebook(unit, out / "assignments" / unit.name)  # from the stub as it is now, whatever the tree holds
        pristine = out / STUBS / unit.name / unit.filename  # for `torchgrade reset`
        pristine.parent.mkdir(parents=True, exist_ok=True)
        pristine.write_text(unit.stub.read_text())
        with (out / "assignments" / unit.name / "unit.toml").open("a") as fh:
            fh.write(released_hints_toml(unit, hint_levels))  # made here: the release has no solutions to make them from
    package = Path(__file__).resolve().parent
    shutil.copytree(package, out / "autograder", ignore=_SKIP)
    (out / "pyproject.toml").write_text(tool_pyproject())
    listing = "\n".join(f"- `{u.name}`: {u.title}" for u in units)
    (out / "README.md").write_text(STUDENT_README.format(title=title, units=listing))
    _verify(course, out, units)
    return Release(out, [u.name for u in units], sum(1 for p in out.rglob("*") if p.is_file()))


def _verify(course: Course, out: Path, units: list[Unit]) -> None:
    """Refuse a release that holds a hidden check or a solution file."""
    for forbidden in ("solutions", "checks"):
        if (out / forbidden).exists():
            raise ReleaseError(f"the release holds {forbidden}/")
    secret = {u.solution.read_bytes() for u in units if u.solution.is_file()}
    secret |= {u.hidden_checks.read_bytes() for u in units if u.hidden_checks.is_file()}
    secret.discard(b"")
    for path in out.rglob("*.py"):
        if path.read_bytes() in secret:
            raise ReleaseError(f"{path} is a copy of a solution or of hidden checks")
