"""The gradebook on PostgreSQL: the same resumable behaviour through a postgresql:// URL.

Starts a throwaway server (unix socket only, no TCP) with the machine's
PostgreSQL binaries, as the postgres user; skipped where there are none.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from autograder.grading import grade_class
from autograder.runner import RunSettings
from autograder.units import load_course
from tests.test_hostile import FIXTURE, SOLVED

pytest.importorskip("psycopg")
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


@pytest.fixture(scope="module")
def postgres():
    if not BIN or os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs PostgreSQL's binaries and root (to run the server as postgres)")
    # pytest's own temp folders are root-only; the server runs as postgres
    base = Path(tempfile.mkdtemp(prefix="torchgrade-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    for p in (base, sock):
        shutil.chown(p, "postgres", "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, f"{BIN[-1]}/initdb", "-D", str(data), "-A", "trust"], check=True, capture_output=True)
    subprocess.run([*as_pg, f"{BIN[-1]}/pg_ctl", "-D", str(data), "-w", "-o", f"-k {sock} -c listen_addresses=''",
                    "-l", str(base / "log"), "start"], check=True, capture_output=True, timeout=60)  # fmt: skip
    try:
        subprocess.run([*as_pg, f"{BIN[-1]}/createdb", "-h", str(sock), "grades"], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@/grades?host={sock}"
    finally:
        subprocess.run([*as_pg, f"{BIN[-1]}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_postgres_gradebook_reuses_and_keeps_history(postgres, tmp_path):
    """Through --db postgresql://, a second run reuses the grading and a changed file is graded anew."""
    import sqlalchemy as sa

    subs = tmp_path / "subs"
    (subs / "amy").mkdir(parents=True)
    (subs / "amy" / "toy.py").write_text(SOLVED)
    course = load_course(FIXTURE)
    first = grade_class(course, subs, tmp_path / "out", list(course.units), RunSettings(seed=1), db=postgres)
    again = grade_class(course, subs, tmp_path / "out", list(course.units), RunSettings(seed=2), db=postgres)
    (subs / "amy" / "toy.py").write_text(SOLVED + "\n# a new version\n")
    third = grade_class(course, subs, tmp_path / "out", list(course.units), RunSettings(seed=3), db=postgres)
    assert (first.graded, again.reused, third.graded) == (1, 1, 1)
    assert third.document["students"]["amy"]["total"] == 4
    with sa.create_engine(postgres).connect() as db:
        assert db.execute(sa.text("SELECT count(*) FROM gradings")).scalar() == 2
        assert db.execute(sa.text("SELECT count(*) FROM runs")).scalar() == 3
