"""How a run splits its jobs between workers."""

from __future__ import annotations

import pytest

from autograder.jobs import Job, chunk_jobs
from autograder.units import load_course
from tests.test_hostile import FIXTURE

UNIT = load_course(FIXTURE).units[0]


def _jobs(students: int, units: int = 1) -> list[Job]:
    # Unit by unit, as intake lists them: a student's jobs are not next to each other.
    return [Job(f"s{i:03d}", UNIT, None, problem=f"unit {u}") for u in range(units) for i in range(students)]


@pytest.mark.parametrize("students,units,workers", [(80, 1, 2), (20, 3, 2), (5, 2, 4), (300, 1, 8), (1, 1, 2), (7, 1, 1)])
def test_each_job_once_and_each_student_whole(students, units, workers):
    jobs = _jobs(students, units)
    chunks = chunk_jobs(jobs, workers)
    assert sorted(j.problem + j.student for c in chunks for j in c) == sorted(j.problem + j.student for j in jobs)
    owner = {}
    for n, chunk in enumerate(chunks):
        assert [jobs.index(j) for j in chunk] == sorted(jobs.index(j) for j in chunk)  # the run's order kept
        for j in chunk:
            assert owner.setdefault(j.student, n) == n  # never split between chunks


def test_chunks_shrink_towards_the_end():
    """A slow submission late in the run holds one worker for a small chunk, not a large one."""
    sizes = [len({j.student for j in c}) for c in chunk_jobs(_jobs(80), 2)]
    assert sizes == sorted(sizes, reverse=True)
    assert max(sizes) <= 16 and sizes[-4:] == [2, 2, 2, 2]
    assert len(chunk_jobs(_jobs(2000), 4)[0]) == 16  # a killed run loses one chunk at most


def test_a_cluster_gets_tasks_of_eight_down_to_one():
    sizes = [len(c) for c in chunk_jobs(_jobs(200), 2, most=8, least=1)]
    assert max(sizes) == 8 and sizes == sorted(sizes, reverse=True) and sizes[-1] == 1 and sum(sizes) == 200
