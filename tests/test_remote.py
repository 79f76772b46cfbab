"""Sandboxes and their proxies: values back, objects behind handles, restarts."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from autograder.sandbox.decoding import facts
from autograder.remote import ImportFailed, Limits, Remote, Sandbox, SandboxError, StudentError
from autograder.zygote import Zygote

SOURCE = textwrap.dedent(
    """
    import numpy as np
    import torch

    calls = []

    def zeros(n, m, device="cpu"):
        print("making zeros")
        return torch.zeros(n, m, device=device)

    def add_(x, y):
        return x.add_(y)

    def first_column(x):
        return x[:, 0]

    def picked(x):
        return x[[0, 1]]

    def flat_view(x):
        return x.view(-1)

    def sub_in_place(w):
        w -= 1

    def forget_grad(w):
        w.grad = None
        w.requires_grad_(False)

    def params(n):
        return (torch.ones(1) for _ in range(n))

    def to_numpy(t):
        return t.numpy()

    def from_numpy(a):
        return torch.from_numpy(a)

    def backward_square(x):
        (x ** 2).sum().backward()

    def intermediate(x):
        return x * 3

    def remember(v):
        calls.append(v)
        return len(calls)

    def whoami():
        import os, sys
        return os.getuid(), sys.path, sys.flags.isolated

    def crash():
        import os
        os._exit(9)

    def raises():
        raise KeyError("missing")

    def loss_of(x):
        return _loss(x, torch.ones(5, 7))

    def _loss(x, y):
        return torch.nn.functional.mse_loss(x, y, reduction="sum")

    class Squares:
        def __init__(self, n):
            self.n = n
        def __len__(self):
            return self.n
        def __getitem__(self, i):
            if i >= self.n:
                raise IndexError(i)
            return torch.tensor([float(i * i)]), i
    """
)


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


@pytest.fixture
def box(zygote, tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(SOURCE)
    sb = Sandbox(zygote, path, "mod", limits=Limits(call_seconds=5))
    yield sb
    sb.close()


def test_tensor_comes_back_plain_with_output_captured(box):
    """A returned tensor is a plain torch.Tensor; what the code printed is kept."""
    out = box.module.zeros(2, 3)
    assert type(out) is torch.Tensor and out.shape == (2, 3)
    assert "making zeros" in box.output


def test_in_place_change_is_mirrored(box):
    """With copy-back asked for, an argument changed in place is changed here too."""
    x, y = torch.ones(3), torch.arange(3.0)
    box.copy_back = True
    out = box.module.add_(x, y)
    assert torch.equal(x, torch.tensor([1.0, 2.0, 3.0]))
    assert facts(out).shares == {"0"}


def test_in_place_change_is_not_mirrored_unless_asked(box):
    """By default the caller's inputs keep their values: expectations computed from
    them afterwards cannot be steered by a submission that changes its arguments."""
    x, y = torch.ones(3), torch.arange(3.0)
    box.copy_back = False
    box.module.add_(x, y)
    assert torch.equal(x, torch.ones(3))
    assert box.mutated == ["0"]


def test_grad_only_copy_back_keeps_values(box):
    """copy_back="grad" brings .grad back but never the values."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    box.copy_back = "grad"
    box.module.backward_square(x)
    assert torch.equal(x.grad, torch.tensor([2.0, 4.0]))
    box.module.sub_in_place(y := torch.ones(2))
    assert torch.equal(y, torch.ones(2))


def test_view_and_copy_are_told_apart(box):
    """Slicing shares memory with the argument; integer-array indexing does not."""
    x = torch.arange(12.0).reshape(3, 4)
    assert facts(box.module.first_column(x)).shares == {"0"}
    assert facts(box.module.picked(x)).shares == frozenset()


def test_numpy_bridge_sharing(box):
    """.numpy() and from_numpy share memory with their argument."""
    t = torch.arange(4.0)
    arr = box.module.to_numpy(t)
    assert type(arr) is np.ndarray and facts(arr).shares == {"0"}
    back = box.module.from_numpy(np.arange(3.0))
    assert facts(back).shares == {"0"}


def test_grad_set_in_the_sandbox_comes_back(box):
    """backward() on a leaf we passed fills our leaf's .grad."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    box.copy_back = True
    box.module.backward_square(x)
    assert torch.equal(x.grad, torch.tensor([2.0, 4.0]))


def test_non_leaf_facts(box):
    """A result computed from a leaf reports is_leaf False and its grad_fn."""
    out = box.module.intermediate(torch.ones(2, requires_grad=True))
    assert facts(out).is_leaf is False and facts(out).grad_fn == "MulBackward0"
    assert facts(out).requires_grad


def test_objects_stay_behind_handles(box):
    """A Dataset is a Remote supporting len, indexing and iteration."""
    ds = box.module.Squares(4)
    assert isinstance(ds, Remote) and ds.remote_type == "mod.Squares"
    assert len(ds) == 4
    x, i = ds[3]
    assert torch.equal(x, torch.tensor([9.0])) and i == 3
    assert [i for _, i in ds] == [0, 1, 2, 3]
    assert ds.n == 4
    ds.n = 2
    assert len(ds) == 2


def test_remote_equality_is_identity(box):
    """A Remote never claims to equal anything but itself."""
    ds = box.module.Squares(1)
    assert ds != 1 and ds != ds.n and ds == ds


def test_make_builds_torch_objects_inside(box):
    """make() builds a torch object in the sandbox; its parameters come back as tensors."""
    lin = box.make("torch.nn.Linear", 3, 2)
    assert lin.is_instance("torch.nn.modules.module.Module")
    assert lin.weight.shape == (2, 3)
    y = lin(torch.ones(4, 3))
    assert y.shape == (4, 2)
    with pytest.raises(StudentError, match="only torch objects"):
        box.make("os.system", "true")


def test_student_exception_is_reported(box):
    """An exception in the submission names its type and message."""
    with pytest.raises(StudentError, match="raises\\(\\) raised KeyError: 'missing'"):
        box.module.raises()


def test_a_traceback_shows_the_submissions_own_lines_only(box):
    """An error raised deep in torch's Python code: the student sees the lines
    of their file that led there, with the expression marked, and none of torch's."""
    with pytest.raises(StudentError, match="RuntimeError") as info:
        box.module.loss_of(torch.ones(3, 4))
    shown = info.value.traceback
    assert shown.count('File "mod.py"') == 2 and "in loss_of" in shown and "in _loss" in shown
    assert "return torch.nn.functional.mse_loss(x, y, reduction=\"sum\")" in shown and "^^^" in shown
    assert "functional.py" not in shown and "torch/" not in shown


def test_crash_restarts_and_old_handles_die(box):
    """After a crash the next call gets a fresh sandbox; handles from before are refused."""
    ds = box.module.Squares(2)
    assert box.module.remember(1) == 1
    with pytest.raises(SandboxError, match="exited with status 9"):
        box.module.crash()
    assert box.module.remember(1) == 1  # fresh module state
    with pytest.raises(SandboxError, match="lost when the sandbox was restarted"):
        len(ds)


def test_import_failure_is_cached(zygote, tmp_path):
    """A file that fails to import fails every request quickly with the same reason."""
    path = tmp_path / "bad.py"
    path.write_text("raise RuntimeError('broken at import')\n")
    sb = Sandbox(zygote, path, "bad")
    for _ in range(2):
        with pytest.raises(ImportFailed, match="broken at import"):
            sb.module  # noqa: B018
    sb.close()


def test_sandbox_is_isolated(box):
    """Run by root or by a user, the sandbox has its own network, PID, mount and IPC namespaces."""
    from autograder.confinement import bwrap_status

    box.module  # noqa: B018
    if bwrap_status()[0] is None:
        pytest.skip(f"no confinement here: {bwrap_status()[1]}")
    assert {"network", "pid", "files", "ipc"} <= set(box.isolated)


def test_get_fetches_without_calling(box):
    """get() returns a torch callable as a handle, to pass into the student's code."""
    relu = box.get("torch.nn.functional.relu")
    assert isinstance(relu, Remote) and relu._callable
    assert torch.equal(relu(torch.tensor([-1.0, 2.0])), torch.tensor([0.0, 2.0]))


def test_runs_unprivileged_and_isolated_from_environment(tmp_path, monkeypatch):
    """As root the sandbox drops to nobody; PYTHONPATH and user site never reach it."""
    import os

    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "torch.py").write_text("raise SystemExit('shadowed torch')\n")
    monkeypatch.setenv("PYTHONPATH", str(evil))
    monkeypatch.setenv("PYTHONSTARTUP", str(evil / "torch.py"))
    path = tmp_path / "mod.py"
    path.write_text(SOURCE)
    (tmp_path / "torch.py").write_text("raise SystemExit('shadowed torch')\n")  # beside the file: not copied
    z = Zygote()
    sb = Sandbox(z, path, "mod")
    try:
        uid, sys_path, isolated_flag = sb.module.whoami()
        assert isolated_flag == 1
        assert str(evil) not in sys_path and str(tmp_path) not in sys_path
        if os.geteuid() == 0:
            assert uid == 65534
        assert sb.module.zeros(1, 2).shape == (1, 2)
    finally:
        sb.close()
        z.close()


def test_transposed_argument_stays_transposed_in_the_sandbox(box):
    """x.t() reaches the submission non-contiguous, so view() fails there as it would locally."""
    x = torch.arange(12.0).reshape(3, 4).t()
    assert facts(box.module.first_column(x)).shares == {"0"}
    with pytest.raises(StudentError, match="view size is not compatible"):
        box.module.flat_view(x)
    assert box.module.flat_view(x.contiguous()).shape == (12,)


def test_missing_attribute_is_an_attribute_error(box):
    """hasattr() and dict() work on remote objects as on local ones."""
    lin = box.make("torch.nn.Linear", 3, 2)
    assert not hasattr(lin, "no_such_thing")
    params = dict(lin.named_parameters())
    assert set(params) == {"weight", "bias"} and params["weight"].shape == (2, 3)


def test_argument_errors_read_as_locally(box):
    """An in-place update of a leaf we passed fails with the message it has locally (not 'a view of')."""
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(StudentError) as info:
        box.module.sub_in_place(w)
    assert info.value.detail.startswith("a leaf Variable that requires grad")


def test_grad_cleared_and_requires_grad_dropped_come_back(box):
    """Setting .grad to None and requires_grad_(False) on an argument are mirrored here."""
    w = torch.ones(2, requires_grad=True)
    w.grad = torch.ones(2)
    box.copy_back = True
    box.module.forget_grad(w)
    assert w.grad is None and not w.requires_grad


def test_list_of_a_remote_generator(box):
    """list() of a remote generator iterates (its len() is a TypeError, as locally)."""
    assert len(list(box.module.params(3))) == 3


def test_state_dict_comes_back_as_a_dict(box):
    """A module's state_dict (an OrderedDict) arrives as a plain dict of tensors."""
    sd = box.make("torch.nn.Linear", 3, 2).state_dict()
    assert type(sd) is dict and set(sd) == {"weight", "bias"} and sd["weight"].shape == (2, 3)


def test_a_zygote_imports_sympy_and_dynamo_only_for_units_that_need_them():
    """Ready means the warm imports; sympy and dynamo (most of a second) only once ``deepen`` asks for them."""
    source = b"import sys, torch\n\ndef loaded(name):\n    torch.ones(2, device='fakegpu').mul_(2)\n    return name in sys.modules\n"
    plain = Zygote()
    try:
        plain.ready()
        box = Sandbox(plain, source, "probe")
        assert box.module.loaded("torch.optim") and not box.module.loaded("sympy") and not box.module.loaded("torch._dynamo")
        assert not box.module.loaded("torch.distributed.tensor")  # fakegpu.warm
        box.close()
    finally:
        plain.close()
    deep = Zygote()
    try:
        deep.start()
        deep.deepen(("optimizers",))
        deep.ready()
        box = Sandbox(deep, source, "probe")
        assert box.module.loaded("torch._dynamo") and box.module.loaded("sympy")
        box.close()
    finally:
        deep.close()


def test_what_a_unit_needs_beyond_torch_is_known_from_its_code():
    from autograder.units import load_course, warm_extras

    course = load_course(Path(__file__).resolve().parent.parent)
    assert warm_extras([course.unit("10_losses_optimizers")]) == ("optimizers", "autograd")
    assert warm_extras([course.unit("04_autograd")]) == ("autograd",)  # backward(gradient=v)
    assert warm_extras([course.unit("01_tensors")]) == ()


def test_a_unit_no_one_handed_in_asks_for_no_extra_imports(monkeypatch, tmp_path):
    """Extras follow the units with a file: a class that handed in unit 01
    alone, graded on all units, does not wait for dynamo and sympy (most of a
    second, in the zygote and the grader) because the course has unit 10."""
    from autograder import runner
    from autograder.jobs import Job
    from autograder.run_settings import RunSettings
    from autograder.units import load_course

    course = load_course(Path(__file__).resolve().parent.parent)
    tensors, optim = course.unit("01_tensors"), course.unit("10_losses_optimizers")
    asked = []
    for name in ("ready", "warm_torch"):
        real = getattr(runner, name)
        monkeypatch.setattr(runner, name, lambda *a, _real=real, _name=name: asked.append((_name, a[-1])) or _real(*a))
    jobs = [Job("ana", tensors, tensors.solution), Job("ana", optim, None, "missing: no file"),
            Job("ben", tensors, tensors.solution), Job("ben", optim, None, "missing: no file")]
    rows = runner.run_jobs(course, jobs, RunSettings(seed=1, workers=1, which="hidden"))
    assert asked and all(extras == () for _, extras in asked), asked
    checks = [r for r in rows if r["kind"] == "check"]
    assert all(r["status"] == "passed" for r in checks if r["unit"] == "01_tensors")
    assert {(r["status"], r["message"]) for r in checks if r["unit"] == optim.name} == {("error", "not graded: missing: no file")}


def test_what_the_grader_needs_beyond_torch_is_known_from_its_checks():
    """The grader's own extras: its checks' names, and the reference's where
    they call it. Unit 06's students build optimizers, its checks do not."""
    from autograder.units import load_course, trusted_extras

    course = load_course(Path(__file__).resolve().parent.parent)
    assert trusted_extras([course.unit("06_gradient_descent")]) == ()
    assert trusted_extras([course.unit("08_logistic_regression")]) == ("optimizers",)  # through the reference
    assert trusted_extras([course.unit("09_modules")]) == ("autograd",)
    assert trusted_extras([course.unit("10_losses_optimizers")]) == ("optimizers", "autograd")
    assert trusted_extras([course.unit("04_autograd")]) == ()


def test_a_grader_warmed_for_optimizers_can_still_fork_its_workers():
    """warm_torch imports dynamo and sympy and steps optimizers before the
    pool forks; a forked worker must still be able to run backward()."""
    code = (
        "import sys\n"
        "from autograder.worker_resources import fork_keeps_autograd, warm_torch\n"
        "warm_torch(('optimizers', 'autograd'))\n"
        "assert 'torch._dynamo' in sys.modules and 'sympy' in sys.modules\n"
        "assert fork_keeps_autograd()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
