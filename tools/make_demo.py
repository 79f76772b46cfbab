"""Write the demo class that the README's main command grades.

    python tools/make_demo.py [OUT]   (default: demo/class)

Students are built from the course itself, so the demo follows the units:
full marks, untouched stubs, partial work, typical bugs (the trap mutants),
notebooks, and a misbehaving submission. tests/test_demo.py checks that the
committed demo is what this script writes.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.devcheck import mutants  # noqa: E402
from autograder.units import Unit, load_course  # noqa: E402


def with_trap(unit: Unit, index: int) -> str:
    found = list(mutants(unit).values())
    mutant = found[index % len(found)]
    return unit.solution.read_text() + f"\n\n# --- a typical bug: {mutant.stem} ---\n" + mutant.read_text()


def as_notebook(source: str) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["My work for this unit."]}]
    cells += [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": chunk.strip("\n") + "\n"}
              for chunk in source.split("\n\n\n") if chunk.strip()]
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def students(units: list[Unit]) -> dict[str, dict[str, str]]:
    """``{student: {file name: content}}``."""
    first = units[0]
    out: dict[str, dict[str, str]] = {
        "ada": {u.filename: u.solution.read_text() for u in units},
        "ben": {u.filename: u.stub.read_text() for u in units},
        "cleo": {u.filename: (u.solution if i < len(units) // 2 else u.stub).read_text() for i, u in enumerate(units[:-1])},
        "dev": {u.filename: with_trap(u, 0) for u in units},
        "eve": {u.filename: with_trap(u, 1) for u in units},
        "finn": {f"{u.module}.ipynb": as_notebook(u.solution.read_text()) for u in units},
        "gus": {u.filename: u.solution.read_text() for u in units},
    }
    # gus: one unit hangs in a call, another exits at import; the rest is right
    gus = out["gus"]
    gus[first.filename] += "\n\ndef " + first.exercises[0].name + "(*args, **kwargs):\n    while True:\n        pass\n"
    gus[units[1].filename] = "import sys\nsys.exit(0)\n" + gus[units[1].filename]
    gus["notes.txt"] = "not a submission: reported, never graded\n"
    return out


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "demo" / "class"
    units = list(load_course(ROOT).units)
    shutil.rmtree(out, ignore_errors=True)
    for student, files in students(units).items():
        for name, content in files.items():
            path = out / student / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
