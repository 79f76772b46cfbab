"""Feedback in tensor terms, and trap naming."""

from __future__ import annotations

import pytest
import torch

from autograder.checks import CheckFailure, TrapHit, as_tensor, expect_close, expect_tensor, expect_value, tolerance, trap
from autograder.session import classify
from autograder.remote import StudentError
from autograder.units import load_course
from tests.test_hostile import FIXTURE


def message(fn, *args, **kw) -> str:
    with pytest.raises(CheckFailure) as info:
        fn(*args, **kw)
    return str(info.value)


def test_none_says_the_todo_is_not_done():
    """A None result is reported as an unfinished TODO."""
    assert "returned None, the TODO is not done yet" in message(expect_tensor, None, torch.zeros(2))


@pytest.mark.parametrize(
    "actual, words",
    [
        (torch.zeros(3, 2), "has shape (3, 2), expected (2, 3)"),
        (torch.zeros(2, 3, dtype=torch.float64), "has dtype float64, expected float32"),
        (torch.zeros(2, 3, device="meta"), "is on device meta, expected cpu"),
        ([[0.0] * 3] * 2, "should be a torch.Tensor, got a list"),
    ],
)
def test_shape_dtype_device_and_type_are_named(actual, words):
    """Shape, dtype, device and type mismatches each say expected against received."""
    assert words in message(expect_tensor, actual, torch.zeros(2, 3))


def test_value_mismatch_gives_largest_error_and_first_index():
    """A numeric mismatch reports the largest error, the tolerance and the first bad index."""
    expected = torch.zeros(3, 4)
    actual = expected.clone()
    actual[1, 2] = 0.5
    actual[2, 3] = 0.25
    text = message(expect_tensor, actual, expected)
    assert "largest error 0.5" in text and "index (1, 2)" in text and "2 of 12" in text


def test_nan_and_inf_are_named():
    """NaN or Inf where finite values were expected is said plainly."""
    assert "contains NaN at index (1,)" in message(expect_tensor, torch.tensor([0.0, float("nan")]), torch.zeros(2))
    assert "contains Inf" in message(expect_tensor, torch.tensor([float("inf"), 0.0]), torch.zeros(2))


def test_integer_mismatch_names_index():
    assert "differs at index (2,)" in message(expect_tensor, torch.tensor([1, 2, 4]), torch.tensor([1, 2, 3]))


def test_tolerance_depends_on_dtype_and_device():
    """Wider tolerances for lower precision and on CUDA."""
    assert tolerance(torch.float16)[0] > tolerance(torch.float32)[0] > tolerance(torch.float64)[0]
    assert tolerance(torch.float32, "cuda")[1] > tolerance(torch.float32, "cpu")[1]
    expect_tensor(torch.tensor([1.0 + 1e-7]), torch.tensor([1.0]))


def test_value_helpers_are_type_exact():
    """expect_value refuses a value of another type even if it compares equal."""
    assert "should be int 1, got float 1.0" in message(expect_value, 1.0, 1)
    assert "should be a Python float" in message(expect_close, torch.tensor(1.0), 1.0)
    assert expect_close(1.0 + 1e-9, 1.0) == pytest.approx(1.0)
    assert as_tensor(torch.ones(1)).shape == (1,)


def test_trap_message_comes_from_metadata():
    """A trap hit shows the trap's title and explanation from unit.toml."""
    unit = load_course(FIXTURE).units[0]
    with pytest.raises(TrapHit) as info:
        trap("int64_default", "got int64")
    status, text, trap_id = classify(info.value, unit)
    assert status == "failed" and trap_id == "int64_default"
    assert text.startswith("Trap: torch.tensor([1, 2]) is int64.") and "(got int64)" in text


def test_not_implemented_is_a_todo_and_other_errors_keep_the_traceback():
    """NotImplementedError reads as an unfinished TODO; other exceptions show the student's frames."""
    unit = load_course(FIXTURE).units[0]
    todo = StudentError("make_zeros()", {"type": "NotImplementedError", "message": "TODO"})
    assert classify(todo, unit)[1].endswith("the TODO is not done yet")
    other = StudentError("make_zeros()", {"type": "ValueError", "message": "bad", "traceback": 'File "toy.py", line 3'})
    status, text, _ = classify(other, unit)
    assert status == "error" and 'File "toy.py", line 3' in text


def test_hidden_check_source_is_never_shown(tmp_path):
    """A plain assert in a hidden check reports values, never the check's source lines."""
    import shutil

    from autograder.grading import check_work
    from autograder.runner import RunSettings

    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    checks = root / "checks" / "01_toy" / "check_hidden.py"
    checks.write_text(checks.read_text() + '''

@check("scale", points=1)
def test_secret_scaling(student):
    # SECRET-COMMENT: the grader multiplies by three
    secret_factor = 3.0
    secret_result = student.scale(torch.ones(2), secret_factor)
    assert secret_result.sum() == 7.0, "scaled values are off"
''')
    course = load_course(root)
    result = check_work(course, list(course.units), RunSettings(seed=1), file=root / "solutions" / "01_toy" / "toy.py")
    (row,) = [r for r in result.scores["01_toy"].checks if r["id"].endswith("test_secret_scaling")]
    assert row["status"] == "failed"
    assert "scaled values are off" in row["message"] and "6" in row["message"]
    for secret in ("SECRET", "secret_factor", "secret_result", "def test_", "check_hidden.py", "student.scale"):
        assert secret not in row["message"], row["message"]


def test_workers_of_a_process_that_ran_autograd_are_spawned_not_forked():
    """torch refuses backward() in a child forked after its parent ran autograd: every expected
    gradient would then fail as if the student's. The pool notices and spawns its workers instead."""
    import subprocess
    import sys

    code = (
        "import torch; from autograder.worker_resources import fork_keeps_autograd as clean; before = clean(); "
        "torch.ones(1, requires_grad=True).sum().backward(); print(before, clean())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", "False"], done.stderr[-2000:]
