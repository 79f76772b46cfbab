"""The check API: what a hidden or public check imports.

A check is a pytest test function marked with ``@check``. It gets the
submission as the ``student`` fixture, the device as ``device``, a seeded
``torch.Generator`` as ``gen`` and the reference solution as ``reference``::

    @check("make_zeros", points=2)
    def test_make_zeros(student, device):
        out = student.make_zeros(2, 3, device=device)
        expect_tensor(out, torch.zeros(2, 3, device=device))

The ``expect_*`` helpers fail with messages in tensor terms (shape, dtype,
device, largest error against the tolerance, first mismatching index,
NaN/Inf, ``None`` from an untouched TODO). ``trap(id)`` fails naming a
misconception listed in the unit's metadata.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NoReturn, Sequence

import numpy as np
import pytest
import torch

from autograder.probes import gradients_through, shares_memory
from autograder.sandbox.fakegpu import DEVICE_TYPE as FAKE_GPU, is_plain_tensor
from autograder.sandbox.decoding import facts
from autograder.remote import Remote

__all__ = [
    "gradients_through",
    "shares_memory",
    "check",
    "CheckFailure",
    "TrapHit",
    "fail",
    "trap",
    "as_tensor",
    "expect_tensor",
    "expect_value",
    "expect_close",
    "describe",
    "tolerance",
    "facts",
    "distinct_sizes",
    "expect_tuple",
    "FAKE_GPU",
    "device_work",
    "is_plain_tensor",
    "DEVICE_RULE",
]

#: what a device check tells a student who hard-coded a device
DEVICE_RULE = (
    "every tensor a function makes or returns must be on the device it was asked for "
    "(its device argument, or the device of its input): never a fixed 'cpu' or 'cuda'"
)

_TOLERANCES = {  # (rtol, atol), as torch.testing.assert_close uses by default
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
    torch.complex64: (1.3e-6, 1e-5),
    torch.complex128: (1e-7, 1e-7),
}
# GPU kernels may use other reduction orders and TF32: looser there.
_DEVICE_SLACK = {"cpu": 1.0, "meta": 1.0, FAKE_GPU: 1.0, "cuda": 10.0}


def check(
    exercise: str,
    points: float,
    *,
    traps: Sequence[str] = (),
    fakegpu: bool = True,
    timeout: float | None = None,
    mutates: bool | str = False,
) -> Callable:
    """Mark a test function as a check worth ``points`` for ``exercise``.

    ``traps`` names the misconceptions this check is aimed at (ids from the
    unit's metadata). A check that takes the ``device`` fixture runs on every
    device of the run and also on ``fakegpu``, a second device faked on the
    CPU with real values, so a hard-coded device fails on machines without a
    GPU (``fakegpu=False`` opts out, for checks about the CPU itself); ``timeout`` overrides
    the unit's per-call limit in seconds. ``mutates=True`` copies in-place
    changes the submission makes to arguments (values and ``.grad``) back
    onto the check's own objects, for exercises about in-place work
    (``mutates="grad"``: only ``.grad`` and ``requires_grad``); without
    it a check's inputs stay as they were before the call, so expected values
    computed from them cannot be steered by the submission (the paths it
    changed are in ``sandbox.mutated``).
    """
    if points < 0:
        raise ValueError("points must not be negative")
    return pytest.mark.check(exercise=exercise, points=points, traps=tuple(traps), fakegpu=fakegpu, timeout=timeout, mutates=mutates)


class CheckFailure(AssertionError):
    """A check failed; its message is shown to the student as it is."""


class TrapHit(CheckFailure):
    """The result matches a known misconception, named by ``trap_id``."""

    def __init__(self, trap_id: str, detail: str = "") -> None:
        self.trap_id, self.detail = trap_id, detail
        super().__init__(f"trap {trap_id}: {detail}".rstrip(": "))


def device_work(sandbox: Any, fn: Callable, *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """``fn(*args, **kwargs)`` and how many operators ran on fakegpu in the sandbox meanwhile.

    For exercises whose result leaves the device (a Python float, a NumPy
    array): on fakegpu, zero means the work was done on the CPU. Moving
    fakegpu arguments in and results out counts too, so pass CPU data and
    call it with ``device=FAKE_GPU``.
    """
    count = sandbox.get(f"torch.{FAKE_GPU}.activity")
    before = count()
    out = fn(*args, **kwargs)
    return out, count() - before


def fail(message: str) -> NoReturn:
    raise CheckFailure(message)


def trap(trap_id: str, detail: str = "") -> NoReturn:
    """Fail naming a trap from the unit's metadata; ``detail`` adds what was seen."""
    raise TrapHit(trap_id, detail)


def tolerance(dtype: torch.dtype, device: str | torch.device = "cpu") -> tuple[float, float]:
    """``(rtol, atol)`` for comparing values of ``dtype`` computed on ``device``."""
    rtol, atol = _TOLERANCES.get(dtype, (0.0, 0.0))
    slack = _DEVICE_SLACK.get(torch.device(device).type, 10.0)
    return rtol * slack, atol * slack


def describe(value: Any) -> str:
    """A short, type-exact description of a value for messages."""
    if value is None:
        return "None"
    if isinstance(value, Remote):
        return f"a {value.remote_type} object"
    if is_plain_tensor(value):
        return f"a {_dtype(value.dtype)} tensor of shape {tuple(value.shape)} on {value.device}"
    if type(value) is np.ndarray:
        return f"a NumPy {value.dtype} array of shape {value.shape}"
    if type(value) in (int, float, bool, str):
        return f"{type(value).__name__} {value!r}"
    return f"a {type(value).__name__}"


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _todo(what: str) -> NoReturn:
    fail(f"{what} is None: returned None, the TODO is not done yet (or a return is missing)")


def distinct_sizes(gen: torch.Generator, k: int, lo: int, hi: int) -> list[int]:
    """``k`` different ints in ``[lo, hi)`` drawn from ``gen``: sizes for dimensions, so swapped axes fail."""
    return [v + lo for v in torch.randperm(hi - lo, generator=gen)[:k].tolist()]


def expect_tuple(actual: Any, n: int, what: str = "the result") -> tuple:
    """``actual`` as a tuple of ``n`` items (a list is accepted), or fail saying what came back."""
    if actual is None:
        _todo(what)
    if type(actual) not in (tuple, list) or len(actual) != n:
        got = f"a {type(actual).__name__} of {len(actual)} items" if type(actual) in (tuple, list) else describe(actual)
        fail(f"{what} should be a tuple of {n} items, got {got}")
    return tuple(actual)


def as_tensor(actual: Any, what: str = "the result") -> torch.Tensor:
    """``actual`` if it is a plain ``torch.Tensor``; otherwise fail saying what it is."""
    if actual is None:
        _todo(what)
    if is_plain_tensor(actual):
        return actual
    if isinstance(actual, Remote) and actual.is_instance("torch.Tensor"):
        fail(f"{what} is a {actual.remote_type}, a torch.Tensor subclass: return a plain torch.Tensor")
    fail(f"{what} should be a torch.Tensor, got {describe(actual)}")


def expect_tensor(
    actual: Any,
    expected: torch.Tensor,
    *,
    what: str = "the result",
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
    check_device: bool = True,
) -> torch.Tensor:
    """Fail unless ``actual`` is a tensor matching ``expected`` within tolerance.

    Compares, in order: type, shape, dtype, device, then values (NaN/Inf,
    largest error against the tolerance, first mismatching index). Returns
    the tensor for further checks.
    """
    out = as_tensor(actual, what)
    if out.shape != expected.shape:
        fail(f"{what} has shape {tuple(out.shape)}, expected {tuple(expected.shape)}")
    if check_dtype and out.dtype != expected.dtype:
        fail(f"{what} has dtype {_dtype(out.dtype)}, expected {_dtype(expected.dtype)}")
    if check_device and out.device != expected.device:
        fail(f"{what} is on device {out.device}, expected {expected.device}: {DEVICE_RULE}")
    if expected.device.type == "meta" or out.device.type == "meta":
        return out
    _compare_values(out.detach(), expected.detach(), what, rtol, atol)
    return out


def _compare_values(out: torch.Tensor, expected: torch.Tensor, what: str, rtol: float | None, atol: float | None) -> None:
    a = out.to("cpu")
    e = expected.to("cpu", dtype=a.dtype) if a.dtype != expected.dtype else expected.to("cpu")
    if torch.equal(a, e):  # the same values, as a correct answer's mostly are: within any tolerance
        return
    if not (a.is_floating_point() or a.is_complex()):
        bad = a != e
        if bool(bad.any()):
            idx = _first(bad)
            fail(f"{what} differs at index {idx}: got {a[idx].item()!r}, expected {e[idx].item()!r} ({int(bad.sum())} of {a.numel()} elements differ)")
        return
    d_rtol, d_atol = tolerance(a.dtype, out.device)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    a64, e64 = a.to(torch.complex128 if a.is_complex() else torch.float64), e.to(torch.complex128 if a.is_complex() else torch.float64)
    nan_a, nan_e = torch.isnan(a64), torch.isnan(e64)
    if bool((nan_a & ~nan_e).any()):
        fail(f"{what} contains NaN at index {_first(nan_a & ~nan_e)} ({int(nan_a.sum())} NaN values); expected finite values")
    inf_a = torch.isinf(a64) & ~torch.isinf(e64)
    if bool(inf_a.any()):
        fail(f"{what} contains Inf at index {_first(inf_a)}; expected finite values")
    err = (a64 - e64).abs()
    err = torch.where(nan_a & nan_e, torch.zeros_like(err), err)
    err = torch.where(torch.isinf(e64) & (a64 == e64), torch.zeros_like(err), err)
    allowed = atol + rtol * e64.abs()
    bad = err > allowed
    if bool(bad.any()):
        idx = _first(bad)
        fail(
            f"{what} is not close enough: largest error {float(err.max()):.3g} "
            f"(tolerance atol={atol:.1g}, rtol={rtol:.1g}); first mismatch at index {idx}: "
            f"got {a[idx].item():.6g}, expected {e[idx].item():.6g} ({int(bad.sum())} of {a.numel()} elements off)"
        )


def _first(mask: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in torch.nonzero(mask)[0]) if mask.dim() else ()


def expect_value(actual: Any, expected: Any, *, what: str = "the result") -> Any:
    """Fail unless ``actual`` has exactly the type and value of ``expected``."""
    if actual is None and expected is not None:
        _todo(what)
    if type(actual) is not type(expected):
        fail(f"{what} should be {describe(expected)}, got {describe(actual)}")
    if actual != expected:
        fail(f"{what} is {actual!r}, expected {expected!r}")
    return actual


def expect_close(actual: Any, expected: float, *, what: str = "the result", rtol: float = 1e-5, atol: float = 1e-6) -> float:
    """Fail unless ``actual`` is a Python number within tolerance of ``expected``."""
    if actual is None:
        _todo(what)
    if type(actual) not in (int, float):
        fail(f"{what} should be a Python float, got {describe(actual)}")
    if math.isnan(actual) and not math.isnan(expected):
        fail(f"{what} is NaN, expected {expected:.6g}")
    if not math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol):
        fail(f"{what} is {actual:.6g}, expected {expected:.6g} (error {abs(actual - expected):.3g}, tolerance atol={atol:.1g}, rtol={rtol:.1g})")
    return float(actual)
