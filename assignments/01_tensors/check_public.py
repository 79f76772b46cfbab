"""Public checks for unit 01_tensors: a few of the cases the grader tries.

Run them with `torchgrade check`. Passing them does not guarantee full
marks: the hidden checks try more sizes, dtypes and devices.
"""

import torch

from autograder.checks import as_tensor, check, expect_tensor, expect_value, facts, fail, trap


@check("basic_tensors", points=2)
def test_basic_tensors(student, device):
    zeros, ones, scratch = student.basic_tensors(3, 4, device=device)
    expect_tensor(zeros, torch.zeros(3, 4, device=device), what="zeros")
    expect_tensor(ones, torch.ones(4, dtype=torch.int32, device=device), what="ones")
    scratch = as_tensor(scratch, "scratch")
    if tuple(scratch.shape) != (3, 4) or scratch.dtype != torch.float64:
        fail(f"scratch should be a float64 tensor of shape (3, 4), got {scratch.dtype} of shape {tuple(scratch.shape)}")
    if scratch.device != torch.empty(0, device=device).device:
        fail(f"scratch is on {scratch.device}, expected {device}")


@check("from_python", points=1, traps=["int64_default"])
def test_from_python_vector(student, device):
    vector, _ = student.from_python([7, 3, 9], 5, device=device)
    vector = as_tensor(vector, "vector")
    if vector.dtype == torch.int64:
        trap("int64_default", "torch.tensor([7, 3, 9]) gave an int64 tensor, expected float32")
    expect_tensor(vector, torch.tensor([7.0, 3.0, 9.0], device=device), what="vector")


@check("pick", points=1)
def test_pick(student):
    x = torch.arange(12).reshape(3, 4)
    row, col, corner = student.pick(x)
    expect_tensor(row, torch.tensor([0, 1, 2, 3]), what="row (x[0])")
    expect_tensor(col, torch.tensor([0, 4, 8]), what="col (x[:, 0])")
    expect_value(corner, 0, what="corner (x[0, 0].item())")


@check("slice_views", points=1, traps=["view_vs_copy"])
def test_slice_evens_view(student):
    x = torch.arange(15.0).reshape(5, 3)
    _, evens = student.slice_views(x, 1)
    evens = as_tensor(evens, "evens")
    if torch.equal(evens, x[::2]) and "0" not in facts(evens).shares:
        trap("view_vs_copy", "evens holds the right rows but in a copy that does not share x's memory")
    expect_tensor(evens, x[::2], what="evens")
