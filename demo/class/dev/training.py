"""Unit 12: training and evaluation (reference solution)."""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.utils.data import DataLoader


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


class SmallCNN(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 2 * 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv1(x)))  # (N, 16, 4, 4)
        x = self.pool(torch.relu(self.conv2(x)))  # (N, 32, 2, 2)
        x = torch.flatten(x, 1)  # (N, 128)
        return self.fc(x)


def train_one_epoch(model: nn.Module, loader: DataLoader, loss_fn: nn.Module, optimizer: torch.optim.Optimizer) -> float:
    model.train()
    device = model_device(model)
    total, count = 0.0, 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        loss = loss_fn(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count


def predict(model: nn.Module, loader: DataLoader) -> torch.Tensor:
    model.eval()
    device = model_device(model)
    outputs = []
    with torch.no_grad():
        for inputs, _labels in loader:
            outputs.append(model(inputs.to(device)))
    return torch.cat(outputs)


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    device = model_device(model)
    correct, count = 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            predicted = model(inputs).argmax(dim=1)
            correct += (predicted == labels).sum().item()
            count += len(labels)
    return correct / count


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    test_loader: DataLoader,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs: int,
) -> tuple[list[float], list[float]]:
    losses, accuracies = [], []
    for _ in range(epochs):
        losses.append(train_one_epoch(model, train_loader, loss_fn, optimizer))
        accuracies.append(evaluate(model, test_loader))
    return losses, accuracies


def save_model(model: nn.Module, path: str) -> None:
    torch.save(model.state_dict(), path)


def load_model(path: str, num_classes: int, device: str | torch.device) -> SmallCNN:
    model = SmallCNN(num_classes)
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    model.to(device)
    model.eval()
    return model


def train_digits(train_loader: DataLoader, test_loader: DataLoader, device: str | torch.device, epochs: int) -> tuple[SmallCNN, float]:
    model = SmallCNN(10).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    _, accuracies = fit(model, train_loader, test_loader, loss_fn, optimizer, epochs)
    return model, accuracies[-1]


# --- a typical bug: device_mismatch ---
def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    total, count = 0.0, 0
    for inputs, labels in loader:  # the batches stay where the loader made them
        loss = loss_fn(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count


def predict(model, loader):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(inputs) for inputs, _labels in loader])


def evaluate(model, loader):
    model.eval()
    correct, count = 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            correct += (model(inputs).argmax(dim=1) == labels).sum().item()
            count += len(labels)
    return correct / count
