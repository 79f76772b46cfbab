"""Public checks for unit 10: run them with `torchgrade check`. The hidden checks grade more."""

import torch
import torch.nn.functional as F

from autograder.checks import as_tensor, check, describe, expect_tensor, fail, trap


@check("softmax", points=1)
def test_softmax_public(student):
    logits = torch.tensor([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0]])
    out = as_tensor(student.softmax(logits), "softmax([[1, 2, 3], [1000, 1000, 1000]])")
    e = torch.exp(torch.tensor([1.0, 2.0, 3.0]))
    expected = torch.stack([e / e.sum(), torch.full((3,), 1 / 3)])
    expect_tensor(out, expected, what="softmax([[1, 2, 3], [1000, 1000, 1000]])", rtol=1e-5, atol=1e-6)


@check("cross_entropy", points=1, traps=["softmax_before_ce"])
def test_cross_entropy_public(student):
    logits = torch.tensor([[4.0, 0.0, -1.0, 0.5], [0.0, 3.0, 1.0, -2.0], [1.0, 1.0, 5.0, 0.0]])
    targets = torch.tensor([0, 1, 2])
    out = as_tensor(student.cross_entropy(logits, targets), "cross_entropy(logits (3, 4), targets (3,))")
    # -log softmax at each target, averaged over the 3 samples
    expected = -(logits - logits.logsumexp(dim=1, keepdim=True))[torch.arange(3), targets].mean()
    squashed = F.cross_entropy(torch.softmax(logits, dim=1), targets)
    if out.numel() == 1 and abs(out.item() - squashed.item()) < 1e-5:
        trap("softmax_before_ce", f"got {out.item():.6g}, the loss of softmax(logits); expected {expected.item():.6g}")
    expect_tensor(out, expected, what="cross_entropy(logits (3, 4), targets (3,))", rtol=1e-5, atol=1e-5)


@check("make_targets", points=1, traps=["onehot_targets"])
def test_make_targets_public(student):
    out = as_tensor(student.make_targets(["dog", "cat", "dog"], ["cat", "dog", "fish"]), "make_targets(['dog', 'cat', 'dog'], ...)")
    if out.dim() == 2 or out.dtype.is_floating_point:
        trap("onehot_targets", f"got {describe(out)}; nn.CrossEntropyLoss wants int64 class indices of shape (3,)")
    expect_tensor(out, torch.tensor([1, 0, 1]), what="make_targets(['dog', 'cat', 'dog'], ['cat', 'dog', 'fish'])")


@check("sgd_step", points=1, traps=["step_changes_grad"], mutates=True)
def test_sgd_step_public(student):
    w0 = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    w = w0.clone().requires_grad_()
    g = torch.tensor([[0.5, 0.5, -1.0], [2.0, 0.0, 1.0]])
    w.grad = g.clone()
    buffers = student.sgd_step([w], [None], 0.1, momentum=0.9, weight_decay=0.1)
    if w.grad is None or not torch.equal(w.grad, g):
        trap("step_changes_grad", "w.grad changed during the step: build the decayed gradient as a new tensor, leave p.grad as it is")
    # d = g + 0.1 * w; first step: buffer = d; w -= 0.1 * d
    d = g + 0.1 * w0
    expect_tensor(w.detach(), w0 - 0.1 * d, what="w after one step", rtol=1e-5, atol=1e-6)
    if type(buffers) is not list or len(buffers) != 1:
        fail(f"sgd_step should return a list with one momentum buffer, got {describe(buffers)}")
    expect_tensor(buffers[0], d, what="the momentum buffer after the first step", rtol=1e-5, atol=1e-6)
