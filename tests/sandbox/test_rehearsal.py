"""The zygote runs the common operators once, so that its sandboxes do not
pay their first use; doing so it imports nothing a unit did not ask for,
and leaves autograd working in every sandbox it forks."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from autograder.confinement import bwrap_status, plan
from autograder.remote import Limits, Sandbox
from autograder.zygote import Zygote

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(bwrap_status()[0] is None and not os.environ.get("CI"), reason="needs bubblewrap")
# How long a zygote may take to fall idle and rehearse (it takes 30 ms).
SETTLE_S = 20

LOOK = textwrap.dedent(
    """
    import sys, torch

    OPS = ("aten::mse_loss", "aten::_log_softmax", "aten::addmm", "aten::nll_loss_forward")

    def state():
        # operators Python dispatch (fakegpu's) has met in this process: torch's registry of them
        from torch._library import simple_registry
        met = simple_registry.singleton._data
        return {
            "rehearsed": [name for name in OPS if name in met],
            "imported": [name for name in ("sympy", "torch._dynamo") if name in sys.modules],
            "first": torch.rand(3).tolist(),
            "backward": backward(),
        }

    def backward():
        x = torch.ones(2, requires_grad=True)
        try:
            (x * 3).sum().backward()
        except RuntimeError as exc:  # a zygote that ran autograd poisons its forks
            return str(exc)[:200]
        return x.grad.tolist()
    """
)


def _state(zygote: Zygote, tmp_path: Path, look: str = LOOK, seed: int = 7) -> dict:
    path = tmp_path / "look.py"
    path.write_text(look)
    box = Sandbox(zygote, path, "look", seed=seed, limits=Limits(call_seconds=30))
    try:
        return box.module.state()
    finally:
        box.close()


def _settled_state(zygote: Zygote, tmp_path: Path, want: int, look: str = LOOK) -> dict:
    """What a sandbox inherits, once the zygote has had time to rehearse (it does so only when idle)."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        found = _state(zygote, tmp_path, look)
        if len(found["rehearsed"]) == want or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_sandboxes_inherit_the_rehearsed_operators_and_no_extra_import(tmp_path):
    zygote = Zygote(plan([str(ROOT)], allow_unconfined=False))
    try:
        zygote.ready()
        found = _settled_state(zygote, tmp_path, want=4)
    finally:
        zygote.close()
    assert found["rehearsed"] == ["aten::mse_loss", "aten::_log_softmax", "aten::addmm", "aten::nll_loss_forward"]
    assert found["imported"] == []  # sympy and dynamo stay for the units that ask (EXTRA_IMPORTS)
    assert found["backward"] == [3.0, 3.0]  # the rehearsal never runs autograd's engine


def test_a_sandbox_draws_by_its_own_seed_before_and_after_the_rehearsal(tmp_path):
    """The rehearsal draws random numbers; a student's draws depend on their
    seed alone, not on whether the zygote had rehearsed yet."""
    zygote = Zygote(plan([str(ROOT)], allow_unconfined=False))
    try:
        zygote.ready()
        early = _state(zygote, tmp_path)  # may come before the rehearsal
        late = _settled_state(zygote, tmp_path, want=4)
        other = _state(zygote, tmp_path, seed=8)
    finally:
        zygote.close()
    assert late["first"] == early["first"] != other["first"]


def test_a_unit_that_deepens_the_zygote_gets_its_optimizers_rehearsed(tmp_path):
    """Adam's operators, once the zygote has imported what optimizers need."""
    zygote = Zygote(plan([str(ROOT)], allow_unconfined=False))
    try:
        zygote.deepen(("optimizers",))
        zygote.ready()
        look = LOOK.replace("OPS = (", 'OPS = ("aten::addcdiv_", "aten::lerp_.Scalar", ')
        found = _settled_state(zygote, tmp_path, want=6, look=look)
    finally:
        zygote.close()
    assert found["rehearsed"][:2] == ["aten::addcdiv_", "aten::lerp_.Scalar"]
    assert "torch._dynamo" in found["imported"]
    assert found["backward"] == [3.0, 3.0]


def test_rehearsing_leaves_the_generator_and_a_forked_childs_autograd_alone():
    """The trusted side rehearses before it forks its workers: their checks
    draw what they would have drawn, and their backward() still runs. In a
    fresh process: one that has run autograd (this one may have) forks no
    child that can."""
    import subprocess
    import sys

    script = (
        "import torch\n"
        "from autograder.sandbox import rehearsal\n"
        "from autograder.worker_resources import fork_keeps_autograd\n"
        "state = torch.random.get_rng_state()\n"
        "rehearsal.rehearse(('base', 'optimizers'))\n"
        "print(torch.equal(torch.random.get_rng_state(), state), fork_keeps_autograd())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.split() == ["True", "True"], done.stderr[-2000:]
