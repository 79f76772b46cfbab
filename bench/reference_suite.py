"""Time the full hidden suite on the reference solutions, unit by unit.

    python bench/reference_suite.py [--seed N]

Grades one reference submission of every unit on the CPU in one process, as
`torchgrade check` would, and prints the seconds each unit took (its first
sandbox start included), the zygote's start-up, and the total. Target: the
whole course in under two minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.jobs import Job  # noqa: E402
from autograder.runner import RunSettings, run_jobs  # noqa: E402
from autograder.scoring import score  # noqa: E402
from autograder.units import load_course  # noqa: E402
from autograder.worker_resources import warm_up  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    course = load_course(ROOT)
    settings = RunSettings(devices=("cpu",), seed=args.seed)
    start = time.perf_counter()
    warm_up(course, settings)  # the zygote, its imports and the runtime proof, before the first unit
    print(f"{'zygote start':24} {time.perf_counter() - start:6.2f} s")
    total = time.perf_counter() - start
    for unit in course.units:
        t = time.perf_counter()
        jobs = [Job("reference", unit, unit.solution)]
        s = score(jobs, run_jobs(course, jobs, settings))["reference"][unit.name]
        took = time.perf_counter() - t
        total += took
        mark = "full marks" if s.score == s.max_score else f"{s.score:g}/{s.max_score:g} NOT FULL"
        print(f"{unit.name:24} {took:6.2f} s  {mark}")
    print(f"{'total':24} {total:6.2f} s  (target: under 120 s)")


if __name__ == "__main__":
    main()
