"""Benchmark: memory of the grader and its workers over a long run.

    python bench/memory_growth.py [--n 1000] [--unit 01_tensors] [--workers N]

Grades N submissions of one unit (solutions, stubs and trap mutants in turn)
with `torchgrade grade`'s API while a thread samples, every 0.2 s, the
resident memory of the grader, of each worker, and of the zygote and
sandboxes (by PSS, so that pages a sandbox shares with the zygote count once). Prints each one's peak, and the grader's and workers'
resident memory after each tenth of the run: growth would show as a rising
column, and the last tenth is compared with the second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from class_volume import tree_rss  # noqa: E402
from grading_throughput import make_class  # noqa: E402
from autograder.grading import grade_class  # noqa: E402
from autograder.runner import RunSettings  # noqa: E402
from autograder.units import load_course  # noqa: E402


def rss_mib(pid: int) -> float:
    return tree_rss(pid, descendants=False) / 2**20


def python_children(pid: int) -> list[int]:
    """The grader's worker processes (its python children; zygotes are bubblewrap's)."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and f"\nPPid:\t{pid}\n" in Path(entry.path, "status").read_text():
                if "python" in Path(entry.path, "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace"):
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def pss_mib(pid: int) -> float:
    """Proportional set size: shared pages (a fork's, the zygote's) counted once across processes."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                ppid = int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, stack = [], list(children.get(pid, []))
    while stack:
        p = stack.pop()
        out.append(p)
        stack += children.get(p, [])
    return out


class Sampler(threading.Thread):
    """Peaks of the grader, of each worker (a direct python child) and of the zygote and sandboxes."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.me = os.getpid()
        self.stop = threading.Event()
        self.grader_peak = 0.0
        self.worker_peak: dict[int, float] = {}
        self.below_peak = 0.0
        self.now = (0.0, 0.0)  # the grader's and the largest worker's memory at the last sample

    def run(self) -> None:
        while not self.stop.wait(0.2):
            grader = rss_mib(self.me)
            self.grader_peak = max(self.grader_peak, grader)
            largest = own = 0.0
            for w in python_children(self.me):
                r = rss_mib(w)
                largest, own = max(largest, r), own + r
                self.worker_peak[w] = max(self.worker_peak.get(w, 0.0), r)
            # the zygote (shared, the grader's child) and its sandboxes, by PSS: their RSS
            # would count the pages a sandbox shares with the zygote once per sandbox
            workers = set(python_children(self.me))
            self.below_peak = max(self.below_peak, sum(pss_mib(d) for d in descendants(self.me) if d not in workers))
            self.now = (grader, largest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--unit", default="01_tensors")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    course = load_course(ROOT)
    unit = course.unit(args.unit)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        subs = Path(tmp) / "class"
        make_class(unit, args.n, subs)
        sampler = Sampler()
        sampler.start()
        marks: list[tuple[int, float, float]] = []

        def progress(done: int, total: int) -> None:
            while len(marks) < 10 and done >= (len(marks) + 1) * total / 10:
                marks.append((done, *sampler.now))

        start = time.perf_counter()
        grade_class(course, subs, Path(tmp) / "out", [unit], RunSettings(seed=1, workers=args.workers, which="hidden"), progress=progress)
        seconds = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
    print(f"{args.n} submissions of {unit.name} in {seconds:.1f} s, {args.workers} workers")
    print(f"  peak resident memory: grader {sampler.grader_peak:.0f} MiB; workers "
          + ", ".join(f"{v:.0f}" for v in sampler.worker_peak.values())
          + f" MiB; the zygote and sandboxes together {sampler.below_peak:.0f} MiB (PSS)")
    print("  after each tenth of the run (submissions done: grader MiB / largest worker MiB):")
    print("   " + "  ".join(f"{d}: {g:.0f}/{w:.0f}" for d, g, w in marks))
    if len(marks) >= 3:
        second, last = marks[1], marks[-1]
        print(f"  growth from the second tenth to the last: grader {last[1] - second[1]:+.0f} MiB, largest worker {last[2] - second[2]:+.0f} MiB"
              f" (median worker over the run {statistics.median(m[2] for m in marks):.0f} MiB)")


if __name__ == "__main__":
    main()
