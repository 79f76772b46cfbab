"""Grading on a real Dask cluster: a scheduler and two workers as processes of their own."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_hostile import FIXTURE, SOLVED

pytest.importorskip("distributed", reason="needs the dask extra: pip install -e '.[dask]'")

BIN = Path(sys.executable).parent
TRAP = (FIXTURE / "checks" / "01_toy" / "traps" / "int64_default.py").read_text()
SLOW = SOLVED.replace("    return x * factor", "    import time\n    time.sleep(0.4)\n    return x * factor")


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two workers (no nanny: a killed worker stays dead)."""
    info = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--scheduler-file", str(info), "--port", "0", "--no-dashboard"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]  # fmt: skip
    deadline = time.monotonic() + 60
    while not info.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(info.read_text())["address"]
    workers = [subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}"],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
               for i in range(2)]  # fmt: skip
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=120)
    yield address, workers
    for p in procs + workers:
        if p.poll() is None:
            p.terminate()
    for p in procs + workers:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def make_class(root: Path, n: int, kinds: list[str]) -> Path:
    for i in range(n):
        (root / f"s{i:02d}").mkdir(parents=True)
        (root / f"s{i:02d}" / "toy.py").write_text(kinds[i % len(kinds)])
    return root


def grade(subs: Path, out: Path, *extra: str) -> dict:
    done = subprocess.run([str(BIN / "torchgrade"), "grade", str(subs), "--out", str(out), "--course", str(FIXTURE), "--seed", "8", *extra],
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "grades.json").read_text())


def scores(doc: dict) -> dict:
    return {s: {u: (v["score"], [(c["id"], c["device"], c["status"]) for c in v["checks"]]) for u, v in row["units"].items()}
            for s, row in doc["students"].items()}  # fmt: skip


def test_a_class_graded_on_the_cluster_scores_as_locally(cluster, tmp_path):
    address, _ = cluster
    subs = make_class(tmp_path / "subs", 12, [SOLVED, SOLVED + "\n\n" + TRAP, (FIXTURE / "assignments" / "01_toy" / "toy.py").read_text()])
    there = grade(subs, tmp_path / "cluster", "--scheduler", address)
    here = grade(subs, tmp_path / "local", "--workers", "1")
    assert scores(there) == scores(here)
    used = {row["units"]["01_toy"]["worker"] for row in there["students"].values()}
    assert len(used) == 2 and all(w.startswith("tcp://") for w in used)  # both workers graded, each row says which


def test_the_address_can_come_from_the_environment(cluster, tmp_path):
    address, _ = cluster
    subs = make_class(tmp_path / "subs", 2, [SOLVED])
    env = dict(os.environ, DASK_SCHEDULER_ADDRESS=address)
    done = subprocess.run([str(BIN / "torchgrade"), "grade", str(subs), "--out", str(tmp_path / "o"), "--course", str(FIXTURE)],
                          capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert all("worker" in r["units"]["01_toy"] for r in json.loads((tmp_path / "o" / "grades.json").read_text())["students"].values())


def test_require_cuda_fails_clearly_without_a_gpu_worker(cluster, tmp_path):
    address, _ = cluster
    subs = make_class(tmp_path / "subs", 1, [SOLVED])
    done = subprocess.run([str(BIN / "torchgrade"), "grade", str(subs), "--out", str(tmp_path / "o"), "--course", str(FIXTURE),
                           "--scheduler", address, "--require-cuda"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 2 and "no Dask worker offers a GPU" in done.stderr + done.stdout


def test_a_worker_killed_part_way_loses_nothing_and_grades_nothing_twice(cluster, tmp_path):
    address, workers = cluster
    subs = make_class(tmp_path / "subs", 24, [SLOW, SLOW + "\n\n" + TRAP])
    out = tmp_path / "cluster"
    run = subprocess.Popen([str(BIN / "torchgrade"), "grade", str(subs), "--out", str(out), "--course", str(FIXTURE), "--seed", "8",
                            "--scheduler", address], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    book = out / "gradebook.db"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # kill a worker once some results are recorded, the rest not yet
        time.sleep(0.5)
        if book.exists():
            with sqlite3.connect(book) as db:
                if db.execute("select count(*) from gradings").fetchone()[0] >= 2:
                    break
    os.killpg(workers[0].pid, signal.SIGKILL)
    _, err = run.communicate(timeout=900)
    assert run.returncode == 0, err[-3000:]
    doc = json.loads((out / "grades.json").read_text())
    assert len(doc["students"]) == 24
    here = grade(subs, tmp_path / "local", "--workers", "1")
    assert scores(doc) == scores(here)
    with sqlite3.connect(book) as db:
        rows = db.execute("select student, unit, count(*) from gradings group by student, unit").fetchall()
    assert len(rows) == 24 and {count for _, _, count in rows} == {1}  # every job once
