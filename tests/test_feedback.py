"""Feedback pages: what a student sees of their own grading, and nothing else."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autograder.grading import grade_class
from autograder.runner import RunSettings
from autograder.units import load_course
from tests.browser import chromium
from tests.browser import pdftotext as pdftotext_binary
from tests.test_hostile import FIXTURE, SOLVED

TRAP = (FIXTURE / "checks" / "01_toy" / "traps" / "int64_default.py").read_text()


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fb")
    subs = root / "subs"
    for name, src in {"amy": SOLVED, "bo": SOLVED + "\n\n" + TRAP, "cat": "<script>alert(1)</script> = 1\n"}.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "toy.py").write_text(src)
    course = load_course(FIXTURE)
    grade_class(course, subs, root / "out", list(course.units), RunSettings(seed=3, workers=1))
    return root / "out" / "feedback"


def test_a_page_per_student_with_checks_and_messages(graded):
    """Each student gets a page with every check, its status, points and the failing message."""
    assert sorted(p.name for p in graded.iterdir()) == ["amy.html", "bo.html", "cat.html"]
    page = (graded / "bo.html").read_text()
    assert "Feedback for bo" in page and "from list" in page and "failed" in page
    assert "Trap: torch.tensor([1, 2]) is int64." in page and "3 of 4" in page.replace("3 / 4", "3 of 4")


def test_page_shows_nothing_it_must_not(graded):
    """No other student, no check source, no script, and the submission's text escaped."""
    page = (graded / "bo.html").read_text()
    assert "amy" not in page and "cat" not in page
    assert "def test_" not in page and "check_hidden" not in page and "expect_tensor" not in page
    cat = (graded / "cat.html").read_text()
    assert "<script" not in cat.lower() and "http" not in cat


def test_failing_check_is_visible_in_a_browser(graded, tmp_path):
    """Rendered by headless Chromium, the failing check and its message are on the page a person sees."""
    browser, pdftotext = chromium(), pdftotext_binary()
    pdf = tmp_path / "bo.pdf"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--no-pdf-header-footer", f"--print-to-pdf={pdf}", (graded / "bo.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "Feedback for bo" in flat and "failed [cpu]" in flat and "is int64" in flat


def test_class_summary_counts(graded):
    """The class page shows the distribution, each check's pass rate and the traps students fell into."""
    page = (graded.parent / "summary.html").read_text()
    assert "3 students" in page and "<svg" in page
    assert "<td>01_toy::test_from_list</td><td class='pts'>33%</td><td class='pts'>3</td>" in page
    assert "<td>01_toy</td><td>int64_default</td><td class='pts'>1</td>" in page
    import re

    assert not re.search(r"\b(amy|bo|cat)\b", page)  # no student names on the class page
