"""Unit 07: the training pipeline, shown on linear regression (reference solution)."""

import math

import torch
import torch.nn as nn


class LinearRegression(nn.Module):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def make_loss_and_optimizer(model: nn.Module, lr: float) -> tuple[nn.MSELoss, torch.optim.SGD]:
    return nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=lr)


def train_step(model: nn.Module, loss_fn: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    pred = model(x)
    loss = loss_fn(pred, y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def mse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.MSELoss()(pred, target.reshape(pred.shape))


def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x)


def train(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int) -> tuple[nn.Module, list[float]]:
    model = nn.Linear(x.shape[1], 1).to(x.device)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    target = y.reshape(-1, 1)
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(x), target)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return model, losses


def pick_learning_rate(x: torch.Tensor, y: torch.Tensor, candidates: list[float], steps: int) -> float:
    target = y.reshape(-1, 1)
    best = None
    for lr in candidates:
        model = nn.Linear(x.shape[1], 1).to(x.device)
        loss_fn = nn.MSELoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        losses = []
        for _ in range(steps):
            loss = loss_fn(model(x), target)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        # NaN compares False with everything: test finiteness explicitly.
        diverged = not all(math.isfinite(v) for v in losses) or losses[-1] >= losses[0]
        if not diverged and (best is None or lr > best):
            best = lr
    return best


# --- a typical bug: lr_too_high ---
import torch.nn as nn


def pick_learning_rate(x, y, candidates, steps):
    best = None
    for lr in candidates:
        model = nn.Linear(x.shape[1], 1).to(x.device)
        loss_fn = nn.MSELoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        losses = []
        for _ in range(steps):
            loss = loss_fn(model(x), y.reshape(-1, 1))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        if losses[-1] > losses[0]:  # a NaN loss slips through: nan > x is False
            continue
        if best is None or lr > best:
            best = lr
    return best
