"""The demo class of the README's main command: current, and graded as described."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.grading import grade_class
from autograder.runner import RunSettings
from autograder.units import load_course

ROOT = Path(__file__).resolve().parent.parent


def test_demo_is_written_from_the_course_and_rewritten_in_place(tmp_path):
    """`torchgrade demo DIR` writes the class; again into the same folder rewrites it; a foreign folder is refused."""
    from click.testing import CliRunner

    from autograder.cli import main

    out = tmp_path / "class"
    assert CliRunner().invoke(main, ["demo", str(out), "--course", str(ROOT)]).exit_code == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["ada", "ben", "cleo", "dev", "eve", "finn", "gus"]
    unit = load_course(ROOT).unit("04_autograd")
    assert (out / "ada" / unit.filename).read_text() == unit.solution.read_text()
    assert (out / "ben" / unit.filename).read_text() == unit.stub.read_text()  # made from the units: it cannot drift
    (out / "ada" / unit.filename).write_text("changed")
    assert CliRunner().invoke(main, ["demo", str(out), "--course", str(ROOT)]).exit_code == 0
    assert (out / "ada" / unit.filename).read_text() == unit.solution.read_text()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "work.py").write_text("x = 1")
    refused = CliRunner().invoke(main, ["demo", str(tmp_path / "mine"), "--course", str(ROOT)])
    assert refused.exit_code == 2 and "holds no earlier demo" in refused.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from autograder.demo import write_demo

    course = load_course(ROOT)
    made = write_demo(course, tmp_path_factory.mktemp("demo") / "class")
    out = tmp_path_factory.mktemp("demo-out")
    return grade_class(course, made, out, list(course.units), RunSettings(seed=99, workers=2)).document


UNITS = [u.name for u in load_course(ROOT).units]


def test_demo_covers_every_unit(demo):
    """The demo class is graded on every unit of the course."""
    assert [u["name"] for u in demo["units"]] == UNITS and len(UNITS) == 12


def test_demo_grades_as_described(demo):
    """Full marks, untouched stubs, partial work, typical bugs and notebooks each grade as expected."""
    s = demo["students"]
    full = s["ada"]["max_total"]
    assert s["ada"]["total"] == full and s["finn"]["total"] == full  # finn hands in notebooks
    assert s["ben"]["total"] == 0
    assert 0 < s["cleo"]["total"] < full
    assert s["cleo"]["units"][UNITS[-1]]["problem"].startswith("missing")
    for student in ("dev", "eve"):  # one typical bug (a trap) per unit
        for unit in s[student]["units"].values():
            assert 0 < unit["score"] < unit["max_score"]
            assert any(c["trap"] for c in unit["checks"] if c["status"] == "failed")


def test_misbehaving_student_is_contained(demo):
    """gus hangs in one call and exits at import in another unit; the rest of his work counts."""
    gus = demo["students"]["gus"]["units"]
    first, second, third = UNITS[:3]
    statuses = {c["status"] for c in gus[first]["checks"]}
    assert "timeout" in statuses and 0 < gus[first]["score"] < gus[first]["max_score"]
    assert gus[second]["score"] == 0
    assert gus[third]["score"] == gus[third]["max_score"]
    assert any("notes.txt" in n for n in demo["notes"])
