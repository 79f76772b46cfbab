"""Benchmark: `torchgrade grade` against the floor of one fresh process per submission.

    python bench/vs_floor.py [--unit 01_tensors] [--n 80] [--rounds 3]

The floor is the least any grader that starts a process per submission can
do: `python -c "import torch; <run the submission's file>"`, as many at a
time as there are cores, with no checks at all. Against it, the command an
instructor types, start-up and output files included: `torchgrade grade`
on the same N submissions (solutions, stubs and trap mutants in turn), with
the unit's hidden checks on every device (cpu and fakegpu). Both run in
alternating order each round; prints the medians and the ratio, and a
bare `import torch` for scale.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from grading_throughput import make_class  # noqa: E402
from autograder.units import load_course  # noqa: E402

FLOOR = "import runpy, sys, torch; runpy.run_path(sys.argv[1])"


def floor(paths: list[Path], workers: int) -> float:
    def one(path: Path) -> None:
        subprocess.run([sys.executable, "-c", FLOOR, str(path)], capture_output=True, timeout=600)

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, paths))
    return time.perf_counter() - start


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:2]} failed ({done.returncode}): {done.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit", default="01_tensors")
    parser.add_argument("--n", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    unit = load_course(ROOT).unit(args.unit)
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        subs = Path(tmp) / "class"
        paths = make_class(unit, args.n, subs)
        out = Path(tmp) / "out"
        grade = [str(BIN / "torchgrade"), "grade", str(subs), "--out", str(out), "--course", str(ROOT), "--units", unit.name]
        times: dict[str, list[float]] = {"import torch": [], "floor": [], "torchgrade grade": []}
        for r in range(args.rounds):
            order = ["import torch", "floor", "torchgrade grade"]
            if r % 2:
                order.reverse()
            for name in order:
                if name == "import torch":
                    times[name].append(timed([sys.executable, "-c", "import torch"]))
                elif name == "floor":
                    times[name].append(floor(paths, args.workers))
                else:
                    shutil.rmtree(out, ignore_errors=True)
                    times[name].append(timed(grade))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    bare, t_floor, t_ours = (statistics.median(times[k]) for k in ("import torch", "floor", "torchgrade grade"))
    print(f"\n{args.n} submissions of {unit.name}, {args.workers} at a time, medians of {args.rounds} alternating rounds:")
    print(f"  bare import torch   {bare:7.2f} s")
    print(f"  floor               {t_floor:7.2f} s  (one `import torch` + the file per submission, no checks)")
    print(f"  torchgrade grade    {t_ours:7.2f} s  (hidden checks on cpu and fakegpu, start-up and output included)")
    print(f"  ratio               {t_floor / t_ours:7.1f} x the floor's throughput (target >= 20x)")


if __name__ == "__main__":
    main()
