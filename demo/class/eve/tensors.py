"""Unit 01: tensors -- reference solution."""

from __future__ import annotations

import torch

Device = str | torch.device


def basic_tensors(rows: int, cols: int, device: Device = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(zeros (rows, cols) float32, ones (cols,) int32, empty (rows, cols) float64) on device."""
    zeros = torch.zeros(rows, cols, device=device)
    ones = torch.ones(cols, dtype=torch.int, device=device)
    scratch = torch.empty(rows, cols, dtype=torch.double, device=device)
    return zeros, ones, scratch


def random_images(n: int, c: int, h: int, w: int, device: Device = "cpu") -> torch.Tensor:
    """Uniform [0, 1) float32 tensor of shape (n, c, h, w) on device."""
    return torch.rand(n, c, h, w, device=device)


def add_noise(x: torch.Tensor, std: float) -> torch.Tensor:
    """x + std * standard normal noise, a new tensor on x's device."""
    return x + std * torch.randn_like(x)


def from_python(scores: list[int], count: int, device: Device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """((N,) float32 tensor of the scores, 0-D int64 tensor holding count)."""
    return torch.tensor(scores, dtype=torch.float32, device=device), torch.tensor(count, device=device)


def describe(x: torch.Tensor) -> tuple[tuple[int, ...], int, torch.dtype]:
    """(shape as a tuple of ints, number of dimensions, dtype)."""
    return tuple(x.shape), x.dim(), x.dtype


def convert(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(x as int32, x as float64)."""
    return x.to(torch.int), x.to(torch.double)


def arithmetic(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Element-wise (a + b, a - b, a * b, a / b)."""
    return a + b, a - b, a * b, a / b


def add_inplace(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x += y in place; returns x itself."""
    return x.add_(y)


def pick(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int | float]:
    """(first row, first column, top-left element as a Python number)."""
    return x[0], x[:, 0], x[0, 0].item()


def slice_views(x: torch.Tensor, j: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(column j as (M, 1), a view of the even rows)."""
    return x[:, j : j + 1], x[::2]


# --- a typical bug: int64_default ---
def from_python(scores, count, device="cpu"):
    return torch.tensor(scores, device=device), torch.tensor(count, device=device)
