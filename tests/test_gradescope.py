"""Gradescope: results.json per student, and the autograder zip run as Gradescope would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from autograder.cli import main
from tests.test_hostile import FIXTURE, SOLVED

TRAP = (FIXTURE / "checks" / "01_toy" / "traps" / "int64_default.py").read_text()
STATUSES = {"passed", "failed"}


def validate(results: dict) -> None:
    """The fields Gradescope reads, with their types, and a score that adds up."""
    assert set(results) >= {"score", "execution_time", "output", "tests"}
    assert isinstance(results["score"], (int, float)) and isinstance(results["output"], str)
    for t in results["tests"]:
        assert set(t) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert t["status"] in STATUSES and t["visibility"] == "visible" and 0 <= t["score"] <= t["max_score"]
    assert abs(sum(t["score"] for t in results["tests"]) - results["score"]) < 1e-6


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
    assert "from_list" in failed["name"] and "int64" in failed["output"]


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
