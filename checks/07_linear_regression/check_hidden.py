"""Hidden checks for unit 07: the training pipeline and linear regression.

Training is graded by outcome: a single step against the same step computed
here with torch from the same starting weights, and a full run by its loss
history and by its predictions against the true line.
"""

import math

import torch

from autograder.checks import as_tensor, check, describe, expect_close, expect_tensor, expect_value, facts, fail, trap, is_plain_tensor
from autograder.remote import Remote

MODULE = "torch.nn.modules.module.Module"
LINEAR = "torch.nn.modules.linear.Linear"
MSE = "torch.nn.modules.loss.MSELoss"
SGD = "torch.optim.sgd.SGD"


# ---------------------------------------------------------------- helpers


def line_data(gen, n, d, noise):
    """``x`` (n, d), ``y`` (n,) = x @ w + b + noise, with every |w_i| in [0.5, 2]."""
    x = torch.randn(n, d, generator=gen)
    sign = torch.randint(0, 2, (d,), generator=gen) * 2 - 1
    w = (torch.rand(d, generator=gen) * 1.5 + 0.5) * sign
    b = torch.rand((), generator=gen) * 2 - 1
    y = x @ w + b + noise * torch.randn(n, generator=gen)
    return x, y, w, b


def known_linear(sandbox, gen, d_in, d_out, device):
    """An nn.Linear built in the sandbox with weights drawn here; returns (model, W, b)."""
    w = torch.randn(d_out, d_in, generator=gen) * 0.5
    b = torch.randn(d_out, generator=gen) * 0.5
    model = sandbox.make("torch.nn.Linear", d_in, d_out, device=device)
    model.load_state_dict({"weight": w.to(device), "bias": b.to(device)})
    return model, w.to(device), b.to(device)


def module(value, what):
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if not (isinstance(value, Remote) and value.is_instance(MODULE)):
        fail(f"{what} should be an nn.Module, got {describe(value)}")
    return value


def pair(value, what):
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if type(value) is not tuple or len(value) != 2:
        fail(f"{what} should be a tuple of two things, got {describe(value)}")
    return value


def sgd_step(w, b, x, y, lr):
    """One SGD step on MSE, computed here; returns (loss before, new w, new b)."""
    w = w.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    loss = torch.nn.functional.mse_loss(x @ w.T + b, y)
    loss.backward()
    with torch.no_grad():
        return loss.item(), w - lr * w.grad, b - lr * b.grad


def learned_mean_only(model, x, y):
    """Whether the model predicts (nearly) the constant mean of y: the broadcast trap's outcome."""
    pred = as_tensor(model(x), "model(x)").detach().reshape(-1).float()
    return bool(pred.std() < 0.1 * y.std()) and bool((pred.mean() - y.mean()).abs() < 0.1 * y.std())


# ---------------------------------------------------------------- LinearRegression


@check("LinearRegression", points=1)
def test_model_parameters(student):
    model = module(student.LinearRegression(5, 3), "LinearRegression(5, 3)")
    layer = model.linear
    if not (isinstance(layer, Remote) and layer.is_instance(LINEAR)):
        fail(f"self.linear should be an nn.Linear, got {describe(layer)}")
    weight, bias = as_tensor(layer.weight, "self.linear.weight"), as_tensor(layer.bias, "self.linear.bias")
    if tuple(weight.shape) == (5, 3):
        fail("self.linear.weight has shape (5, 3) for LinearRegression(5, 3): nn.Linear takes (in_features, out_features) and its weight is (out, in) = (3, 5)")
    if tuple(weight.shape) != (3, 5) or tuple(bias.shape) != (3,):
        fail(f"LinearRegression(5, 3) should hold a weight (3, 5) and a bias (3,), got {tuple(weight.shape)} and {tuple(bias.shape)}")
    shapes = sorted(tuple(p.shape) for p in model.parameters())
    if shapes != [(3,), (3, 5)]:
        fail(f"the model's parameters should be exactly the layer's weight (3, 5) and bias (3,), got shapes {shapes}")


@check("LinearRegression", points=1)
def test_model_forward(student, device, gen):
    model = module(student.LinearRegression(4, 2), "LinearRegression(4, 2)").to(device)
    shape = tuple(as_tensor(model.linear.weight, "self.linear.weight").shape)
    if shape != (2, 4):
        fail(f"LinearRegression(4, 2) should hold a weight of shape (out, in) = (2, 4), got {shape}")
    w = torch.randn(2, 4, generator=gen).to(device)
    b = torch.randn(2, generator=gen).to(device)
    model.linear.load_state_dict({"weight": w, "bias": b})
    x = torch.randn(6, 4, generator=gen).to(device)
    expect_tensor(model(x), x @ w.T + b, what="model(x) for x of shape (6, 4)")


# ---------------------------------------------------------------- make_loss_and_optimizer


@check("make_loss_and_optimizer", points=1)
def test_loss_and_optimizer_types(student, sandbox, gen):
    model = sandbox.make("torch.nn.Linear", 3, 1)
    loss_fn, opt = pair(student.make_loss_and_optimizer(model, 0.037), "make_loss_and_optimizer(model, lr)")
    if not (isinstance(loss_fn, Remote) and loss_fn.is_instance(MSE)):
        fail(f"the loss should be an nn.MSELoss object, got {describe(loss_fn)}")
    expect_value(loss_fn.reduction, "mean", what="the loss's reduction")
    if not (isinstance(opt, Remote) and opt.is_instance(SGD)):
        fail(f"the optimizer should be a torch.optim.SGD object, got {describe(opt)}")
    a, t = torch.randn(7, 1, generator=gen), torch.randn(7, 1, generator=gen)
    expect_tensor(loss_fn(a, t), ((a - t) ** 2).mean(), what="loss_fn(pred, target)", rtol=1e-5, atol=1e-6)


@check("make_loss_and_optimizer", points=1)
def test_optimizer_settings(student, sandbox):
    model = sandbox.make("torch.nn.Linear", 3, 1)
    _, opt = pair(student.make_loss_and_optimizer(model, 0.037), "make_loss_and_optimizer(model, lr)")
    if not (isinstance(opt, Remote) and opt.is_instance(SGD)):
        fail(f"the optimizer should be a torch.optim.SGD object, got {describe(opt)}")
    groups = opt.param_groups
    if len(groups) != 1:
        fail(f"the optimizer should have one parameter group (all of model.parameters()), got {len(groups)}")
    group = groups[0]
    expect_close(float(group["lr"]), 0.037, what="the optimizer's learning rate", rtol=1e-9, atol=0.0)
    if group.get("momentum", 0) != 0 or group.get("weight_decay", 0) != 0:
        fail(f"use plain SGD: momentum={group.get('momentum')}, weight_decay={group.get('weight_decay')}; both should be 0")
    params = group["params"]
    if len(params) != 2 or sorted(tuple(p.shape) for p in params) != [(1,), (1, 3)]:
        fail(f"the optimizer should hold the model's 2 parameters (weight (1, 3), bias (1,)), got {len(params)} of shapes {[tuple(p.shape) for p in params]}")
    # Overwrite the model's parameters in place: the optimizer's must change with them.
    new = {"weight": torch.tensor([[7.0, -8.0, 9.0]]), "bias": torch.tensor([-6.0])}
    model.load_state_dict(new)
    for p in opt.param_groups[0]["params"]:
        q = new["weight"] if p.dim() == 2 else new["bias"]
        if not torch.equal(p.detach(), q):
            fail("the optimizer's parameters are not the model's own (a copy?): pass model.parameters() to SGD")


# ---------------------------------------------------------------- train_step


def _setup_step(sandbox, gen, device, lr):
    model, w, b = known_linear(sandbox, gen, 4, 1, device)
    loss_fn = sandbox.make("torch.nn.MSELoss")
    opt = sandbox.make("torch.optim.SGD", model.parameters(), lr=lr)
    x = torch.randn(10, 4, generator=gen).to(device)
    y = torch.randn(10, 1, generator=gen).to(device)
    return model, loss_fn, opt, w, b, x, y


@check("train_step", points=2)
def test_train_step_once(student, sandbox, device, gen):
    lr = 0.05
    model, loss_fn, opt, w, b, x, y = _setup_step(sandbox, gen, device, lr)
    loss0, w1, b1 = sgd_step(w, b, x, y, lr)
    out = student.train_step(model, loss_fn, opt, x, y)
    if is_plain_tensor(out):
        fail(f"train_step returned a tensor {describe(out)}; return loss.item(), a Python float")
    expect_close(out, loss0, what="the loss train_step returned (before the update)", rtol=1e-4, atol=1e-6)
    new_w, new_b = as_tensor(model.weight, "model.weight"), as_tensor(model.bias, "model.bias")
    if torch.allclose(new_w.detach(), w, rtol=0, atol=1e-7):
        fail("the model's weights did not change: call loss.backward() and then optimizer.step()")
    expect_tensor(new_w.detach(), w1, what="the weight after one step", rtol=1e-4, atol=1e-5)
    expect_tensor(new_b.detach(), b1, what="the bias after one step", rtol=1e-4, atol=1e-5)


@check("train_step", points=1)
def test_train_step_twice(student, sandbox, device, gen):
    lr = 0.05
    model, loss_fn, opt, w, b, x, y = _setup_step(sandbox, gen, device, lr)
    student.train_step(model, loss_fn, opt, x, y)
    student.train_step(model, loss_fn, opt, x, y)
    _, w1, b1 = sgd_step(w, b, x, y, lr)
    _, w2, b2 = sgd_step(w1, b1, x, y, lr)
    new_w = as_tensor(model.weight, "model.weight").detach()
    # Without zero_grad the second step uses the first gradient plus the second.
    g1 = (w - w1) / lr
    w_acc = w1 - lr * (g1 + (w1 - w2) / lr)
    if not torch.allclose(new_w, w2, rtol=1e-4, atol=1e-5) and torch.allclose(new_w, w_acc, rtol=1e-4, atol=1e-5):
        fail("after two calls the weights match gradients that were added up: call optimizer.zero_grad() in every step, since .grad accumulates")
    expect_tensor(new_w, w2, what="the weight after two steps", rtol=1e-4, atol=1e-5)
    expect_tensor(as_tensor(model.bias, "model.bias").detach(), b2, what="the bias after two steps", rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- mse_loss


@check("mse_loss", points=1, traps=["mse_shape_broadcast"])
def test_mse_loss_is_the_mean(student, device, gen):
    # Only the shapes the docstring promises: pred (N, 1), target (N,).
    n = int(torch.randint(3, 40, (1,), generator=gen))
    pred = (3 * torch.randn(n, 1, generator=gen)).to(device)
    target = torch.randn(n, generator=gen).to(device)
    right = ((pred[:, 0] - target) ** 2).mean()
    out = as_tensor(student.mse_loss(pred, target), f"mse_loss(pred ({n}, 1), target ({n},))")
    broadcast = ((pred - target) ** 2).mean()  # (N, 1) - (N,) -> (N, N)
    if out.numel() == 1 and abs(out.item() - broadcast.item()) <= 1e-5 + 1e-4 * abs(broadcast.item()):
        trap("mse_shape_broadcast", f"got {out.item():.6g}, the mean over a ({n}, {n}) broadcast; the right value is {right.item():.6g}")
    if out.numel() == 1 and abs(out.item() - ((pred[:, 0] - target) ** 2).sum().item()) < 1e-4 * (1 + right.item() * n):
        fail(f"mse_loss(pred ({n}, 1), target ({n},)) is the SUM of the squared errors: the loss is their mean")
    expect_tensor(out, right, what=f"mse_loss(pred ({n}, 1), target ({n},))", rtol=1e-5, atol=1e-6)


@check("mse_loss", points=1, traps=["mse_shape_broadcast"])
def test_mse_loss_column_vs_vector(student, device, gen):
    pred = torch.randn(9, 1, generator=gen).to(device)
    target = torch.randn(9, generator=gen).to(device)
    out = as_tensor(student.mse_loss(pred, target), "mse_loss(pred (9, 1), target (9,))")
    right = ((pred[:, 0] - target) ** 2).mean()
    broadcast = ((pred - target) ** 2).mean()  # (9, 1) - (9,) -> (9, 9)
    if out.numel() == 1 and abs(out.item() - broadcast.item()) <= 1e-5 + 1e-4 * abs(broadcast.item()):
        trap("mse_shape_broadcast", f"got {out.item():.6g}, the mean over a (9, 9) broadcast; the right value is {right.item():.6g}")
    expect_tensor(out, right, what="mse_loss(pred (9, 1), target (9,))", rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- predict


@check("predict", points=1)
def test_predict(student, sandbox, device, gen):
    model, w, b = known_linear(sandbox, gen, 3, 1, device)
    x = torch.randn(8, 3, generator=gen).to(device)
    out = as_tensor(student.predict(model, x), "predict(model, x)")
    if facts(out).requires_grad or facts(out).grad_fn is not None:
        fail(f"the predictions require grad (grad_fn {facts(out).grad_fn}): run the forward pass inside `with torch.no_grad():`")
    expect_tensor(out, x @ w.T + b, what="predict(model, x) for x (8, 3)")


# ---------------------------------------------------------------- train


EPOCHS = 200
LR = 0.1


@check("train", points=2, traps=["mse_shape_broadcast"])
def test_train_loss_history(student, device, gen):
    x, y, _, _ = line_data(gen, 120, 3, noise=0.02)
    x, y = x.to(device), y.to(device)
    model, losses = pair(student.train(x, y, LR, EPOCHS), "train(x, y, lr, epochs)")
    model = module(model, "the model train returned")
    if learned_mean_only(model, x, y):
        trap("mse_shape_broadcast", "the trained model predicts (nearly) the same value, the mean of y, for every x")
    if type(losses) is not list or not all(type(v) is float for v in losses):
        fail(f"the losses should be a list of Python floats (loss.item() each epoch), got {describe(losses)}"
             + (f" holding {describe(losses[0])}" if type(losses) is list and losses else ""))
    if len(losses) != EPOCHS:
        fail(f"the losses should have one value per epoch, {EPOCHS}, got {len(losses)}")
    if not all(math.isfinite(v) for v in losses):
        fail(f"the loss history has inf or NaN (first at epoch {next(i for i, v in enumerate(losses) if not math.isfinite(v))}) at lr={LR}")
    if not (losses[-1] < 0.05 * losses[0] and losses[-1] < 0.01):
        fail(f"the loss did not fall enough: {losses[0]:.4g} at the first epoch, {losses[-1]:.4g} at the last (expected below 5% of the first and below 0.01)")


@check("train", points=2, traps=["mse_shape_broadcast"])
def test_train_predictions(student, device, gen):
    x, y, w, b = line_data(gen, 120, 3, noise=0.02)
    x, y = x.to(device), y.to(device)
    model, _ = pair(student.train(x, y, LR, EPOCHS), "train(x, y, lr, epochs)")
    model = module(model, "the model train returned")
    if learned_mean_only(model, x, y):
        trap("mse_shape_broadcast", "the trained model predicts (nearly) the same value, the mean of y, for every x")
    x_new = torch.randn(40, 3, generator=gen).to(device)
    pred = as_tensor(model(x_new), "model(x_new)").detach()
    if tuple(pred.shape) != (40, 1):
        fail(f"the trained model should map (40, 3) to (40, 1), got {tuple(pred.shape)}")
    truth = (x_new @ w.to(device) + b.to(device)).unsqueeze(1)
    expect_tensor(pred, truth, what="the trained model's predictions on new x against the true line", rtol=0.0, atol=0.1)


# ---------------------------------------------------------------- pick_learning_rate


STEPS = 60


def _edge(x: torch.Tensor) -> float:
    """The learning rate past which full-batch gradient descent on this MSE diverges: 2 / the Hessian's largest eigenvalue."""
    a = torch.cat([x.double(), torch.ones(x.shape[0], 1, dtype=torch.float64)], dim=1)
    return float(2 / torch.linalg.eigvalsh(2 * a.T @ a / x.shape[0]).max())


@check("pick_learning_rate", points=1)
def test_pick_lr_near_the_edge(student, device, gen):
    x, y, _, _ = line_data(gen, 96, 3, noise=0.05)
    edge = _edge(x)
    # Below the edge every run converges (the last of these slowly, still falling); above it every run blows up.
    candidates = [round(edge * f, 6) for f in (0.05, 0.3, 0.7, 0.9, 1.15, 1.6)]
    out = student.pick_learning_rate(x.to(device), y.to(device), candidates, STEPS)
    expect_value(out, candidates[3], what=f"pick_learning_rate with candidates {candidates} (stable up to {edge:.4g}, "
                                          "the edge of stability for this data)")  # fmt: skip


@check("pick_learning_rate", points=1, traps=["lr_too_high"])
def test_pick_lr_with_divergent(student, device, gen):
    x, y, _, _ = line_data(gen, 96, 3, noise=0.05)
    candidates = [0.01, 0.1, 0.5, 1.5, 5.0]
    out = student.pick_learning_rate(x.to(device), y.to(device), candidates, STEPS)
    if out in (1.5, 5.0):
        how = "its loss grows every step" if out == 1.5 else "its loss overflows to inf and then NaN"
        trap("lr_too_high", f"picked lr={out} from {candidates}, but {how} on this data; the largest stable one is 0.5")
    expect_value(out, 0.5, what=f"pick_learning_rate with candidates {candidates}")
