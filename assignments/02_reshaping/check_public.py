"""Public checks for unit 02 (reshaping): run them with `torchgrade check 02_reshaping`.

They try one fixed case per function. Passing them does not guarantee full
marks: the hidden checks try other sizes, batches of one, transposed and
permuted inputs, and other functions.
"""

import torch

from autograder.checks import as_tensor, check, expect_tensor, fail, trap


@check("flatten_batch", points=1)
def test_flatten_batch(student):
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    out = as_tensor(student.flatten_batch(x), "the flattened batch")
    if tuple(out.shape) == (120,):
        fail("the result has shape (120,): the batch dimension was flattened too; use x.view(x.size(0), -1)")
    expect_tensor(out, torch.arange(120, dtype=torch.float32).reshape(2, 60), what="the flattened batch")


@check("drop_channel", points=1, traps=["squeeze_batch"])
def test_drop_channel_batch_of_one(student):
    x = torch.arange(12, dtype=torch.float32).reshape(1, 1, 3, 4)
    out = as_tensor(student.drop_channel(x), "the batch without a channel dimension")
    if tuple(out.shape) == (3, 4):
        trap("squeeze_batch", "a batch of one image (1, 1, 3, 4) came back as (3, 4): squeeze() removed the batch dimension too; use x.squeeze(1)")
    expect_tensor(out, torch.arange(12, dtype=torch.float32).reshape(1, 3, 4), what="the batch without a channel dimension")


@check("regression_errors", points=1, traps=["broadcast_column"])
def test_regression_residuals(student):
    pred = torch.tensor([[1.0], [2.0], [4.0]])
    target = torch.tensor([0.5, 2.5, 3.0])
    out = student.regression_errors(pred, target)
    if type(out) not in (tuple, list) or len(out) != 2:
        fail("regression_errors should return a tuple (residuals, mse)")
    residuals, mse = out
    residuals = as_tensor(residuals, "residuals")
    if tuple(residuals.shape) == (3, 3):
        trap("broadcast_column", "residuals has shape (3, 3): (3, 1) minus (3,) broadcasts to every prediction minus every target; use pred.squeeze(1)")
    expect_tensor(residuals, torch.tensor([0.5, -0.5, 1.0]), what="residuals")
    expect_tensor(mse, torch.tensor(0.5), what="mse")


@check("batched_matmul", points=1)
def test_batched_matmul(student):
    a = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)
    b = torch.ones(2, 4, 5)
    expected = torch.stack([a[0] @ b[0], a[1] @ b[1]])
    expect_tensor(student.batched_matmul(a, b), expected, what="(2, 3, 4) @ (2, 4, 5)")
