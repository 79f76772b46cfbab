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


def start_cluster(tmp_path: Path, workers: list[list[str]], env: dict | None = None):
    """A scheduler and a worker per entry of ``workers`` (its extra options), as processes of their own."""
    info = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--scheduler-file", str(info), "--port", "0", "--no-dashboard"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]  # fmt: skip
    deadline = time.monotonic() + 60
    while not info.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(info.read_text())["address"]
    started = [subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}", *extra],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                env=env)  # fmt: skip
               for i, extra in enumerate(workers)]  # fmt: skip
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(len(workers), timeout=120)
        names = {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}
    return address, procs[0], started, names


def stop(*procs) -> None:
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except (PermissionError, ProcessLookupError):
                p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two workers (no nanny: a killed worker stays dead)."""
    address, scheduler, workers, _ = start_cluster(tmp_path, [["--no-nanny"], ["--no-nanny"]])
    yield address, workers
    stop(scheduler, *workers)


def make_class(root: Path, n: int, kinds: list[str]) -> Path:
    for i in range(n):
        (root / f"s{i:02d}").mkdir(parents=True)
        (root / f"s{i:02d}" / "toy.py").write_text(kinds[i % len(kinds)])
    return root


def grade_command(subs: Path, out: Path, *extra: str) -> list[str]:
    return [str(BIN / "torchgrade"), "grade", str(subs), "--out", str(out), "--course", str(FIXTURE), "--seed", "8", *extra]


def grade(subs: Path, out: Path, *extra: str) -> dict:
    done = subprocess.run(grade_command(subs, out, *extra), capture_output=True, text=True, timeout=900)
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
    wait_for_gradings(book, 2)  # kill a worker once some results are recorded, the rest not yet
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


def wait_for_gradings(book: Path, at_least: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        if book.exists():
            try:
                with sqlite3.connect(book) as db:
                    if db.execute("select count(*) from gradings").fetchone()[0] >= at_least:
                        return
            except sqlite3.OperationalError:  # the grader is still creating its tables
                pass
    raise AssertionError(f"fewer than {at_least} gradings in {book} after {timeout} s")


def test_a_submission_that_kills_its_worker_twice_gets_0_and_no_third_try(tmp_path):
    # Nannies restart the dead workers, so the cluster could go on trying for ever: torchgrade must not.
    kills = tmp_path / "kills.log"
    env = dict(os.environ, TORCHGRADE_TEST_KILLS=str(kills))
    preload = ["--preload", str(Path(__file__).with_name("cluster_preload.py"))]
    address, scheduler, workers, _ = start_cluster(tmp_path, [preload, preload], env)
    try:
        subs = make_class(tmp_path / "subs", 15, [SOLVED])  # 16 students: chunks of 2, so the killer has company
        (subs / "killer").mkdir()
        (subs / "killer" / "toy.py").write_text(SOLVED)
        doc = grade(subs, tmp_path / "cluster", "--scheduler", address)
    finally:
        stop(scheduler, *workers)
    tries = kills.read_text().splitlines()
    assert len(tries) == 2, tries  # once in its chunk, once alone: never a third time
    assert "['killer']" in tries[1]
    killer = doc["students"]["killer"]["units"]["01_toy"]
    assert killer["score"] == 0 and "died, twice" in (killer["problem"] or "") and "not tried a third time" in killer["problem"], killer
    here = grade(subs, tmp_path / "local", "--workers", "1")
    others = {s: v for s, v in scores(doc).items() if s != "killer"}
    expected = {s: v for s, v in scores(here).items() if s != "killer"}
    assert others == expected, {s: (others[s], expected[s]) for s in others if others[s] != expected.get(s)}  # the rest lost nothing
    # The reason is kept: a resumed run shows the same 0 and the same words, and grades nothing again.
    again = subprocess.run(grade_command(subs, tmp_path / "cluster", "--workers", "1"), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "0 gradings made, 16 reused" in again.stderr, again.stderr[-2000:]
    resumed = json.loads((tmp_path / "cluster" / "grades.json").read_text())["students"]
    assert resumed["killer"]["units"]["01_toy"]["score"] == 0 and resumed["killer"]["units"]["01_toy"]["problem"] == killer["problem"]
    assert resumed["s00"]["units"]["01_toy"]["worker"] == doc["students"]["s00"]["units"]["01_toy"]["worker"]  # who graded it, kept too


def test_a_lost_scheduler_ends_the_run_with_what_was_recorded_kept(tmp_path):
    address, scheduler, workers, _ = start_cluster(tmp_path, [["--no-nanny"]])
    subs = make_class(tmp_path / "subs", 16, [SLOW, SLOW + "\n\n" + TRAP])
    out = tmp_path / "cluster"
    try:
        run = subprocess.Popen(grade_command(subs, out, "--scheduler", address), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_gradings(out / "gradebook.db", 2)
        scheduler.kill()
        _, err = run.communicate(timeout=300)
    finally:
        stop(scheduler, *workers)
    assert run.returncode == 2 and "lost the Dask scheduler" in err and "run the same command again" in err, err[-2000:]
    with sqlite3.connect(out / "gradebook.db") as db:
        kept = db.execute("select count(*) from gradings").fetchone()[0]
    assert 2 <= kept < 16
    again = subprocess.run(grade_command(subs, out, "--workers", "1"), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{16 - kept} gradings made, {kept} reused" in again.stderr
    assert scores(json.loads((out / "grades.json").read_text())) == scores(grade(subs, tmp_path / "local", "--workers", "1"))


def test_the_cuda_part_goes_to_the_gpu_worker_only(tmp_path):
    # This machine has no GPU: a worker that offers one anyway is caught, by name, the moment its
    # CUDA part reaches it; the CPU worker, offering none, is never handed a CUDA part.
    address, scheduler, workers, names = start_cluster(tmp_path, [["--no-nanny"], ["--no-nanny", "--resources", "GPU=1"]])
    try:
        subs = make_class(tmp_path / "subs", 4, [SOLVED])
        done = subprocess.run(grade_command(subs, tmp_path / "o", "--scheduler", address), capture_output=True, text=True, timeout=600)
    finally:
        stop(scheduler, *workers)
    # CUDA is in the run by default because a worker offers a GPU.
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"worker {names['w1']} offers the GPU resource but torch there sees no CUDA device" in done.stderr


def test_a_chunk_splits_into_its_cpu_and_cuda_parts(tmp_path):
    """The parts a GPU run sends to different workers, run here: together they are the whole."""
    from autograder.cluster import _payload, course_bundle, grade_chunk
    from autograder.intake import discover
    from autograder.runner import GradingError, RunSettings
    from autograder.units import load_course

    course = load_course(FIXTURE)
    subs = make_class(tmp_path / "subs", 2, [SOLVED, SOLVED + "\n\n" + TRAP])
    jobs = discover(course, subs, [course.unit("01_toy")], tmp_path / "staging").jobs
    bundle = course_bundle(course, [course.unit("01_toy")])
    settings = RunSettings(seed=8)
    rows = lambda part: sorted((r["student"], r["check"], r["device"], r["status"])  # noqa: E731
                               for r in grade_chunk(bundle, _payload(jobs), settings, part, [])["rows"] if r["kind"] == "check")  # fmt: skip
    whole, cpu = rows("all"), rows("cpu")
    assert cpu == whole and {d for *_, d, _ in whole} == {"cpu", "fakegpu"}
    with pytest.raises(GradingError, match="sees no CUDA device"):
        rows("cuda")
    only_fake = grade_chunk(bundle, _payload(jobs), settings.__class__(seed=8, only_devices=("fakegpu",)), "all", [])
    assert {r["device"] for r in only_fake["rows"] if r["kind"] == "check"} == {"fakegpu"}


def test_the_course_travels_with_the_run_and_nothing_else_of_its_folder(tmp_path):
    """Workers need no copy of the course: the bundle has what grading reads, and no link is followed."""
    import io
    import shutil
    import tarfile

    from autograder.cluster import _payload, course_bundle, grade_chunk
    from autograder.intake import discover
    from autograder.runner import RunSettings
    from autograder.units import load_course

    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the workers")
    (root / "checks" / "01_toy" / "leak.txt").symlink_to(secret)
    (root / "assignments" / "01_toy" / "toy.ipynb").write_text("{}")
    (root / "grader-notes.txt").write_text("outside every unit")
    course = load_course(root)
    bundle = course_bundle(course, list(course.units))
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        names = set(tar.getnames())
        assert all(m.isfile() for m in tar.getmembers())
    assert "checks/01_toy/check_hidden.py" in names and "solutions/01_toy/toy.py" in names
    assert not {n for n in names if n.endswith(("leak.txt", ".ipynb", "grader-notes.txt")) or "__pycache__" in n}
    subs = make_class(tmp_path / "subs", 1, [SOLVED])
    jobs = discover(course, subs, list(course.units), tmp_path / "staging").jobs
    payload = _payload(jobs)
    shutil.rmtree(root)  # the worker's side has only the bundle
    got = grade_chunk(bundle, payload, RunSettings(seed=8), "all", [])["rows"]
    assert {r["status"] for r in got if r["kind"] == "check"} == {"passed"}


@pytest.mark.parametrize("filters", [True, False])
def test_a_bundle_unpacks_on_pythons_with_and_without_tar_filters(tmp_path, monkeypatch, filters):
    """Python 3.11 before 3.11.4 (Debian 12's 3.11.2) has no tar filters: a
    worker there unpacked nothing and every submission scored 0. Either way,
    only plain files inside the bundle are written."""
    import io
    import shutil
    import tarfile
    import tempfile

    from autograder.cluster import _unpacked, course_bundle
    from autograder.units import load_course

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where a worker keeps its unpacked copies
    if not filters:  # as Python 3.11.2 is: no data_filter, and extractall() takes no filter=
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
        extract = tarfile.TarFile.extractall

        def without_filters(self, path=".", members=None, *, numeric_owner=False, **options):
            if options:
                raise TypeError(f"extractall() got an unexpected keyword argument {next(iter(options))!r}")
            return extract(self, path, members, numeric_owner=numeric_owner)

        monkeypatch.setattr(tarfile.TarFile, "extractall", without_filters)
    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    course = load_course(root)
    home = _unpacked(course_bundle(course, list(course.units)))
    assert (home / "checks" / "01_toy" / "check_hidden.py").read_text() == (root / "checks" / "01_toy" / "check_hidden.py").read_text()
    for name, kind in (("../evil.py", tarfile.REGTYPE), ("checks/link.py", tarfile.SYMTYPE)):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, "/etc/passwd"
            tar.addfile(info, io.BytesIO(b""))
        with pytest.raises(Exception):
            _unpacked(buf.getvalue())
    assert not (tmp_path / "evil.py").exists() and not list(tmp_path.glob("*/new-*"))


def _bundles(tmp_path, n):
    """``n`` bundles of the fixture course, each with different content."""
    import shutil

    from autograder.cluster import course_bundle
    from autograder.units import load_course

    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    check = root / "checks" / "01_toy" / "check_hidden.py"
    original = check.read_text()
    for i in range(n):
        check.write_text(original + f"\n# edit {i}\n")
        course = load_course(root)
        yield course_bundle(course, list(course.units))


def test_a_worker_unpacks_courses_only_into_a_folder_of_its_own(tmp_path, monkeypatch):
    """/tmp is shared: a folder planted there under the cache's name (open to
    others, a link, another user's) could hold checks that give full marks.
    The worker refuses it, and says what to do."""
    import tempfile

    from autograder.cluster import _unpacked

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bundle = next(_bundles(tmp_path, 1))
    cache = tmp_path / f"torchgrade-courses-{os.getuid()}"
    home = _unpacked(bundle)
    assert home.parent == cache and cache.stat().st_mode & 0o777 == 0o700
    cache.chmod(0o777)
    with pytest.raises(RuntimeError, match="this user's alone"):
        _unpacked(bundle)
    cache.chmod(0o700)
    cache.rename(tmp_path / "elsewhere")
    cache.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RuntimeError, match="remove it"):
        _unpacked(bundle)
    if os.geteuid() == 0:
        cache.unlink()
        (tmp_path / "elsewhere").rename(cache)
        os.chown(cache, 65534, 65534)
        with pytest.raises(RuntimeError, match="another user's"):
            _unpacked(bundle)


def test_a_worker_keeps_its_latest_courses_only(tmp_path, monkeypatch):
    """Each edit of a course is a new bundle; a long-lived worker keeps the
    four it used last, and clears an interrupted unpacking once it is old."""
    import tempfile
    import time

    from autograder.cluster import _KEEP_COURSES, _unpacked

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cache = tmp_path / f"torchgrade-courses-{os.getuid()}"
    bundles = list(_bundles(tmp_path, 7))
    homes = []
    for bundle in bundles[:6]:
        homes.append(_unpacked(bundle))
        time.sleep(0.01)  # distinct times of use
    kept = sorted(p for p in cache.iterdir())
    assert kept == sorted(homes[-_KEEP_COURSES:])
    _unpacked(bundles[2])  # used again: unpacked again, the oldest goes
    stale, fresh = cache / "new-stale", cache / "new-fresh"
    stale.mkdir()
    fresh.mkdir()
    os.utime(stale, (time.time() - 7200,) * 2)
    home = _unpacked(bundles[6])
    left = set(cache.iterdir())
    assert home in left and homes[2] in left and fresh in left and stale not in left
    assert len(left - {fresh}) == _KEEP_COURSES
