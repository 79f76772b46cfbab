"""Benchmark: from a save to its result in `torchgrade watch`, against a fresh check.

    python bench/watch_latency.py [--unit 01_tensors] [--saves 10]

Runs `torchgrade watch UNIT` in a pseudo-terminal on a copy of the course,
then saves the unit's file again and again (a wrong answer to the current
exercise each time, so that the watch stays on it) and times each save
until its new result is on the terminal. Side by side, in alternating
order, the baseline: a fresh `torchgrade check UNIT` after each save (what a
learner without watch runs; warm checker off). Prints the medians and the
ratio; the target is 300 ms from save to result.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def read_until(fd: int, pattern: re.Pattern, seen: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not pattern.search("".join(seen)):
        if time.monotonic() > deadline:
            raise SystemExit("watch did not answer:\n" + "".join(seen)[-2000:])
        if select.select([fd], [], [], 0.05)[0]:
            seen.append(os.read(fd, 65536).decode(errors="replace"))


def drain(fd: int, quiet: float = 0.5) -> None:
    """Read what the terminal has until it has been quiet for ``quiet`` seconds (an earlier save's redraw)."""
    while select.select([fd], [], [], quiet)[0]:
        os.read(fd, 65536)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit", default="01_tensors")
    parser.add_argument("--saves", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        course = Path(tmp) / "course"
        for part in ("assignments", "solutions", "checks"):
            shutil.copytree(ROOT / part, course / part, ignore=shutil.ignore_patterns("__pycache__"))
        sys.path.insert(0, str(ROOT))
        from autograder.units import load_course

        unit = load_course(course).unit(args.unit)
        (course / "assignments" / unit.name / f"{unit.module}.ipynb").unlink(missing_ok=True)  # the .py is the working file
        stub = unit.stub.read_text()
        leader, follower = pty.openpty()
        env = dict(os.environ, COLUMNS="120", LINES="50", TERM="xterm")
        proc = subprocess.Popen([str(BIN / "torchgrade"), "watch", unit.name, "--course", str(course)],
                                stdin=follower, stdout=follower, stderr=follower, env=env)  # fmt: skip
        os.close(follower)
        checked = re.compile(r"checked in (\d+\.\d+) s")
        seen: list[str] = []
        watch_times, fresh_times, inside = [], [], []
        try:
            read_until(leader, checked, seen)
            cold = dict(os.environ, TORCHGRADE_NO_WARM="1")
            for i in range(args.saves):
                text = stub + f"\n\n# save {i}\n"

                def by_watch() -> None:
                    drain(leader)
                    seen.clear()
                    start = time.perf_counter()
                    unit.stub.write_text(text)
                    read_until(leader, checked, seen)
                    watch_times.append(time.perf_counter() - start)
                    inside.append(float(checked.search("".join(seen)).group(1)))

                def by_check() -> None:
                    unit.stub.write_text(text)
                    start = time.perf_counter()
                    subprocess.run([str(BIN / "torchgrade"), "check", unit.name, "--course", str(course)], capture_output=True, env=cold)
                    fresh_times.append(time.perf_counter() - start)

                for step in (by_watch, by_check) if i % 2 == 0 else (by_check, by_watch):
                    step()
        finally:
            os.write(leader, b"q")
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    w, f, c = statistics.median(watch_times), statistics.median(fresh_times), statistics.median(inside)
    print(f"{args.saves} saves of {args.unit}, medians in alternating order:")
    print(f"  watch: save to result on the terminal  {w * 1000:7.0f} ms  (of which the check itself {c * 1000:.0f} ms; target 300 ms)")
    print(f"  a fresh `torchgrade check` per save    {f * 1000:7.0f} ms")
    print(f"  ratio                                  {f / w:7.1f} x")


if __name__ == "__main__":
    main()
