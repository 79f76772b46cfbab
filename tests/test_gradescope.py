"""Gradescope: results.json per student, and the autograder zip run as Gradescope would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema

import pytest
from click.testing import CliRunner

from autograder.cli import main
from tests.test_hostile import FIXTURE, SOLVED

TRAP = (FIXTURE / "checks" / "01_toy" / "traps" / "int64_default.py").read_text()
STATUSES = {"passed", "failed"}


SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope_results.json").read_text())


def validate(results: dict) -> None:
    """Gradescope's documented schema, and a score that adds up."""
    jsonschema.validate(results, SCHEMA)
    assert results["output_format"] == results["test_output_format"] == "md"
    for t in results["tests"]:
        assert t["status"] in STATUSES and 0 <= t["score"] <= t["max_score"]
        assert t["visibility"] == ("visible" if t["name"].endswith("· file") else "after_published")
    assert abs(sum(t["score"] for t in results["tests"]) - results["score"]) < 1e-6


def test_the_schema_refuses_what_gradescope_would():
    """The schema check can fail: a made-up visibility or a missing score is refused."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"score": 1, "execution_time": 0, "output": "", "tests": [{"name": "a", "score": 1, "max_score": 1,
                                                                                       "visibility": "sometimes"}]}, SCHEMA)  # fmt: skip
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"execution_time": 0, "output": "", "tests": []}, SCHEMA)


def test_grade_writes_results_json_per_student(tmp_path):
    """torchgrade grade writes gradescope/<student>/results.json for every student."""
    subs = tmp_path / "subs"
    for name, src in {"amy": SOLVED, "bo": SOLVED + "\n\n" + TRAP}.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "toy.py").write_text(src)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(subs), "--out", str(out), "--workers", "1", "--course", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    amy = json.loads((out / "gradescope" / "amy" / "results.json").read_text())
    bo = json.loads((out / "gradescope" / "bo" / "results.json").read_text())
    validate(amy)
    validate(bo)
    assert amy["score"] == 4 and bo["score"] == 3
    (failed,) = [t for t in bo["tests"] if t["status"] == "failed"]
    assert "from_list" in failed["name"] and "int64" in failed["output"] and failed["output"].startswith("```\n")
    assert amy["execution_time"] > 0  # the time amy's checks took


def test_a_unit_can_make_its_checks_visible(tmp_path):
    from autograder.gradescope import results_json

    course = tmp_path / "course"
    shutil.copytree(FIXTURE, course)
    with (course / "assignments" / "01_toy" / "unit.toml").open("a") as fh:
        fh.write('\n[gradescope]\nvisibility = "visible"\n')
    from autograder.gradescope import visibility
    from autograder.units import load_course

    units = list(load_course(course).units)
    assert visibility(units) == {"01_toy": "visible"}
    doc = {"students": {"a": {"total": 0, "units": {"01_toy": {"problem": None, "checks": [
        {"id": "01_toy::t", "exercise": "e", "device": "cpu", "points": 0, "max_points": 1, "status": "failed", "message": "```x```"}]}}}},
        "notes": [], "seed": 1, "cuda": "cuda: not available"}  # fmt: skip
    result = results_json(doc, "a", visible=visibility(units))
    assert result["tests"][0]["visibility"] == "visible" and result["tests"][0]["output"].startswith("~~~~\n")  # a fence the text cannot close
    (course / "assignments" / "01_toy" / "unit.toml").write_text(
        (course / "assignments" / "01_toy" / "unit.toml").read_text().replace('"visible"', '"to everyone"'))
    from autograder.units import UnitError

    with pytest.raises(UnitError, match="use one of hidden, after_due_date, after_published, visible"):
        visibility(list(load_course(course).units))


def test_a_linked_upload_is_not_followed(tmp_path):
    """A student uploads toy.py as a link to the course's own solution, and a linked folder: neither is read."""
    zip_path = tmp_path / "autograder.zip"
    CliRunner().invoke(main, ["gradescope", "build", str(zip_path), "--course", str(FIXTURE)])
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root)
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    (root / "submission" / "toy.py").symlink_to(root / "source" / "solutions" / "01_toy" / "toy.py")
    (root / "submission" / "inside").symlink_to(root / "source" / "solutions" / "01_toy", target_is_directory=True)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), TORCHGRADE_PYTHON=sys.executable)
    run = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    assert results["score"] == 0 and "missing" in results["tests"][-1]["output"]
    assert "toy.py cannot be read" in results["output"] and "inside/: a link to a folder, not followed" in results["output"]


def test_autograder_zip_runs_in_a_scratch_layout(tmp_path):
    """The zip's run_autograder grades /autograder/submission into a valid results.json."""
    zip_path = tmp_path / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", "build", str(zip_path), "--course", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        assert {"setup.sh", "run_autograder", "source/pyproject.toml", "source/checks/01_toy/check_hidden.py"} <= set(names)
        zf.extractall(root)
    (root / "run_autograder").chmod(0o755)
    (root / "submission" / "work").mkdir(parents=True)
    (root / "submission" / "work" / "toy.py").write_text(SOLVED + "\n\n" + TRAP)  # uploaded inside a folder
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), TORCHGRADE_PYTHON=sys.executable)
    run = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    assert results["score"] == 3 and "seed" in results["output"]


@pytest.mark.parametrize("script", ["setup.sh", "run_autograder"])
def test_zip_scripts_are_executable_bash(tmp_path, script):
    CliRunner().invoke(main, ["gradescope", "build", str(tmp_path / "a.zip"), "--course", str(FIXTURE)])
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        info = zf.getinfo(script)
        assert (info.external_attr >> 16) & 0o111 and zf.read(script).startswith(b"#!/usr/bin/env bash")
    subprocess.run(["bash", "-n", "-c", zipfile.ZipFile(tmp_path / "a.zip").read(script).decode()], check=True)
