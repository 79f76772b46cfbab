"""The trust boundary, attacked as a hostile student would, through a real class run.

Each hostile student solves ``make_zeros`` (2 points) honestly and attacks in
one other exercise; every attack must earn nothing, leave the other students
and the grader unharmed, and leave nothing behind. A second class holds files
that are broken in every way a file can be: each gets 0 with its reason, the
rest of the class is graded, and a rerun works.
"""

from __future__ import annotations

import json
import os
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from autograder.grading import grade_class
from autograder.runner import GradingError, RunSettings, sweep_stale_scratch
from autograder.units import load_course

FIXTURE = Path(__file__).parent / "fixtures" / "course"
REPO = Path(__file__).resolve().parents[1]
SOLVED = (FIXTURE / "solutions" / "01_toy" / "toy.py").read_text()


def _replace(name: str, body: str) -> str:
    """The solved module with one function replaced by an attack."""
    return SOLVED + f"\n\n{textwrap.dedent(body).strip()}\n"


ATTACKS = {
    # Look for copies of the reference (any toy.py, the course's solutions,
    # its git objects) and run the first one found: full marks without solving.
    "search_the_disk": ("from_list", _replace("from_list", f"""
        def from_list(xs):
            import os
            for top, dirs, files in os.walk("/"):
                if top.startswith(("/proc", "/sys")):
                    dirs[:] = []
                    continue
                for name in files:
                    if name == "toy.py" and not top.startswith("/tmp"):
                        scope = {{}}
                        exec(open(os.path.join(top, name)).read(), scope)
                        return scope["from_list"](xs)
            for path in ({str(REPO / '.git' / 'HEAD')!r}, {str(FIXTURE / 'solutions' / '01_toy' / 'toy.py')!r}):
                open(path).read()
            return None
    """)),
    # Change the argument so that an expectation computed from it afterwards agrees.
    "steer_the_expected_value": ("scale", _replace("scale", """
        def scale(x, factor):
            x.zero_()
            return x * factor
    """)),
    # Write a frame header on the server's socket, then trickle a byte at a time.
    "trickle_the_reply": ("from_list", _replace("from_list", """
        def from_list(xs):
            import os, socket, stat, struct, time
            for fd in range(3, 64):
                try:
                    if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                        continue
                    s = socket.socket(fileno=os.dup(fd))
                except OSError:
                    continue
                s.sendall(struct.pack("!I", 64))
                for _ in range(40):
                    s.sendall(b" ")
                    time.sleep(0.5)
            return None
    """)),
    # A tiny reply that is a terabyte once rebuilt (stride 0).
    "expand_bomb": ("from_list", _replace("from_list", """
        def from_list(xs):
            import torch
            return torch.zeros(1).expand(2**40)
    """)),
    # A fakegpu tensor whose wrapper claims the right shape and dtype over
    # values of another size: the bytes that cross must match what it claims.
    "fake_device_lies": ("from_list", _replace("from_list", """
        def from_list(xs):
            import torch
            FakeGPU = type(torch.zeros(1, device="fakegpu"))
            lying = FakeGPU(torch.tensor(xs, dtype=torch.float32))
            lying._data = torch.arange(4 * len(xs), dtype=torch.float32)
            return lying
    """)),
    # The expand bomb again, behind the fake device's wrapper.
    "fake_device_expand_bomb": ("from_list", _replace("from_list", """
        def from_list(xs):
            import torch
            return torch.zeros(1, device="fakegpu").expand(2**40)
    """)),
    # Terminal escape codes in an error message.
    "escape_codes": ("from_list", _replace("from_list", """
        def from_list(xs):
            raise ValueError("\\x1b[2J\\x1b[31mall checks passed\\x1b[0m")
    """)),
}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    for name, (_, source) in {**ATTACKS, "honest": ("", SOLVED)}.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "toy.py").write_text(source)
    course = load_course(FIXTURE)
    before = _scratch()
    start = time.monotonic()
    result = grade_class(course, subs, root / "out", list(course.units), RunSettings(seed=11, workers=2))
    return {"students": result.document["students"], "seconds": time.monotonic() - start,
            "before": before, "after": _scratch(), "out": root / "out"}  # fmt: skip


def _scratch() -> set[str]:
    """Scratch folders left by grader processes that have ended (other live runs are not ours to judge)."""
    left = set()
    for entry in os.listdir(tempfile.gettempdir()):
        if entry.startswith(("sandbox-", "zygote-")):
            left.add(entry)
        elif entry.startswith("torchgrade-") and entry.split("-")[1].isdigit():
            try:
                os.kill(int(entry.split("-")[1]), 0)
            except ProcessLookupError:
                left.add(entry)
            except PermissionError:
                pass
    return left


def _row(doc: dict, student: str, exercise: str) -> dict:
    return next(r for r in doc["students"][student]["units"]["01_toy"]["checks"] if r["exercise"] == exercise)


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_attack_earns_nothing(attacked, student):
    exercise = ATTACKS[student][0]
    row = _row(attacked, student, exercise)
    assert row["status"] != "passed" and row["points"] == 0, row
    assert attacked["students"][student]["total"] == 3, attacked["students"][student]


def test_honest_student_unharmed(attacked):
    assert attacked["students"]["honest"]["total"] == 4


def test_each_attack_is_told_what_happened(attacked):
    assert _row(attacked, "trickle_the_reply", "from_list")["status"] == "timeout"
    assert "memory" in _row(attacked, "expand_bomb", "from_list")["message"]
    assert "memory" in _row(attacked, "fake_device_expand_bomb", "from_list")["message"]
    assert "does not match its bytes" in _row(attacked, "fake_device_lies", "from_list")["message"]
    message = _row(attacked, "escape_codes", "from_list")["message"]
    assert "\x1b" not in message and "\\x1b[2J" in message
    assert "x * 2.5" not in _row(attacked, "steer_the_expected_value", "scale")["message"]


def test_a_trickled_reply_is_cut_at_the_call_deadline(attacked):
    """One deadline for the whole call (3 s here), not one per byte: the class is not held up."""
    assert attacked["seconds"] < 90


def test_nothing_is_left_behind(attacked):
    assert attacked["after"] <= attacked["before"]


def test_stale_scratch_of_a_killed_grader_is_swept():
    dead = 2**22 + 12345  # above pid_max on usual systems: never a live process
    folder = Path(tempfile.gettempdir()) / f"torchgrade-{dead}-stale"
    folder.mkdir()
    (folder / "left.txt").write_text("x")
    assert sweep_stale_scratch() >= 1 and not folder.exists()


def test_gradescope_results_carry_no_other_student(attacked):
    for student in attacked["students"]:
        text = (attacked["out"] / "gradescope" / student / "results.json").read_text()
        others = [s for s in attacked["students"] if s != student and len(s) > 6 and s not in student]
        assert not [s for s in others if s in text], student


def test_grading_refuses_unconfined_unless_asked(monkeypatch, tmp_path):
    """Without confinement, grade refuses untrusted code unless told --unconfined."""
    from autograder import runner

    monkeypatch.setattr(runner, "bwrap_status", lambda: (None, "bubblewrap (bwrap) is not installed"))
    course = load_course(FIXTURE)
    (tmp_path / "subs" / "a").mkdir(parents=True)
    (tmp_path / "subs" / "a" / "toy.py").write_text(SOLVED)
    with pytest.raises(GradingError, match="--unconfined"):
        grade_class(course, tmp_path / "subs", tmp_path / "out", list(course.units), RunSettings(seed=1))


# ---------------------------------------------------------------- broken files


def _notebook(source) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": source, "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


BROKEN = {
    "bad_utf8": ("toy.py", b"def make_zeros(n, m, device='cpu'):\n    return '\xff\xfe'\n"),
    "nul_bytes": ("toy.py", SOLVED.encode() + b"\x00\n"),
    "deep_notebook": ("toy.ipynb", b"[" * 200_000),
    "wrong_json_types": ("toy.ipynb", _notebook(42).encode()),
    "cells_not_a_list": ("toy.ipynb", json.dumps({"cells": {"a": 1}}).encode()),
    "lone_surrogate": ("toy.ipynb", _notebook("x = '\\ud800'").replace("\\\\ud800", "\\ud800").encode()),
    "too_big": ("toy.py", b"#" * (6 << 20)),
}


@pytest.fixture(scope="module")
def broken_class(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("broken")
    subs = root / "submissions"
    for name, (filename, data) in BROKEN.items():
        (subs / name).mkdir(parents=True)
        (subs / name / filename).write_bytes(data)
    (subs / "honest").mkdir()
    (subs / "honest" / "toy.py").write_text(SOLVED)
    (subs / "honest" / "\x1b[31mevil\x1b[0m.py").write_text("pass")
    # A link to the reference, and a FIFO, where the unit file should be.
    (subs / "linked").mkdir()
    (subs / "linked" / "toy.py").symlink_to(FIXTURE / "solutions" / "01_toy" / "toy.py")
    (subs / "fifo").mkdir()
    os.mkfifo(subs / "fifo" / "toy.py")
    (subs / "bad\x1bname").mkdir()
    (subs / "bad\x1bname" / "toy.py").write_text(SOLVED)
    course = load_course(FIXTURE)
    runs = [grade_class(course, subs, root / "out", list(course.units), RunSettings(seed=5, workers=2)) for _ in range(2)]
    return runs


def test_every_broken_file_scores_zero_with_its_reason(broken_class):
    doc = broken_class[0].document
    for student in [*BROKEN, "linked", "fifo"]:
        unit = doc["students"][student]["units"]["01_toy"]
        assert doc["students"][student]["total"] == 0, student
        assert unit["problem"] or all(r["message"] for r in unit["checks"]), student
    assert doc["students"]["honest"]["total"] == 4


def test_an_id_that_is_not_usable_is_graded_under_a_safe_one(broken_class):
    doc = broken_class[0].document
    (safe,) = [s for s in doc["students"] if s.startswith("bad") and s not in BROKEN]
    assert "\x1b" not in safe and doc["students"][safe]["total"] == 4


def test_nothing_printed_or_stored_carries_control_characters(broken_class):
    out = broken_class[0].json_path.parent
    for path in [broken_class[0].json_path, broken_class[0].csv_path, *out.glob("feedback/*.html"), *out.glob("gradescope/*/results.json")]:
        assert "\x1b" not in path.read_text(encoding="utf-8"), path
    assert any("\\x1b[31mevil" in n for n in broken_class[0].document["notes"])


def test_a_rerun_of_a_broken_class_works(broken_class):
    first, again = broken_class
    assert {s: r["total"] for s, r in first.document["students"].items()} == {s: r["total"] for s, r in again.document["students"].items()}
    assert again.graded == 0 and again.reused == first.graded + first.reused  # nothing changed: all reused


# ---------------------------------------------------------------- forged facts

COURSE = REPO

FORGE_SHARES = """
import sys
_wire = sys.modules["torchgrade_sandbox.protocol"]
_wire.EncodeContext.shares = lambda self, obj: sorted(self.args)  # claim every result shares every argument


def flatten_batch(x):
    return x.reshape(x.size(0), -1).clone()  # a copy, not the view asked for
"""

FORGE_GRAPH = """
import sys
_wire = sys.modules["torchgrade_sandbox.protocol"]
_encode = _wire._encode_tensor


def _forged(t, ctx, depth):
    out = _encode(t, ctx, depth)
    out.update(requires_grad=True, is_leaf=False, grad_fn="DivBackward0")
    return out


_wire._encode_tensor = _forged


def softmax(logits):
    with torch.no_grad():  # detached: no graph at all
        e = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
        return e / e.sum(dim=1, keepdim=True)
"""


@pytest.mark.parametrize("unit, attack, check", [
    ("02_reshaping", FORGE_SHARES, "test_flatten_batch_is_view"),
    ("10_losses_optimizers", FORGE_GRAPH, "test_softmax_values"),
])  # fmt: skip
def test_forged_facts_earn_nothing(tmp_path, unit, attack, check):
    """Patching the sandbox side of the protocol to report a view or a graph that is
    not there earns nothing: those checks score behaviour, not the report."""
    from autograder.grading import check_work

    course = load_course(COURSE)
    u = course.unit(unit)
    path = tmp_path / u.filename
    path.write_text(u.solution.read_text() + "\n" + attack)
    result = check_work(course, [u], RunSettings(seed=3, which="hidden"), file=path)
    rows = {r["id"].split("::")[-1]: r for r in result.scores[unit].checks}
    assert rows[check]["status"] == "failed" and rows[check]["points"] == 0, rows[check]
    # the value is right: only the forged property is missing
    assert "share" in rows[check]["message"] or "track gradients" in rows[check]["message"], rows[check]


ANSWER_AHEAD = """

def flatten_batch(x):
    out = x.reshape(x.size(0), -1).clone()  # a copy, not the view asked for
    flat = x.view(x.size(0), -1)
    steps = torch.arange(flat.numel(), dtype=torch.float64).reshape(flat.shape)
    with torch.no_grad():  # the pattern the probe once wrote, written into x ahead of it
        flat.copy_((steps * 0.25 + 7).to(flat.dtype))
    return out
"""


def test_a_probe_cannot_be_answered_ahead(tmp_path):
    """A copy passes for a view only if the submission can write, into its
    argument, what the probe will write into the result: the probe's pattern
    is drawn afresh each time, so no submission knows it ahead."""
    from autograder.grading import check_work

    course = load_course(COURSE)
    u = course.unit("02_reshaping")
    path = tmp_path / u.filename
    path.write_text(u.solution.read_text() + ANSWER_AHEAD)
    result = check_work(course, [u], RunSettings(seed=3, which="hidden"), file=path)
    rows = {r["id"].split("::")[-1]: r for r in result.scores["02_reshaping"].checks}
    view = rows["test_flatten_batch_is_view"]
    assert view["status"] == "failed" and view["points"] == 0 and "share" in view["message"], view
    assert rows["test_flatten_batch_values"]["status"] == "passed"  # the values are right: only the view is missing


# ---------------------------------------------------------------- intake bombs and stale gradings


def test_zip_bomb_is_bounded_while_it_unpacks(tmp_path, monkeypatch):
    """A small zip that expands far beyond its size is refused as it unpacks, not after."""
    import zipfile

    from autograder import intake

    monkeypatch.setattr(intake, "MAX_ZIP_TOTAL", 8 << 20)
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("honest/toy.py", SOLVED)
        for i in range(4):
            zf.writestr(f"bomb/filler{i}.py", b"\0" * (4 << 20))  # 16 MiB of zeros in a few KiB
    assert archive.stat().st_size < 200_000
    course = load_course(FIXTURE)
    with pytest.raises(intake.IntakeError, match="unpacks to more than 8 MiB"):
        intake.discover(course, archive, list(course.units), tmp_path / "staging")
    unpacked = sum(p.stat().st_size for p in (tmp_path / "staging").rglob("*") if p.is_file())
    assert unpacked <= (8 << 20) + (1 << 20)


def test_a_member_over_the_file_limit_costs_only_its_student(tmp_path):
    import zipfile

    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("honest/toy.py", SOLVED)
        zf.writestr("huge/toy.py", b"#" * (40 << 20))
    course = load_course(FIXTURE)
    doc = grade_class(course, archive, tmp_path / "out", list(course.units), RunSettings(seed=2)).document
    assert doc["students"]["honest"]["total"] == 4
    assert doc["students"]["huge"]["total"] == 0 and "limit" in doc["students"]["huge"]["units"]["01_toy"]["problem"]


def test_a_grading_made_by_another_engine_is_not_reused(tmp_path, monkeypatch):
    """The gradebook's key holds the engine's version: a fixed engine grades again."""
    from autograder import gradebook

    (tmp_path / "subs" / "amy").mkdir(parents=True)
    (tmp_path / "subs" / "amy" / "toy.py").write_text(SOLVED)
    course = load_course(FIXTURE)
    run = lambda: grade_class(course, tmp_path / "subs", tmp_path / "out", list(course.units), RunSettings(seed=1))  # noqa: E731
    assert run().graded == 1 and run().reused == 1
    monkeypatch.setattr(gradebook, "engine_hash", lambda: "another engine")
    again = run()
    assert again.graded == 1 and again.reused == 0
