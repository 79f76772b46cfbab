"""Public checks for unit 04: run them with `torchgrade check`. The hidden checks grade more."""

import torch

from autograder.checks import as_tensor, check, expect_close, expect_tensor, facts, fail


@check("make_leaf", points=1)
def test_make_leaf_public(student, device):
    out = as_tensor(student.make_leaf([1.0, -2.0, 0.5], device=device))
    f = facts(out)
    if not (f.requires_grad and f.is_leaf):
        fail(f"expected a leaf that requires grad, got requires_grad={f.requires_grad}, is_leaf={f.is_leaf}, grad_fn={f.grad_fn}")
    expect_tensor(out, torch.tensor([1.0, -2.0, 0.5], device=device))


@check("seed_derivative", points=1)
def test_seed_example_public(student, device):
    out = student.seed_derivative(2.0, device=device)
    if type(out) not in (tuple, list) or len(out) != 2:
        fail(f"seed_derivative should return a tuple (y, dy_dx), got {out!r}")
    expect_close(out[0], 15.0, what="y at x = 2")
    expect_close(out[1], 7.0, what="dy/dx at x = 2")


@check("vector_jacobian", points=1)
def test_vector_jacobian_public(student, device):
    x = torch.tensor([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]], dtype=torch.float64, device=device).requires_grad_()
    v = torch.tensor([[1.0, 0.0, 2.0], [-1.0, 1.0, 0.5]], dtype=torch.float64, device=device)
    out = student.vector_jacobian(x, v)
    expect_tensor(out, v * 3 * x.detach() ** 2, what="x.grad")
