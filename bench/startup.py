"""Benchmark: start-up of the command line against one bare ``import torch``.

    python bench/startup.py [--rounds 5] [--unit 04_autograd]

Runs, in alternating order each round: a bare ``python -c "import torch"``
(the baseline: the work that must be done once), ``torchgrade --help``,
``torchgrade list``, ``torchgrade hint``, and ``torchgrade check UNIT --file
<reference>`` both fresh and answered by a warm checker (what a student's
second check gets); prints the median wall time of each and its difference
from the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from autograder import warm  # noqa: E402


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed: {done.stderr.decode()[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--unit", default="04_autograd")
    args = parser.parse_args()
    tool = str(BIN / "torchgrade")
    reference = next((ROOT / "solutions" / args.unit).glob("*.py"))
    cases = {
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        "torchgrade --help": [tool, "--help"],
        "torchgrade list": [tool, "list"],
        "torchgrade hint 01": [tool, "hint", "01"],
        f"torchgrade check {args.unit} --file <reference>": [tool, "check", args.unit, "--file", str(reference)],
    }
    cold = dict(os.environ, TORCHGRADE_NO_WARM="1")
    warmed = dict(os.environ, TORCHGRADE_WARM="1")
    check_name = f"torchgrade check {args.unit} --file <reference>"
    cases[f"{check_name} (warm)"] = cases[check_name]
    envs = {name: (warmed if name.endswith("(warm)") else cold) for name in cases}
    # A warm checker for this course, as the first check on a terminal starts one.
    server = subprocess.Popen([sys.executable, "-c", f"from pathlib import Path; from autograder.warm import serve; serve(Path({str(ROOT)!r}), idle_seconds=120)"])
    while warm.ask(ROOT, {"ping": True}, timeout=5) is None:
        time.sleep(0.2)
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    try:
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else reversed(names):
                times[name].append(timed(cases[name], envs[name]))
    finally:
        server.kill()
    base = statistics.median(times[names[0]])
    print(f"medians of {args.rounds} rounds in alternating order")
    for name in names:
        m = statistics.median(times[name])
        print(f"  {name:48s} {m:6.2f} s   {m - base:+6.2f} s against import torch ({m / base:.2f}x)")


if __name__ == "__main__":
    main()
