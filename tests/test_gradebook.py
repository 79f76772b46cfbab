"""The gradebook: resumable after kill -9, nothing lost or counted twice, history kept."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from autograder.grading import default_gradebook_url, grade_class
from autograder.runner import RunSettings
from autograder.units import load_course
from tests.test_hostile import FIXTURE, SOLVED

# scale() hangs: each student costs one 3 s timeout, so a run takes a while
SLOW = SOLVED + "\n\ndef scale(x, factor):\n    while True:\n        pass\n"


def gradings(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT student, unit, run_id FROM gradings ORDER BY student, run_id").fetchall()


def stored(db: Path) -> int:
    """How many gradings a running grader has stored so far (0 while it is still creating its tables)."""
    try:
        return len(gradings(db)) if db.exists() else 0
    except sqlite3.OperationalError:
        return 0


def test_killed_run_resumes_without_loss_or_double_counting(tmp_path):
    """kill -9 part-way, then run again: only the rest is graded, every student once, results whole."""
    subs = tmp_path / "subs"
    names = [f"s{i:02d}" for i in range(8)]
    for name in names:
        (subs / name).mkdir(parents=True)
        (subs / name / "toy.py").write_text(SLOW)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out), "--course", str(FIXTURE),
           "--workers", "1", "--seed", "5"]  # fmt: skip
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    db = out / "gradebook.db"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until some gradings are stored, then kill hard
        if stored(db) >= 2:
            break
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = gradings(db)
    assert 2 <= len(done_before) < len(names), "the run should have been killed part-way"

    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert f"{len(names) - len(done_before)} gradings made, {len(done_before)} reused" in second.stderr.replace("\n", " ")
    after = gradings(db)
    assert sorted(s for s, _, _ in after) == names  # every student exactly once
    assert [g for g in after if g[0] in {s for s, _, _ in done_before}] == done_before  # kept, not redone
    doc = json.loads((out / "grades.json").read_text())
    for name in names:
        unit = doc["students"][name]["units"]["01_toy"]
        assert unit["score"] == 3 and len(unit["checks"]) == 5  # make_zeros and scale on cpu and fakegpu, from_list


def test_fixing_a_check_regrades_and_keeps_history(tmp_path):
    """A changed check re-grades every submission; the old gradings stay as history."""
    course_root = tmp_path / "course"
    shutil.copytree(FIXTURE, course_root)
    subs = tmp_path / "subs"
    (subs / "amy").mkdir(parents=True)
    (subs / "amy" / "toy.py").write_text(SOLVED)
    out = tmp_path / "out"
    course = load_course(course_root)
    first = grade_class(course, subs, out, list(course.units), RunSettings(seed=1))
    again = grade_class(course, subs, out, list(course.units), RunSettings(seed=2))
    assert (first.graded, again.reused, again.graded) == (1, 1, 0)
    checks = course_root / "checks" / "01_toy" / "check_hidden.py"
    checks.write_text(checks.read_text().replace("x * 2.5", "x * 2.5 + 0"))  # a fixed check
    fixed = grade_class(course, subs, out, list(course.units), RunSettings(seed=3))
    assert fixed.graded == 1 and fixed.document["students"]["amy"]["total"] == 4
    assert [run for _, _, run in gradings(out / "gradebook.db")] == [1, 3]  # both gradings kept


def test_a_gradebook_from_an_older_torchgrade_gains_the_new_columns_and_keeps_its_gradings(tmp_path):
    """Columns are only ever added: an older gradebook opens, its gradings are reused, new ones keep notes."""
    subs = tmp_path / "subs"
    (subs / "amy").mkdir(parents=True)
    (subs / "amy" / "toy.py").write_text(SOLVED)
    out = tmp_path / "out"
    course = load_course(FIXTURE)
    first = grade_class(course, subs, out, list(course.units), RunSettings(seed=1))
    with sqlite3.connect(out / "gradebook.db") as con:  # back to the schema before zeroed, notes and worker
        for table, column in (("gradings", "zeroed"), ("gradings", "notes"), ("results", "worker")):
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    again = grade_class(course, subs, out, list(course.units), RunSettings(seed=2))
    assert (again.reused, again.graded) == (1, 0)
    assert again.document["students"]["amy"] == first.document["students"]["amy"]
    with sqlite3.connect(out / "gradebook.db") as con:
        assert "worker" in {row[1] for row in con.execute("PRAGMA table_info(results)")}


def test_what_a_run_said_of_a_grading_survives_a_resumed_run(tmp_path):
    """A notebook's skipped cells and a run's own 0 are stored with the grading, not only its checks."""
    from autograder.gradebook import Gradebook
    from autograder.intake import discover

    subs = tmp_path / "subs"
    for name in ("amy", "bo"):
        (subs / name).mkdir(parents=True)
        (subs / name / "toy.py").write_text(SOLVED)
    course = load_course(FIXTURE)
    jobs = discover(course, subs, list(course.units), tmp_path / "staging").jobs
    book = Gradebook(default_gradebook_url(tmp_path))
    run = book.start_run(1, {})
    said = [{"kind": "note", "student": "amy", "unit": "01_toy", "text": "cell 3 raised NameError: skipped"},
            {"kind": "problem", "student": "bo", "unit": "01_toy", "text": "its worker died, twice; not tried a third time"}]  # fmt: skip
    book.save(run, jobs, said)
    cached = book.cached(jobs)
    assert sorted((k, r["kind"], r["text"]) for k, rows in cached.items() for r in rows) == sorted(
        ((r["student"], r["unit"]), r["kind"], r["text"]) for r in said)  # fmt: skip


def test_a_class_larger_than_a_query_batch_is_found_whole(tmp_path):
    """Stored gradings are looked up 500 students a query: each of 1,100 is
    found again with its own results, none is written twice, and a changed
    file or a changed check is not taken for a stored grading."""
    from autograder.gradebook import Gradebook
    from autograder.jobs import Job

    unit = load_course(FIXTURE).units[0]
    jobs = [Job(f"s{i:04d}", unit, None, problem="missing") for i in range(1100)]
    book = Gradebook(default_gradebook_url(tmp_path))
    run = book.start_run(1, {})
    said = [{"kind": "check", "student": j.student, "unit": unit.name, "check": "c", "exercise": "e", "device": "cpu",
             "status": "failed", "max_points": 1.0, "message": f"said to {j.student}", "trap": None} for j in jobs]  # fmt: skip
    book.save(run, jobs, said)
    book.save(run, jobs[::-1], said)  # again, in another order: nothing is written twice
    assert (book.count("gradings"), book.count("results")) == (1100, 1100)
    cached = book.cached(jobs)
    assert len(cached) == 1100 and all([r["message"] for r in rows] == [f"said to {s}"] for (s, _), rows in cached.items())
    assert book.cached([Job("s0001", unit, None, problem="another file")]) == {}
    changed = dataclasses.replace(unit, root=tmp_path)  # its checks hash differently (none there)
    assert book.cached([Job("s0001", changed, None, problem="missing")]) == {}
