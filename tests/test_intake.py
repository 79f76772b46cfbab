"""Intake: every (student, unit) becomes a job; nothing is dropped silently."""

from __future__ import annotations

import json

import pytest

from autograder.intake import IntakeError, discover, notebook_to_source
from autograder.units import load_course
from tests.test_hostile import FIXTURE, SOLVED


@pytest.fixture
def course():
    return load_course(FIXTURE)


def notebook(*cells: str) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": []} for c in cells]
                       + [{"cell_type": "markdown", "source": "# notes", "metadata": {}}]})


def test_files_map_to_jobs_and_problems_are_stated(course, tmp_path):
    """A .py, a notebook, a missing file and an unreadable file each become a job."""
    subs = tmp_path / "subs"
    for s in ("ana", "ben", "cy", "dee"):
        (subs / s).mkdir(parents=True)
    (subs / "ana" / "toy.py").write_text(SOLVED)
    (subs / "ben" / "toy.ipynb").write_text(notebook("import torch", "%matplotlib inline\ndef scale(x, f):\n    return x * f"))
    (subs / "dee" / "toy.py").write_bytes(b"\xff\xfe\x00binary")
    (subs / "dee" / "essay.docx").write_text("hello")
    (subs / "dee" / "other.py").write_text("pass")
    intake = discover(course, subs, list(course.units), tmp_path / "staging")
    jobs = {j.student: j for j in intake.jobs}
    assert set(jobs) == {"ana", "ben", "cy", "dee"}
    assert jobs["ana"].source == subs / "ana" / "toy.py"
    assert jobs["ben"].source.read_text().startswith("import torch")
    assert "# %matplotlib inline" in jobs["ben"].source.read_text()
    assert jobs["cy"].source is None and jobs["cy"].problem.startswith("missing")
    assert jobs["dee"].source is None and "not UTF-8" in jobs["dee"].problem
    assert any("essay.docx" in n and "not a Python file" in n for n in intake.notes)
    assert any("other.py" in n and "matches no unit" in n for n in intake.notes)


def test_broken_notebook_is_a_problem_not_a_crash(course, tmp_path):
    (tmp_path / "subs" / "eve").mkdir(parents=True)
    (tmp_path / "subs" / "eve" / "toy.ipynb").write_text("{not json")
    (job,) = discover(course, tmp_path / "subs", list(course.units), tmp_path / "st").jobs
    assert job.source is None and "not a readable Jupyter notebook" in job.problem


def test_empty_or_missing_folder_is_a_clear_error(course, tmp_path):
    with pytest.raises(IntakeError, match="not a folder"):
        discover(course, tmp_path / "nope", list(course.units), tmp_path)
    with pytest.raises(IntakeError, match="no student folders"):
        discover(course, tmp_path, list(course.units), tmp_path)


def test_notebook_code_cells_only():
    src = notebook_to_source(notebook("x = 1", "!pip install torch\ny = 2"))
    assert "x = 1" in src and "# !pip install torch" in src and "# notes" not in src
