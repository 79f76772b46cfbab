"""Benchmark: torchgrade against `nbgrader autograde` on the same class of notebooks.

    python bench/vs_nbgrader.py [--students 20] [--rounds 2] [--unit 04_autograd]

Generates an nbgrader course for one unit: a source notebook whose answer
cell is the stub's code and whose test cells call every exercise with a few
asserts (nbgrader's way), released with `nbgrader generate_assignment`, and
N submitted notebooks (the reference solution, the stub and each trap mutant
in turn, pasted into the answer cell). Then grades that class, in
alternating order each round, with `nbgrader autograde` (a kernel per
notebook, running every cell) and with `torchgrade grade` on the same
notebooks (the unit's hidden checks, on cpu and fakegpu). Both are timed as
the commands a grader types, start-up included. Prints the median wall times
and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# nbgrader runs alembic and the kernel by name: this environment's, first on PATH
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
sys.path.insert(0, str(ROOT))

from grading_throughput import variants  # noqa: E402
from autograder.units import load_course  # noqa: E402

# nbgrader test cells: what a course author writes for unit 04 in nbgrader's style
TESTS_04 = [
    ("make_leaf", "t = make_leaf([1.0, -2.0, 0.5])\nassert t.requires_grad and t.is_leaf\nassert torch.equal(t.detach(), torch.tensor([1.0, -2.0, 0.5]))"),
    ("seed_derivative", "y, d = seed_derivative(2.0)\nassert abs(y - 15.0) < 1e-9 and abs(d - 7.0) < 1e-9"),
    ("intermediate_grad", "x = torch.randn(5, 3); w = torch.randn(3, 4, requires_grad=True)\nh, g = intermediate_grad(x, w)\nassert g is not None and torch.allclose(g, 1 - torch.tanh(x @ w.detach()) ** 2)"),
    ("vector_jacobian", "x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True); v = torch.randn(2, 3, dtype=torch.float64)\nassert torch.allclose(vector_jacobian(x, v), v * 3 * x.detach() ** 2)"),
    ("stop_gradient", "x = torch.randn(4, requires_grad=True)\nout = stop_gradient(x)\nassert x.grad is not None"),
]


def notebook(code: str, tests: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    answer = nbformat.v4.new_code_cell(code)
    answer.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": "answer", "schema_version": 3, "task": False}
    nb.cells.append(answer)
    for name, src in tests:
        cell = nbformat.v4.new_code_cell("import torch\n" + src)
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": f"test_{name}", "points": 1, "schema_version": 3, "task": False}
        nb.cells.append(cell)
    return nb


def make_class(work: Path, unit_name: str, students: int) -> tuple[Path, Path]:
    """An nbgrader course with ``students`` submissions, and the same notebooks laid out for torchgrade."""
    course = load_course(ROOT)
    unit = course.unit(unit_name)
    nb_name = f"{unit.module}.ipynb"
    tests = TESTS_04 if unit_name == "04_autograd" else []
    nbcourse = work / "nbcourse"
    (nbcourse / "source" / "ps").mkdir(parents=True)
    (nbcourse / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(nbcourse)!r}\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        "c.ExecutePreprocessor.timeout = 120\n"
    )
    nbformat.write(notebook(unit.stub.read_text(), tests), nbcourse / "source" / "ps" / nb_name)
    nbgrader = str(BIN / "nbgrader")
    made = subprocess.run([nbgrader, "generate_assignment", "ps", "--force"], cwd=nbcourse, capture_output=True, text=True, env=ENV)
    if made.returncode != 0:
        raise SystemExit(f"nbgrader generate_assignment failed:\n{made.stderr[-3000:]}")
    kinds = variants(unit)
    ours = work / "torchgrade-class"
    for i in range(students):
        student = f"s{i:03d}"
        nb = notebook(kinds[i % len(kinds)], tests)
        target = nbcourse / "submitted" / student / "ps"
        target.mkdir(parents=True)
        nbformat.write(nb, target / nb_name)
        (target / "timestamp.txt").write_text("2026-12-01 12:00:00.000000 UTC")
        (ours / student).mkdir(parents=True)
        nbformat.write(nb, ours / student / nb_name)
    return nbcourse, ours


def run(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({done.returncode}):\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--unit", default="04_autograd")
    parser.add_argument("--workers", type=int, default=None, help="torchgrade's workers (default: its own, one per core)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-") as tmp:
        work = Path(tmp)
        nbcourse, ours = make_class(work, args.unit, args.students)
        grade = [str(BIN / "torchgrade"), "grade", str(ours), "--out", str(work / "out"), "--course", str(ROOT), "--units", args.unit]
        if args.workers:
            grade += ["--workers", str(args.workers)]
        cases = {
            "nbgrader autograde": ([str(BIN / "nbgrader"), "autograde", "ps", "--force"], nbcourse),
            "torchgrade grade": (grade, work),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for r in range(args.rounds):
            order = list(cases) if r % 2 == 0 else list(reversed(cases))
            for name in order:
                cmd, cwd = cases[name]
                if name == "torchgrade grade":
                    shutil.rmtree(work / "out", ignore_errors=True)
                times[name].append(run(cmd, cwd))
                print(f"round {r + 1}: {name:20} {times[name][-1]:7.2f} s", flush=True)
        graded = json.loads((work / "out" / "grades.json").read_text())
        assert len(graded["students"]) == args.students, "torchgrade lost a student"
        nb_s, tg_s = (statistics.median(times[n]) for n in cases)
        print(f"\n{args.students} notebooks of {args.unit}, medians of {args.rounds} alternating rounds:")
        print(f"  nbgrader autograde  {nb_s:7.2f} s  ({nb_s / args.students:.2f} s per notebook)")
        print(f"  torchgrade grade    {tg_s:7.2f} s  ({tg_s / args.students:.3f} s per notebook)")
        print(f"  ratio               {nb_s / tg_s:7.1f} x")


if __name__ == "__main__":
    main()
