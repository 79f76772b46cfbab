"""A check earns its points only where it passed on every device it ran on."""

from __future__ import annotations

from autograder.jobs import Job
from autograder.scoring import score
from autograder.units import load_course
from tests.test_hostile import FIXTURE


def row(check, device, status, points=2.0, exercise="make_zeros"):
    return {"kind": "check", "student": "s", "unit": "01_toy", "check": check, "exercise": exercise, "device": device,
            "max_points": points, "status": status, "message": "", "trap": None}


def test_points_need_every_device():
    """Failing on one device loses the check's points on all devices."""
    unit = load_course(FIXTURE).units[0]
    jobs = [Job("s", unit, None)]
    results = [row("a", "cpu", "passed"), row("a", "meta", "failed"), row("b", "cpu", "passed", 1.0, "scale")]
    s = score(jobs, results)["s"]["01_toy"]
    assert s.score == 1.0 and s.max_score == 3.0
    a_rows = [c for c in s.checks if c["id"] == "01_toy::a"]
    assert [c["points"] for c in a_rows] == [0.0, 0.0]
    assert sum(c["max_points"] for c in a_rows) == 2.0


def test_rows_add_up_to_the_score():
    """Per-device shares of a passed check add up to its points."""
    unit = load_course(FIXTURE).units[0]
    results = [row("a", d, "passed", 1.0) for d in ("cpu", "cuda", "meta")]
    s = score([Job("s", unit, None)], results)["s"]["01_toy"]
    assert abs(sum(c["points"] for c in s.checks) - s.score) < 1e-5 and s.score == 1.0


def test_job_without_results_scores_zero():
    unit = load_course(FIXTURE).units[0]
    s = score([Job("s", unit, None, "missing: no toy.py")], [])["s"]["01_toy"]
    assert s.score == 0 and s.problem.startswith("missing")


def test_missing_isolation_is_warned():
    """A run whose sandboxes lacked a namespace says so; a fully isolated run says nothing."""
    from autograder.runner import isolation_warnings

    assert isolation_warnings([{"kind": "sandbox", "isolated": ["network", "pid", "files", "ipc"]}]) == []
    (warning,) = isolation_warnings([{"kind": "sandbox", "isolated": ["pid"]}])
    assert "unconfined (without files, ipc, network isolation" in warning


def test_a_unit_the_run_zeroed_earns_nothing_from_its_other_part():
    """A cluster job whose CPU part killed its worker twice scores 0, however its CUDA part went."""
    unit = load_course(FIXTURE).units[0]
    why = "the worker grading it died, twice; not tried a third time"
    results = [dict(row("a", "cuda", "passed"), worker="tcp://gpu"),
               {"kind": "problem", "student": "s", "unit": "01_toy", "text": why}]  # fmt: skip
    s = score([Job("s", unit, None)], results)["s"]["01_toy"]
    assert s.score == 0 and s.problem == why and s.worker == "tcp://gpu"


def test_the_worker_of_each_part_is_named():
    unit = load_course(FIXTURE).units[0]
    results = [dict(row("a", "cpu", "passed"), worker="tcp://cpu"), dict(row("a", "cuda", "passed"), worker="tcp://gpu")]
    assert score([Job("s", unit, None)], results)["s"]["01_toy"].worker == "tcp://cpu (cuda: tcp://gpu)"
