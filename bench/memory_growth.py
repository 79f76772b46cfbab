"""Benchmark: memory of the grader and its workers over a long run.

    python bench/memory_growth.py [--n 1000] [--unit 01_tensors] [--workers N]

Grades N submissions of one unit (solutions, stubs and trap mutants in turn)
with `torchgrade grade`'s API while a thread samples, every 0.2 s, the
resident memory of the grader, of each worker, and of the zygotes and
sandboxes below them. Prints each one's peak, and the grader's and workers'
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

from autograder.devcheck import mutants  # noqa: E402
from autograder.grading import grade_class  # noqa: E402
from autograder.runner import RunSettings  # noqa: E402
from autograder.units import load_course  # noqa: E402


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                ppid = int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def below(pid: int, tree: dict[int, list[int]]) -> list[int]:
    out, stack = [], list(tree.get(pid, []))
    while stack:
        p = stack.pop()
        out.append(p)
        stack += tree.get(p, [])
    return out


class Sampler(threading.Thread):
    """Peaks of the grader, of each worker (a direct python child) and of everything below the workers."""

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
            tree = children()
            grader = rss_mib(self.me)
            self.grader_peak = max(self.grader_peak, grader)
            workers = [p for p in tree.get(self.me, []) if "python" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace").split("\0")[0]]
            largest = 0.0
            for w in workers:
                r = rss_mib(w)
                largest = max(largest, r)
                self.worker_peak[w] = max(self.worker_peak.get(w, 0.0), r)
                self.below_peak = max(self.below_peak, sum(rss_mib(p) for p in below(w, tree)))
            self.now = (grader, largest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--unit", default="01_tensors")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    course = load_course(ROOT)
    unit = course.unit(args.unit)
    variants = [unit.solution.read_text(), unit.stub.read_text()] + [unit.solution.read_text() + "\n\n" + p.read_text() for p in mutants(unit).values()]
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        subs = Path(tmp) / "class"
        for i in range(args.n):
            (subs / f"s{i:04d}").mkdir(parents=True)
            (subs / f"s{i:04d}" / unit.filename).write_text(variants[i % len(variants)])
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
          + f" MiB; zygotes and sandboxes below the workers together {sampler.below_peak:.0f} MiB")
    print("  after each tenth of the run (submissions done: grader MiB / largest worker MiB):")
    print("   " + "  ".join(f"{d}: {g:.0f}/{w:.0f}" for d, g, w in marks))
    if len(marks) >= 3:
        second, last = marks[1], marks[-1]
        print(f"  growth from the second tenth to the last: grader {last[1] - second[1]:+.0f} MiB, largest worker {last[2] - second[2]:+.0f} MiB"
              f" (median worker over the run {statistics.median(m[2] for m in marks):.0f} MiB)")


if __name__ == "__main__":
    main()
