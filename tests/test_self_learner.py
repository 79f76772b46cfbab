"""A self-learner's loop: hints in levels, watch, solutions earned, reset."""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.hints import hint_levels
from autograder.units import load_course
from tests.test_hostile import FIXTURE, SOLVED

ROOT = Path(__file__).resolve().parent.parent
STUB = (FIXTURE / "assignments" / "01_toy" / "toy.py").read_text()


@pytest.fixture
def course(tmp_path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "course", ignore=shutil.ignore_patterns("__pycache__", ".torchgrade"))
    return tmp_path / "course"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_hints_come_one_level_more_each_time_and_a_level_on_demand(course):
    first = run("hint", "01_toy", "from_list", "--course", str(course)).output
    second = run("hint", "01_toy", "from_list", "--course", str(course)).output
    third = run("hint", "01_toy", "from_list", "--course", str(course)).output
    assert "hint 1 of 3" in first and "It practises T2" in first
    assert "hint 2 of 3" in second and "`torch.tensor`" in second and "dtype=torch.float32" not in second
    assert "hint 3 of 3" in third and "torch.tensor(___, dtype=___)" in third
    assert "hint 1 of 3" in run("hint", "01_toy", "from_list", "--level", "1", "--course", str(course)).output
    assert "·h3" in run("list", "--course", str(course)).output  # hints used are part of the progress


def test_the_hint_without_an_exercise_is_for_the_first_not_passed(course):
    (course / "assignments" / "01_toy" / "toy.py").write_text(STUB.replace(
        'raise NotImplementedError("TODO: return an (n, m) float32 tensor of zeros on device")', "return torch.zeros(n, m, device=device)"))
    run("check", "01_toy", "--course", str(course), "--seed", "1")
    assert run("hint", "01_toy", "--course", str(course)).output.startswith("from_list")


def test_the_reference_sketch_blanks_every_value():
    unit = load_course(ROOT).unit("04_autograd")
    sketch = hint_levels(unit, "make_leaf")[2]
    assert "torch.tensor(___, dtype=___, device=___, requires_grad=___)" in sketch


def test_a_release_ships_levels_one_and_two_unless_asked(course, tmp_path):
    assert run("release", str(tmp_path / "r2"), "--course", str(course)).exit_code == 0
    assert run("release", str(tmp_path / "r3"), "--hint-levels", "3", "--course", str(course)).exit_code == 0
    shipped = tomllib.loads((tmp_path / "r2" / "assignments" / "01_toy" / "unit.toml").read_text())["released_hints"]
    assert {len(v) for v in shipped.values()} == {2} and "___" not in str(shipped)
    assert "torch.tensor(xs" not in (tmp_path / "r2" / "assignments" / "01_toy" / "unit.toml").read_text()
    assert {len(v) for v in tomllib.loads((tmp_path / "r3" / "assignments" / "01_toy" / "unit.toml").read_text())["released_hints"].values()} == {3}
    # in the release, hint reads what was shipped
    assert "hint 2 of 2" in run("hint", "01_toy", "scale", "--level", "2", "--course", str(tmp_path / "r2")).output


def test_solution_refuses_before_a_pass_and_shows_after(course):
    refused = run("solution", "01_toy", "scale", "--course", str(course))
    assert refused.exit_code == 2 and "not yet: scale of 01_toy has not passed" in refused.output
    mine = course / "assignments" / "01_toy" / "toy.py"
    mine.write_text(SOLVED.replace("return x * factor", "return factor * x"))
    run("check", "01_toy", "--course", str(course), "--seed", "1")
    shown = run("solution", "01_toy", "scale", "--course", str(course))
    assert shown.exit_code == 0 and "return x * factor" in shown.output
    assert "how it differs from yours" in shown.output and "-    return factor * x" in shown.output


def test_giving_up_shows_it_and_is_recorded(course):
    shown = run("solution", "01_toy", "from_list", "--give-up", "--course", str(course))
    assert shown.exit_code == 0 and "torch.tensor(xs, dtype=torch.float32)" in shown.output
    assert "you gave up on this one" in run("solution", "01_toy", "from_list", "--course", str(course)).output


def test_reset_restores_the_stub_and_keeps_a_backup(course):
    """In a course checkout the untouched stub is git's; in a release, the copy the release keeps."""
    git = ["git", "-C", str(course), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "the course"]):
        subprocess.run(git + args, check=True, capture_output=True)
    mine = course / "assignments" / "01_toy" / "toy.py"
    mine.write_text(SOLVED)
    out = run("reset", "01_toy", "scale", "--course", str(course)).output
    text = mine.read_text()
    assert 'raise NotImplementedError("TODO: return x times factor")' in text and "return torch.zeros(n, m" in text  # only scale
    backup = Path(re.search(r"kept in (\S+)", out.replace("\n", "")).group(1))
    assert backup.read_text() == SOLVED
    run("reset", "01_toy", "--course", str(course))
    assert mine.read_text() == STUB


def _read_until(fd: int, pattern: str, timeout: float, seen: list[str]) -> float:
    """Read the pseudo-terminal until ``pattern`` shows; return when it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, "".join(seen)):
            return time.monotonic()
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen.append(os.read(fd, 65536).decode(errors="replace"))
            except OSError:
                break
    raise AssertionError(f"{pattern!r} never showed; the terminal had:\n{''.join(seen)[-3000:]}")


def test_watch_in_a_terminal_fails_then_passes_and_moves_on(course):
    """Driven in a pseudo-terminal as a learner uses it: save wrong, see why; save right, see it move on."""
    import pty

    mine = course / "assignments" / "01_toy" / "toy.py"
    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS="120", LINES="40", TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "watch", "01_toy", "--course", str(course)],
                            stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)  # fmt: skip
    os.close(follower)
    seen: list[str] = []
    try:
        _read_until(leader, r"01_toy · make_zeros.*\n(.|\n)*✗ test_make_zeros", 120, seen)
        seen.clear()
        mine.write_text(STUB.replace('raise NotImplementedError("TODO: return an (n, m) float32 tensor of zeros on device")',
                                     "return torch.ones(n, m, device=device)"))  # fmt: skip
        _read_until(leader, r"✗ test_make_zeros \[cpu\]: the result is not close enough", 60, seen)
        seen.clear()
        mine.write_text(STUB.replace('raise NotImplementedError("TODO: return an (n, m) float32 tensor of zeros on device")',
                                     "return torch.zeros(n, m, device=device)"))  # fmt: skip
        _read_until(leader, r"✓ make_zeros passes\. Next: from_list", 60, seen)
        assert "01_toy · from_list" in "".join(seen) and "1/3 exercises pass" in "".join(seen)
        os.write(leader, b"h")
        _read_until(leader, r"hint 1 of 3: It practises T2", 30, seen)
        os.write(leader, b"q")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)


def test_reset_in_a_release_and_without_any_copy(course, tmp_path):
    release = tmp_path / "release"
    assert run("release", str(release), "--course", str(course)).exit_code == 0
    mine = release / "assignments" / "01_toy" / "toy.py"
    mine.write_text(SOLVED)
    assert run("reset", "01_toy", "--course", str(release)).exit_code == 0 and mine.read_text() == STUB
    shutil.rmtree(release / ".torchgrade" / "stubs")
    refused = run("reset", "01_toy", "--course", str(release))
    assert refused.exit_code == 2 and "no untouched copy of assignments/01_toy/toy.py" in refused.output
