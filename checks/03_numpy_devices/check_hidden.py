"""Hidden checks for unit 03_numpy_devices.

Memory sharing is shown by behaviour: ``shares_memory`` writes into the
returned tensor or array in the sandbox and reads the argument back; checks
that grade in-place work (``mutates=True``) get the submission's changes to
a tensor or array we pass copied back into ours.

Device handling without a GPU: every check that takes ``device`` also runs
on ``fakegpu``, a second device faked on the CPU (see
``autograder/sandbox/fakegpu.py``). Its tensors hold real values, so a result
is compared by value; one made on a hard-coded device comes back on the CPU;
``.numpy()`` refuses a fakegpu tensor with the error a CUDA tensor gives; and
the sandbox counts the operators run on fakegpu, so a result computed on the
CPU and only then moved (or, for ``round_trip``, never moved) shows.

``pick_device`` is graded on the machine's real answer and on the opposite
kind of machine, imitated by replacing ``torch.cuda.is_available`` inside
the sandbox for the duration of the calls.
"""

import contextlib
import re
from typing import Iterator

import numpy as np
import torch

from autograder.checks import distinct_sizes, expect_tuple, as_tensor, check, describe, expect_tensor, fail, shares_memory, trap, is_plain_tensor, FAKE_GPU, device_work
from autograder.remote import SandboxError, StudentError


# ------------------------------------------------------------------ helpers




def on(device) -> torch.device:
    """The device a tensor created with ``device=device`` ends up on (cuda -> cuda:0)."""
    return torch.empty(0, device=device).device


def as_array(actual, what: str) -> np.ndarray:
    """``actual`` if it is a NumPy array; otherwise fail saying what it is."""
    if actual is None:
        fail(f"{what} is None: returned None, the TODO is not done yet (or a return is missing)")
    if is_plain_tensor(actual):
        fail(f"{what} should be a NumPy array (np.ndarray), got {describe(actual)}: convert it with .numpy()")
    if type(actual) is not np.ndarray:
        fail(f"{what} should be a NumPy array (np.ndarray), got {describe(actual)}")
    return actual


def expect_array(actual, expected: np.ndarray, *, what: str, rtol: float | None = None, atol: float | None = None) -> np.ndarray:
    """Fail unless ``actual`` is an ndarray with ``expected``'s shape, dtype and values."""
    arr = as_array(actual, what)
    if arr.shape != expected.shape:
        fail(f"{what} has shape {arr.shape}, expected {expected.shape}")
    if arr.dtype != expected.dtype:
        fail(f"{what} has dtype {arr.dtype}, expected {expected.dtype}")
    expect_tensor(torch.from_numpy(np.array(arr)), torch.from_numpy(np.array(expected)), what=what, rtol=rtol, atol=atol)
    return arr


def is_numpy_device_error(exc: StudentError) -> bool:
    """``.numpy()`` (or ``np.asarray``) was called on a tensor that is not on the CPU."""
    return "can't convert" in exc.detail and "numpy" in exc.detail


def is_cuda_error(exc: StudentError, device) -> bool:
    """The code reached for CUDA although ``device`` is not a CUDA device."""
    return torch.device(device).type != "cuda" and re.search(r"cuda|nvidia", exc.detail, re.IGNORECASE) is not None


def expect_on_device(out: torch.Tensor, device, what: str, call: str) -> None:
    """Trap ``hardcoded_device`` unless ``out`` lies on the device asked for."""
    if out.device != on(device):
        trap("hardcoded_device", f"{call} returned {what} on {out.device}, but device={str(device)!r} was asked for")


@contextlib.contextmanager
def gpu_present(sandbox, available: bool | None) -> Iterator[bool]:
    """Make ``torch.cuda.is_available()`` in the sandbox answer ``available``
    (None: leave the machine's own answer); yields the answer in force."""
    real = sandbox.get("torch.cuda.is_available")
    if available is None:
        yield bool(real())
        return
    cuda = sandbox.get("torch.cuda")
    # no-argument torch functions that answer True / False in normal use
    cuda.is_available = sandbox.get("torch.is_grad_enabled" if available else "torch.is_inference_mode_enabled")
    try:
        now = sandbox.get("torch.cuda.is_available")()
        yield bool(now)
    finally:
        try:
            cuda.is_available = real
        except SandboxError:
            pass  # the sandbox died meanwhile; its fresh successor has the real function


# ------------------------------------------------------------------ N1: the NumPy bridge


@check("tensor_to_numpy", points=1)
def test_tensor_to_numpy_values(student, gen):
    m, n = distinct_sizes(gen, 2, 3, 9)
    floats = torch.randn(m, n, generator=gen)
    ints = torch.randint(-100, 100, (n, m), generator=gen)
    expect_array(student.tensor_to_numpy(floats), floats.numpy().copy(), what=f"tensor_to_numpy of a float32 ({m}, {n}) tensor")
    expect_array(student.tensor_to_numpy(ints), ints.numpy().copy(), what=f"tensor_to_numpy of an int64 ({n}, {m}) tensor")


@check("tensor_to_numpy", points=1, traps=["copy_not_shared"])
def test_tensor_to_numpy_shares(student, sandbox, gen):
    m, n = distinct_sizes(gen, 2, 3, 9)
    t = torch.randn(m, n, generator=gen)
    expected = t.numpy().copy()
    out = as_array(student.tensor_to_numpy(t), "tensor_to_numpy(t)")
    shared = shares_memory(sandbox, out, t)
    same = out.shape == expected.shape and out.dtype == expected.dtype and np.array_equal(out, expected)
    if same and not shared:
        trap("copy_not_shared", "the array holds t's values but in a copy that does not share t's memory")
    expect_array(out, expected, what="tensor_to_numpy(t)")
    if not shared:
        fail("the array does not share t's memory: return t.numpy() itself")


@check("scale_with_numpy", points=1, mutates=True)
def test_scale_with_numpy(student, gen):
    m, n = distinct_sizes(gen, 2, 3, 9)
    t = torch.randn(m, n, generator=gen)
    factor = round(1.5 + 2.0 * float(torch.rand((), generator=gen)), 3)
    before = t.clone()
    student.scale_with_numpy(t, factor)
    if torch.equal(t, before):
        fail(
            f"the caller's t did not change after scale_with_numpy(t, {factor}): scale the NumPy view in place "
            "(a = t.numpy(); a *= factor). a = a * factor and np.array(t) make new arrays that t never sees"
        )
    expect_tensor(t, before * factor, what=f"t after scale_with_numpy(t, {factor})")


@check("numpy_to_tensors", points=1, traps=["copy_not_shared"], mutates=True)
def test_numpy_to_tensors_shared(student, sandbox, gen):
    m, n = distinct_sizes(gen, 2, 3, 9)
    a = torch.randn(m, n, generator=gen, dtype=torch.float64).numpy()
    before = a.copy()
    shared = as_tensor(expect_tuple(student.numpy_to_tensors(a), 2, "numpy_to_tensors")[0], "shared")
    is_shared = shares_memory(sandbox, shared, a)
    if shared.shape == (m, n) and torch.equal(shared.double(), torch.from_numpy(before)) and not is_shared:
        trap("copy_not_shared", "shared holds a's old values in a copy: it did not see a += 1, so it does not use a's memory")
    if not np.array_equal(a, before + 1):
        fail("the caller's a did not become a + 1: add 1 in place with a += 1 (a = a + 1 makes a new array)")
    expect_tensor(shared, torch.from_numpy(before + 1), what="shared after a += 1")
    if not is_shared:
        fail("shared does not share a's memory: make it with torch.from_numpy(a)")


@check("numpy_to_tensors", points=1)
def test_numpy_to_tensors_copied(student, sandbox, gen):
    m, n = distinct_sizes(gen, 2, 3, 9)
    a = torch.randn(m, n, generator=gen, dtype=torch.float64).numpy()
    before = a.copy()
    copied = as_tensor(expect_tuple(student.numpy_to_tensors(a), 2, "numpy_to_tensors")[1], "copied")
    if copied.shape == (m, n) and torch.equal(copied.double(), torch.from_numpy(before + 1)):
        fail("copied holds a + 1, the values after the change: make it with torch.tensor(a) before a += 1, and do not let it share a's memory")
    if shares_memory(sandbox, copied, a):
        fail("copied shares a's memory, so it sees a += 1: make an independent copy with torch.tensor(a) (torch.from_numpy and torch.as_tensor share)")
    expect_tensor(copied, torch.from_numpy(before), what="copied (the values of a before a += 1)")


# ------------------------------------------------------------------ N2: choosing a device


def _expect_device(got, expected: str, gpu: bool, prefer: bool) -> None:
    call = f"pick_device({prefer}) on a machine {'with' if gpu else 'without'} a GPU"
    if got is None:
        fail(f"{call} returned None: the TODO is not done yet (or a return is missing)")
    if type(got) is not torch.device:
        fail(f"{call} should return a torch.device such as torch.device({expected!r}), got {describe(got)}")
    if got.type == expected and got.index in (None, 0):
        return
    if got.type == "cuda" and expected == "cpu":
        why = "ask torch.cuda.is_available() before choosing cuda" if prefer else "prefer_gpu is False"
        trap("hardcoded_device", f"{call} returned {got}, expected cpu: {why}")
    if got.type == "cpu" and expected == "cuda":
        trap("hardcoded_device", f"{call} returned cpu, expected cuda: torch.cuda.is_available() is True and the GPU was preferred")
    fail(f"{call} returned {got}, expected torch.device({expected!r})")


@check("pick_device", points=1)
def test_pick_device_type(student):
    got = student.pick_device(False)
    if got is None:
        fail("pick_device(False) returned None: the TODO is not done yet (or a return is missing)")
    if type(got) is not torch.device:
        fail(f"pick_device(False) should return a torch.device, torch.device('cpu'), got {describe(got)}: wrap the name in torch.device(...)")
    if got != torch.device("cpu"):
        fail(f"pick_device(False) returned {got}, expected torch.device('cpu')")


@check("pick_device", points=2, traps=["hardcoded_device"])
def test_pick_device(student, sandbox):
    real = bool(sandbox.get("torch.cuda.is_available")())
    for pretend in (None, not real):  # this machine, then the other kind
        with gpu_present(sandbox, pretend) as gpu:
            if pretend is not None and gpu != pretend:
                continue  # could not imitate the other machine here
            for prefer in (True, False):
                _expect_device(student.pick_device(prefer), "cuda" if prefer and gpu else "cpu", gpu, prefer)


# ------------------------------------------------------------------ N2: creating and moving


@check("make_on_device", points=2, traps=["hardcoded_device"])
def test_make_on_device(student, device, gen):
    rows, cols = distinct_sizes(gen, 2, 2, 9)
    call = f"make_on_device({rows}, {cols}, device={device!r})"
    try:
        out = student.make_on_device(rows, cols, device=device)
    except StudentError as exc:
        if is_cuda_error(exc, device):
            trap("hardcoded_device", f"{call} reached for CUDA: {exc.type}: {exc.detail}")
        raise
    out = as_tensor(out, "the tensor")
    expect_on_device(out, device, "the tensor", call)
    expect_tensor(out, torch.arange(rows * cols, dtype=torch.float32, device=device).reshape(rows, cols), what=f"the tensor from {call}")


@check("move_and_compute", points=2, traps=["hardcoded_device"])
def test_move_and_compute(student, device, gen):
    n, k, m = distinct_sizes(gen, 3, 2, 9)
    x = torch.randn(n, k, generator=gen)
    w = torch.randn(k, m, generator=gen)
    b = torch.randn(m, generator=gen)
    expected = x.to(device) @ w.to(device) + b.to(device)
    call = f"move_and_compute(x, w, b, device={device!r})"
    try:
        out = student.move_and_compute(x, w, b, device=torch.device(device))
    except StudentError as exc:
        if is_cuda_error(exc, device):
            trap("hardcoded_device", f"{call} reached for CUDA: {exc.type}: {exc.detail}")
        if "device" in exc.detail:
            fail(f"{call} mixed devices in one operation ({exc.type}: {exc.detail}): move every operand, x, w and b, with .to(device)")
        raise
    out = as_tensor(out, "x @ w + b")
    expect_on_device(out, device, "x @ w + b", call)
    expect_tensor(out, expected, what=f"x @ w + b from {call}")


# ------------------------------------------------------------------ N2: back to NumPy


@check("to_numpy", points=1, traps=["numpy_needs_cpu"])
def test_to_numpy_any_device(student, device, gen):
    m, n = distinct_sizes(gen, 2, 3, 9)
    t = torch.randn(m, n, generator=gen).to(device)
    try:
        out = student.to_numpy(t)
    except StudentError as exc:
        if is_numpy_device_error(exc):
            trap("numpy_needs_cpu", f"to_numpy of a tensor on {t.device} raised {exc.type}: {exc.detail}")
        raise
    expect_array(out, t.cpu().numpy().copy(), what=f"to_numpy of a float32 ({m}, {n}) tensor on {t.device}")


@check("to_numpy", points=1, traps=["numpy_needs_detach"])
def test_to_numpy_requires_grad(student, gen):
    m, n = distinct_sizes(gen, 2, 3, 9)
    t = torch.randn(m, n, generator=gen, dtype=torch.float64).requires_grad_()
    try:
        out = student.to_numpy(t)
    except StudentError as exc:
        if "requires grad" in exc.detail:
            trap("numpy_needs_detach", f"to_numpy of a tensor with requires_grad=True raised {exc.type}: {exc.detail}")
        raise
    expect_array(out, t.detach().numpy().copy(), what=f"to_numpy of a float64 ({m}, {n}) tensor that requires grad")


@check("round_trip", points=2, traps=["hardcoded_device", "numpy_needs_cpu"])
def test_round_trip(student, sandbox, device, gen):
    n, m = distinct_sizes(gen, 2, 4, 12)
    scale = torch.rand(m, generator=gen) * 4 + 0.5
    shift = torch.randn(m, generator=gen) * 3
    a = (torch.randn(n, m, generator=gen) * scale + shift).numpy()
    x = torch.from_numpy(a.copy()).to(device)
    expected = (x - x.mean(dim=0)) / x.std(dim=0)
    call = f"round_trip(a, device={device!r})"
    try:
        out, ops = device_work(sandbox, student.round_trip, a, device)
    except StudentError as exc:
        if is_numpy_device_error(exc):
            trap("numpy_needs_cpu", f"{call} called .numpy() on a tensor still on the device: {exc.type}: {exc.detail}")
        if is_cuda_error(exc, device):
            trap("hardcoded_device", f"{call} reached for CUDA: {exc.type}: {exc.detail}")
        raise
    if torch.device(device).type == FAKE_GPU and not ops:
        trap("hardcoded_device", f"{call} returned {describe(out)}, but no operation ran on {device}: move the data there with .to(device), compute there, then come back with .cpu()")
    expect_array(out, expected.cpu().numpy(), what=f"the standardised ({n}, {m}) array from {call}", rtol=1e-5, atol=1e-5)
