"""Benchmark: a class of N students across every unit, a few of them hostile.

    python bench/class_volume.py [--students 300] [--workers N]

Generates N students (solutions, stubs and trap mutants in turn), makes a few
of them pathological (an endless loop, a memory bomb, a crash, an exit at
import), grades the class with `torchgrade grade`'s API, and prints the wall
time, submissions (student x unit) per second, and the peak memory of the
whole process tree (grader, workers, zygotes, sandboxes), sampled every
0.2 s. Checks that every student got a row.
"""

from __future__ import annotations

import argparse
import os
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

HOSTILE = {
    "hang": "\n\ndef {fn}(*args, **kwargs):\n    while True:\n        pass\n",
    "memory": "\n\ndef {fn}(*args, **kwargs):\n    return bytearray(50 * 2**30)\n",
    "crash": "\n\ndef {fn}(*args, **kwargs):\n    import ctypes\n    ctypes.string_at(0)\n",
    "exit": "\nimport os\nos._exit(3)\n",
}


def make_class(course, n: int, folder: Path) -> list[str]:
    """Write the class; return the hostile students' names."""
    units = list(course.units)
    variants = {u.name: [u.solution.read_text(), u.stub.read_text()] + [u.solution.read_text() + "\n\n" + m.read_text() for m in mutants(u).values()] for u in units}
    hostile = []
    for i in range(n):
        student = folder / f"student{i:03d}"
        student.mkdir(parents=True)
        kind = list(HOSTILE)[i // 50 % len(HOSTILE)] if i % 50 == 7 else None
        for j, unit in enumerate(units):
            source = variants[unit.name][(i + j) % len(variants[unit.name])]
            if kind and j == i % len(units):
                source = unit.solution.read_text() + HOSTILE[kind].format(fn=unit.exercises[0].name)
                hostile.append(f"{student.name} ({kind} in {unit.name})")
            (student / unit.filename).write_text(source)
    return hostile


def tree_rss(root: int, descendants: bool = True) -> int:
    """Resident memory of ``root`` and (unless told not to) all its descendants, bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields["PPid"]), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    if not descendants:
        return rss.get(root, 0)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    course = load_course(ROOT)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(os.getpid()))
            time.sleep(0.2)

    with tempfile.TemporaryDirectory() as tmp:
        hostile = make_class(course, args.students, Path(tmp) / "class")
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        result = grade_class(course, Path(tmp) / "class", Path(tmp) / "out", list(course.units),
                             RunSettings(seed=1, workers=args.workers, which="hidden"))
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
    doc = result.document
    jobs = args.students * len(course.units)
    rows = sum(len(s["units"]) for s in doc["students"].values())
    print(f"class      : {args.students} students x {len(course.units)} units = {jobs} submissions, {args.workers} workers")
    print(f"hostile    : {len(hostile)}: " + "; ".join(hostile))
    print(f"wall time  : {wall:.1f} s")
    print(f"throughput : {jobs / wall:.1f} submissions/s")
    print(f"peak memory: {peak[0] / 2**30:.2f} GiB (whole process tree)")
    print(f"rows       : {len(doc['students'])} students, {rows} student-unit rows ({'all' if rows == jobs else 'MISSING SOME'})")


if __name__ == "__main__":
    main()
