"""Public checks for unit 05: run them with `torchgrade check`. The hidden checks grade more.

They use the seed tutorial's numbers: x = [1, 2, 3, 4], y = 2 * x, w = 0, for
which the mean squared error is 30 and dLoss/dw is -30.
"""

import torch

from autograder.checks import as_tensor, check, expect_close, expect_tensor, facts, fail


def _seed(device, dtype=torch.float64):
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=dtype, device=device)
    return x, 2 * x, torch.tensor(0.0, dtype=dtype, device=device)


@check("forward_pass", points=1)
def test_forward_seed_public(student, device):
    x, y, w = _seed(device)
    out = student.forward_pass(x, y, w)
    if type(out) is not tuple or len(out) != 3:
        fail(f"forward_pass should return a tuple (y_hat, s, loss), got {out!r}")
    expect_tensor(out[0], torch.zeros(4, dtype=torch.float64, device=device), what="y_hat")
    expect_tensor(out[1], -2 * x, what="s")
    expect_tensor(out[2], torch.tensor(30.0, dtype=torch.float64, device=device), what="loss")


@check("backward_pass", points=1)
def test_backward_seed_public(student, device):
    x, y, w = _seed(device)
    out = student.backward_pass(x, y, w)
    if type(out) is not tuple or len(out) != 2:
        fail(f"backward_pass should return a tuple (dloss_dyhat, dloss_dw), got {out!r}")
    expect_tensor(out[0], -x, what="dloss_dyhat (2 * s / N = -x here)")
    expect_tensor(out[1], torch.tensor(-30.0, dtype=torch.float64, device=device), what="dloss_dw")


@check("seed_example", points=1)
def test_seed_example_public(student, device):
    out = student.seed_example(0.0, device=device)
    if type(out) is not tuple or len(out) != 2:
        fail(f"seed_example should return a tuple (loss, dloss_dw), got {out!r}")
    expect_close(out[0], 30.0, what="the loss at w = 0")
    expect_close(out[1], -30.0, what="dLoss/dw at w = 0")


@check("manual_update", points=1, mutates=True)
def test_manual_update_public(student, device):
    x, y, _ = _seed(device, torch.float32)
    w = torch.tensor(0.0, device=device, requires_grad=True)
    out = as_tensor(student.manual_update(w, x, y, 0.01), "the returned w")
    f = facts(out)
    if not (f.is_leaf and f.requires_grad):
        fail(f"the returned w should still be a leaf that requires grad, got is_leaf={f.is_leaf}, "
             f"requires_grad={f.requires_grad}, grad_fn={f.grad_fn}")
    # w = 0 - 0.01 * (-30) = 0.3
    expect_tensor(w.detach(), torch.tensor(0.3, device=device), what="w after one step")
    if w.grad is not None and bool((w.grad != 0).any()):
        fail("w.grad is not zero after the step: call w.grad.zero_()")
