"""The command line: help everywhere, exit statuses, outputs, seeds."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner

from autograder.cli import main
from tests.test_hostile import FIXTURE, SOLVED


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    return root


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", [[], ["list"], ["check"], ["grade"], ["hint"], ["dev"], ["dev", "check"]])
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


@pytest.mark.parametrize("args", [
    ["grade", "--help"], ["check", "--help"], ["watch", "--help"], ["check", "--bogus"],
    ["check", "nope"], ["grade", "{subs}", "--out", "{out}", "--units", "nope"], ["release", "{out}", "--units", "nope"],
    ["list"], ["hint", "01_toy"],
])  # fmt: skip
def test_help_lists_and_usage_errors_answer_without_torch(args, course, tmp_path):
    """Only grading needs torch (2 s to import): help, lists, hints and a
    wrong option or unit name answer without it, and without a zygote."""
    (tmp_path / "subs").mkdir()
    argv = [a.format(subs=tmp_path / "subs", out=tmp_path / "out") for a in args] + ["--course", str(course)] * (args[-1] != "--help")
    script = (
        "import sys\nfrom autograder.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as exc:\n    print('exit', exc.code)\n"
        "print('loaded', sorted(m for m in ('torch', 'autograder.zygote') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=course)
    assert "loaded []" in done.stdout, done.stdout + done.stderr
    wrong = args[-1] == "nope" or args[-1] == "--bogus"
    assert ("exit 2" in done.stdout) == wrong, done.stdout + done.stderr


def test_check_stub_fails_and_solution_passes(course):
    """Exit status 0 only when everything passes; --json gives the results."""
    stub = run("check", "01_toy", "--course", str(course), "--json", "--seed", "3")
    assert stub.exit_code == 1
    assert json.loads(stub.output)["units"]["01_toy"]["score"] == 0
    solved = course / "mine.py"
    solved.write_text(SOLVED)
    ok = run("check", "01_toy", "--file", str(solved), "--course", str(course), "--json", "--seed", "3")
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.output)
    assert doc["passed"] and doc["seed"] == 3 and doc["units"]["01_toy"]["score"] == 4


def test_check_table_shows_failures_and_hints(course):
    out = run("check", "--course", str(course), "--seed", "1").output
    assert "make_zeros" in out and "the TODO is not done yet" in out and "hint:" in out


def test_same_seed_same_results(course):
    """--seed reproduces a run exactly."""
    def outcome(seed: str) -> dict:
        doc = json.loads(run("check", "--course", str(course), "--json", "--seed", seed).output)
        for unit in doc["units"].values():
            for c in unit["checks"]:
                c.pop("seconds")  # timings differ between runs; nothing else may
        return doc

    assert outcome("11") == outcome("11")


def test_list_shows_units_and_progress(course):
    assert "not checked" in run("list", "--course", str(course)).output
    (course / "assignments" / "01_toy" / "toy.py").write_text(SOLVED)
    run("check", "--course", str(course), "--seed", "1")
    out = run("list", "--course", str(course)).output
    assert "01_toy" in out and "4/4" in out


def test_unknown_unit_is_a_clear_error(course):
    result = run("check", "nope", "--course", str(course))
    assert result.exit_code == 2 and "no unit named 'nope'" in result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_require_cuda_fails_loudly_without_it(course, tmp_path):
    (tmp_path / "subs" / "a").mkdir(parents=True)
    result = run("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "o"), "--require-cuda", "--course", str(course))
    assert result.exit_code == 2 and "CUDA is required" in result.output


def test_grade_writes_json_and_csv(course, tmp_path):
    """grades.json follows the design's schema; grades.csv has a row per student."""
    subs = tmp_path / "subs"
    for name, src in {"amy": SOLVED, "bob": None}.items():
        (subs / name).mkdir(parents=True)
        if src:
            (subs / name / "toy.py").write_text(src)
    result = run("grade", str(subs), "--out", str(tmp_path / "out"), "--workers", "1", "--seed", "5", "--course", str(course))
    assert result.exit_code == 0, result.output
    assert "cuda: not available, GPU checks not run" in result.output or torch.cuda.is_available()
    text = (tmp_path / "out" / "grades.json").read_text()
    doc = json.loads(text)
    # a line per student: a regrade of one changes one line
    assert [line.split(":")[0].strip() for line in text.splitlines() if line.startswith("  ")] == ['"amy"', '"bob"']
    amy = doc["students"]["amy"]["units"]["01_toy"]
    assert amy["score"] == amy["max_score"] == 4
    for check in amy["checks"]:
        assert set(check) >= {"id", "device", "points", "max_points", "status", "message"}
    assert doc["students"]["bob"]["units"]["01_toy"]["problem"].startswith("missing")
    rows = list(csv.DictReader((tmp_path / "out" / "grades.csv").open()))
    assert [(r["student"], r["01_toy"], r["total"]) for r in rows] == [("amy", "4", "4"), ("bob", "0", "0")]


def test_grade_warms_the_zygote_for_the_units_handed_in(tmp_path, monkeypatch):
    """Graded on all units, a class that handed in unit 01 alone does not
    have its zygote import dynamo and sympy for units 04 and 10."""
    from pathlib import Path

    from autograder.zygote import Zygote

    from autograder import zygote

    root = Path(__file__).resolve().parents[1]
    asked, started = [], []
    monkeypatch.setattr(Zygote, "deepen", lambda self, extras: asked.append(extras))
    real_prestart = zygote.prestart
    monkeypatch.setattr(zygote, "prestart", lambda launch: started.append(launch) or real_prestart(launch))
    (tmp_path / "subs" / "ana").mkdir(parents=True)
    shutil.copy(root / "solutions" / "01_tensors" / "tensors.py", tmp_path / "subs" / "ana")
    result = run("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--workers", "1", "--seed", "5", "--course", str(root))
    assert result.exit_code == 0, result.output
    assert started and asked == []  # started early, and not asked for what no file needs
    doc = json.loads((tmp_path / "out" / "grades.json").read_text())
    assert doc["students"]["ana"]["units"]["01_tensors"]["score"] == doc["students"]["ana"]["units"]["01_tensors"]["max_score"]


def test_the_early_zygote_is_asked_for_what_the_files_handed_in_need(tmp_path, monkeypatch):
    """Both ways, without starting a zygote: unit 10 handed in asks for the
    optimizers' and autograd's imports, unit 01 alone for nothing."""
    from pathlib import Path

    from autograder import confinement, zygote
    from autograder.cli.common import _prestart_zygote
    from autograder.units import load_course

    real = load_course(Path(__file__).resolve().parents[1])
    asked = []

    class Recorder:
        def deepen(self, extras):
            asked.append(extras)

    monkeypatch.setattr(confinement, "bwrap_status", lambda: ("bwrap", ""))
    monkeypatch.setattr(confinement, "plan", lambda *a, **k: None)
    monkeypatch.setattr(zygote, "prestart", lambda launch: Recorder())
    for student, module in (("ana", "tensors.py"), ("ben", "losses_optimizers.py")):
        (tmp_path / student / student).mkdir(parents=True)
        (tmp_path / student / student / module).write_text("x = 1\n")
    _prestart_zygote(real, list(real.units), tmp_path / "ana")
    _prestart_zygote(real, list(real.units), tmp_path / "ben")
    assert asked == [("optimizers", "autograd")]


def test_broken_unit_is_reported_not_fatal(course):
    """A unit whose metadata is broken is listed with the reason; the others still work."""
    broken = course / "assignments" / "02_broken"
    broken.mkdir()
    (broken / "unit.toml").write_text('title = "no order or module"\n')
    out = run("list", "--course", str(course)).output
    assert "01_toy" in out and "02_broken" in out and "missing key" in out
    result = run("check", "02_broken", "--course", str(course))
    assert result.exit_code == 2 and "missing key" in result.output
    assert run("check", "--course", str(course)).exit_code == 2
    assert run("check", "01", "--course", str(course), "--json").exit_code == 1


def test_release_without_hidden_checks_uses_public_ones(course):
    """Without checks/ (a student release), check runs the public checks and says what they do not cover."""
    shutil.rmtree(course / "checks")
    shutil.rmtree(course / "solutions")
    (course / "assignments" / "01_toy" / "toy.py").write_text(SOLVED)
    result = run("check", "--course", str(course), "--seed", "2")
    assert result.exit_code == 0, result.output
    assert "no check for it here" in result.output and "2/2 points" in result.output


def test_an_interpreter_under_a_scratch_folder_is_one_clear_line(course, tmp_path, monkeypatch):
    """A venv made with --copies under /tmp would be covered by each sandbox's
    own /tmp: check and grade say so and what to do, exit 2, no traceback."""
    from autograder.confinement import bwrap_status

    if bwrap_status()[0] is None:
        pytest.skip("needs bubblewrap: unconfined runs build no sandbox filesystem")
    copy = tmp_path / "venv" / "bin" / "python3"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"")
    monkeypatch.setattr("sys.executable", str(copy))
    (course / "class" / "ada").mkdir(parents=True)
    (course / "class" / "ada" / "toy.py").write_text(SOLVED)
    for args in (["check", "01_toy"], ["grade", str(course / "class"), "--out", str(tmp_path / "out")]):
        result = run(*args, "--course", str(course))
        assert result.exit_code == 2, result.output
        assert "lies under a temporary folder" in result.output and "outside /tmp" in result.output
        assert "Traceback" not in result.output
