"""Hidden checks for unit 06: gradient descent four ways.

Every stage is graded by its trajectory: the loss at each step and the final
weights, against plain gradient descent computed here in float64 from the same
start and learning rate. When a trajectory is off, it is compared with the
trajectories the misconceptions produce (gradients accumulated without
zero_grad; step before backward or zero_grad between backward and step; a
hand gradient without the factor 2), so the failure can name the trap.
"""

import math

import numpy as np
import torch

from autograder.checks import as_tensor, check, describe, expect_close, expect_tensor, facts, fail, trap, is_plain_tensor
from autograder.remote import Remote

F64 = torch.float64
LINEAR = "torch.nn.modules.linear.Linear"
RTOL, ATOL = 1e-9, 1e-10  # float64 trajectories agree to ~1e-13; float32 anywhere is off by ~1e-8; every trap by > 1e-3
LR = 0.05
STEPS = 12


# ---------------------------------------------------------------- data and trusted trajectories


def make_problem(gen, n=20, d=3, noise=0.1):
    """x (n, d), y (n,) from a noisy line, and a start (w0 (d,), b0 float), all float64."""
    x = torch.randn(n, d, generator=gen, dtype=F64)
    w_true = torch.randn(d, generator=gen, dtype=F64)
    b_true = torch.randn((), generator=gen, dtype=F64)
    y = x @ w_true + b_true + noise * torch.randn(n, generator=gen, dtype=F64)
    w0 = 0.5 * torch.randn(d, generator=gen, dtype=F64)
    b0 = float(0.5 * torch.randn((), generator=gen, dtype=F64))
    return x, y, w0, b0


def trajectory(x, y, w0, b0, lr, steps, mode="plain"):
    """Gradient descent on the MSE in float64; returns (w (D,), b 0-D, losses list).

    mode: "plain" (right); "accumulate" (no zero_grad: each update uses the sum
    of all gradients so far); "lag" (step before backward: each update uses the
    previous iteration's gradient, the first does nothing); "frozen" (zero_grad
    between backward and step: nothing moves); "half" (the gradient without its
    factor 2).
    """
    x, y = x.to("cpu", F64), y.to("cpu", F64)
    w, b = w0.to("cpu", F64).clone(), torch.tensor(float(b0), dtype=F64)
    n = x.shape[0]
    acc_w, acc_b = torch.zeros_like(w), torch.zeros_like(b)
    prev = None
    losses = []
    for _ in range(steps):
        err = x @ w + b - y
        losses.append(float((err**2).mean()))
        gw, gb = 2.0 / n * (x.T @ err), 2.0 / n * err.sum()
        if mode == "half":
            gw, gb = gw / 2, gb / 2
        if mode in ("plain", "half"):
            w, b = w - lr * gw, b - lr * gb
        elif mode == "accumulate":
            acc_w, acc_b = acc_w + gw, acc_b + gb
            w, b = w - lr * acc_w, b - lr * acc_b
        elif mode == "lag":
            if prev is not None:
                w, b = w - lr * prev[0], b - lr * prev[1]
            prev = (gw, gb)
        elif mode != "frozen":
            raise ValueError(mode)
    return w, b, losses


# (mode, trap, what it means), tried in order when a trajectory is off
ORDER_MODES = [
    ("lag", "step_order", "each update used the PREVIOUS iteration's gradient and the first update did nothing: step() runs before backward()"),
    ("frozen", "step_order", "the weights never moved: the gradient is zeroed between backward() and the update, so the update adds 0"),
]
ACCUMULATE = ("accumulate", "missing_zero_grad", "each update used the SUM of all gradients so far: .grad is never zeroed, and backward() adds into it")
HALF = ("half", "mse_grad_factor", "each update used HALF the gradient: dL/dw is (2/N) * x.T @ err, with the factor 2")


def close(a, b):
    a, b = torch.as_tensor(a, dtype=F64).cpu(), torch.as_tensor(b, dtype=F64).cpu()
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=RTOL, atol=ATOL))


def losses_list(value, steps, what):
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if type(value) is not list:
        fail(f"{what} should be a list of Python floats, got {describe(value)}")
    if len(value) != steps:
        fail(f"{what} should hold one loss per step, {steps}, got {len(value)}")
    bad = [v for v in value if not isinstance(v, (float, np.floating)) or isinstance(v, bool)]
    if bad:
        fail(f"{what} should hold Python floats (loss.item()), found {describe(bad[0])}")
    return torch.tensor([float(v) for v in value], dtype=F64)


def diagnose(losses, w, b, problem, lr, steps, candidates, stage):
    """Pass if (losses, w, b) is plain gradient descent; name a trap if it matches one; else fail."""
    x, y, w0, b0 = problem
    right_w, right_b, right_l = trajectory(x, y, w0, b0, lr, steps)
    if close(losses, right_l) and close(w, right_w) and close(b, right_b):
        return
    for mode, trap_id, meaning in candidates:
        cw, cb, cl = trajectory(x, y, w0, b0, lr, steps, mode)
        if close(losses, cl) and close(w, cw) and close(b, cb):
            trap(trap_id, f"{stage}: the trajectory over {steps} steps matches the one where {meaning}")
    if close(losses, right_l):
        # The losses are right but the final weights are one update short.
        sw, sb, _ = trajectory(x, y, w0, b0, lr, steps - 1)
        if close(w, sw) and close(b, sb) and "step_order" in {c[1] for c in candidates}:
            trap("step_order", f"{stage}: the losses are right but the final weights miss the last update: step() runs before the forward pass and backward() of its iteration")
    expect_tensor(losses, torch.tensor(right_l, dtype=F64), what=f"{stage}: the loss at each step", rtol=RTOL, atol=ATOL)
    expect_tensor(w.to("cpu", F64), right_w, what=f"{stage}: the final w", rtol=RTOL, atol=ATOL)
    expect_tensor(b.to("cpu", F64), right_b, what=f"{stage}: the final b", rtol=RTOL, atol=ATOL)


def ndarray(value, shape, what):
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if type(value) is not np.ndarray:
        fail(f"{what} should be a NumPy array, got {describe(value)}" + (" (stage 1 is NumPy only: no torch)" if is_plain_tensor(value) else ""))
    if value.shape != shape:
        fail(f"{what} has shape {value.shape}, expected {shape}")
    if value.dtype != np.float64:
        fail(f"{what} has dtype {value.dtype}, expected float64")
    return torch.from_numpy(np.array(value))


def scalar(value, what):
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        fail(f"{what} should be a Python float, got {describe(value)}")
    return float(value)


def tuple_of(value, n, what):
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if type(value) not in (tuple, list) or len(value) != n:
        fail(f"{what} should be a tuple of {n} things, got {describe(value)}")
    return value


def torch_weights(w, b, d, device, what, detached=False):
    w = as_tensor(w, f"{what}: the final w")
    b = as_tensor(b, f"{what}: the final b")
    # An observation (docs/trust.md): the stub asks for .detach()ed weights.
    if detached and (facts(w).requires_grad or facts(b).requires_grad):
        fail(f"{what}: the final w and b still require grad: return them .detach()ed, as the stub says")
    if tuple(w.shape) != (d,) or tuple(b.shape) != ():
        fail(f"{what}: the final w should be ({d},) and b 0-D, got {tuple(w.shape)} and {tuple(b.shape)}")
    if w.dtype != F64 or b.dtype != F64:
        fail(f"{what}: the weights should stay float64 (got {w.dtype} and {b.dtype}); float32 drifts away from the other stages")
    if w.device.type != torch.device(device).type:
        fail(f"{what}: the weights are on {w.device}, expected {device}: work on the inputs' device")
    return w, b


def on(problem, device):
    """Copies of the problem on ``device`` to pass to the student (in-place changes come back into them)."""
    x, y, w0, b0 = problem
    return x.to(device, copy=True), y.to(device, copy=True), w0.to(device, copy=True), torch.tensor(b0, dtype=F64, device=device)


def untouched(w0_sent, w0_kept, b0_sent, b0_kept, stage):
    if not torch.equal(w0_sent.cpu(), w0_kept) or (b0_sent is not None and not torch.equal(b0_sent.cpu(), b0_kept)):
        fail(f"{stage} changed the starting weights it was given in place: copy w0 and b0 first "
             "(the next stage must start from the same point)")


# ---------------------------------------------------------------- stage 1 pieces


@check("predict_np", points=1)
def test_predict_np(student, gen):
    x, _, w, b = make_problem(gen, n=7, d=3)
    out = ndarray(student.predict_np(x.numpy(), w.numpy(), b), (7,), "predict_np(x (7, 3), w (3,), b)")
    expect_tensor(out, x @ w + b, what="predict_np(x, w, b)", rtol=1e-12, atol=1e-12)


@check("mse_np", points=1)
def test_mse_np(student, gen):
    a, b = torch.randn(9, generator=gen, dtype=F64), torch.randn(9, generator=gen, dtype=F64)
    out = scalar(student.mse_np(a.numpy(), b.numpy()), "mse_np(y_pred (9,), y (9,))")
    right = float(((a - b) ** 2).mean())
    if math.isclose(out, 9 * right, rel_tol=1e-9):
        fail(f"mse_np returned {out:.6g}, the SUM of the squared errors; the MSE is their mean, {right:.6g}")
    expect_close(out, right, what="mse_np(y_pred, y)", rtol=1e-10, atol=1e-12)


@check("gradient_np", points=2, traps=["mse_grad_factor"])
def test_gradient_np(student, gen):
    x, y, w, b = make_problem(gen, n=8, d=3)
    wt = w.clone().requires_grad_(True)
    bt = torch.tensor(b, dtype=F64, requires_grad=True)
    ((x @ wt + bt - y) ** 2).mean().backward()
    out = tuple_of(student.gradient_np(x.numpy(), y.numpy(), w.numpy(), b), 2, "gradient_np(x, y, w, b)")
    dw = ndarray(out[0], (3,), "dw, the gradient with respect to w")
    db = scalar(out[1], "db, the gradient with respect to b")
    for factor, how in ((0.5, "half the gradient: the factor 2 of d(err**2)/d(err) = 2*err is missing"),
                        (8.0, "N = 8 times the gradient: a sum over the samples instead of the mean (the 1/N is missing)"),
                        (4.0, "N/2 = 4 times the gradient: both the 2 and the 1/N are missing")):
        if close(dw, factor * wt.grad) and math.isclose(db, factor * float(bt.grad), rel_tol=1e-9, abs_tol=1e-12):
            trap("mse_grad_factor", f"gradient_np returned {how}")
    expect_tensor(dw, wt.grad, what="dw = dL/dw (compared with autograd)", rtol=1e-10, atol=1e-12)
    expect_close(db, float(bt.grad), what="db = dL/db (compared with autograd)", rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- stage 1: train_numpy


@check("train_numpy", points=2, traps=["mse_grad_factor"], mutates=True)
def test_train_numpy_trajectory(student, gen):
    problem = make_problem(gen)
    x, y, w0, b0 = problem
    w0_np = w0.numpy().copy()
    out = tuple_of(student.train_numpy(x.numpy().copy(), y.numpy().copy(), w0_np, b0, LR, STEPS), 3, "train_numpy(...)")
    untouched(torch.from_numpy(w0_np), w0, None, None, "train_numpy")
    w = ndarray(out[0], (3,), "train_numpy: the final w")
    b = torch.tensor(scalar(out[1], "train_numpy: the final b"), dtype=F64)
    losses = losses_list(out[2], STEPS, "train_numpy: the losses")
    diagnose(losses, w, b, problem, LR, STEPS, [HALF], "train_numpy")


@check("train_numpy", points=1, mutates=True)
def test_train_numpy_converges_and_keeps_start(student, gen):
    x, y, w0, b0 = make_problem(gen, n=40, d=3)
    w0_np = w0.numpy().copy()
    out = tuple_of(student.train_numpy(x.numpy().copy(), y.numpy().copy(), w0_np, b0, 0.1, 300), 3, "train_numpy(...)")
    untouched(torch.from_numpy(w0_np), w0, None, None, "train_numpy")
    losses = losses_list(out[2], 300, "train_numpy: the losses")
    # the least-squares minimum of the MSE
    xa = torch.cat([x, torch.ones(40, 1, dtype=F64)], 1)
    sol = torch.linalg.lstsq(xa, y.unsqueeze(1)).solution.squeeze(1)
    best = float(((xa @ sol - y) ** 2).mean())
    if not all(math.isfinite(v) for v in losses.tolist()):
        fail("train_numpy: the loss became inf or NaN at lr=0.1")
    if not losses[-1] <= best * 1.01 + 1e-9:
        fail(f"train_numpy did not converge: after 300 steps at lr=0.1 the loss is {float(losses[-1]):.6g}, "
             f"the least-squares minimum is {best:.6g} (the first loss was {float(losses[0]):.6g})")
    w = ndarray(out[0], (3,), "train_numpy: the final w")
    expect_tensor(w, sol[:3], what="train_numpy: the final w against the least-squares solution", rtol=0, atol=1e-3)


# ---------------------------------------------------------------- stage 2: train_autograd


@check("train_autograd", points=2, traps=["missing_zero_grad", "step_order"], mutates=True)
def test_train_autograd_trajectory(student, gen, device):
    problem = make_problem(gen)
    x, y, w0, b0 = on(problem, device)
    out = tuple_of(student.train_autograd(x, y, w0, b0, LR, STEPS), 3, "train_autograd(...)")
    untouched(w0, problem[2], b0, torch.tensor(problem[3], dtype=F64), "train_autograd")
    w, b = torch_weights(out[0], out[1], 3, device, "train_autograd", detached=True)
    losses = losses_list(out[2], STEPS, "train_autograd: the losses")
    diagnose(losses, w, b, problem, LR, STEPS, [ACCUMULATE] + ORDER_MODES, "train_autograd")


def one_step(student_fn, gen, device, stage, linear=False):
    """One step from a known start: the update must equal the hand-computed one; the start stays."""
    problem = make_problem(gen, n=6, d=4)
    x, y, w0, b0 = on(problem, device)
    w0_kept, b0_kept = problem[2].clone(), torch.tensor(problem[3], dtype=F64)
    out = student_fn(x, y, w0, b0, 0.1, 1)
    untouched(w0, w0_kept, b0, b0_kept, stage)
    if linear:
        model, losses = tuple_of(out, 2, f"{stage}(...)")
        w, b = linear_weights(model, 4, device, stage)
    else:
        out = tuple_of(out, 3, f"{stage}(...)")
        w, b = torch_weights(out[0], out[1], 4, device, stage)
        losses = out[2]
    losses = losses_list(losses, 1, f"{stage}: the losses")
    right_w, right_b, right_l = trajectory(*problem, 0.1, 1)
    if linear and not close(losses, right_l):
        fail(f"{stage}: the first loss is {float(losses[0]):.6g}, not the loss at (w0, b0), {right_l[0]:.6g}: copy w0 and b0 into the "
             "layer's weight and bias before training, and compare model(x) (N, 1) with y.reshape(-1, 1)")
    expect_tensor(losses, torch.tensor(right_l, dtype=F64), what=f"{stage}: the loss at the start (before the update)", rtol=RTOL, atol=ATOL)
    if close(w, problem[2]) and close(b, torch.tensor(problem[3], dtype=F64)):
        trap("step_order", f"{stage}: after one step the weights have not moved: the update ran with no gradient "
             "(step before backward, or the gradient zeroed between backward and the update)")
    expect_tensor(w.to("cpu", F64), right_w, what=f"{stage}: w after one step, w0 - lr * dL/dw", rtol=RTOL, atol=ATOL)
    expect_tensor(b.to("cpu", F64), right_b, what=f"{stage}: b after one step, b0 - lr * dL/db", rtol=RTOL, atol=ATOL)


@check("train_autograd", points=1, traps=["step_order"])
def test_train_autograd_one_step(student, gen, device):
    one_step(student.train_autograd, gen, device, "train_autograd")


# ---------------------------------------------------------------- stage 3: train_optim


@check("train_optim", points=2, traps=["missing_zero_grad", "step_order"], mutates=True)
def test_train_optim_trajectory(student, gen, device):
    problem = make_problem(gen)
    x, y, w0, b0 = on(problem, device)
    out = tuple_of(student.train_optim(x, y, w0, b0, LR, STEPS), 3, "train_optim(...)")
    untouched(w0, problem[2], b0, torch.tensor(problem[3], dtype=F64), "train_optim")
    w, b = torch_weights(out[0], out[1], 3, device, "train_optim", detached=True)
    losses = losses_list(out[2], STEPS, "train_optim: the losses")
    diagnose(losses, w, b, problem, LR, STEPS, [ACCUMULATE] + ORDER_MODES, "train_optim")


@check("train_optim", points=1, traps=["step_order"])
def test_train_optim_one_step(student, gen, device):
    one_step(student.train_optim, gen, device, "train_optim")


# ---------------------------------------------------------------- stage 4: train_linear


def linear_weights(model, d, device, stage):
    if model is None:
        fail(f"{stage}: the model is None: the TODO is not done yet (or a return is missing)")
    if not (isinstance(model, Remote) and model.is_instance(LINEAR)):
        fail(f"{stage}: the model should be an nn.Linear, got {describe(model)}")
    weight = as_tensor(model.weight, f"{stage}: model.weight")
    bias = as_tensor(model.bias, f"{stage}: model.bias")
    if tuple(weight.shape) != (1, d) or tuple(bias.shape) != (1,):
        fail(f"{stage}: the layer should be nn.Linear({d}, 1), weight (1, {d}) and bias (1,); got {tuple(weight.shape)} and {tuple(bias.shape)}")
    if weight.dtype != F64:
        fail(f"{stage}: the layer is {weight.dtype}; build it in float64 (dtype=x.dtype) so its trajectory matches the other stages")
    if weight.device.type != torch.device(device).type:
        fail(f"{stage}: the layer is on {weight.device}, expected {device}: build it on x.device")
    return weight.detach().reshape(d), bias.detach().reshape(())


@check("train_linear", points=2, traps=["missing_zero_grad", "step_order"], mutates=True)
def test_train_linear_trajectory(student, gen, device):
    problem = make_problem(gen)
    x, y, w0, b0 = on(problem, device)
    model, losses = tuple_of(student.train_linear(x, y, w0, b0, LR, STEPS), 2, "train_linear(...)")
    untouched(w0, problem[2], b0, torch.tensor(problem[3], dtype=F64), "train_linear")
    w, b = linear_weights(model, 3, device, "train_linear")
    losses = losses_list(losses, STEPS, "train_linear: the losses")
    if not math.isclose(float(losses[0]), trajectory(*problem, LR, 1)[2][0], rel_tol=1e-7):
        fail(f"train_linear: the first loss is {float(losses[0]):.6g}, not the loss at (w0, b0): copy w0 and b0 into the layer's weight and bias "
             "before training, and compare model(x) (N, 1) with y.reshape(-1, 1)")
    diagnose(losses, w, b, problem, LR, STEPS, [ACCUMULATE] + ORDER_MODES, "train_linear")


@check("train_linear", points=1, traps=["step_order"])
def test_train_linear_one_step(student, gen, device):
    one_step(student.train_linear, gen, device, "train_linear", linear=True)


# ---------------------------------------------------------------- the four stages together


STAGES = ("numpy", "autograd", "optim", "linear")


@check("run_all_stages", points=2, traps=["missing_zero_grad", "step_order", "mse_grad_factor"], mutates=True)
def test_run_all_stages_agree(student, gen, device):
    x, y, w0, b0 = make_problem(gen, n=15, d=4)
    w0_np = w0.numpy().copy()
    out = student.run_all_stages(x.numpy().copy(), y.numpy().copy(), w0_np, b0, LR, STEPS, device)
    untouched(torch.from_numpy(w0_np), w0, None, None, "run_all_stages (or a stage it calls)")
    if out is None:
        fail("run_all_stages returned None: the TODO is not done yet (or a return is missing)")
    if type(out) is not dict or set(out) != set(STAGES):
        fail(f"run_all_stages should return a dict with keys {list(STAGES)}, got {describe(out)}"
             + (f" with keys {sorted(map(str, out))}" if type(out) is dict else ""))
    hist = {s: losses_list(out[s], STEPS, f"run_all_stages: the {s!r} losses") for s in STAGES}
    right = torch.tensor(trajectory(x, y, w0, b0, LR, STEPS)[2], dtype=F64)
    odd = [s for s in STAGES if not close(hist[s], right)]
    if not odd:
        return
    # Compare the stages with each other: which ones agree, which one went astray.
    gaps = {(s, t): float((hist[s] - hist[t]).abs().max()) for i, s in enumerate(STAGES) for t in STAGES[i + 1:]}
    if all(g <= ATOL + RTOL * float(right.abs().max()) for g in gaps.values()):
        fail(f"the four stages agree with each other but not with gradient descent from (w0, b0) at lr={LR}: "
             f"their first losses are {float(hist['numpy'][0]):.6g}, expected {float(right[0]):.6g}")
    for s in odd:
        candidates = ([HALF] if s == "numpy" else [ACCUMULATE] + ORDER_MODES)
        for mode, trap_id, meaning in candidates:
            if close(hist[s], trajectory(x, y, w0, b0, LR, STEPS, mode)[2]):
                trap(trap_id, f"the {s!r} stage departs from the others; its losses match the trajectory where {meaning}")
    worst = max(gaps, key=gaps.get)
    fail(f"the stages do not follow the same trajectory: {', '.join(repr(s) for s in odd)} differ from gradient descent; "
         f"the largest gap is between {worst[0]!r} and {worst[1]!r}, {gaps[worst]:.3g}")
