"""Benchmark: what confinement costs per submission.

    python bench/confinement_cost.py [--unit 01_tensors] [--n 40] [--rounds 3]

Grades the same generated class (solutions, stubs and trap mutants in turn)
on one worker with the zygote confined by bubblewrap (the default) and with
the same engine unconfined (no bubblewrap, no namespaces: the floor), in
alternating order, and prints medians over the rounds of

- the start-up (the fixed part: zygote, runtime probe, pytest),
- the marginal cost per submission (the slope between N/2 and N students),

side by side, with the ratio and the difference in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from grading_throughput import make_class  # noqa: E402

from autograder import confinement, runner  # noqa: E402
from autograder.grading import grade_class  # noqa: E402
from autograder.runner import RunSettings  # noqa: E402
from autograder.units import load_course  # noqa: E402


def timed(course, unit, subs: Path, confined: bool) -> float:
    real = confinement.bwrap_status
    if not confined:
        def missing():
            return None, "unconfined baseline"

        confinement.bwrap_status = runner.bwrap_status = missing
    try:
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            grade_class(course, subs, Path(out), [unit], RunSettings(seed=1, workers=1, which="hidden", allow_unconfined=not confined))
            return time.perf_counter() - start
    finally:
        confinement.bwrap_status = runner.bwrap_status = real
        runner._ZYGOTE and runner._ZYGOTE.close()
        runner._ZYGOTE = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit", default="01_tensors")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    course = load_course(ROOT)
    unit = course.unit(args.unit)
    with tempfile.TemporaryDirectory() as tmp:
        half, full = Path(tmp) / "half", Path(tmp) / "full"
        make_class(unit, args.n // 2, half)
        make_class(unit, args.n, full)
        runs: dict[bool, dict[str, list[float]]] = {True: {"half": [], "full": []}, False: {"half": [], "full": []}}
        for r in range(args.rounds):
            for confined in ((True, False) if r % 2 == 0 else (False, True)):
                runs[confined]["half"].append(timed(course, unit, half, confined))
                runs[confined]["full"].append(timed(course, unit, full, confined))
    print(f"{args.n} submissions of {unit.name}, one worker, medians of {args.rounds} rounds in alternating order")
    rows = {}
    for confined in (False, True):
        h, f = statistics.median(runs[confined]["half"]), statistics.median(runs[confined]["full"])
        per = (f - h) / (args.n - args.n // 2)
        rows[confined] = (h - per * (args.n // 2), per)
        label = "confined (bubblewrap)" if confined else "unconfined (floor)  "
        print(f"  {label}  start-up {rows[confined][0]:6.2f} s   per submission {per * 1000:7.1f} ms")
    start_ratio = rows[True][0] / rows[False][0]
    per_ratio = rows[True][1] / rows[False][1]
    print(f"  confinement costs {1000 * (rows[True][1] - rows[False][1]):+.1f} ms per submission ({per_ratio:.2f}x the floor) "
          f"and {rows[True][0] - rows[False][0]:+.2f} s of start-up ({start_ratio:.2f}x)")


if __name__ == "__main__":
    main()
