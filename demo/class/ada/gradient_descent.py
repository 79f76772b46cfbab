"""Unit 06: gradient descent for linear regression, in four stages (reference solution)."""

import numpy as np
import torch
import torch.nn as nn


# ---------------------------------------------------------------- stage 1: NumPy by hand


def predict_np(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return x @ w + b


def mse_np(y_pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((y_pred - y) ** 2))


def gradient_np(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    err = predict_np(x, w, b) - y
    n = x.shape[0]
    return 2.0 / n * (x.T @ err), float(2.0 / n * np.sum(err))


def train_numpy(x: np.ndarray, y: np.ndarray, w0: np.ndarray, b0: float, lr: float, steps: int) -> tuple[np.ndarray, float, list[float]]:
    w, b = w0.copy(), float(b0)
    losses = []
    for _ in range(steps):
        losses.append(mse_np(predict_np(x, w, b), y))
        dw, db = gradient_np(x, y, w, b)
        w = w - lr * dw
        b = b - lr * db
    return w, b, losses


# ---------------------------------------------------------------- stage 2: autograd computes the gradient


def train_autograd(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    w = w0.detach().clone().requires_grad_(True)
    b = b0.detach().clone().requires_grad_(True)
    losses = []
    for _ in range(steps):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        losses.append(loss.item())
    return w.detach(), b.detach(), losses


# ---------------------------------------------------------------- stage 3: nn.MSELoss and torch.optim.SGD


def train_optim(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    w = w0.detach().clone().requires_grad_(True)
    b = b0.detach().clone().requires_grad_(True)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn(x @ w + b, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return w.detach(), b.detach(), losses


# ---------------------------------------------------------------- stage 4: nn.Linear as the model


def train_linear(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int) -> tuple[nn.Linear, list[float]]:
    model = nn.Linear(x.shape[1], 1, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        model.weight.copy_(w0.reshape(1, -1))
        model.bias.copy_(b0.reshape(1))
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    target = y.reshape(-1, 1)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


# ---------------------------------------------------------------- all four from the same start


def run_all_stages(x: np.ndarray, y: np.ndarray, w0: np.ndarray, b0: float, lr: float, steps: int, device: str) -> dict[str, list[float]]:
    xt = torch.from_numpy(x).to(device)
    yt = torch.from_numpy(y).to(device)
    wt = torch.from_numpy(w0).to(device)
    bt = torch.tensor(b0, dtype=torch.float64, device=device)
    return {
        "numpy": train_numpy(x, y, w0, b0, lr, steps)[2],
        "autograd": train_autograd(xt, yt, wt, bt, lr, steps)[2],
        "optim": train_optim(xt, yt, wt, bt, lr, steps)[2],
        "linear": train_linear(xt, yt, wt, bt, lr, steps)[1],
    }
