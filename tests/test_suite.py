"""Check files: loaded as pytest would load them, once per process, and again when they change.

torchgrade runs the checks itself (``autograder.session``) rather than
through pytest's per-test protocol; these tests hold it to what pytest gave:
a plain ``assert`` fails with the values it compared, a broken check file
stops the run naming the file, and a check asks only for the fixtures
checks get.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from autograder.grading import grade_class
from autograder.runner import GradingError, RunSettings
from autograder.suite import checks_in
from autograder.units import load_course
from tests.test_hostile import FIXTURE, SOLVED


def _course(tmp_path: Path, extra_checks: str) -> Path:
    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    hidden = root / "checks" / "01_toy" / "check_hidden.py"
    hidden.write_text(hidden.read_text() + "\n\n" + textwrap.dedent(extra_checks))
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "toy.py").write_text(SOLVED)
    return root


def _grade(tmp_path: Path, root: Path) -> dict:
    course = load_course(root)
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
    done = grade_class(course, tmp_path / "subs", out, list(course.units), RunSettings(seed=3, which="hidden"))
    return {c["id"].split("::")[1] + "@" + c["device"]: c for c in done.document["students"]["ann"]["units"]["01_toy"]["checks"]}


def test_a_plain_assert_fails_with_the_values_it_compared(tmp_path):
    """pytest's assertion rewriting still applies to check files: the message shows both sides."""
    root = _course(tmp_path, """
        @check("scale", points=1)
        def test_scale_plain_assert(student):
            got = student.scale(torch.ones(2), 2.0).tolist()
            assert got == [2.0, 3.0]
    """)
    rows = _grade(tmp_path, root)
    row = rows["test_scale_plain_assert@cpu"]
    assert row["status"] == "failed"
    assert "[2.0, 2.0] == [2.0, 3.0]" in row["message"], row["message"]
    assert rows["test_make_zeros@cpu"]["status"] == "passed"


def test_a_broken_check_file_stops_the_run_naming_it(tmp_path):
    root = _course(tmp_path, "def test_broken(:\n")
    with pytest.raises(GradingError, match=r"the checks could not be collected: .*check_hidden.py cannot be loaded"):
        _grade(tmp_path, root)


def test_a_check_that_asks_for_an_unknown_fixture_is_refused(tmp_path):
    """Only the documented fixtures exist; a pytest fixture a check asks for is named, not silently None."""
    root = _course(tmp_path, """
        @check("scale", points=1)
        def test_uses_tmp_path(student, tmp_path):
            pass
    """)
    with pytest.raises(GradingError, match=r"test_uses_tmp_path asks for 'tmp_path'; a check can take student, sandbox, device, gen, reference"):
        _grade(tmp_path, root)


def test_checks_run_on_each_device_and_fakegpu_unless_they_opt_out(tmp_path):
    root = _course(tmp_path, """
        @check("scale", points=1, fakegpu=False)
        def test_cpu_only(student, device):
            pass
    """)
    found = {(c.name, c.device) for c in checks_in(root / "checks" / "01_toy" / "check_hidden.py", ("cpu",))}
    assert {("test_make_zeros", "cpu"), ("test_make_zeros", "fakegpu"), ("test_cpu_only", "cpu"), ("test_from_list", None)} <= found
    assert ("test_cpu_only", "fakegpu") not in found


def test_a_changed_check_file_is_loaded_again(tmp_path):
    """A process keeps a unit's checks (a worker, the warm checker, watch) until their file changes."""
    root = _course(tmp_path, "")
    path = root / "checks" / "01_toy" / "check_hidden.py"
    before = {c.name for c in checks_in(path, ("cpu",))}
    assert checks_in(path, ("cpu",))[0].function is checks_in(path, ("cpu",))[0].function  # kept, not reloaded
    path.write_text(path.read_text() + textwrap.dedent("""

        @check("scale", points=1)
        def test_added_later(student):
            pass
    """))
    assert {c.name for c in checks_in(path, ("cpu",))} == before | {"test_added_later"}

