"""Benchmark: issue 11's targets in one run, each against its baseline, and where the time went.

    python bench/speed.py [--rounds 3] [--students 20] [--n 80] [--skip nbgrader,floor]

Measures, in alternating order each round (the first case first in odd
rounds, last in even ones):

- a bare ``python -c "import torch"``, the work any command must do once;
- ``torchgrade check 04 --file <reference>``, fresh (no warm checker) and
  answered by a warm checker; ``check 10`` fresh, a unit whose checks and
  students build optimizers, beside ``import torch`` plus one optimizer
  (torch imports dynamo and sympy at the first one, in any process);
- ``nbgrader autograde`` and ``torchgrade grade`` on the same class of
  ``--students`` notebooks of unit 04 (``vs_nbgrader.make_class``);
- the floor of one fresh ``import torch`` plus the file per submission, two
  at a time, and ``torchgrade grade`` on the same ``--n`` submissions of
  unit 01 (``vs_floor``).

Prints the medians; then, from one more run of each torchgrade command with
``TORCHGRADE_TIMELINE`` set, where its time went (the phases of the command
and of its workers, the requests to sandboxes and zygotes summed by kind);
then the ratios against the targets, the start-up of ``grade`` (when its
first check begins) included.
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
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from grading_throughput import make_class as make_plain_class  # noqa: E402
from vs_floor import floor  # noqa: E402
from vs_nbgrader import ENV, make_class as make_nbgrader_class  # noqa: E402
from autograder import timeline  # noqa: E402
from autograder.units import load_course  # noqa: E402

TOOL = str(BIN / "torchgrade")
OPTIMIZER = "import torch; torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)"


def timed(cmd: list[str], cwd: Path, env: dict | None = None, ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env or ENV)
    seconds = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({done.returncode}):\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}")
    return seconds


def traced(cmd: list[str], cwd: Path, env: dict, ok: tuple[int, ...] = (0,)) -> tuple[float, list[dict]]:
    """Run ``cmd`` once with the timeline on; its wall time from launch and its records."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as fh:
        path = fh.name
    try:
        launched = time.time()
        timed(cmd, cwd, dict(env, TORCHGRADE_TIMELINE=path), ok)
        wall = time.time() - launched
        records = timeline.read(path)
    finally:
        os.unlink(path)
    for r in records:
        if "start" in r:
            r["start"] -= launched
            r["end"] -= launched
    return wall, records


def where_the_time_went(title: str, wall: float, records: list[dict], jobs: int) -> float:
    """Print the phases of one traced run; return when its first session began (from launch)."""
    print(f"\n{title}: {wall:.2f} s from launch (one traced run)")
    main = min((r["pid"] for r in records if r["name"] == "command line loaded"), default=None)
    phases = [r for r in records if "start" in r]
    print("  the command:")
    for r in phases:
        if r["pid"] == main and r["name"] not in ("torch warm", "await runtime proof"):
            span = f"{r['start']:6.2f} s" if r["end"] == r["start"] else f"{r['start']:6.2f} - {r['end']:5.2f} s ({r['end'] - r['start']:.2f} s)"
            print(f"    {r['name']:24s} {span}")
    workers = sorted({r["pid"] for r in phases if r["name"] == "session"})
    for pid in workers:
        sessions = [r for r in phases if r["pid"] == pid and r["name"] == "session"]
        ready = next((r for r in phases if r["pid"] == pid and r["name"] == "worker ready"), None)
        lead = f"ready at {ready['end']:.2f} s, " if ready else ""
        print(f"  {'worker' if pid != main else 'in the command'} {pid}: {lead}{len(sessions)} sessions "
              f"from {sessions[0]['start']:.2f} to {sessions[-1]['end']:.2f} s, {sum(r['end'] - r['start'] for r in sessions):.2f} s in all")
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for r in records:
        if "seconds" in r:
            totals[r["name"]][0] += r["seconds"]
            totals[r["name"]][1] += r["count"]
    session_time = sum(r["end"] - r["start"] for r in phases if r["name"] == "session")
    waited = sum(s for name, (s, _) in totals.items() if name != "sandbox probe")
    print(f"  in sessions, {session_time:.2f} s over {jobs} submissions ({session_time / jobs * 1000:.1f} ms each, summed over workers):")
    for name, (seconds, count) in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        print(f"    {name:18s} {seconds:6.2f} s in {count:5d} requests ({seconds / count * 1000:6.2f} ms each)")
    own = session_time - waited
    if own >= 0:
        print(f"    {'the checks here':18s} {own:6.2f} s (the trusted side's own work: checks, references, comparisons)")
    else:  # the runtime proof's fork and kill, in a thread of their own, are in the sums too
        print(f"    {'the checks here':18s}   (less than the runtime proof's requests, which ran beside the session)")
    return min(r["start"] for r in phases if r["name"] == "session")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--students", type=int, default=20, help="notebooks of unit 04 for the nbgrader comparison")
    parser.add_argument("--n", type=int, default=80, help="submissions of unit 01 for the floor comparison")
    parser.add_argument("--skip", default="", help="comma-separated: nbgrader, floor")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    course = load_course(ROOT)
    cold = dict(ENV, TORCHGRADE_NO_WARM="1")
    warmed = dict(ENV, TORCHGRADE_WARM="1")
    reference = course.unit("04_autograd").solution
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        work = Path(tmp)
        check_cmd = [TOOL, "check", "04_autograd", "--file", str(reference), "--course", str(ROOT)]
        optim_ref = course.unit("10_losses_optimizers").solution
        check_optim = [TOOL, "check", "10_losses_optimizers", "--file", str(optim_ref), "--course", str(ROOT)]
        cases: dict[str, tuple] = {
            "import torch": ([sys.executable, "-c", "import torch"], work, ENV),
            "check (fresh)": (check_cmd, work, cold),
            "check (warm)": (check_cmd, work, warmed),
            # torch imports dynamo (and sympy) at the first optimizer of any process
            "import torch + SGD": ([sys.executable, "-c", OPTIMIZER], work, ENV),
            "check 10 (fresh)": (check_optim, work, cold),
        }
        if "nbgrader" not in skip:
            nbcourse, nbclass = make_nbgrader_class(work / "nb", "04_autograd", args.students)
            cases["nbgrader autograde"] = ([str(BIN / "nbgrader"), "autograde", "ps", "--force"], nbcourse, ENV)
            cases["grade (notebooks)"] = ([TOOL, "grade", str(nbclass), "--out", str(work / "out-nb"), "--course", str(ROOT),
                                          "--units", "04_autograd"], work, ENV)  # fmt: skip
        if "floor" not in skip:
            paths = make_plain_class(course.unit("01_tensors"), args.n, work / "floor-class")
            cases["floor"] = (paths, None, None)
            cases["grade (floor class)"] = ([TOOL, "grade", str(work / "floor-class"), "--out", str(work / "out-floor"),
                                            "--course", str(ROOT), "--units", "01_tensors"], work, ENV)  # fmt: skip
        # A warm checker for this course, as a student's first check on a terminal starts one.
        server = subprocess.Popen([sys.executable, "-c", f"from pathlib import Path; from autograder.warm import serve; serve(Path({str(ROOT)!r}), idle_seconds=900)"],
                                  cwd=ROOT)  # fmt: skip
        from autograder import warm

        while warm.ask(ROOT, {"ping": True}, timeout=5) is None:
            time.sleep(0.2)
        times: dict[str, list[float]] = {name: [] for name in cases}
        try:
            for r in range(args.rounds):
                order = list(cases) if r % 2 == 0 else list(reversed(cases))
                for name in order:
                    cmd, cwd, env = cases[name]
                    if name == "floor":
                        times[name].append(floor(cmd, 2))
                        continue
                    for out in ("out-nb", "out-floor"):
                        shutil.rmtree(work / out, ignore_errors=True)
                    times[name].append(timed(cmd, cwd, env, ok=(0, 1)))
                print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
            m = {name: statistics.median(v) for name, v in times.items()}
            print(f"\nmedians of {args.rounds} rounds in alternating order, {os.cpu_count()} cores:")
            for name, seconds in m.items():
                print(f"  {name:22s} {seconds:7.2f} s")
            bare = m["import torch"]
            rows = [("check, fresh, against import torch", f"{m['check (fresh)'] - bare:+.2f} s", "<= +0.50 s", m["check (fresh)"] - bare <= 0.5),
                    ("check, warm", f"{m['check (warm)']:.2f} s", "(none)", None),
                    ("check 10 (optimizers), fresh, against import torch", f"{m['check 10 (fresh)'] - bare:+.2f} s", "<= +0.50 s",
                     m["check 10 (fresh)"] - bare <= 0.5),
                    ("  the same, against import torch + one optimizer", f"{m['check 10 (fresh)'] - m['import torch + SGD']:+.2f} s", "(none)", None)]  # fmt: skip
            if "nbgrader autograde" in m:
                ratio = m["nbgrader autograde"] / m["grade (notebooks)"]
                rows.append((f"grade vs nbgrader autograde, {args.students} notebooks", f"{ratio:.1f}x", ">= 30x", ratio >= 30))
            if "floor" in m:
                ratio = m["floor"] / m["grade (floor class)"]
                rows.append((f"grade vs one process per submission, {args.n}", f"{ratio:.1f}x", ">= 20x", ratio >= 20))
            wall, records = traced(check_cmd, work, cold, ok=(0, 1))
            where_the_time_went("torchgrade check 04_autograd --file <reference>, fresh", wall, records, 1)
            for name, jobs in (("grade (notebooks)", args.students), ("grade (floor class)", args.n)):
                if name in cases:
                    for out in ("out-nb", "out-floor"):
                        shutil.rmtree(work / out, ignore_errors=True)
                    cmd, cwd, env = cases[name]
                    wall, records = traced(cmd, cwd, env)
                    first = where_the_time_went(f"torchgrade {name}", wall, records, jobs)
                    rows.append((f"{name}: its first check begins, against import torch", f"{first - bare:+.2f} s", "<= +0.50 s", first - bare <= 0.5))
            print("\ntargets:")
            for what, got, target, met in rows:
                print(f"  {what:56s} {got:>9s}   target {target:10s} {'' if met is None else 'met' if met else 'NOT met'}")
        finally:
            server.kill()


if __name__ == "__main__":
    main()
