"""Hidden checks for unit 04: autograd.

Tensors passed to the student arrive in the sandbox as leaves with the same
``requires_grad`` and ``.grad``; what the student does to them (values and
``.grad``) is copied back here after the call, so ``x.grad`` can be graded
beside the return value. Expected gradients are computed here, with torch,
from the formulas (or by autograd on fresh trusted-side leaves).
"""

import torch

from autograder.checks import as_tensor, check, expect_close, expect_tensor, facts, fail, trap, tolerance, is_plain_tensor, FAKE_GPU, DEVICE_RULE, device_work
from autograder.remote import StudentError


def _randn(gen, *shape, dtype=torch.float64, device="cpu", grad=False):
    """Standard-normal values from ``gen`` (a CPU generator), moved to ``device``;
    made a leaf that requires grad after the move when ``grad``."""
    t = torch.randn(*shape, generator=gen, dtype=dtype).to(device)
    return t.requires_grad_() if grad else t


def _close(a, b) -> bool:
    """Whether two tensors of the same shape agree within the dtype's tolerance."""
    if not is_plain_tensor(a) or a.shape != b.shape:
        return False
    rtol, atol = tolerance(b.dtype, b.device)
    return torch.allclose(a.detach().to(b.device, b.dtype), b.detach(), rtol=rtol, atol=atol)


def _pair(out, what):
    if out is None:
        fail(f"{what} is None: returned None, the TODO is not done yet (or a return is missing)")
    if type(out) not in (tuple, list) or len(out) != 2:
        fail(f"{what} should be a tuple of two values, got {type(out).__name__}"
             + (f" of length {len(out)}" if type(out) in (tuple, list) else ""))
    return out


# ---------------------------------------------------------------- make_leaf


@check("make_leaf", points=2)
def test_make_leaf(student, device, gen):
    values = [round(v, 3) for v in torch.randn(5, generator=gen).tolist()]
    out = as_tensor(student.make_leaf(values, device=device))
    f = facts(out)
    if not f.requires_grad:
        fail("the tensor does not require grad: pass requires_grad=True (or call .requires_grad_())")
    if not f.is_leaf or f.grad_fn is not None:
        fail(f"the tensor is not a leaf: it has grad_fn {f.grad_fn}. It was made by an operation "
             "(e.g. .to(device) after requires_grad=True); create it on the device directly, then ask for grad")
    expect_tensor(out, torch.tensor(values, dtype=torch.float32, device=device))


# ---------------------------------------------------------------- seed_derivative


@check("seed_derivative", points=1)
def test_seed_example(student, device):
    y, d = _pair(student.seed_derivative(2.0, device=device), "seed_derivative(2.0)")
    expect_close(y, 15.0, what="y at x = 2")
    expect_close(d, 7.0, what="dy/dx at x = 2")


@check("seed_derivative", points=1)
def test_seed_derivative_random(student, sandbox, device, gen):
    x0 = round(float(torch.empty(()).uniform_(-5.0, 5.0, generator=gen)), 4) + 1e-9  # not exact in float32
    pair, ops = device_work(sandbox, student.seed_derivative, x0, device=device)
    y, d = _pair(pair, f"seed_derivative({x0})")
    # float64 throughout agrees to ~1e-15; float32 anywhere is off by ~1e-8
    expect_close(y, x0**2 + 3 * x0 + 5, what=f"y at x = {x0} (x is a float64 tensor)", rtol=1e-12, atol=1e-12)
    expect_close(d, 2 * x0 + 3, what=f"dy/dx at x = {x0} (x is a float64 tensor)", rtol=1e-12, atol=1e-12)
    if torch.device(device).type == FAKE_GPU and not ops:
        fail(f"seed_derivative({x0}, device={device!r}) ran no operation on {device}: make x with device=device. {DEVICE_RULE}")


# ---------------------------------------------------------------- intermediate_grad


def _intermediate_inputs(gen, device):
    x = _randn(gen, 5, 3, dtype=torch.float32, device=device)
    w = _randn(gen, 3, 4, dtype=torch.float32, device=device, grad=True)
    return x, w


@check("intermediate_grad", points=2, traps=["nonleaf_grad"])
def test_intermediate_grad(student, device, gen):
    x, w = _intermediate_inputs(gen, device)
    h, g = _pair(student.intermediate_grad(x, w), "intermediate_grad(x, w)")
    if g is None:
        trap("nonleaf_grad", "the gradient of h came back None: h = x @ w is not a leaf, so h.grad is None "
             "unless h.retain_grad() is called before backward()")
    expected = 1 - torch.tanh(x @ w.detach()) ** 2
    expect_tensor(g, expected, what="dloss/dh")


@check("intermediate_grad", points=1, mutates="grad")
def test_intermediate_graph(student, device, gen):
    x, w = _intermediate_inputs(gen, device)
    h, _ = _pair(student.intermediate_grad(x, w), "intermediate_grad(x, w)")
    h = expect_tensor(h, x @ w.detach(), what="h")
    # An observation (docs/trust.md): the graph behind h was freed by the
    # submission's backward(), so it cannot be probed; w.grad below is behaviour.
    f = facts(h)
    if not f.requires_grad or f.is_leaf or f.grad_fn is None:
        fail(f"h should be part of the graph (requires_grad=True, not a leaf, with a grad_fn); "
             f"got requires_grad={f.requires_grad}, is_leaf={f.is_leaf}, grad_fn={f.grad_fn}: do not detach it")
    if w.grad is None:
        fail("w.grad is None after the call: call loss.backward() on a loss built from w")
    expect_tensor(w.grad, x.T @ (1 - torch.tanh(x @ w.detach()) ** 2), what="w.grad after the call")


# ---------------------------------------------------------------- reuse_gradient


@check("reuse_gradient", points=1, mutates="grad")
def test_reuse_autograd(student, device, gen):
    x = _randn(gen, 4, 3, device=device, grad=True)
    by_autograd, _ = _pair(student.reuse_gradient(x), "reuse_gradient(x)")
    expected = 2 * x.detach() + 1
    expect_tensor(by_autograd, expected, what="by_autograd")
    expect_tensor(x.grad, expected, what="x.grad after the call")


@check("reuse_gradient", points=1, traps=["used_twice"])
def test_reuse_by_hand(student, device, gen):
    x = _randn(gen, 3, 5, device=device, grad=True)
    _, by_hand = _pair(student.reuse_gradient(x), "reuse_gradient(x)")
    by_hand = as_tensor(by_hand, "by_hand")
    xd = x.detach()
    for wrong, which in ((xd + 1, "x + 1"), (2 * xd, "2x"), (xd, "x"), (torch.ones_like(xd), "1")):
        if _close(by_hand, wrong):
            trap("used_twice", f"by_hand equals {which}, which misses a use of x; d/dx (x*x + x) = x + x + 1 = 2x + 1")
    expect_tensor(by_hand, 2 * xd + 1, what="by_hand")


# ---------------------------------------------------------------- vector_jacobian


@check("vector_jacobian", points=2, mutates="grad")
def test_vector_jacobian(student, device, gen):
    x = _randn(gen, 3, 5, device=device, grad=True)
    v = _randn(gen, 3, 5, device=device)
    out = as_tensor(student.vector_jacobian(x, v), "x.grad")
    xd = x.detach()
    if _close(out, 3 * xd**2):
        fail("the result is 3 * x**2, the product with a vector of ones: backpropagate (y * v).sum() (what y.backward(gradient=v) computes), not y.sum()")
    expect_tensor(out, v * 3 * xd**2, what="the returned x.grad")
    expect_tensor(x.grad, v * 3 * xd**2, what="x.grad after the call")


# ---------------------------------------------------------------- backward_twice


@check("backward_twice", points=2, traps=["retain_graph"])
def test_backward_twice(student, device, gen):
    x = _randn(gen, 4, 5, device=device, grad=True)
    try:
        out = student.backward_twice(x)
    except StudentError as exc:
        if "second time" in exc.detail or "already been freed" in exc.detail:
            trap("retain_graph", f"the second backward() raised {exc.type}: the first call freed the graph; "
                 "pass retain_graph=True to it")
        raise
    out = as_tensor(out, "x.grad")
    once = 2 * x.detach() + 3
    if _close(out, once):
        fail("x.grad holds dy/dx once: call backward() twice on the same y so the two gradients add up")
    expect_tensor(out, 2 * once, what="x.grad after two backward() calls")


# ---------------------------------------------------------------- fresh_gradient


@check("fresh_gradient", points=2, traps=["grad_not_zeroed"], mutates="grad")
def test_fresh_gradient(student, device, gen):
    w = _randn(gen, 4, 3, device=device, grad=True)
    x = _randn(gen, 6, 4, device=device)
    stale = _randn(gen, 4, 3, device=device)
    w.grad = stale.clone()
    probe = w.detach().clone().requires_grad_()
    ((x @ probe) ** 2).mean().backward()
    fresh = probe.grad
    out = as_tensor(student.fresh_gradient(w, x), "w.grad")
    if _close(out, stale + fresh):
        trap("grad_not_zeroed", "the result is the stale gradient plus this step's: backward() adds into .grad, "
             "zero it first with w.grad.zero_()")
    expect_tensor(out, fresh, what="the returned w.grad")
    expect_tensor(w.grad, fresh, what="w.grad after the call")


# ---------------------------------------------------------------- sgd_step


def _sgd(student, gen, device):
    w = _randn(gen, 4, 3, dtype=torch.float32, device=device, grad=True)
    x = _randn(gen, 7, 4, dtype=torch.float32, device=device)
    target = _randn(gen, 7, 3, dtype=torch.float32, device=device)
    lr = 0.1
    w0 = w.detach().clone()
    try:
        loss = student.sgd_step(w, x, target, lr)
    except StudentError as exc:
        if "leaf Variable" in exc.detail and "in-place" in exc.detail:
            trap("inplace_leaf", f"{exc.type}: {exc.detail} Do the update inside 'with torch.no_grad():'")
        raise
    probe = w0.clone().requires_grad_()
    expected_loss = ((x @ probe - target) ** 2).mean()
    expected_loss.backward()
    return w0, w, lr, probe.grad, expected_loss.detach(), loss


@check("sgd_step", points=2, traps=["inplace_leaf"], mutates=True)
def test_sgd_step_update(student, device, gen):
    w0, w, lr, grad, _, _ = _sgd(student, gen, device)
    if _close(w.detach(), w0):
        fail("w is unchanged after the step: update the caller's tensor in place (w -= ... under torch.no_grad()), "
             "not a new tensor with w = w - ...")
    expect_tensor(w.detach(), w0 - lr * grad, what="w after the step")
    if w.grad is not None and bool((w.grad != 0).any()):
        fail("w.grad is not zero after the step: call w.grad.zero_() so the next step starts clean")


@check("sgd_step", points=1, traps=["inplace_leaf"])
def test_sgd_step_loss(student, device, gen):
    _, _, _, _, expected_loss, loss = _sgd(student, gen, device)
    loss = as_tensor(loss, "the returned loss")
    if facts(loss).requires_grad:
        fail("the returned loss still requires grad: return loss.detach()")
    expect_tensor(loss, expected_loss, what="the returned loss")


# ---------------------------------------------------------------- stop_gradient


@check("stop_gradient", points=2, mutates="grad")
def test_stop_gradient(student, device, gen):
    x = _randn(gen, 3, 4, device=device, grad=True)
    out = as_tensor(student.stop_gradient(x), "x.grad")
    xd = x.detach()
    if _close(out, 3 * xd**2):
        fail("the result is 3 * x**2, the gradient of x**3: c was not detached, so autograd differentiated it too")
    expect_tensor(out, xd**2, what="the returned x.grad")
    expect_tensor(x.grad, xd**2, what="x.grad after the call")


# ---------------------------------------------------------------- freeze_first


@check("freeze_first", points=2, mutates="grad")
def test_freeze_first(student, device, gen):
    w1 = _randn(gen, 4, 6, device=device, grad=True)
    w2 = _randn(gen, 6, 3, device=device, grad=True)
    x = _randn(gen, 5, 4, device=device)
    g1, g2 = _pair(student.freeze_first(w1, w2, x), "freeze_first(w1, w2, x)")
    if g1 is not None or w1.grad is not None:
        fail("w1 got a gradient: call w1.requires_grad_(False) before the forward pass so autograd skips it")
    h = torch.relu(x @ w1.detach())
    expected = h.T @ torch.ones(5, 3, dtype=torch.float64, device=device)
    expect_tensor(g2, expected, what="w2.grad (returned)")
    expect_tensor(w2.grad, expected, what="w2.grad after the call")
