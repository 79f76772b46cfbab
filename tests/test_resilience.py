"""The grader's own processes can fail too; a run goes on.

The OOM killer may pick a run's zygote (its largest process): every later
sandbox comes from a new zygote, in this process or in a pool worker that
shared the old one, and a sandbox that went down with it fails its check
with a reason.
"""

from __future__ import annotations

import os

from autograder.grading import grade_class
from autograder.runner import RunSettings
from autograder.units import load_course
from tests.test_hostile import SOLVED
from tests.test_suite import _course


def test_a_zygote_that_dies_mid_run_is_replaced(tmp_path):
    """A check kills its zygote (not the sandbox) after the run's runtime proof;
    the workers' later sandboxes come from a new zygote and every student is graded."""
    root = _course(tmp_path, """
        import os, signal, time

        def _zygote_of(launcher):
            # bubblewrap, its init, then the zygote: the first python below the launcher
            level = [launcher]
            while level:
                for pid in level:
                    with open(f"/proc/{pid}/comm") as fh:
                        if fh.read().startswith("python"):
                            return pid
                level = [int(c) for pid in level for t in os.listdir(f"/proc/{pid}/task")
                         for c in open(f"/proc/{pid}/task/{t}/children").read().split()]

        @check("scale", points=1)
        def test_zygote_killed(student, sandbox):
            if student.scale(torch.ones(1), 3.0).item() == 6.0 and not os.path.exists(os.environ["ZYGOTE_KILLED"]):
                open(os.environ["ZYGOTE_KILLED"], "w").close()
                time.sleep(2)  # the run's runtime proof is done by now
                os.kill(_zygote_of(sandbox.zygote._proc.pid), signal.SIGKILL)
    """)
    victim = SOLVED.replace("return x * factor", "return x * factor * (2 if factor == 3.0 else 1)")
    assert victim != SOLVED
    for name in ("bob", "cy", "dee", "eli", "fay", "gil"):
        (tmp_path / "subs" / name).mkdir()
        (tmp_path / "subs" / name / "toy.py").write_text(victim if name == "cy" else SOLVED)
    course = load_course(root)
    os.environ["ZYGOTE_KILLED"] = str(tmp_path / "killed")
    try:
        done = grade_class(course, tmp_path / "subs", tmp_path / "out", list(course.units), RunSettings(seed=3, which="hidden", workers=2))
    finally:
        del os.environ["ZYGOTE_KILLED"]
    assert (tmp_path / "killed").exists()
    totals = {s: row["total"] for s, row in done.document["students"].items()}
    # cy's scale() is right for every factor but 3.0, the one that kills: it passes every check too
    assert totals == {s: 5.0 for s in ("ann", "bob", "cy", "dee", "eli", "fay", "gil")}, totals
