"""Unit 07: the training pipeline, shown on linear regression.

Every PyTorch training script has the same three steps:

1. design the model: input size, output size, the forward pass;
2. construct the loss and the optimizer;
3. the training loop: forward (prediction and loss), backward (gradients),
   step (update the weights), zero the gradients; repeat.

Here the model is one ``nn.Linear`` layer, the loss ``nn.MSELoss`` and the
optimizer plain ``torch.optim.SGD``. Do not use scikit-learn or NumPy, and do
not write the gradient or the update by hand: let autograd and the optimizer
do it.

Devices: never hard-code ``"cpu"`` or ``"cuda"``; build models on the device
of the data you are given (``x.device``).
"""

import math

import torch
import torch.nn as nn


class LinearRegression(nn.Module):
    """Step 1, design the model: ``y = x @ W.T + b``.

    ``LinearRegression(in_features, out_features)`` holds one layer, an
    ``nn.Linear`` from ``in_features`` to ``out_features``, in an attribute
    named ``linear`` (use that name). Its weight has shape ``(out_features, in_features)`` (output first!)
    and its bias shape ``(out_features,)``.

    ``forward(x)`` takes ``x`` of shape ``(N, in_features)``, float32, and
    returns ``(N, out_features)``: simply the layer applied to ``x``.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()  # keep this line first: nn.Module must set itself up
        raise NotImplementedError("TODO: design the model: one nn.Linear layer (__init__)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a float32 batch ``x`` of shape ``(N, in_features)`` to ``(N, out_features)``.

        Call ``self.linear(x)``; do not write ``x @ W.T + b`` by hand and do
        not call ``forward`` directly elsewhere: ``model(x)`` runs it.
        """
        raise NotImplementedError("TODO: design the model: one nn.Linear layer (forward)")


def make_loss_and_optimizer(model: nn.Module, lr: float) -> tuple[nn.MSELoss, torch.optim.SGD]:
    """Step 2: the loss and the optimizer for ``model``.

    Return ``(loss_fn, optimizer)``: ``loss_fn`` an ``nn.MSELoss()`` with the
    default ``reduction="mean"``, ``optimizer`` a ``torch.optim.SGD`` over
    ``model.parameters()`` with learning rate ``lr`` and nothing else (no
    momentum, no weight decay). The optimizer must get the model's own
    parameters, not copies, or ``step()`` updates nothing that matters.
    """
    raise NotImplementedError("TODO: construct the loss and the optimizer")


def train_step(model: nn.Module, loss_fn: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """Step 3, one iteration of the training loop, on the whole batch.

    ``x`` is ``(N, D)`` float32 and ``y`` is ``(N, 1)`` float32, on the
    model's device. Do, in order: forward (the model's prediction for ``x``),
    the loss of the prediction against ``y``, backward, the optimizer's step,
    and the optimizer's zeroing of the gradients (gradients ACCUMULATE in ``.grad``: without
    zeroing, the next step would use the sum of old and new gradients).

    Return the loss computed in this step (before the update) as a Python
    float. Do not return the tensor itself.
    """
    raise NotImplementedError("TODO: one training iteration: forward, backward, step, zero")


def mse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error between ``pred`` ``(N, 1)`` and ``target`` ``(N,)``.

    Both float32 on the same device. Return a 0-D tensor: the mean over the N
    samples of ``(pred[i, 0] - target[i]) ** 2``. Use ``nn.MSELoss``.

    Careful: ``nn.MSELoss()(pred, target)`` with shapes ``(N, 1)`` and
    ``(N,)`` does NOT raise: broadcasting turns the difference into an
    ``(N, N)`` matrix comparing every prediction with every target, and you
    get the mean of that (only a UserWarning says so). Make the shapes equal
    first, e.g. ``target.reshape(pred.shape)`` or ``pred.squeeze(1)``.
    """
    raise NotImplementedError("TODO: mean squared error with (N, 1) predictions and (N,) targets")


def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Predictions of a trained ``model`` for ``x`` ``(N, D)``: ``(N, 1)``.

    Run the forward pass inside ``with torch.no_grad():`` so that no graph is
    recorded: the result must not require grad (and has no ``grad_fn``).
    """
    raise NotImplementedError("TODO: predict without recording a graph")


def train(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int) -> tuple[nn.Module, list[float]]:
    """The whole pipeline: fit a line to ``(x, y)``.

    ``x`` is ``(N, D)`` float32, ``y`` is ``(N,)`` float32 (note: 1-D!), both on
    the same device. Build ``nn.Linear(D, 1)`` on ``x.device`` (or your
    ``LinearRegression(D, 1)``), an ``nn.MSELoss`` and ``torch.optim.SGD`` with
    learning rate ``lr``; then run ``epochs`` full-batch iterations
    (forward, loss, backward, step, zero_grad).

    The model outputs ``(N, 1)`` but ``y`` is ``(N,)``: reshape one of them
    (``y.reshape(-1, 1)`` or ``y.unsqueeze(1)``) before the loss, or the loss
    silently broadcasts to ``(N, N)`` and the model learns only the mean of y.

    Return ``(model, losses)``: the trained model and a list of ``epochs``
    Python floats, the loss of each iteration (before its update).
    """
    raise NotImplementedError("TODO: the full pipeline: fit a line")


def pick_learning_rate(x: torch.Tensor, y: torch.Tensor, candidates: list[float], steps: int) -> float:
    """Return the LARGEST learning rate in ``candidates`` that does not diverge.

    ``x`` ``(N, D)`` and ``y`` ``(N,)`` float32 as in ``train``. For each
    candidate ``lr``, train a fresh ``nn.Linear(D, 1)`` with ``nn.MSELoss`` and
    ``torch.optim.SGD(lr=lr)`` for ``steps`` full-batch iterations, recording
    the loss of each (you may call your ``train``).

    A run diverges when any recorded loss is not finite (inf or NaN) or when
    its last loss is not smaller than its first. A learning rate that is too
    high makes every step overshoot: the loss grows, overflows to inf, and the
    weights become NaN. And NaN compares False with everything
    (``nan > 1.0`` and ``nan < 1.0`` are both False), so a test like
    ``losses[-1] > losses[0]`` lets a NaN run through: test ``math.isfinite``.

    Return the chosen candidate itself (a Python float from the list), or
    ``None`` if every candidate diverges.
    """
    raise NotImplementedError("TODO: find the largest learning rate that does not diverge")
