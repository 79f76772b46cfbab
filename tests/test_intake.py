"""Intake: every (student, unit) becomes a job; nothing is dropped silently."""

from __future__ import annotations

import json

import pytest

from autograder.intake import IntakeError, discover, units_handed_in
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
    assert jobs["ana"].origin == subs / "ana" / "toy.py"
    assert jobs["ana"].source.read_bytes() == (subs / "ana" / "toy.py").read_bytes()  # a private copy
    assert jobs["ben"].notebook and "import torch" in jobs["ben"].source.read_text()
    assert jobs["ben"].notes == ("code cell 2: %matplotlib inline is IPython, not Python: skipped",)
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
    with pytest.raises(IntakeError, match="no student submissions"):
        discover(course, tmp_path, list(course.units), tmp_path)


def test_lms_download_newest_resubmission_counts(course, tmp_path):
    """Canvas files map to students; -1, -2 resubmissions: the newest counts; the rest is listed."""
    lms = tmp_path / "lms"
    lms.mkdir()
    (lms / "smithjane_1001_5001_toy.py").write_text("old = 1\n")
    (lms / "smithjane_1001_5002_toy-1.py").write_text("newer = 2\n")
    (lms / "smithjane_LATE_1001_5003_toy-2.py").write_text(SOLVED)
    (lms / "doejohn_1002_5004_toy.ipynb").write_text(notebook("import torch"))
    (lms / "doejohn_1002_5005_report.pdf").write_text("%PDF")
    (lms / "doejohn_1002_5006_helpers.py").write_text("x = 1\n")
    (lms / "readme.txt").write_text("from the LMS")
    intake = discover(course, lms, list(course.units), tmp_path / "st")
    assert intake.layout == "lms"
    jobs = {j.student: j for j in intake.jobs}
    assert set(jobs) == {"smithjane_1001", "doejohn_1002"}
    assert jobs["smithjane_1001"].origin.name == "smithjane_LATE_1001_5003_toy-2.py"
    assert jobs["doejohn_1002"].notebook and "import torch" in jobs["doejohn_1002"].source.read_text()
    text = "\n".join(intake.notes)
    assert "lms/smithjane_1001_5001_toy.py passed over" in text and "lms/smithjane_1001_5002_toy-1.py passed over" in text
    assert "report.pdf: not a Python file" in text and "helpers.py: matches no unit" in text
    assert "readme.txt: not named" in text


def test_zip_of_an_lms_download(course, tmp_path):
    """A .zip is unpacked (refusing paths that escape) and read like the folder."""
    import zipfile

    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("smithjane_1001_5003_toy.py", SOLVED)
    (job,) = discover(course, archive, list(course.units), tmp_path / "st").jobs
    assert job.student == "smithjane_1001" and job.source.read_text() == SOLVED
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.py", "x")
    with pytest.raises(IntakeError, match="outside the folder"):
        discover(course, evil, list(course.units), tmp_path / "st2")


def test_nbgrader_submitted_tree(course, tmp_path):
    """submitted/<student>/<assignment>/ maps by file name; a duplicate keeps the newest, noted."""
    sub = tmp_path / "course" / "submitted"
    (sub / "ana" / "ps1").mkdir(parents=True)
    (sub / "ana" / "ps2").mkdir(parents=True)
    (sub / "ana" / "ps1" / "timestamp.txt").write_text("2026-01-01 10:00:00")
    (sub / "ana" / "ps1" / "toy.py").write_text("old = 1\n")
    (sub / "ana" / "ps2" / "timestamp.txt").write_text("2026-02-01 10:00:00")
    (sub / "ana" / "ps2" / "toy.py").write_text(SOLVED)
    (sub / "ben" / "ps1").mkdir(parents=True)
    (sub / "ben" / "ps1" / "toy.ipynb").write_text(notebook("def scale(x, f):\n    return x * f"))
    intake = discover(course, tmp_path / "course", list(course.units), tmp_path / "st")
    assert intake.layout == "nbgrader"
    jobs = {j.student: j for j in intake.jobs}
    assert jobs["ana"].origin == sub / "ana" / "ps2" / "toy.py"
    assert "return x * f" in jobs["ben"].source.read_text()
    assert any("ana: ps1/toy.py passed over, ps2/toy.py is newer" in n for n in intake.notes)


def test_units_handed_in_by_names_alone_in_every_layout(tmp_path):
    """What the zygote imports ahead follows the units some file is handed in
    for, in each layout; a zip, unopened, counts as every unit."""
    from pathlib import Path

    real = load_course(Path(__file__).resolve().parents[1])
    units = list(real.units)
    folders = tmp_path / "folders"
    (folders / "ana").mkdir(parents=True)
    (folders / "ana" / "tensors.py").write_text("x = 1\n")
    (folders / "ana" / "notes.txt").write_text("training.py")
    (folders / "ben").mkdir()
    (folders / "ben" / "autograd_basics.ipynb").write_text("{}")
    lms = tmp_path / "lms"
    lms.mkdir()
    (lms / "smithjane_1001_5001_training-1.py").write_text("x = 1\n")
    nbgrader = tmp_path / "nb"
    (nbgrader / "submitted" / "cy" / "ps1").mkdir(parents=True)
    (nbgrader / "submitted" / "cy" / "ps1" / "losses_optimizers.ipynb").write_text("{}")
    (nbgrader / "source" / "ps1").mkdir(parents=True)
    (nbgrader / "source" / "ps1" / "data.ipynb").write_text("{}")  # the instructor's, handed in by no one
    zipped = tmp_path / "class.zip"
    zipped.write_bytes(b"PK\x05\x06" + bytes(18))

    def names(root, among=units):
        return [u.name for u in units_handed_in(root, real, among)]

    assert names(folders) == ["01_tensors", "04_autograd"]
    assert names(lms) == ["12_training"]
    assert names(nbgrader) == ["10_losses_optimizers"]
    assert names(folders, [real.unit("04_autograd"), real.unit("12_training")]) == ["04_autograd"]
    assert names(zipped) == [u.name for u in units]
