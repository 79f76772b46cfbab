"""Benchmark: torchgrade against one fresh `python -m pytest` per submission.

    python bench/grading_throughput.py [--unit 01_tensors] [--n 40]

Grades a generated class of N submissions of one unit (solutions, stubs and
trap mutants in turn) twice in the same run: with torchgrade (zygote, one
sandbox per submission, one pytest session per chunk) and with the baseline
(a fresh pytest process per submission importing the file directly). Both
use all cores. Prints submissions per second and the ratio.

Overhead per submission beyond its own compute: torchgrade's marginal cost
per submission with one worker (the slope between grading N/2 and N, so the
one-off start-up drops out) minus the time the same checks spend inside
their calls when the baseline plugin runs them in a warm process without any
sandbox. Each measurement is repeated --repeat times; medians are quoted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.devcheck import mutants  # noqa: E402
from autograder.grading import grade_class  # noqa: E402
from autograder.runner import RunSettings  # noqa: E402
from autograder.units import load_course  # noqa: E402


def variants(unit) -> list[str]:
    """The kinds of submission a generated class cycles through: the solution, the stub, each trap mutant."""
    solution = unit.solution.read_text()
    return [solution, unit.stub.read_text()] + [solution + "\n\n" + p.read_text() for p in mutants(unit).values()]


def make_class(unit, n: int, folder: Path) -> list[Path]:
    kinds = variants(unit)
    paths = []
    for i in range(n):
        path = folder / f"student{i:03d}" / unit.filename
        path.parent.mkdir(parents=True)
        path.write_text(kinds[i % len(kinds)])
        paths.append(path)
    return paths


def run_ours(course, unit, subs: Path, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        grade_class(course, subs, Path(out), [unit], RunSettings(seed=1, workers=workers, which="hidden"))
        return time.perf_counter() - start


def run_baseline(unit, paths: list[Path], workers: int) -> tuple[float, float]:
    """Wall time for the class, and the mean time spent inside check calls."""
    times_dir = Path(tempfile.mkdtemp())

    def one(i_path):
        i, path = i_path
        env = dict(os.environ, BASELINE_SUBMISSION=str(path), BASELINE_REFERENCE=str(unit.solution),
                   BASELINE_TIMES=str(times_dir / f"{i}.json"), PYTHONPATH=str(ROOT / "bench"))
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "baseline_plugin", "-p", "no:cacheprovider",
                        "--import-mode=importlib", str(unit.hidden_checks)],
                       cwd=str(times_dir), env=env, capture_output=True, timeout=600)

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, enumerate(paths)))
    wall = time.perf_counter() - start
    spent = [json.loads(p.read_text())["in_checks"] for p in times_dir.glob("*.json")]
    return wall, statistics.mean(spent) if spent else float("nan")


def direct_compute(unit, paths: list[Path]) -> float:
    """Median time inside check calls per submission, warm, no sandbox, no process start."""
    import pytest

    sys.path.insert(0, str(ROOT / "bench"))
    import baseline_plugin

    spent = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(paths):
            os.environ.update(BASELINE_SUBMISSION=str(path), BASELINE_REFERENCE=str(unit.solution),
                              BASELINE_TIMES=str(Path(tmp) / f"{i}.json"))
            baseline_plugin._spent = 0.0
            cwd = os.getcwd()
            with contextlib.redirect_stdout(io.StringIO()):
                pytest.main(["-q", "-p", "no:cacheprovider", "--import-mode=importlib", str(unit.hidden_checks)],
                            plugins=[baseline_plugin])
            os.chdir(cwd)
            if i >= 2:  # the first runs pay for lazy imports
                spent.append(json.loads((Path(tmp) / f"{i}.json").read_text())["in_checks"])
    return statistics.median(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit", default="01_tensors")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    course = load_course(ROOT)
    unit = course.unit(args.unit)
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "class"
        paths = make_class(unit, args.n, subs)
        half = Path(tmp) / "half"
        for p in paths[: args.n // 2]:
            (half / p.parent.name).mkdir(parents=True)
            (half / p.parent.name / p.name).write_text(p.read_text())
        ours, slope, base = [], [], []
        run_ours(course, unit, half, 1)  # warm-up: starts this process's zygote
        for r in range(args.repeat):
            ours.append(run_ours(course, unit, subs, args.workers))
            t_full, t_half = run_ours(course, unit, subs, 1), run_ours(course, unit, half, 1)
            slope.append((t_full - t_half) / (args.n - args.n // 2))
            base.append(run_baseline(unit, paths, args.workers)[0])
            print(f"  run {r + 1}: torchgrade {ours[-1]:.2f} s ({args.workers} workers); "
                  f"1 worker {t_full:.2f} s for {args.n}, {t_half:.2f} s for {args.n // 2}; baseline {base[-1]:.2f} s", flush=True)
        compute = direct_compute(unit, paths[: min(len(paths), 12)])
    n = args.n
    t_ours, t_base, t_slope = (statistics.median(x) for x in (ours, base, slope))
    overhead = t_slope - compute
    print(f"unit {unit.name}, {n} submissions, {args.workers} workers, medians of {args.repeat} runs")
    print(f"torchgrade : {n / t_ours:7.2f} submissions/s  ({t_ours:.2f} s)")
    print(f"baseline   : {n / t_base:7.2f} submissions/s  ({t_base:.2f} s, one `python -m pytest` per submission)")
    print(f"ratio      : {t_base / t_ours:7.1f}x the baseline's throughput (target >= 10x)")
    print(f"overhead   : {overhead * 1000:7.1f} ms per submission beyond its own compute "
          f"({t_slope * 1000:.1f} ms marginal per submission with 1 worker, {compute * 1000:.1f} ms inside check calls "
          f"warm without a sandbox; target <= 100 ms)")


if __name__ == "__main__":
    main()
