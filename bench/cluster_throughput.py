"""Benchmark: `torchgrade grade` on a local Dask cluster of 1 and 2 workers, against the local run.

    python bench/cluster_throughput.py [--unit 01_tensors] [--n 200] [--rounds 2]

Starts a Dask scheduler and two workers (one thread each) as processes of
their own, then grades the same class of N submission-units (solutions,
stubs and trap mutants in turn) three ways, in alternating order each round:
locally (`--workers` = the cores), on the cluster with one worker
(the other one retired for that run by a resource it lacks), and on both.
Prints submissions per second, medians and the ratios to the local run. On
one machine the cluster cannot be faster than the local run: this shows
what the cluster's layer costs, and that a second worker adds throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from grading_throughput import make_class  # noqa: E402
from autograder.units import load_course  # noqa: E402


def start(cmd: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def timed(cmd: list[str], env: dict | None = None) -> float:
    begin = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit", default="01_tensors")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    unit = load_course(ROOT).unit(args.unit)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        work = Path(tmp)
        make_class(unit, args.n, work / "class")
        info = work / "scheduler.json"
        procs = [start([str(BIN / "dask"), "scheduler", "--scheduler-file", str(info), "--port", "0", "--no-dashboard"], work)]
        while not info.exists():
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        # two single-worker "pools": resource ONE on the first worker only, so a run can ask for one worker
        procs += [start([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard", "--resources", "ONE=1"], work),
                  start([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard"], work)]  # fmt: skip
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(2, timeout=120)
        base = [str(BIN / "torchgrade"), "grade", str(work / "class"), "--units", unit.name, "--course", str(ROOT), "--seed", "1"]
        cases = {
            "local": (base + ["--workers", str(os.cpu_count())], None),
            "cluster, 1 worker": (base + ["--scheduler", address], dict(os.environ, TORCHGRADE_DASK_RESOURCES="ONE=1")),
            "cluster, 2 workers": (base + ["--scheduler", address], None),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        try:
            for r in range(args.rounds):
                for name in list(cases) if r % 2 == 0 else list(reversed(cases)):
                    out = work / "out"
                    shutil.rmtree(out, ignore_errors=True)
                    cmd, env = cases[name]
                    times[name].append(timed(cmd + ["--out", str(out)], env))
                    print(f"round {r + 1}: {name:20} {times[name][-1]:6.1f} s", flush=True)
        finally:
            for p in procs:
                p.terminate()
    local = statistics.median(times["local"])
    print(f"\n{args.n} submissions of {unit.name}, medians of {args.rounds} alternating rounds:")
    for name in cases:
        m = statistics.median(times[name])
        print(f"  {name:20} {m:6.1f} s  {args.n / m:5.1f} submissions/s  {local / m:4.2f}x the local run")


if __name__ == "__main__":
    main()
