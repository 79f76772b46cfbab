"""Public checks for unit 03_numpy_devices: a few of the cases the grader tries.

Run them with `torchgrade check`. Passing them does not guarantee full
marks: the hidden checks try more sizes, dtypes and devices (including
``fakegpu``, a second device imitated on the CPU, so a hard-coded "cpu" fails
even without a GPU).
"""

import numpy as np
import torch

from autograder.checks import as_tensor, check, expect_tensor, facts, fail, trap
from autograder.remote import StudentError


@check("tensor_to_numpy", points=1, traps=["copy_not_shared"])
def test_tensor_to_numpy_shares(student):
    t = torch.arange(12.0).reshape(3, 4)
    out = student.tensor_to_numpy(t)
    if type(out) is not np.ndarray:
        fail(f"tensor_to_numpy should return a NumPy array, got {type(out).__name__}")
    if out.shape != (3, 4) or out.dtype != np.float32 or not np.array_equal(out, t.numpy()):
        fail(f"tensor_to_numpy(t) should hold t's values as float32 of shape (3, 4), got {out.dtype} of shape {out.shape}")
    if "0" not in facts(out).shares:
        trap("copy_not_shared", "the array holds t's values but in a copy that does not share t's memory")


@check("pick_device", points=1)
def test_pick_device_type(student):
    got = student.pick_device(False)
    if type(got) is not torch.device or got != torch.device("cpu"):
        fail(f"pick_device(False) should return torch.device('cpu'), got {got!r}")


@check("make_on_device", points=1, traps=["hardcoded_device"])
def test_make_on_device(student, device):
    out = as_tensor(student.make_on_device(3, 4, device=device), "the tensor")
    if out.device != torch.empty(0, device=device).device:
        trap("hardcoded_device", f"make_on_device(3, 4, device={device!r}) returned a tensor on {out.device}")
    expect_tensor(out, torch.arange(12, dtype=torch.float32, device=device).reshape(3, 4), what="make_on_device(3, 4)")


@check("to_numpy", points=1, traps=["numpy_needs_detach"])
def test_to_numpy_requires_grad(student):
    t = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    try:
        out = student.to_numpy(t)
    except StudentError as exc:
        if "requires grad" in exc.detail:
            trap("numpy_needs_detach", f"{exc.type}: {exc.detail}")
        raise
    if type(out) is not np.ndarray or not np.array_equal(out, t.detach().numpy()):
        fail(f"to_numpy(t) should be the NumPy array [[1, 2, 3], [4, 5, 6]], got {out!r}")
