"""The demo class of the README's main command: current, and graded as described."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading import grade_class
from autograder.runner import RunSettings
from autograder.units import load_course

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "class"


def test_committed_demo_is_current(tmp_path):
    """tools/make_demo.py writes exactly the committed demo/class (rerun it after changing a unit)."""
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_demo.py"), str(tmp_path / "class")], check=True)
    diff = filecmp.dircmp(DEMO, tmp_path / "class")
    stack, differing = [diff], []
    while stack:
        d = stack.pop()
        differing += d.left_only + d.right_only + d.diff_files
        stack += d.subdirs.values()
    assert differing == []


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    course = load_course(ROOT)
    out = tmp_path_factory.mktemp("demo-out")
    return grade_class(course, DEMO, out, list(course.units), RunSettings(seed=99, workers=2)).document


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
