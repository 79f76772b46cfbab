"""Hidden checks for unit 08: logistic regression.

Losses are compared with the values computed here by torch.nn.functional,
and against the value the misconception would give (the sigmoid applied
twice; labels broadcast against predictions). Training is graded by outcome:
one step from zero weights against the update computed here by hand, the loss
falling, the accuracy on fresh data, and the test accuracy on a random subset
of the breast-cancer data written into the sandbox's working folder.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from autograder.checks import as_tensor, check, describe, expect_close, expect_tensor, fail, trap, is_plain_tensor
from autograder.remote import Remote, StudentError

DATA = Path(__file__).resolve().parents[2] / "assignments" / "08_logistic_regression" / "breast_cancer.csv"
MODULE = "torch.nn.modules.module.Module"
LINEAR = "torch.nn.modules.linear.Linear"


# ---------------------------------------------------------------- helpers (trusted side)


def class_data(gen: torch.Generator, n: int, d: int):
    """``x`` (n, d) float32 and labels ``y`` (n,) int64 from a noisy linear rule; also (w, b)."""
    x = torch.randn(n, d, generator=gen)
    sign = torch.randint(0, 2, (d,), generator=gen) * 2 - 1
    w = (torch.rand(d, generator=gen) * 1.5 + 0.5) * sign
    b = torch.rand((), generator=gen) - 0.5
    y = ((x @ w + b + 0.3 * torch.randn(n, generator=gen)) > 0).to(torch.int64)
    return x, y, w, b


def module(value, what: str) -> Remote:
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if not (isinstance(value, Remote) and value.is_instance(MODULE)):
        fail(f"{what} should be an nn.Module, got {describe(value)}")
    return value


def tuple_of(value, n: int, what: str) -> tuple:
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if type(value) not in (tuple, list) or len(value) != n:
        size = f" of length {len(value)}" if type(value) in (tuple, list) else ""
        fail(f"{what} should be a tuple of {n} things, got {describe(value)}{size}")
    return tuple(value)


def is_label_error(exc: StudentError) -> bool:
    """Whether a BCE loss raised because its target had the wrong shape or dtype."""
    d = exc.detail.lower()
    return "target size" in d or "found dtype" in d or "can't be cast to the desired output type" in d


def calling(fn, what: str):
    """Call ``fn()``; a BCE error about the target's shape or dtype names the label_shape trap."""
    try:
        return fn()
    except StudentError as exc:
        if is_label_error(exc):
            trap("label_shape", f"{what} raised {exc.type}: {exc.detail} -- the labels must be (N, 1) float32 like the model's output")
        raise


def near(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a.detach().cpu().double(), b.detach().cpu().double(), rtol=rtol, atol=atol))


def outputs_in_unit_interval(out: torch.Tensor) -> bool:
    return bool(((out >= 0) & (out <= 1)).all())


def sigmoid_model_message(what: str) -> str:
    return (f"{what} are all within [0, 1]: the model ends in a sigmoid, and BCEWithLogitsLoss applies "
            "another one, so training saw sigmoid(sigmoid(z)); train_classifier must return the plain "
            "nn.Linear whose outputs are logits")


# ---------------------------------------------------------------- LogisticRegression


@check("LogisticRegression", points=1)
def test_model_parameters(student):
    model = module(student.LogisticRegression(5), "LogisticRegression(5)")
    layer = model.linear
    if not (isinstance(layer, Remote) and layer.is_instance(LINEAR)):
        fail(f"self.linear should be an nn.Linear, got {describe(layer)}")
    weight, bias = as_tensor(layer.weight, "self.linear.weight"), as_tensor(layer.bias, "self.linear.bias")
    if tuple(weight.shape) != (1, 5) or tuple(bias.shape) != (1,):
        fail(f"LogisticRegression(5) should hold a weight (1, 5) and a bias (1,) (nn.Linear(5, 1)), got {tuple(weight.shape)} and {tuple(bias.shape)}")
    shapes = sorted(tuple(p.shape) for p in model.parameters())
    if shapes != [(1,), (1, 5)]:
        fail(f"the model's parameters should be exactly the layer's weight (1, 5) and bias (1,), got shapes {shapes}")


@check("LogisticRegression", points=1)
def test_model_forward(student, device, gen):
    model = module(student.LogisticRegression(4), "LogisticRegression(4)").to(device)
    w = (torch.randn(1, 4, generator=gen) * 2).to(device)
    b = torch.randn(1, generator=gen).to(device)
    model.linear.load_state_dict({"weight": w, "bias": b})
    x = (torch.randn(6, 4, generator=gen) * 2).to(device)
    out = as_tensor(model(x), "model(x) for x of shape (6, 4)")
    z = x @ w.T + b
    if near(out, z):
        fail("model(x) returned the raw logits x @ W.T + b: apply torch.sigmoid to get probabilities in (0, 1)")
    expect_tensor(out, torch.sigmoid(z), what="model(x) for x of shape (6, 4)", rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- prepare_labels


@check("prepare_labels", points=2, traps=["label_shape"])
def test_prepare_labels(student, device, gen):
    y = torch.randint(0, 2, (7,), generator=gen).to(device)
    out = as_tensor(student.prepare_labels(y), "prepare_labels(y) for y (7,) int64")
    wrong = []
    if tuple(out.shape) in ((7,), (1, 7)):
        wrong.append(f"shape {tuple(out.shape)}")
    if not out.is_floating_point():
        wrong.append(f"dtype {out.dtype}")
    if wrong:
        trap("label_shape", f"prepare_labels returned {' and '.join(wrong)}; BCE targets must be (7, 1) float32, the model output's shape and dtype")
    expect_tensor(out, y.to(torch.float32).reshape(-1, 1), what="prepare_labels(y) for y (7,) int64")


# ---------------------------------------------------------------- bce_loss


@check("bce_loss", points=2, traps=["label_shape"])
def test_bce_loss_int_labels(student, device, gen):
    probs = torch.sigmoid(torch.randn(9, 1, generator=gen) * 2).to(device)
    labels = torch.randint(0, 2, (9,), generator=gen).to(device)
    what = "bce_loss(probs (9, 1), labels (9,) int64)"
    out = as_tensor(calling(lambda: student.bce_loss(probs, labels), what), what)
    targets = labels.to(torch.float32).reshape(-1, 1)
    if out.numel() == 1 and near(out.reshape(()), F.binary_cross_entropy_with_logits(probs, targets)):
        fail(f"{what} equals BCEWithLogitsLoss of the probabilities: they are probabilities already, use nn.BCELoss (no second sigmoid)")
    expect_tensor(out, F.binary_cross_entropy(probs, targets), what=what, rtol=1e-5, atol=1e-6)


@check("bce_loss", points=1)
def test_bce_loss_column_targets(student, device, gen):
    probs = torch.sigmoid(torch.randn(10, 1, generator=gen) * 2).to(device)
    targets = torch.randint(0, 2, (10, 1), generator=gen).to(torch.float32).to(device)
    what = "bce_loss(probs (10, 1), labels (10, 1) float32)"
    expect_tensor(student.bce_loss(probs, targets), F.binary_cross_entropy(probs, targets), what=what, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- bce_with_logits_loss


def _logits_case(student, logits: torch.Tensor, targets: torch.Tensor, what: str, atol: float) -> tuple[torch.Tensor, torch.Tensor]:
    out = as_tensor(student.bce_with_logits_loss(logits, targets), what)
    right = F.binary_cross_entropy_with_logits(logits.double(), targets.double()).to(torch.float32)
    twice = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), targets)
    if out.numel() == 1 and near(out.reshape(()), twice, rtol=1e-5, atol=atol) and not near(twice, right, rtol=1e-5, atol=atol):
        trap("sigmoid_twice", f"{what} is {out.item():.6g} = BCEWithLogitsLoss(sigmoid(logits)); the loss of the logits themselves is {right.item():.6g}")
    return out, right


@check("bce_with_logits_loss", points=2, traps=["sigmoid_twice"])
def test_bce_with_logits_value(student, device, gen):
    logits = (torch.randn(8, 1, generator=gen) * 3).to(device)
    targets = torch.randint(0, 2, (8, 1), generator=gen).to(torch.float32).to(device)
    what = "bce_with_logits_loss(logits (8, 1), targets (8, 1))"
    out, right = _logits_case(student, logits, targets, what, 1e-6)
    expect_tensor(out, right.to(device), what=what, rtol=1e-5, atol=1e-6)


@check("bce_with_logits_loss", points=1, traps=["sigmoid_twice"])
def test_bce_with_logits_large_logits(student, device, gen):
    sign = torch.randint(0, 2, (7, 1), generator=gen) * 2.0 - 1
    logits = sign * (20 + 40 * torch.rand(7, 1, generator=gen))
    targets = torch.randint(0, 2, (7, 1), generator=gen).to(torch.float32)
    targets[0, 0] = float(logits[0, 0] < 0)  # at least one confident mistake
    logits, targets = logits.to(device), targets.to(device)
    what = "bce_with_logits_loss for logits of size 20 to 60"
    out, right = _logits_case(student, logits, targets, what, 1e-4)
    naive = F.binary_cross_entropy(torch.sigmoid(logits), targets)
    if out.numel() == 1 and near(out.reshape(()).cpu(), naive.cpu(), rtol=1e-5, atol=1e-4) and not near(naive.cpu(), right.cpu(), rtol=1e-3, atol=1e-3):
        fail(f"{what} is {out.item():.6g}, the value of torch.sigmoid + nn.BCELoss: sigmoid rounds to exactly 0 or 1 in float32 "
             f"and BCELoss clamps log(0) to -100; nn.BCEWithLogitsLoss on the logits gives the exact {right.item():.6g}")
    expect_tensor(out, right.to(device), what=what, rtol=1e-5, atol=1e-4)


# ---------------------------------------------------------------- accuracy


@check("accuracy", points=1, traps=["label_shape"])
def test_accuracy_vector_labels(student, device, gen):
    for _ in range(50):  # draw until the broadcast value differs from the right one
        probs = torch.rand(11, 1, generator=gen)
        labels = torch.randint(0, 2, (11,), generator=gen)
        pred = (probs >= 0.5).to(torch.int64)
        right = (pred.reshape(-1) == labels).to(torch.float64).mean().item()
        broadcast = (pred == labels).to(torch.float64).mean().item()  # (11, 1) == (11,) -> (11, 11)
        if abs(right - broadcast) > 1e-3:
            break
    what = "accuracy(probs (11, 1), labels (11,) int64)"
    out = student.accuracy(probs.to(device), labels.to(device))
    if is_plain_tensor(out):
        fail(f"{what} returned {describe(out)}: return a Python float with .item()")
    if type(out) in (int, float) and abs(out - broadcast) < 1e-6:
        trap("label_shape", f"{what} is {out:.6g}, the mean over an (11, 11) broadcast of (11, 1) predictions against (11,) labels; the accuracy is {right:.6g}")
    expect_close(out, right, what=what, rtol=1e-6, atol=1e-6)


@check("accuracy", points=1)
def test_accuracy_threshold_column_labels(student, device):
    probs = torch.tensor([[0.5], [0.5], [0.49], [0.51], [0.9], [0.1], [0.5]], device=device)
    labels = torch.tensor([[1.0], [1.0], [0.0], [1.0], [0.0], [0.0], [1.0]], device=device)
    what = "accuracy(probs (7, 1), labels (7, 1) float32) with three probabilities of exactly 0.5"
    out = student.accuracy(probs, labels)
    if is_plain_tensor(out):
        fail(f"{what} returned {describe(out)}: return a Python float with .item()")
    if type(out) in (int, float) and abs(out - 3 / 7) < 1e-6:
        fail(f"{what} is 3/7: a probability of exactly 0.5 is predicted as class 1 (probs >= 0.5, not > 0.5); expected 6/7")
    expect_close(out, 6 / 7, what=what, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- train_test_split


@check("train_test_split", points=2)
def test_split_reproducible(student, device, gen):
    n, fraction = 23, 0.3
    seed = int(torch.randint(0, 10**6, (1,), generator=gen))
    x = torch.randn(n, 3, generator=gen).to(device)
    y = torch.randint(0, 2, (n,), generator=gen).to(device)
    n_test = int(n * fraction)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    test, train = perm[:n_test], perm[n_test:]
    what = f"train_test_split(x (23, 3), y (23,), {fraction}, seed={seed})"
    parts = tuple_of(student.train_test_split(x, y, fraction, seed), 4, what)
    shapes = [tuple(as_tensor(p, f"part {i} of the result").shape) for i, p in enumerate(parts)]
    if shapes[0] == (n_test, 3) and shapes[1] == (n - n_test, 3):
        fail(f"{what}: x_train has {n_test} rows and x_test {n - n_test}: the test set is perm[:n_test] (n_test = int(N * test_fraction) = {n_test}), and the order is (x_train, x_test, y_train, y_test)")
    names = ["x_train", "x_test", "y_train", "y_test"]
    for name, got, exp in zip(names, parts, (x[train], x[test], y[train], y[test])):
        expect_tensor(got, exp, what=f"{name} of {what} (perm = torch.randperm(N, generator=torch.Generator().manual_seed(seed)))")


@check("train_test_split", points=1)
def test_split_partition(student, device, gen):
    n, fraction = 37, 0.25
    n_test = int(n * fraction)
    x = torch.randn(n, 4, generator=gen)
    ids = torch.arange(n)
    seed = int(torch.randint(0, 10**6, (1,), generator=gen))
    what = f"train_test_split(x (37, 4), y (37,), {fraction}, seed)"
    parts = tuple_of(student.train_test_split(x.to(device), ids.to(device), fraction, seed), 4, what)
    x_tr, x_te, y_tr, y_te = (as_tensor(p, name).cpu() for p, name in zip(parts, ["x_train", "x_test", "y_train", "y_test"]))
    want = {"x_train": (n - n_test, 4), "x_test": (n_test, 4), "y_train": (n - n_test,), "y_test": (n_test,)}
    for (name, shape), t in zip(want.items(), (x_tr, x_te, y_tr, y_te)):
        if tuple(t.shape) != shape:
            fail(f"{name} has shape {tuple(t.shape)}, expected {shape} (n_test = int(37 * 0.25) = {n_test})")
    together = torch.cat([y_tr, y_te])
    if y_tr.dtype != torch.int64 or y_te.dtype != torch.int64 or sorted(together.tolist()) != list(range(n)):
        fail("y_train and y_test together should hold every label exactly once: each sample goes to exactly one of the sets")
    if not (torch.equal(x_tr, x[y_tr]) and torch.equal(x_te, x[y_te])):
        fail("the rows of x_train / x_test are not paired with y_train / y_test: index x and y with the same indices")
    if torch.equal(together, ids) or torch.equal(y_te, ids[:n_test]) or torch.equal(y_te, ids[-n_test:]):
        fail("the split is not shuffled: take the sets from a random permutation, torch.randperm(N, generator=...)")


# ---------------------------------------------------------------- fit_scaler


def _features(gen: torch.Generator, n: int, d: int, shift: float = 0.0, spread: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(int(torch.randint(0, 2**31, (1,), generator=gen)))
    scale = torch.rand(d, generator=g) * 5 + 0.5
    offset = torch.randn(d, generator=g) * 10
    return torch.randn(n, d, generator=gen) * scale * spread + offset + shift * scale


@check("fit_scaler", points=2, mutates=True)
def test_fit_scaler(student, device, gen):
    x = _features(gen, 13, 4).to(device)
    before = x.clone()
    what = "fit_scaler(x_train (13, 4))"
    mean, std = tuple_of(student.fit_scaler(x), 2, what)
    if not torch.equal(x, before):
        fail(f"{what} changed x_train in place: compute the statistics without modifying the data")
    expect_tensor(mean, x.mean(dim=0), what=f"the mean of {what}", rtol=1e-5, atol=1e-5)
    std = as_tensor(std, f"the std of {what}")
    if near(std, x.std(dim=0), rtol=1e-5, atol=1e-6):
        fail(f"the std of {what} is the sample std (divides by N - 1, torch's default): use x_train.std(dim=0, correction=0), the population std of StandardScaler")
    expect_tensor(std, x.std(dim=0, correction=0), what=f"the std of {what}", rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- standardize


@check("standardize", points=2, traps=["scaler_leak"])
def test_standardize_train_statistics(student, device, gen):
    x_train = _features(gen, 12, 4).to(device)
    x_test = _features(gen, 5, 4, shift=3.0, spread=2.0).to(device)
    what = "standardize(x_train (12, 4), x_test (5, 4))"
    a, b = (as_tensor(t, n) for t, n in zip(tuple_of(student.standardize(x_train, x_test), 2, what), ["the scaled x_train", "the scaled x_test"]))
    both = torch.cat([x_train, x_test])
    for c in (0, 1):
        m, s = both.mean(dim=0), both.std(dim=0, correction=c)
        if near(a, (x_train - m) / s, 1e-4, 1e-5) and near(b, (x_test - m) / s, 1e-4, 1e-5):
            trap("scaler_leak", "both sets were scaled with the mean and std of train and test together: fit on x_train only")
        if near(b, (x_test - x_test.mean(dim=0)) / x_test.std(dim=0, correction=c), 1e-4, 1e-5):
            trap("scaler_leak", "x_test was scaled with its own mean and std: scale it with the statistics of x_train")
    m, s = x_train.mean(dim=0), x_train.std(dim=0, correction=0)
    expect_tensor(a, (x_train - m) / s, what=f"the scaled x_train of {what}", rtol=1e-4, atol=1e-5)
    expect_tensor(b, (x_test - m) / s, what=f"the scaled x_test of {what}", rtol=1e-4, atol=1e-5)


@check("standardize", points=1, mutates=True)
def test_standardize_keeps_inputs(student, device, gen):
    x_train = _features(gen, 10, 3).to(device)
    x_test = _features(gen, 4, 3, shift=1.0).to(device)
    keep_train, keep_test = x_train.clone(), x_test.clone()
    what = "standardize(x_train (10, 3), x_test (4, 3))"
    a, b = tuple_of(student.standardize(x_train, x_test), 2, what)
    if not (torch.equal(x_train, keep_train) and torch.equal(x_test, keep_test)):
        fail(f"{what} modified its inputs in place: return new tensors ((x - mean) / std), leave x_train and x_test as they were")
    a, b = as_tensor(a, "the scaled x_train"), as_tensor(b, "the scaled x_test")
    if a.shape != x_train.shape or b.shape != x_test.shape or a.dtype != torch.float32 or b.dtype != torch.float32 \
            or a.device != x_train.device or b.device != x_test.device:
        fail(f"{what} should return float32 tensors of shapes (10, 3) and (4, 3) on {x_train.device}, got {describe(a)} and {describe(b)}")


# ---------------------------------------------------------------- train_classifier


LR, EPOCHS = 0.5, 150


def _train(student, x, y, lr, epochs):
    what = "train_classifier(x, y, lr, epochs)"
    model, losses = tuple_of(calling(lambda: student.train_classifier(x, y, lr, epochs), what), 2, what)
    model = module(model, "the model train_classifier returned")
    if type(losses) is not list or not all(type(v) is float for v in losses):
        fail(f"the losses should be a list of Python floats (loss.item() each epoch), got {describe(losses)}"
             + (f" holding {describe(losses[0])}" if type(losses) is list and losses else ""))
    if len(losses) != epochs:
        fail(f"the losses should have one value per epoch, {epochs}, got {len(losses)}")
    if not all(math.isfinite(v) for v in losses):
        fail(f"the loss history has inf or NaN at lr={lr}")
    return model, losses


def _logits(model, x: torch.Tensor, what: str) -> torch.Tensor:
    out = as_tensor(model(x), what).detach()
    if tuple(out.shape) != (x.shape[0], 1):
        fail(f"{what} should have shape ({x.shape[0]}, 1), got {tuple(out.shape)}")
    return out


@check("train_classifier", points=1, traps=["label_shape", "sigmoid_twice"])
def test_train_one_step(student, device, gen):
    lr = 0.3
    x, y, _, _ = class_data(gen, 40, 5)
    x, y = x.to(device), y.to(device)
    model, losses = _train(student, x, y, lr, 1)
    t = y.to(torch.float32).reshape(-1, 1)
    twice = F.binary_cross_entropy_with_logits(torch.full_like(t, 0.5), t).item()  # sigmoid(0) fed to the loss again
    if abs(losses[0] - twice) < 1e-5:
        trap("sigmoid_twice", f"the first loss is {losses[0]:.6g} = BCEWithLogitsLoss(sigmoid(0), y) for zero weights; on the logits it is log 2 = {math.log(2):.6g}")
    expect_close(losses[0], math.log(2), what="the first loss from zero weights (every probability 0.5, so the loss is log 2)", rtol=1e-5, atol=1e-6)
    params = {tuple(p.shape): p for p in (as_tensor(v, f"parameter {k}").detach() for k, v in model.named_parameters())}
    if set(params) != {(1, 5), (1,)}:
        fail(f"the model should be nn.Linear(5, 1), with a weight (1, 5) and a bias (1,); got parameter shapes {sorted(params)}")
    err = 0.5 - t  # dLoss/dlogit at zero weights, per sample (times 1/N)
    expect_tensor(params[(1, 5)], -lr * (err * x).mean(dim=0, keepdim=True), what="the weight after one step from zero (w = -lr * x.T @ (0.5 - y) / N)", rtol=1e-4, atol=1e-6)
    expect_tensor(params[(1,)], -lr * err.mean().reshape(1), what="the bias after one step from zero (b = -lr * mean(0.5 - y))", rtol=1e-4, atol=1e-6)
    # Three epochs from zero, simulated here: the third loss shows whether each
    # update used this epoch's gradient alone (zero_grad after every step).
    _, losses = _train(student, x, y, lr, 3)
    w, bias, right = torch.zeros(5, 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64), []
    xd, td = x.cpu().double(), t.cpu().double()
    for _ in range(3):
        logits = xd @ w + bias
        right.append(F.binary_cross_entropy_with_logits(logits, td).item())
        err = torch.sigmoid(logits) - td
        w, bias = w - lr * xd.T @ err / len(td), bias - lr * err.mean().reshape(1)
    for i in (1, 2):
        expect_close(losses[i], right[i], what=f"the loss of epoch {i + 1} from zero weights (one full-batch step per epoch, "
                                               "the gradient zeroed after each)", rtol=1e-4, atol=1e-6)  # fmt: skip


@check("train_classifier", points=1, traps=["label_shape", "sigmoid_twice"])
def test_train_loss_falls(student, device, gen):
    x, y, _, _ = class_data(gen, 150, 4)
    x, y = x.to(device), y.to(device)
    model, losses = _train(student, x, y, LR, EPOCHS)
    out = _logits(model, x, "model(x_train)")
    if outputs_in_unit_interval(out) and losses[-1] > 0.3:
        trap("sigmoid_twice", sigmoid_model_message("the trained model's outputs") + f"; the loss stalls at {losses[-1]:.3g}")
    if not losses[-1] < 0.5 * losses[0]:
        fail(f"the loss did not fall enough: {losses[0]:.4g} at the first epoch, {losses[-1]:.4g} at the last (expected below half the first)")


@check("train_classifier", points=2, traps=["label_shape", "sigmoid_twice"])
def test_train_accuracy(student, reference, device, gen):
    x, y, w, b = class_data(gen, 150, 4)
    model, losses = _train(student, x.to(device), y.to(device), LR, EPOCHS)
    x_new = torch.randn(200, 4, generator=gen)
    y_new = (x_new @ w + b) > 0
    out = _logits(model, x_new.to(device), "model(x_new)").cpu()
    if outputs_in_unit_interval(out):
        if losses[-1] > 0.3:
            trap("sigmoid_twice", sigmoid_model_message("the trained model's outputs") + f"; the loss stalls at {losses[-1]:.3g}")
        fail("the trained model's outputs are all within [0, 1]: return the nn.Linear itself, whose outputs are logits (class 1 when the logit >= 0)")
    acc = ((out.reshape(-1) >= 0) == y_new).to(torch.float64).mean().item()
    # 90%, or what training as the stub says reaches on these very samples if
    # that is less (labels are noisy: on rare draws it is 88%), less two samples.
    expected, _ = reference.train_classifier(x, y, LR, EPOCHS)
    with torch.no_grad():
        reachable = ((expected(x_new).reshape(-1) >= 0) == y_new).to(torch.float64).mean().item()
    needed = min(0.9, reachable - 0.01)
    if acc < needed:
        fail(f"the trained model classifies only {acc:.1%} of 200 new samples correctly (logit >= 0 as class 1); "
             f"expected at least {needed:.0%} (training as asked reaches {reachable:.1%} on them)")


# ---------------------------------------------------------------- breast_cancer_accuracy


@check("breast_cancer_accuracy", points=3, traps=["label_shape", "sigmoid_twice", "scaler_leak"])
def test_breast_cancer_pipeline(student, sandbox, reference, device, gen):
    header, *rows = DATA.read_text().splitlines()
    n = int(torch.randint(400, len(rows) + 1, (1,), generator=gen))
    chosen = [rows[i] for i in torch.randperm(len(rows), generator=gen)[:n].tolist()]
    sandbox.put_file("breast_cancer.csv", "\n".join([header, *chosen]) + "\n")
    xy = np.loadtxt(chosen, delimiter=",", dtype=np.float32)
    x, y = torch.from_numpy(xy[:, 1:].copy()), torch.from_numpy(xy[:, 0].astype(np.int64))
    fraction, seed = 0.3, int(torch.randint(0, 10**6, (1,), generator=gen))

    what = f"breast_cancer_accuracy('breast_cancer.csv', {fraction}, {seed}, 0.5, 300, {device!r})"
    model, reported = tuple_of(calling(lambda: student.breast_cancer_accuracy("breast_cancer.csv", fraction, seed, 0.5, 300, device), what), 2, what)
    model = module(model, f"the model {what} returned")

    raw_train, raw_test, y_train, y_test = reference.train_test_split(x, y, fraction, seed)
    x_train, x_test = reference.standardize(raw_train, raw_test)
    out = _logits(model, x_test.to(device), "model(x_test)").cpu()
    if outputs_in_unit_interval(out):
        trap("sigmoid_twice", sigmoid_model_message("the model's outputs on the test set"))
    ours = ((out.reshape(-1) >= 0).to(torch.int64) == y_test).to(torch.float64).mean().item()
    if ours < 0.9:
        fail(f"the model classifies only {ours:.1%} of the {len(y_test)} test samples correctly (split with the seed, scaled with the training "
             "statistics, logit >= 0 as class 1); expected at least 90%")
    # Training from zeros on the full batch is deterministic: the weights tell which samples it saw.
    expected, _ = reference.train_classifier(x_train, y_train, 0.5, 300)
    mean, std = reference.fit_scaler(torch.cat([raw_train, raw_test]))
    leaky, _ = reference.train_classifier((raw_train - mean) / std, y_train, 0.5, 300)
    weight = as_tensor(model.weight, "the model's weight").detach().cpu()
    if torch.allclose(weight, leaky.weight.detach(), rtol=1e-3, atol=1e-4):
        trap("scaler_leak", "the model was trained on features scaled with the statistics of train and test together: fit the scaler on x_train only")
    for name, value in expected.state_dict().items():
        expect_tensor(as_tensor(getattr(model, name), f"the model's {name}").detach(), value.to(device),
                      what=f"the model's {name} (logistic regression from zeros on the training split of every sample, "
                           "standardized with the training statistics)", rtol=1e-3, atol=1e-4)  # fmt: skip
    if is_plain_tensor(reported):
        fail(f"the accuracy {what} returned is {describe(reported)}: return a Python float with .item()")
    # the same model on the same split: equal, but for one probability that rounds to 0.5 (a sample's worth)
    expect_close(reported, ours, what=f"the test accuracy {what} returned (the model's accuracy on the test split is {ours:.4f}: "
                 "read every sample, split with the seed, and measure on the test part)", rtol=0.0, atol=1.01 / len(y_test))
