"""Hostile submissions score nothing they did not solve, and the batch goes on.

Every hostile student below solves ``make_zeros`` (2 points) and ``scale``
(1 point) honestly and attacks in ``from_list`` (1 point), which runs between
them, so each must score exactly 3 of 4: the attack earns nothing, and the
sandbox is restarted for the check after it. Attacks at import score 0. One
honest student in the same batch must still get full marks.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from autograder.grading import grade_class
from autograder.runner import RunSettings
from autograder.units import load_course

FIXTURE = Path(__file__).parent / "fixtures" / "course"
SOLVED = (FIXTURE / "solutions" / "01_toy" / "toy.py").read_text()


def _call_attack(body: str) -> str:
    return SOLVED + "\n\ndef from_list(xs):\n" + textwrap.indent(textwrap.dedent(body), "    ")


IN_CALL = {
    "exit_in_call": _call_attack("import os\nos._exit(0)"),
    "sys_exit_in_call": _call_attack("import sys\nsys.exit(0)"),
    "infinite_loop": _call_attack("while True:\n    pass"),
    "allocate_50gb": _call_attack("import torch\nreturn torch.ones(50 * 2**30 // 4)"),
    "allocate_50gb_python": _call_attack("blob = bytearray(50 * 2**30)\nreturn blob"),
    # bounded: 300 forks at most, so a missing limit cannot take the machine down
    "fork_loop": _call_attack(
        "import os, time\nfor _ in range(300):\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)\nreturn None"
    ),
    "print_100mb": _call_attack("line = 'x' * 1_000_000\nfor _ in range(100):\n    print(line)\nreturn None"),
    "segfault": _call_attack("import ctypes\nctypes.string_at(0)"),
    "eq_always_true": _call_attack(
        "class Liar:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n        return False\nreturn Liar()"
    ),
    "tensor_subclass": _call_attack(
        "import torch\nclass Sneaky(torch.Tensor):\n    def __eq__(self, other):\n        return torch.ones_like(self, dtype=torch.bool)\n"
        "    def allclose(self, *a, **k):\n        return True\nreturn Sneaky(torch.zeros(5, dtype=torch.int64))"
    ),
    "torch_function": _call_attack(
        "class Magic:\n    @classmethod\n    def __torch_function__(cls, func, types, args=(), kwargs=None):\n        return True\n    shape = (5,)\n    dtype = None\nreturn Magic()"
    ),
    "patch_allclose": _call_attack(
        "import torch, torch.testing\ntorch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
        "torch.testing.assert_close = lambda *a, **k: None\nreturn torch.full((3,), 7.0)"
    ),
    # An object whose unpickling would run code: it is never pickled, only handled.
    "pickle_payload": _call_attack(
        "import os\nclass Payload:\n    def __reduce__(self):\n        return (os.system, ('touch /tmp/torchgrade-pwned',))\nreturn Payload()"
    ),
    "network": _call_attack("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)\nreturn None"),
    "read_solution": _call_attack(
        f"src = open({str(FIXTURE / 'solutions' / '01_toy' / 'toy.py')!r}).read()\nreturn None"
    ),
}
AT_IMPORT = {
    "exit_at_import": "import os\nos._exit(0)\n",
    "sys_exit_at_import": "import sys\nsys.exit(0)\n",
    "loop_at_import": "while True:\n    pass\n",
    "getattr_everything": "import torch\n\ndef __getattr__(name):\n    return lambda *a, **k: torch.zeros(1)\n",
    "syntax_error": "def make_zeros(:\n",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    for name, source in {**IN_CALL, **AT_IMPORT, "honest": SOLVED}.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "toy.py").write_text(source)
    course = load_course(FIXTURE)
    result = grade_class(course, subs, root / "out", list(course.units), RunSettings(seed=7, workers=2))
    return result.document["students"]


def _rows(graded: dict, student: str) -> list[dict]:
    return graded[student]["units"]["01_toy"]["checks"]


def _from_list(graded: dict, student: str) -> dict:
    return next(r for r in _rows(graded, student) if r["exercise"] == "from_list")


def test_every_student_is_graded(graded):
    """The batch finishes with a row for every student, the honest one at full marks."""
    assert set(graded) == {*IN_CALL, *AT_IMPORT, "honest"}
    assert graded["honest"]["total"] == 4


@pytest.mark.parametrize("student", sorted(IN_CALL))
def test_attack_in_a_call_earns_nothing(graded, student):
    """An attack inside one call fails that check only; the checks after it still run."""
    row = _from_list(graded, student)
    assert row["status"] != "passed", row
    assert row["points"] == 0
    assert graded[student]["total"] == 3, _rows(graded, student)


@pytest.mark.parametrize("student", sorted(AT_IMPORT))
def test_attack_at_import_scores_zero(graded, student):
    """A file that cannot be loaded scores nothing and says why."""
    assert graded[student]["total"] == 0
    for row in _rows(graded, student):
        assert row["status"] in ("error", "timeout", "failed", "skipped")
        assert row["message"]


@pytest.mark.parametrize(
    "student, status, words",
    [
        ("exit_in_call", "error", "exited with status 0"),
        ("sys_exit_in_call", "error", "SystemExit"),
        ("infinite_loop", "timeout", "took longer than 3 s"),
        ("allocate_50gb", "error", "memory"),
        ("allocate_50gb_python", "error", "MemoryError"),
        ("segfault", "error", "segmentation fault"),
        ("eq_always_true", "failed", "should be a torch.Tensor"),
        ("tensor_subclass", "failed", "torch.Tensor subclass"),
        ("torch_function", "failed", "should be a torch.Tensor"),
        ("patch_allclose", "failed", "shape (3,), expected (5,)"),
        ("network", "error", "Network is unreachable"),
        ("pickle_payload", "failed", "should be a torch.Tensor"),
        ("read_solution", "error", "No such file or directory"),
    ],
)
def test_failure_says_what_happened(graded, student, status, words):
    """Each kind of failure gets its own status and a message that says what happened."""
    row = _from_list(graded, student)
    assert row["status"] == status, row
    assert words in row["message"], row["message"]


def test_import_failures_say_why(graded):
    """Import-time failures name the cause."""
    assert "exited with status 0" in _rows(graded, "exit_at_import")[0]["message"]
    assert "SystemExit" in _rows(graded, "sys_exit_at_import")[0]["message"]
    assert _rows(graded, "loop_at_import")[0]["status"] == "timeout"
    assert "SyntaxError" in _rows(graded, "syntax_error")[0]["message"]


def test_no_payload_ran_on_the_trusted_side(graded):
    assert not Path("/tmp/torchgrade-pwned").exists()


def test_no_process_outlives_the_run(graded):
    """Forked children, hung loops and zygotes are all gone once grading returns."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    leftovers = [line for line in out.splitlines() if "autograder.zygote" in line and str(os.getpid()) not in line]
    assert leftovers == []


def test_functions_looked_up_once_are_looked_up_again_after_a_crash(tmp_path):
    """The grader keeps each function's handle for a sandbox's life, not beyond it.

    ``make_zeros`` kills its sandbox on the cpu device: its fakegpu call
    after that must reach the restarted sandbox (no "object lost" error, no
    stale handle). ``scale`` rebinds its own name after one call: the handle kept
    is the function first looked up, as ``f = mod.f`` would be.
    """
    source = SOLVED.replace(
        "    return torch.zeros(n, m, device=device)",
        "    if device == 'cpu':\n        import os\n        os._exit(3)\n    return torch.zeros(n, m, device=device)",
    ).replace("    return x * factor", "    global scale\n    scale = lambda *a, **k: None\n    return x * factor")
    subs = tmp_path / "subs"
    (subs / "amy").mkdir(parents=True)
    (subs / "amy" / "toy.py").write_text(source)
    course = load_course(FIXTURE)
    doc = grade_class(course, subs, tmp_path / "out", list(course.units), RunSettings(seed=7)).document
    rows = {(r["exercise"], r["device"]): r for r in doc["students"]["amy"]["units"]["01_toy"]["checks"]}
    assert rows[("make_zeros", "cpu")]["status"] == "error" and "exited with status 3" in rows[("make_zeros", "cpu")]["message"]
    assert rows[("make_zeros", "fakegpu")]["status"] == "passed"  # in the restarted sandbox
    assert rows[("scale", "cpu")]["status"] == rows[("scale", "fakegpu")]["status"] == "passed"
