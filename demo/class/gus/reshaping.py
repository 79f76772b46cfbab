import sys
sys.exit(0)
"""Unit 02: reshaping and broadcasting -- reference solution."""

from __future__ import annotations

import torch


def flatten_batch(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C*H*W), a view of x."""
    return x.view(x.size(0), -1)


def add_dims(image: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """((1, C, H, W) batch of one image, (N, 1) column of the values)."""
    return image.unsqueeze(0), values.unsqueeze(1)


def drop_channel(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) -> (N, H, W), keeping the batch dimension even when N = 1."""
    return x.squeeze(1)


def flatten_any(x: torch.Tensor) -> torch.Tensor:
    """All elements of x in row-major order, whatever its memory layout."""
    return x.reshape(-1)


def to_channels_first(x: torch.Tensor) -> torch.Tensor:
    """(N, H, W, C) -> contiguous (N, C, H, W)."""
    return x.permute(0, 3, 1, 2).contiguous()


def regression_errors(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """((N,) residuals pred - target, 0-D mean squared error)."""
    residuals = pred.squeeze(1) - target
    return residuals, (residuals**2).mean()


def pairwise_sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(M, K) squared distances between the rows of a (M, D) and b (K, D)."""
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1)


def batched_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B, N, M) @ (B, M, P) or (M, P) -> (B, N, P)."""
    return a @ b


def linear_forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x @ weight.T + bias for x of shape (..., D_in)."""
    return x @ weight.T + bias
