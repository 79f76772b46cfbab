"""Public checks for unit 07: run them with `torchgrade check`. The hidden checks grade more."""

import torch

from autograder.checks import as_tensor, check, describe, expect_close, expect_tensor, fail, trap
from autograder.remote import Remote


@check("LinearRegression", points=1)
def test_model_shapes(student):
    model = student.LinearRegression(5, 3)
    if not (isinstance(model, Remote) and model.is_instance("torch.nn.modules.module.Module")):
        fail(f"LinearRegression(5, 3) should be an nn.Module, got {describe(model)}")
    weight = as_tensor(model.linear.weight, "self.linear.weight")
    if tuple(weight.shape) != (3, 5):
        fail(f"self.linear.weight should be (out_features, in_features) = (3, 5), got {tuple(weight.shape)}")
    out = as_tensor(model(torch.zeros(7, 5)), "model(x) for x of shape (7, 5)")
    if tuple(out.shape) != (7, 3):
        fail(f"model(x) for x of shape (7, 5) should be (7, 3), got {tuple(out.shape)}")


@check("train_step", points=2)
def test_train_step_once(student, sandbox, device):
    model = sandbox.make("torch.nn.Linear", 2, 1, device=device)
    w = torch.tensor([[1.0, -2.0]], device=device)
    b = torch.tensor([0.5], device=device)
    model.load_state_dict({"weight": w, "bias": b})
    loss_fn = sandbox.make("torch.nn.MSELoss")
    opt = sandbox.make("torch.optim.SGD", model.parameters(), lr=0.1)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], device=device)
    y = torch.tensor([[2.0], [0.0], [1.0]], device=device)
    # pred = [1.5, -1.5, -0.5]; err = pred - y = [-0.5, -1.5, -1.5]; loss = mean(err**2) = 4.75 / 3
    out = student.train_step(model, loss_fn, opt, x, y)
    expect_close(out, 4.75 / 3, what="the loss train_step returned (before the update)", rtol=1e-5, atol=1e-6)
    # dL/dw = 2/3 * x.T @ err = 2/3 * [-2, -3]; dL/db = 2/3 * sum(err) = 2/3 * -3.5
    expect_tensor(as_tensor(model.weight).detach(), w - 0.1 * (2 / 3) * torch.tensor([[-2.0, -3.0]], device=device),
                  what="the weight after one step", rtol=1e-5, atol=1e-5)
    expect_tensor(as_tensor(model.bias).detach(), b - 0.1 * (2 / 3) * torch.tensor([-3.5], device=device),
                  what="the bias after one step", rtol=1e-5, atol=1e-5)


@check("mse_loss", points=1, traps=["mse_shape_broadcast"])
def test_mse_loss_column_vs_vector(student):
    pred = torch.tensor([[1.0], [2.0], [4.0]])
    target = torch.tensor([1.0, 3.0, 2.0])
    # (0**2 + 1**2 + 2**2) / 3 = 5 / 3; the mean over the (3, 3) broadcast is 21 / 9
    out = as_tensor(student.mse_loss(pred, target), "mse_loss([[1], [2], [4]], [1, 3, 2])")
    if out.numel() == 1 and abs(out.item() - 21 / 9) < 1e-5:
        trap("mse_shape_broadcast", f"got {out.item():.6g} = 21/9, the mean over a (3, 3) broadcast; expected 5/3")
    expect_tensor(out, torch.tensor(5.0 / 3), what="mse_loss([[1], [2], [4]], [1, 3, 2])")
