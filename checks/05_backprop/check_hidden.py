"""Hidden checks for unit 05: backpropagation.

Every hand-derived gradient is compared with the one autograd computes here,
on the trusted side, from fresh leaves holding the same numbers. The manual
update is graded by what comes back: the caller's ``w`` (its in-place change
and its ``.grad`` are copied back), and the returned ``w`` (its facts say
whether it is still a leaf that requires grad, or a node of the graph).
Training is graded by outcome: losses against a step-by-step simulation done
here, falling losses and the least-squares weight at the end.
"""

import torch

from autograder.checks import as_tensor, check, describe, expect_close, expect_tensor, facts, fail, shares_memory, trap, is_plain_tensor, FAKE_GPU, DEVICE_RULE, device_work
from autograder.remote import StudentError

N, D = 5, 3  # points and features: distinct sizes, so a swapped axis shows
F64 = dict(rtol=1e-6, atol=1e-9)  # hand formula against autograd, float64
F32 = dict(rtol=1e-4, atol=1e-5)  # float32 updates against a float64 simulation


# ---------------------------------------------------------------- helpers


def _randn(gen, *shape, dtype=torch.float64, device="cpu", scale=1.0):
    """Normal values from ``gen`` (a CPU generator), moved to ``device``."""
    return (torch.randn(tuple(shape), generator=gen, dtype=torch.float64) * scale).to(device=device, dtype=dtype)


def _close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    """Whether ``a`` is a tensor shaped like ``b`` with values within tolerance."""
    if not is_plain_tensor(a) or a.shape != b.shape:
        return False
    return torch.allclose(a.detach().to(b.device, torch.float64), b.detach().to(torch.float64), rtol=rtol, atol=atol)


def _tuple(out, n, what):
    if out is None:
        fail(f"{what} is None: returned None, the TODO is not done yet (or a return is missing)")
    if type(out) not in (tuple, list) or len(out) != n:
        fail(f"{what} should be a tuple of {n} values, got {describe(out)}"
             + (f" of length {len(out)}" if type(out) in (tuple, list) else ""))
    return out


def _seed_inputs(gen, device):
    """The seed graph's inputs: x, y of shape (N,) and a 0-D w, float64."""
    return _randn(gen, N, device=device), _randn(gen, N, device=device), _randn(gen, device=device)


def _seed_autograd(x, y, w):
    """Every node and gradient of y_hat = w * x, s = y_hat - y, loss = mean(s**2), by autograd."""
    wl = w.detach().clone().requires_grad_()
    y_hat = wl * x
    y_hat.retain_grad()
    s = y_hat - y
    s.retain_grad()
    loss = (s**2).mean()
    loss.backward()
    return {"y_hat": y_hat.detach(), "s": s.detach(), "loss": loss.detach(),
            "dloss_ds": s.grad, "dloss_dyhat": y_hat.grad, "dloss_dw": wl.grad}


def _mean_factor(out, right, what):
    if _close(out, N * right):
        trap("mean_factor", f"{what} is N = {N} times autograd's: loss = (s ** 2).mean() = (1/N) * sum(s_i ** 2), "
             "so dloss/ds_i = 2 * s_i / N; the 1/N of the mean is missing")


def _student_call(fn, *args):
    """Call a student function that updates ``w``; name the trap if the update was tracked."""
    try:
        return fn(*args)
    except StudentError as exc:
        if "leaf Variable" in exc.detail and "in-place" in exc.detail:
            trap("update_tracked", f"{exc.type}: {exc.detail.rstrip('.')}. The update ran outside torch.no_grad(), so autograd "
                 "refused to record an in-place change of a leaf: wrap it in 'with torch.no_grad():'")
        if exc.type == "AttributeError" and "NoneType" in exc.detail and "zero_" in exc.detail:
            trap("update_tracked", f"{exc.type}: {exc.detail.rstrip('.')}. w.grad was None: after w = w - lr * w.grad, the name w "
                 "holds a new tensor (outside torch.no_grad(), a non-leaf recorded in the graph), not the leaf you "
                 "were given, and only leaves get a .grad. Update the leaf in place: with torch.no_grad(): w -= lr * w.grad")
        raise


# ---------------------------------------------------------------- forward_pass


@check("forward_pass", points=1)
def test_forward_nodes(student, device, gen):
    x, y, w = _seed_inputs(gen, device)
    y_hat, s, _ = _tuple(student.forward_pass(x, y, w), 3, "forward_pass(x, y, w)")
    expect_tensor(y_hat, w * x, what="y_hat", **F64)
    expect_tensor(s, w * x - y, what="s", **F64)


@check("forward_pass", points=1)
def test_forward_loss(student, device, gen):
    x, y, w = _seed_inputs(gen, device)
    _, _, loss = _tuple(student.forward_pass(x, y, w), 3, "forward_pass(x, y, w)")
    expected = ((w * x - y) ** 2).mean()
    if _close(loss, N * expected):
        fail("the loss is the sum of the squared errors: the seed's loss is their mean, (s ** 2).mean()")
    expect_tensor(loss, expected, what="loss", **F64)


# ---------------------------------------------------------------- local_gradients


@check("local_gradients", points=2, traps=["mean_factor"])
def test_local_dloss_ds(student, device, gen):
    x, y, w = _seed_inputs(gen, device)
    dloss_ds, _, _ = _tuple(student.local_gradients(x, y, w), 3, "local_gradients(x, y, w)")
    right = _seed_autograd(x, y, w)["dloss_ds"]
    _mean_factor(dloss_ds, right, "dloss_ds")
    expect_tensor(dloss_ds, right, what="dloss_ds (compared with autograd's s.grad)", **F64)


@check("local_gradients", points=1)
def test_local_edges(student, device, gen):
    x, y, w = _seed_inputs(gen, device)
    _, ds_dyhat, dyhat_dw = _tuple(student.local_gradients(x, y, w), 3, "local_gradients(x, y, w)")
    expect_tensor(ds_dyhat, torch.ones_like(x), what="ds_dyhat (one per point)", **F64)
    if _close(dyhat_dw, w.expand(N)):
        fail("dyhat_dw holds w: d(w * x)/dw is x (w is what we differentiate by; d(w * x)/dx would be w)")
    expect_tensor(dyhat_dw, x, what="dyhat_dw", **F64)


# ---------------------------------------------------------------- backward_pass


@check("backward_pass", points=1, traps=["mean_factor"])
def test_backward_dyhat(student, device, gen):
    x, y, w = _seed_inputs(gen, device)
    dloss_dyhat, _ = _tuple(student.backward_pass(x, y, w), 2, "backward_pass(x, y, w)")
    right = _seed_autograd(x, y, w)["dloss_dyhat"]
    _mean_factor(dloss_dyhat, right, "dloss_dyhat")
    expect_tensor(dloss_dyhat, right, what="dloss_dyhat (compared with autograd's y_hat.grad)", **F64)


@check("backward_pass", points=2, traps=["mean_factor", "sum_over_uses"])
def test_backward_dw(student, device, gen):
    x, y, w = _seed_inputs(gen, device)
    _, dloss_dw = _tuple(student.backward_pass(x, y, w), 2, "backward_pass(x, y, w)")
    grads = _seed_autograd(x, y, w)
    right = grads["dloss_dw"]
    per_point = grads["dloss_dyhat"] * x
    if _close(dloss_dw, per_point) or _close(dloss_dw, N * per_point):
        trap("sum_over_uses", f"dloss_dw has shape {tuple(dloss_dw.shape)}, one term per point: w is used by every "
             "point, so its gradient is the SUM of these terms, a 0-D tensor")
    if _close(dloss_dw, right / N):
        trap("sum_over_uses", "dloss_dw is the MEAN of the per-point terms: the gradient of a weight used N times "
             "is their sum (the 1/N of the loss is already inside dloss_ds)")
    _mean_factor(dloss_dw, right, "dloss_dw")
    expect_tensor(dloss_dw, right, what="dloss_dw (compared with autograd's w.grad)", **F64)


# ---------------------------------------------------------------- neuron_gradients


def _neuron(gen, device):
    x = _randn(gen, N, D, device=device, scale=0.7)
    y = _randn(gen, N, device=device, scale=0.5)
    w = _randn(gen, D, device=device, scale=0.5)
    b = _randn(gen, device=device, scale=0.3)
    wl, bl = w.clone().requires_grad_(), b.clone().requires_grad_()
    loss = ((torch.tanh(x @ wl + bl) - y) ** 2).mean()
    loss.backward()
    return x, y, w, b, wl.grad, bl.grad


@check("neuron_gradients", points=2, traps=["mean_factor"])
def test_neuron_dw(student, device, gen):
    x, y, w, b, gw, _ = _neuron(gen, device)
    dw, _ = _tuple(student.neuron_gradients(x, y, w, b), 2, "neuron_gradients(x, y, w, b)")
    dw = as_tensor(dw, "dloss_dw")
    _mean_factor(dw, gw, "dloss_dw")
    if tuple(dw.shape) == (N,):
        fail(f"dloss_dw has shape ({N},), one entry per point: it must have the shape of w, ({D},); "
             "sum every point's contribution with x.T @ dloss_dz")
    a = torch.tanh(x @ w + b)
    if _close(dw, x.T @ (2 * (a - y) / N)):
        fail("dloss_dw misses the local gradient of tanh: multiply by da/dz = 1 - a ** 2 on the way back")
    expect_tensor(dw, gw, what="dloss_dw (compared with autograd's w.grad)", **F64)


@check("neuron_gradients", points=1, traps=["mean_factor"])
def test_neuron_db(student, device, gen):
    x, y, w, b, _, gb = _neuron(gen, device)
    _, db = _tuple(student.neuron_gradients(x, y, w, b), 2, "neuron_gradients(x, y, w, b)")
    _mean_factor(db, gb, "dloss_db")
    expect_tensor(db, gb, what="dloss_db (compared with autograd's b.grad)", **F64)


# ---------------------------------------------------------------- seed_example


def _seed_pair(student, w0, device):
    loss, grad = _tuple(student.seed_example(w0, device=device), 2, f"seed_example({w0})")
    if is_plain_tensor(loss) or is_plain_tensor(grad):
        fail("seed_example should return two Python floats: call .item() on the loss and on w.grad")
    if type(loss) in (int, float) and type(grad) in (int, float) and abs(w0 - 2.0) > 1e-3:
        if abs(loss - 30.0 * (w0 - 2) ** 2) < 1e-3 * abs(loss) and abs(grad - 60.0 * (w0 - 2)) < 1e-3 * abs(grad):
            fail("the loss is the sum of the squared errors over the 4 points: the seed uses the mean, "
                 "((y_hat - y) ** 2).mean()")
    return loss, grad


@check("seed_example", points=1)
def test_seed_numbers(student, device):
    loss, grad = _seed_pair(student, 0.0, device)
    expect_close(loss, 30.0, what="the loss at w = 0", rtol=1e-6, atol=1e-6)
    expect_close(grad, -30.0, what="dLoss/dw at w = 0", rtol=1e-6, atol=1e-6)


@check("seed_example", points=1)
def test_seed_random(student, sandbox, device, gen):
    w0 = round(float(torch.empty(()).uniform_(-3.0, 1.5, generator=gen)), 3)
    (loss, grad), ops = device_work(sandbox, _seed_pair, student, w0, device)
    if torch.device(device).type == FAKE_GPU and not ops:
        fail(f"seed_example({w0}, device={device!r}) ran no operation on {device}: make x, y and w with device=device. {DEVICE_RULE}")
    # mean((w0 - 2)**2 * x**2) with mean(x**2) = 30 / 4 = 7.5; the gradient is 2 * 7.5 * (w0 - 2)
    expect_close(loss, 7.5 * (w0 - 2) ** 2, what=f"the loss at w = {w0}", rtol=1e-5, atol=1e-5)
    expect_close(grad, 15.0 * (w0 - 2), what=f"dLoss/dw at w = {w0}", rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- manual_update


def _update_inputs(gen, device):
    x = _randn(gen, N, dtype=torch.float32, device=device)
    y = (1.7 * x.double().cpu() + _randn(gen, N, scale=0.3)).to(device=device, dtype=torch.float32)
    w = _randn(gen, dtype=torch.float32, device=device).requires_grad_()
    return w, x, y, 0.05


def _grad(w, x, y):
    """dloss/dw of mean((w * x - y)**2) at ``w``, by autograd in float64."""
    wl = w.detach().double().clone().requires_grad_()
    ((wl * x.double() - y.double()) ** 2).mean().backward()
    return wl.grad


def _loss(w, x, y):
    return float(((w.detach().double() * x.double() - y.double()) ** 2).mean())


@check("manual_update", points=2, traps=["update_tracked"], mutates=True)
def test_update_step(student, sandbox, device, gen):
    w, x, y, lr = _update_inputs(gen, device)
    w0 = w.detach().clone()
    out = as_tensor(_student_call(student.manual_update, w, x, y, lr), "the returned w")
    f = facts(out)
    if f.grad_fn is not None or not f.is_leaf:
        trap("update_tracked", f"the returned w has grad_fn {f.grad_fn} (is_leaf={f.is_leaf}): the update was recorded "
             "in the graph. w = w - lr * w.grad outside torch.no_grad() makes a new non-leaf; update the leaf "
             "in place under torch.no_grad()")
    if not f.requires_grad:
        fail("the returned w does not require grad: return w itself (not w.detach() or a copy made under no_grad), "
             "and do not switch requires_grad off")
    expected = w0.double() - lr * _grad(w0, x, y)
    if torch.equal(w.detach(), w0):
        fail("the caller's w is unchanged: update it in place (w -= lr * w.grad under torch.no_grad()); "
             "w = w - ... makes a new tensor and leaves the caller's weight as it was")
    if device == "cpu" and not shares_memory(sandbox, out, w):
        fail("the returned tensor is not the w you were given: return w itself after updating it in place")
    expect_tensor(w.detach().double(), expected, what="w after the step", **F32)
    expect_tensor(out.detach().double(), expected, what="the returned w", **F32)


@check("manual_update", points=1, traps=["update_tracked", "grad_not_reset"], mutates="grad")
def test_update_grad_zeroed(student, device, gen):
    w, x, y, lr = _update_inputs(gen, device)
    g = _grad(w, x, y)
    _student_call(student.manual_update, w, x, y, lr)
    if w.grad is None:
        return  # set to None: reset as well
    if _close(w.grad, g, **F32):
        trap("grad_not_reset", "w.grad still holds this step's gradient after the update: call w.grad.zero_() "
             "so that the next backward() does not add to it")
    if bool((w.grad != 0).any()):
        fail(f"w.grad is {w.grad.item():.6g} after the call, expected zero: call w.grad.zero_() after the update")


@check("manual_update", points=1, traps=["update_tracked", "grad_not_reset"], mutates=True)
def test_update_twice(student, device, gen):
    w, x, y, lr = _update_inputs(gen, device)
    w0 = w.detach().double().clone()
    g0 = _grad(w0, x, y)
    w1 = w0 - lr * g0
    g1 = _grad(w1, x, y)
    _student_call(student.manual_update, w, x, y, lr)
    _student_call(student.manual_update, w, x, y, lr)
    if torch.equal(w.detach().double(), w0):
        fail("the caller's w is unchanged after two calls: update it in place (w -= lr * w.grad under "
             "torch.no_grad()), not by making a new tensor with w = w - ...")
    if _close(w.detach(), w1 - lr * (g0 + g1), **F32):
        trap("grad_not_reset", "the second step used the sum of both steps' gradients: the first gradient was "
             "left in w.grad, and backward() added the second to it. Zero w.grad after each update")
    expect_tensor(w.detach().double(), w1 - lr * g1, what="w after two calls", **F32)


# ---------------------------------------------------------------- train_by_hand


def _train_inputs(gen, device, n=6):
    x = _randn(gen, n, dtype=torch.float32, device=device, scale=1.5)
    y = (2.5 * x.double().cpu() - 0.4 + _randn(gen, n, scale=0.3)).to(device=device, dtype=torch.float32)
    w = _randn(gen, dtype=torch.float32, device=device).requires_grad_()
    return w, x, y


def _simulate(w0, x, y, lr, steps, accumulate):
    """Losses (before each update) and the final weight, in float64; ``accumulate`` never zeroes the gradient."""
    w, acc, losses = w0.detach().double().clone(), torch.zeros((), dtype=torch.float64, device=w0.device), []
    for _ in range(steps):
        losses.append(_loss(w, x, y))
        g = _grad(w, x, y)
        acc = acc + g if accumulate else g
        w = w - lr * acc
    return losses, w


def _history(out, steps):
    if out is None:
        fail("train_by_hand returned None: the TODO is not done yet (or a return is missing)")
    if type(out) is not list:
        fail(f"train_by_hand should return a list of Python floats, got {describe(out)}")
    if len(out) != steps:
        fail(f"train_by_hand(..., steps={steps}) returned {len(out)} losses, expected one per step: {steps}")
    if not all(type(v) is float for v in out):
        bad = next(v for v in out if type(v) is not float)
        fail(f"the losses should be Python floats (loss.item()), got {describe(bad)}")
    return out


def _all_close(a, b, rtol=1e-3, atol=1e-6) -> bool:
    return all(abs(p - q) <= atol + rtol * abs(q) for p, q in zip(a, b))


@check("train_by_hand", points=2, traps=["update_tracked", "grad_not_reset"], mutates=True)
def test_train_outcome(student, device, gen):
    w, x, y = _train_inputs(gen, device)
    steps = 20
    lr = round(0.25 / float((x.double() ** 2).mean()), 4)  # halves the distance to the optimum each step
    w0 = w.detach().clone()
    hist = _history(_student_call(student.train_by_hand, w, x, y, lr, steps), steps)
    wrong, _ = _simulate(w0, x, y, lr, steps, accumulate=True)
    if _all_close(hist, wrong):
        trap("grad_not_reset", "the losses follow the path of gradients that pile up: w.grad was never zeroed, so "
             "each step used the sum of all gradients so far. Call w.grad.zero_() after each update")
    right, _ = _simulate(w0, x, y, lr, steps, accumulate=False)
    expect_close(hist[0], right[0], what="the first loss (before any update)", rtol=1e-4, atol=1e-6)
    for k in range(1, steps):
        if hist[k] > hist[k - 1] * (1 + 1e-4) + 1e-6:
            fail(f"the loss went up at step {k}: {hist[k - 1]:.6g} -> {hist[k]:.6g}; with this learning rate "
                 "every step of w -= lr * w.grad (gradient zeroed each time) lowers it")
    best = float((x.double() * y.double()).sum() / (x.double() ** 2).sum())  # the least-squares weight
    expect_tensor(w.detach().double().cpu(), torch.tensor(best, dtype=torch.float64),
                  what="the trained w (the least-squares weight)", rtol=1e-4, atol=1e-4)
    expect_close(hist[-1], right[-1], what="the last loss", rtol=1e-3, atol=1e-5)
    if w.grad is not None and bool((w.grad != 0).any()):
        fail("w.grad is not zero after training: zero it after every update")


@check("train_by_hand", points=1, traps=["update_tracked", "grad_not_reset"], mutates=True)
def test_train_two_steps(student, device, gen):
    w, x, y = _train_inputs(gen, device, n=4)
    lr = round(0.1 / float((x.double() ** 2).mean()), 4)
    w0 = w.detach().clone()
    hist = _history(_student_call(student.train_by_hand, w, x, y, lr, 2), 2)
    _, wrong_w = _simulate(w0, x, y, lr, 2, accumulate=True)
    right, right_w = _simulate(w0, x, y, lr, 2, accumulate=False)
    if _close(w.detach(), wrong_w, **F32) and not _close(w.detach(), right_w, **F32):
        trap("grad_not_reset", "the second step used the sum of both gradients: zero w.grad after each update")
    expect_close(hist[0], right[0], what="the loss of step 1", rtol=1e-4, atol=1e-6)
    expect_close(hist[1], right[1], what="the loss of step 2 (after one update)", rtol=1e-4, atol=1e-6)
    expect_tensor(w.detach().double(), right_w, what="w after two steps", **F32)
