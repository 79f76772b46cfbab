"""Hidden checks for unit 10: losses and optimizers.

Every expected value is computed here with torch itself: losses with
``torch.nn.functional``, optimizer steps with ``torch.optim.SGD`` and
``torch.optim.Adam`` run on trusted copies of the same parameters and
gradients. Parameters passed to the student's step functions come back with
the values and ``.grad`` the student left on them, so both are graded.
"""

import math

import torch
import torch.nn.functional as F

from autograder.checks import as_tensor, check, describe, expect_tensor, facts, fail, gradients_through, trap, is_plain_tensor
from autograder.remote import Remote

MODULE = "torch.nn.modules.module.Module"


def _randn(gen, *shape, device="cpu", scale=1.0, grad=False):
    """float32 standard-normal values from ``gen`` (a CPU generator) times ``scale``,
    moved to ``device``; a leaf that requires grad after the move when ``grad``."""
    t = (torch.randn(*shape, generator=gen) * scale).to(device)
    return t.requires_grad_() if grad else t


def _close(a, b, rtol=1e-5, atol=1e-5) -> bool:
    if not is_plain_tensor(a) or a.shape != b.shape or a.dtype != b.dtype:
        return False
    return torch.allclose(a.detach().to(b.device), b.detach(), rtol=rtol, atol=atol, equal_nan=False)


def _scalar(out, what):
    out = as_tensor(out, what)
    if out.dim() != 0:
        fail(f"{what} should be a 0-D tensor (one number), got shape {tuple(out.shape)}: reduce with the mean")
    return out


# ---------------------------------------------------------------- mse_loss


@check("mse_loss", points=1)
def test_mse_mean(student, device, gen):
    pred = _randn(gen, 5, 3, device=device)
    target = _randn(gen, 5, 3, device=device)
    expected = ((pred - target) ** 2).mean()
    out = as_tensor(student.mse_loss(pred, target), "mse_loss(pred (5, 3), target (5, 3))")
    if out.shape == expected.shape and _close(out, ((pred - target) ** 2).sum()):
        fail("the result is the SUM of the squared errors: the default reduction is 'mean', the average over all N * K elements")
    expect_tensor(out, expected, what="mse_loss(pred (5, 3), target (5, 3))", rtol=1e-5, atol=1e-6)


@check("mse_loss", points=1)
def test_mse_reductions(student, device, gen):
    pred = _randn(gen, 4, 3, device=device)
    target = _randn(gen, 4, 3, device=device)
    sq = (pred - target) ** 2
    expect_tensor(student.mse_loss(pred, target, "sum"), sq.sum(), what="mse_loss(pred, target, 'sum')", rtol=1e-5, atol=1e-5)
    expect_tensor(student.mse_loss(pred, target, reduction="none"), sq, what="mse_loss(pred, target, reduction='none')", rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- softmax


@check("softmax", points=2)
def test_softmax_values(student, sandbox, device, gen):
    logits = _randn(gen, 5, 3, device=device, scale=2.0, grad=True)
    out = as_tensor(student.softmax(logits), "softmax(logits (5, 3))")
    f = facts(out)
    if f.grad_fn in ("SoftmaxBackward0", "LogSoftmaxBackward0"):
        fail(f"the result was made by torch's own softmax ({f.grad_fn}): write it with torch.exp, max and sum")
    expected = torch.softmax(logits.detach(), dim=1)
    if out.shape == expected.shape and _close(out, torch.softmax(logits.detach(), dim=0), atol=1e-6):
        fail("the COLUMNS sum to 1: you normalised over dim 0, the samples; normalise each row over the classes (dim=1)")
    expect_tensor(out, expected, what="softmax(logits (5, 3))", rtol=1e-5, atol=1e-6)
    g = torch.randn(out.shape, generator=gen).to(device)
    grads = gradients_through(sandbox, out, ["0"], g)
    if grads is None or grads[0] is None:
        fail("the result does not track gradients: keep it attached to the graph (no detach(), no torch.no_grad())")
    lg = logits.detach().requires_grad_()
    (right,) = torch.autograd.grad(torch.softmax(lg, dim=1), lg, g)
    expect_tensor(grads[0], right, what="the gradient through softmax(logits) with respect to the logits", rtol=1e-4, atol=1e-5)


@check("softmax", points=1)
def test_softmax_large_logits(student, device, gen):
    logits = torch.randn(4, 5, generator=gen) * 3
    logits[0] += 1000.0
    logits[2] -= 1000.0
    logits = logits.to(device)
    out = as_tensor(student.softmax(logits), "softmax of logits near +1000 and -1000")
    if out.shape == logits.shape and not bool(torch.isfinite(out).all()):
        bad = sorted({int(i) for i in torch.nonzero(~torch.isfinite(out))[:, 0]})
        fail(f"rows {bad} hold NaN or inf: exp(1000) overflows to inf (and exp(-1000) underflows to 0, so 0 / 0); "
             "subtract each row's maximum before torch.exp")
    expect_tensor(out, torch.softmax(logits, dim=1), what="softmax of logits near +1000 and -1000", rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- cross_entropy_by_hand


@check("cross_entropy_by_hand", points=2)
def test_ce_by_hand_values(student, device, gen):
    logits = _randn(gen, 5, 4, device=device, scale=2.0, grad=True)
    targets = torch.randint(0, 4, (5,), generator=gen).to(device)
    out = _scalar(student.cross_entropy_by_hand(logits, targets), "cross_entropy_by_hand(logits (5, 4), targets (5,))")
    f = facts(out)
    if f.grad_fn == "NllLossBackward0":
        fail("the result was made by nn.CrossEntropyLoss / F.cross_entropy / F.nll_loss: write the log-softmax and the pick yourself")
    expected = F.cross_entropy(logits.detach(), targets)
    if _close(out, F.cross_entropy(logits.detach(), targets, reduction="sum")):
        fail("the result is the SUM over the samples: cross-entropy loss is the MEAN of -log p[i, targets[i]]")
    if _close(out, -expected):
        fail("the result has the wrong sign: the loss is MINUS the mean log-probability of the targets (a positive number)")
    expect_tensor(out, expected, what="cross_entropy_by_hand(logits (5, 4), targets (5,))", rtol=1e-5, atol=1e-5)


@check("cross_entropy_by_hand", points=1, traps=["log_of_softmax"])
def test_ce_by_hand_underflow(student, device, gen):
    logits = torch.randn(4, 5, generator=gen) * 2
    targets = torch.randint(0, 5, (4,), generator=gen)
    logits[torch.arange(4), targets] -= 200.0  # each target's probability is about exp(-200): 0 in float32
    logits, targets = logits.to(device), targets.to(device)
    expected = F.cross_entropy(logits, targets)
    out = _scalar(student.cross_entropy_by_hand(logits, targets), "cross_entropy_by_hand with targets 200 below the best logit")
    if not bool(torch.isfinite(out)):
        trap("log_of_softmax", f"the loss is {out.item()}, the right value is {expected.item():.6g}: each target's probability "
             "exp(-200) underflows to 0 and log(0) is -inf; compute log-probabilities with the log-sum-exp trick")
    expect_tensor(out, expected, what="cross_entropy_by_hand with targets 200 below the best logit", rtol=1e-5, atol=1e-4)


# ---------------------------------------------------------------- cross_entropy


@check("cross_entropy", points=2, traps=["softmax_before_ce"])
def test_ce_raw_logits(student, device, gen):
    logits = _randn(gen, 5, 4, device=device, scale=3.0, grad=True)
    targets = torch.randint(0, 4, (5,), generator=gen).to(device)
    out = _scalar(student.cross_entropy(logits, targets), "cross_entropy(logits (5, 4), targets (5,))")
    raw = logits.detach()
    expected = F.cross_entropy(raw, targets)
    squashed = F.cross_entropy(torch.softmax(raw, dim=1), targets)
    if _close(out, squashed):
        trap("softmax_before_ce", f"got {out.item():.6g}, the loss of softmax(logits); on the raw logits it is {expected.item():.6g}")
    expect_tensor(out, expected, what="cross_entropy(logits (5, 4), targets (5,))", rtol=1e-5, atol=1e-5)


@check("cross_entropy", points=1, traps=["softmax_before_ce"])
def test_ce_keeps_graph(student, sandbox, device, gen):
    # Equal logits within each row: every class is equally likely, so the loss is log(C).
    rows = torch.randn(3, 1, generator=gen) * 2
    logits = rows.expand(3, 5).contiguous().to(device).requires_grad_()
    targets = torch.randint(0, 5, (3,), generator=gen).to(device)
    out = _scalar(student.cross_entropy(logits, targets), "cross_entropy(logits (3, 5), targets (3,))")
    grads = gradients_through(sandbox, out, ["0"], torch.ones(()))
    if grads is None or grads[0] is None:
        fail("the loss does not track gradients: return the loss object's result as it is (no detach(), "
             "no .item(), no torch.no_grad()) so that backward() can run on it")
    lg = logits.detach().requires_grad_()
    (right,) = torch.autograd.grad(F.cross_entropy(lg, targets), lg)
    (squashed,) = torch.autograd.grad(F.cross_entropy(torch.softmax(lg, dim=1), targets), lg)
    if _close(grads[0], squashed) and not _close(grads[0], right):
        trap("softmax_before_ce", "the loss is right for equal logits, but its gradient is that of softmax(logits) fed to the loss")
    expect_tensor(grads[0], right, what="the gradient of the loss with respect to the logits", rtol=1e-4, atol=1e-6)
    expect_tensor(out, torch.tensor(math.log(5.0), device=device), what="cross_entropy of equal logits over 5 classes (log 5)", rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- make_targets


NAMES = ["cat", "dog", "fish", "bird", "frog"]


@check("make_targets", points=2, traps=["onehot_targets"])
def test_make_targets(student, device, gen):
    classes = [NAMES[int(i)] for i in torch.randperm(5, generator=gen)]
    idx = torch.randint(0, 5, (7,), generator=gen).tolist()
    labels = [classes[i] for i in idx]
    out = as_tensor(student.make_targets(labels, classes, device=device), f"make_targets({labels}, {classes})")
    if out.dim() == 2 and tuple(out.shape) == (7, 5):
        trap("onehot_targets", f"got {describe(out)}: one-hot rows (N, C); nn.CrossEntropyLoss wants one class index "
             "per sample, an int64 tensor of shape (7,)")
    if out.dtype.is_floating_point:
        trap("onehot_targets", f"got {describe(out)}: float targets; class indices for nn.CrossEntropyLoss must be int64 (torch.long)")
    expect_tensor(out, torch.tensor(idx, dtype=torch.long, device=device), what=f"make_targets({labels}, {classes})")


# ---------------------------------------------------------------- bce_with_logits


@check("bce_with_logits", points=2)
def test_bce_values(student, device, gen):
    logits = _randn(gen, 7, device=device, scale=1.5, grad=True)
    targets = (torch.rand(7, generator=gen) < 0.5).float().to(device)
    out = _scalar(student.bce_with_logits(logits, targets), "bce_with_logits(logits (7,), targets (7,))")
    expected = F.binary_cross_entropy_with_logits(logits.detach(), targets)
    if _close(out, F.binary_cross_entropy_with_logits(torch.sigmoid(logits.detach()), targets), rtol=1e-4):
        fail("the result is the loss of sigmoid(logits): nn.BCEWithLogitsLoss applies the sigmoid itself, give it the raw logits")
    expect_tensor(out, expected, what="bce_with_logits(logits (7,), targets (7,))", rtol=1e-4, atol=1e-5)


@check("bce_with_logits", points=2, traps=["sigmoid_then_bce"])
def test_bce_large_logits(student, device, gen):
    sign = torch.where(torch.rand(6, generator=gen) < 0.5, -1.0, 1.0)
    logits = sign * (100.0 + 100.0 * torch.rand(6, generator=gen))
    wrong = torch.tensor([True, False, True, True, False, True])[torch.randperm(6, generator=gen)]
    targets = ((sign > 0) ^ wrong).float()  # a confident wrong answer costs about |logit|
    logits, targets = logits.to(device), targets.to(device)
    expected = F.binary_cross_entropy_with_logits(logits, targets)
    what = "bce_with_logits with logits between 100 and 200 in size"
    out = _scalar(student.bce_with_logits(logits, targets), what)
    if not bool(torch.isfinite(out)):
        trap("sigmoid_then_bce", f"the loss is {out.item()}, the right value is {expected.item():.6g}: in float32 sigmoid(150) is "
             "exactly 1 (and sigmoid(-150) exactly 0), so log(1 - sigmoid(x)) is -inf; use nn.BCEWithLogitsLoss on the raw logits")
    clamped = F.binary_cross_entropy(torch.sigmoid(logits), targets)
    if _close(out, clamped, rtol=1e-4, atol=1e-3):
        trap("sigmoid_then_bce", f"got {out.item():.6g}, what nn.BCELoss gives on sigmoid(logits) with its log clamped at -100; "
             f"the right value is {expected.item():.6g}: use nn.BCEWithLogitsLoss on the raw logits")
    expect_tensor(out, expected, what=what, rtol=1e-5, atol=1e-4)


# ---------------------------------------------------------------- optimizer helpers


SHAPES = [(4, 3), (5,)]


def _params(gen, device):
    return [_randn(gen, *s, device=device, grad=True) for s in SHAPES]


def _grads(gen, device):
    return [_randn(gen, *s, device=device) for s in SHAPES]


def _set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = g.clone()


def _values(params):
    return [p.detach().clone() for p in params]


def _clones(params):
    return [p.detach().clone().requires_grad_() for p in params]


def _torch_steps(params, grads_per_step, make_opt):
    """Run the real optimizer on trusted copies; the parameters after each step."""
    ps = _clones(params)
    opt = make_opt(ps)
    after = []
    for grads in grads_per_step:
        _set_grads(ps, grads)
        opt.step()
        after.append([p.detach().clone() for p in ps])
    return after


def _expect_params(params, expected, what, before=None, nan_hint="", rtol=1e-5, atol=1e-6):
    if before is not None and all(torch.equal(p.detach(), b) for p, b in zip(params, before)):
        fail(f"{what}: the parameters did not change; update the tensors you were given in place "
             "(p -= ... under torch.no_grad()), not new tensors made with p = p - ...")
    for i, (p, e) in enumerate(zip(params, expected)):
        if not bool(torch.isfinite(p.detach()).all()):
            fail(f"{what}: parameter {i} holds NaN or inf{nan_hint}")
        expect_tensor(p.detach(), e, what=f"{what}: parameter {i} (shape {tuple(e.shape)})", rtol=rtol, atol=atol)


def _expect_grads_kept(params, grads, what):
    for i, (p, g) in enumerate(zip(params, grads)):
        if p.grad is None or not torch.equal(p.grad, g):
            trap("step_changes_grad", f"after {what}, parameter {i}'s .grad is not the gradient it had before the step: "
                 "a step reads p.grad and must never write into it (build the update as a new tensor; zeroing is zero_grad()'s job)")


def _buffers(out, n, what):
    if out is None:
        fail(f"{what} returned None: return the list of momentum buffers to pass back in on the next call")
    if type(out) not in (list, tuple) or len(out) != n:
        fail(f"{what} should return a list of {n} momentum buffers, got {describe(out)}")
    for i, b in enumerate(out):
        if b is None:
            fail(f"momentum buffer {i} is None after a step with momentum: the first step's buffer is d.clone(), "
                 "later ones momentum * buffer + d")
        as_tensor(b, f"momentum buffer {i}")
    return list(out)


# ---------------------------------------------------------------- sgd_step


@check("sgd_step", points=1, mutates=True)
def test_sgd_plain(student, device, gen):
    params, grads = _params(gen, device), _grads(gen, device)
    (expected,) = _torch_steps(params, [grads], lambda ps: torch.optim.SGD(ps, lr=0.1))
    before = _values(params)
    _set_grads(params, grads)
    buffers = student.sgd_step(params, [None, None], 0.1)
    _expect_params(params, expected, "after one plain SGD step (lr=0.1)", before)
    if not (isinstance(buffers, list) and len(buffers) == len(params) and all(b is None for b in buffers)):
        fail(f"without momentum sgd_step should return a list of None buffers (one per parameter), got {describe(buffers)}")


@check("sgd_step", points=2, mutates=True)
def test_sgd_momentum_two_steps(student, device, gen):
    # momentum 1.0 too: any non-zero momentum keeps a buffer, as torch.optim.SGD does
    for lr, momentum, wd in ((0.05, 0.9, 0.01), (0.02, 1.0, 0.0)):
        params = _params(gen, device)
        g1, g2 = _grads(gen, device), _grads(gen, device)
        exp1, exp2 = _torch_steps(params, [g1, g2], lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, weight_decay=wd))
        before = _values(params)
        _set_grads(params, g1)
        bufs = _buffers(student.sgd_step(params, [None, None], lr, momentum=momentum, weight_decay=wd),
                        2, f"sgd_step with momentum={momentum}")
        _expect_params(params, exp1, f"after SGD step 1 (lr={lr}, momentum={momentum}, weight_decay={wd})", before)
        _set_grads(params, g2)
        bufs = _buffers(student.sgd_step(params, bufs, lr, momentum=momentum, weight_decay=wd), 2, f"sgd_step with momentum={momentum}")
        _expect_params(params, exp2, f"after SGD step 2 with momentum={momentum} (the buffer from step 1 passed back in)")


@check("sgd_step", points=1, traps=["step_changes_grad"], mutates=True)
def test_sgd_keeps_grad(student, device, gen):
    params, grads = _params(gen, device), _grads(gen, device)
    lr, momentum, wd = 0.1, 0.5, 0.2
    (expected,) = _torch_steps(params, [grads], lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, weight_decay=wd))
    before = _values(params)
    _set_grads(params, grads)
    student.sgd_step(params, [None, None], lr, momentum=momentum, weight_decay=wd)
    _expect_grads_kept(params, grads, "sgd_step (weight_decay=0.2)")
    _expect_params(params, expected, "after one SGD step (lr=0.1, momentum=0.5, weight_decay=0.2)", before)


# ---------------------------------------------------------------- adam_step


ADAM_NAN = ": is step counted from 1? (1 - beta ** 0 is 0, and dividing by it gives inf)"


def _zeros_like(params):
    return [torch.zeros_like(p.detach()) for p in params]


def _adam_uncorrected(params, grads_per_step, lr, b1, b2, eps):
    """Adam's update without bias correction: what the trap computes."""
    ps = [p.detach().clone() for p in params]
    ms, vs = _zeros_like(ps), _zeros_like(ps)
    for grads in grads_per_step:
        for p, m, v, g in zip(ps, ms, vs, grads):
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            p -= lr * m / (v.sqrt() + eps)
    return ps


def _uncorrected_trap(params, wrong):
    if all(_close(p.detach(), w, rtol=1e-5, atol=1e-6) for p, w in zip(params, wrong)):
        trap("adam_no_bias_correction", "the parameters match Adam WITHOUT bias correction: divide m by (1 - beta1**step) "
             "and v by (1 - beta2**step) before the update")


@check("adam_step", points=1, traps=["adam_no_bias_correction"], mutates=True)
def test_adam_defaults(student, device, gen):
    # Tiny gradients, so that eps matters as much as lr: both defaults are in the signature.
    params = _params(gen, device)
    grads = [g * 1e-7 for g in _grads(gen, device)]
    (expected,) = _torch_steps(params, [grads], lambda ps: torch.optim.Adam(ps))
    wrong = _adam_uncorrected(params, [grads], 1e-3, 0.9, 0.999, 1e-8)
    ms, vs = _zeros_like(params), _zeros_like(params)
    before = _values(params)
    _set_grads(params, grads)
    student.adam_step(params, ms, vs, 1)
    _uncorrected_trap(params, wrong)
    _expect_params(params, expected, "after one Adam step with the default lr, betas and eps, on gradients near 1e-7", before, ADAM_NAN,
                   rtol=1e-4, atol=1e-7)  # fmt: skip


@check("adam_step", points=1, traps=["adam_no_bias_correction"], mutates=True)
def test_adam_first_step(student, device, gen):
    params, grads = _params(gen, device), _grads(gen, device)
    lr = 0.01
    (expected,) = _torch_steps(params, [grads], lambda ps: torch.optim.Adam(ps, lr=lr))
    wrong = _adam_uncorrected(params, [grads], lr, 0.9, 0.999, 1e-8)
    ms, vs = _zeros_like(params), _zeros_like(params)
    before = _values(params)
    _set_grads(params, grads)
    student.adam_step(params, ms, vs, 1, lr=lr)
    _uncorrected_trap(params, wrong)
    _expect_params(params, expected, "after one Adam step (lr=0.01)", before, ADAM_NAN)
    for i, (m, v, g) in enumerate(zip(ms, vs, grads)):
        expect_tensor(m, 0.1 * g, what=f"exp_avgs[{i}] after step 1 (m = 0.1 * g, updated in place)", rtol=1e-5, atol=1e-6)
        expect_tensor(v, 0.001 * g * g, what=f"exp_avg_sqs[{i}] after step 1 (v = 0.001 * g * g, updated in place)", rtol=1e-5, atol=1e-7)


@check("adam_step", points=1, traps=["adam_no_bias_correction"], mutates=True)
def test_adam_two_steps(student, device, gen):
    params = _params(gen, device)
    g1, g2 = _grads(gen, device), _grads(gen, device)
    lr, b1, b2, eps = 0.02, 0.8, 0.99, 1e-6
    exp1, exp2 = _torch_steps(params, [g1, g2], lambda ps: torch.optim.Adam(ps, lr=lr, betas=(b1, b2), eps=eps))
    wrong = _adam_uncorrected(params, [g1, g2], lr, b1, b2, eps)
    ms, vs = _zeros_like(params), _zeros_like(params)
    before = _values(params)
    _set_grads(params, g1)
    student.adam_step(params, ms, vs, 1, lr=lr, beta1=b1, beta2=b2, eps=eps)
    _set_grads(params, g2)
    student.adam_step(params, ms, vs, 2, lr=lr, beta1=b1, beta2=b2, eps=eps)
    _uncorrected_trap(params, wrong)
    _expect_params(params, exp2, "after two Adam steps (lr=0.02, betas=(0.8, 0.99), eps=1e-6)", before, ADAM_NAN)


@check("adam_step", points=1, traps=["step_changes_grad", "adam_no_bias_correction"], mutates=True)
def test_adam_keeps_grad(student, device, gen):
    params, grads = _params(gen, device), _grads(gen, device)
    lr = 0.05
    (expected,) = _torch_steps(params, [grads], lambda ps: torch.optim.Adam(ps, lr=lr))
    wrong = _adam_uncorrected(params, [grads], lr, 0.9, 0.999, 1e-8)
    ms, vs = _zeros_like(params), _zeros_like(params)
    before = _values(params)
    _set_grads(params, grads)
    student.adam_step(params, ms, vs, 1, lr=lr)
    _expect_grads_kept(params, grads, "adam_step")
    _uncorrected_trap(params, wrong)
    _expect_params(params, expected, "after one Adam step (lr=0.05)", before, ADAM_NAN)


# ---------------------------------------------------------------- fit_classifier


CENTERS = 3.0 * torch.eye(4, 3)  # four classes in 3-D: three corners and the origin
EPOCHS = 80
LR = 0.1


def _blobs(gen, n, offset):
    y = torch.randint(0, 4, (n,), generator=gen)
    x = CENTERS[y] + 0.6 * torch.randn(n, 3, generator=gen) + offset
    return x, y


def _fit(student, gen, device):
    offset = torch.randn(3, generator=gen)
    x, y = _blobs(gen, 200, offset)
    out = student.fit_classifier(x.to(device), y.to(device), 4, LR, EPOCHS)
    if out is None:
        fail("fit_classifier returned None: the TODO is not done yet (or a return is missing)")
    if type(out) is not tuple or len(out) != 2:
        fail(f"fit_classifier should return a tuple (model, losses), got {describe(out)}")
    model, losses = out
    if not (isinstance(model, Remote) and model.is_instance(MODULE)):
        fail(f"the model fit_classifier returned should be an nn.Module, got {describe(model)}")
    probe = as_tensor(model(x[:10].to(device)), "model(x)").detach().cpu()
    if tuple(probe.shape) == (10, 4) and bool(((probe >= 0) & (probe <= 1)).all()) and torch.allclose(probe.sum(dim=1), torch.ones(10), atol=1e-4):
        trap("softmax_before_ce", "the model's outputs are probabilities (each row sums to 1): the model ends in a softmax, "
             "so nn.CrossEntropyLoss squashes them again and the loss cannot fall below log(1 + 3/e) = 0.74; output raw logits")
    return model, losses, offset


@check("fit_classifier", points=1, traps=["softmax_before_ce"])
def test_fit_losses(student, device, gen):
    _, losses, _ = _fit(student, gen, device)
    if type(losses) is not list or not all(type(v) is float for v in losses):
        fail(f"the losses should be a list of Python floats (loss.item() each epoch), got {describe(losses)}"
             + (f" holding {describe(losses[0])}" if type(losses) is list and losses else ""))
    if len(losses) != EPOCHS:
        fail(f"the losses should have one value per epoch, {EPOCHS}, got {len(losses)}")
    if not all(math.isfinite(v) for v in losses):
        fail("the loss history holds inf or NaN")
    if not (losses[-1] < 0.5 * losses[0] and losses[-1] < 0.5):
        fail(f"the loss did not fall enough: {losses[0]:.4g} at the first epoch, {losses[-1]:.4g} at the last "
             "(expected below half the first and below 0.5)")


@check("fit_classifier", points=2, traps=["softmax_before_ce"])
def test_fit_accuracy(student, device, gen):
    model, _, offset = _fit(student, gen, device)
    x_test, y_test = _blobs(gen, 100, offset)
    logits = as_tensor(model(x_test.to(device)), "model(x_test)").detach()
    if tuple(logits.shape) != (100, 4):
        fail(f"the trained model should map (100, 3) to (100, 4) logits, got {tuple(logits.shape)}")
    acc = (logits.argmax(dim=1).cpu() == y_test).float().mean().item()
    if acc < 0.9:
        fail(f"the trained model's accuracy on new data is {acc:.0%}, expected at least 90%")
