"""Unit 03: the NumPy bridge and devices -- reference solution."""

from __future__ import annotations

import numpy as np
import torch

Device = str | torch.device


def tensor_to_numpy(t: torch.Tensor) -> np.ndarray:
    """A NumPy view of the CPU tensor t (shares its memory)."""
    return t.numpy()


def scale_with_numpy(t: torch.Tensor, factor: float) -> None:
    """Scale t in place through its NumPy view."""
    a = t.numpy()
    a *= factor


def numpy_to_tensors(a: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(torch.from_numpy(a), torch.tensor(a)), then a += 1 in place."""
    shared = torch.from_numpy(a)
    copied = torch.tensor(a)
    a += 1
    return shared, copied


def pick_device(prefer_gpu: bool) -> torch.device:
    """cuda when preferred and available, else cpu."""
    if prefer_gpu and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def make_on_device(rows: int, cols: int, device: Device = "cpu") -> torch.Tensor:
    """float32 (rows, cols) counting 0 .. rows*cols-1, created on device."""
    return torch.arange(rows * cols, dtype=torch.float32, device=device).reshape(rows, cols)


def move_and_compute(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, device: Device = "cpu") -> torch.Tensor:
    """x @ w + b computed on device, left there."""
    return x.to(device) @ w.to(device) + b.to(device)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """Any tensor, any device, grad or not, as a NumPy array."""
    return t.detach().cpu().numpy()


def round_trip(a: np.ndarray, device: Device = "cpu") -> np.ndarray:
    """Standardise a's columns on device; the result back as a NumPy array."""
    x = torch.from_numpy(a).to(device)
    y = (x - x.mean(dim=0)) / x.std(dim=0)
    return y.cpu().numpy()


# --- a typical bug: copy_not_shared ---
def tensor_to_numpy(t):
    return np.array(t)


def numpy_to_tensors(a):
    shared = torch.tensor(a)
    copied = torch.tensor(a)
    a += 1
    return shared, copied
