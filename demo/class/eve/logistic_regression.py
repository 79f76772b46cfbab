"""Unit 08: logistic regression (reference solution)."""

import numpy as np
import torch
import torch.nn as nn


class LogisticRegression(nn.Module):
    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(x))


def prepare_labels(y: torch.Tensor) -> torch.Tensor:
    return y.to(torch.float32).reshape(-1, 1)


def bce_loss(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return nn.BCELoss()(probs, prepare_labels(labels))


def bce_with_logits_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.BCEWithLogitsLoss()(logits, targets)


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    predicted = (probs.reshape(-1) >= 0.5).to(torch.int64)
    return (predicted == labels.reshape(-1).to(torch.int64)).to(torch.float32).mean().item()


def train_test_split(x: torch.Tensor, y: torch.Tensor, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    n = x.shape[0]
    n_test = int(n * test_fraction)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    test, train = perm[:n_test], perm[n_test:]
    return x[train], x[test], y[train], y[test]


def fit_scaler(x_train: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x_train.mean(dim=0), x_train.std(dim=0, correction=0)


def standardize(x_train: torch.Tensor, x_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = fit_scaler(x_train)
    return (x_train - mean) / std, (x_test - mean) / std


def train_classifier(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int) -> tuple[nn.Module, list[float]]:
    model = nn.Linear(x.shape[1], 1).to(x.device)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    targets = prepare_labels(y)
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(x), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return model, losses


def breast_cancer_accuracy(path: str, test_fraction: float, seed: int, lr: float, epochs: int, device: str) -> tuple[nn.Module, float]:
    xy = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    x = torch.from_numpy(xy[:, 1:].copy()).to(device)
    y = torch.from_numpy(xy[:, 0].astype(np.int64)).to(device)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_fraction, seed)
    x_train, x_test = standardize(x_train, x_test)
    model, _ = train_classifier(x_train, y_train, lr, epochs)
    with torch.no_grad():
        probs = torch.sigmoid(model(x_test))
    return model, accuracy(probs, y_test)


# --- a typical bug: scaler_leak ---
def standardize(x_train, x_test):
    mean, std = fit_scaler(torch.cat([x_train, x_test]))  # the test set leaks into the statistics
    return (x_train - mean) / std, (x_test - mean) / std
