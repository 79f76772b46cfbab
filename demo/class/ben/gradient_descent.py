"""Unit 06: gradient descent for linear regression, in four stages.

The same model, the same data, the same start and the same learning rate,
trained four times, each stage handing one more job to PyTorch:

1. NumPy, fully by hand: the prediction ``x @ w + b``, the mean squared
   error, its gradient worked out on paper, and the update
   ``w = w - lr * dw``.
2. The same in torch, but ``loss.backward()`` computes the gradient
   (autograd); you still write the update, under ``torch.no_grad()``, and
   zero ``.grad`` yourself.
3. The same with ``nn.MSELoss`` as the loss and ``torch.optim.SGD`` doing the
   update: ``optimizer.zero_grad()``, ``loss.backward()``, ``optimizer.step()``.
4. The same with ``nn.Linear`` as the model instead of hand-made ``w`` and ``b``.

Plain gradient descent is deterministic: from the same start with the same
learning rate, all four stages follow THE SAME trajectory (the same loss at
every step, the same final weights) up to float64 rounding. That is how you
know each stage is right: compare it with the previous one.

Everything here is float64 (NumPy's default), so the four trajectories agree
to about 1e-12. Keep float64 in the torch stages (do not call ``.float()``).

Notation, used by every function: ``x`` is ``(N, D)`` (N samples, D features),
``y`` is ``(N,)``, the weight ``w`` is ``(D,)``, the bias ``b`` is a scalar;
the model is ``pred = x @ w + b`` of shape ``(N,)`` and the loss is
``L = mean((pred - y) ** 2)``. Each training function runs ``steps``
full-batch iterations and records the loss of each iteration BEFORE its
update (so ``losses[0]`` is the loss at the start).

Never modify the starting weights you are given (``w0``, ``b0``): copy them
first. The caller reuses them to start the next stage from the same point.
"""

import numpy as np
import torch
import torch.nn as nn


# ---------------------------------------------------------------- stage 1: NumPy by hand


def predict_np(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Stage 1, the prediction: ``x @ w + b``.

    ``x`` is a float64 array ``(N, D)``, ``w`` a float64 array ``(D,)``, ``b``
    a Python float. Return a float64 NumPy array of shape ``(N,)``. Use NumPy
    only (no torch, no loops over samples).
    """
    raise NotImplementedError("TODO: stage 1: the linear prediction in NumPy")


def mse_np(y_pred: np.ndarray, y: np.ndarray) -> float:
    """Stage 1, the loss: mean squared error ``mean((y_pred - y) ** 2)``.

    ``y_pred`` and ``y`` are float64 arrays ``(N,)``. Return a Python float
    (wrap the NumPy result in ``float(...)``). The MEAN over the N samples,
    not the sum.
    """
    raise NotImplementedError("TODO: stage 1: the mean squared error in NumPy")


def gradient_np(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """Stage 1, the gradient of the MSE with respect to ``w`` and ``b``, by hand.

    ``x`` ``(N, D)``, ``y`` ``(N,)``, ``w`` ``(D,)`` float64 arrays, ``b`` a
    Python float. With ``err = x @ w + b - y`` (shape ``(N,)``) and
    ``L = (1/N) * sum(err ** 2)``, the chain rule gives::

        dL/dw = (2/N) * x.T @ err      shape (D,)
        dL/db = (2/N) * sum(err)       a scalar

    Do not forget the 2 (the derivative of ``err ** 2`` is ``2 * err``) nor the
    ``1/N`` of the mean: with either missing, the gradient is scaled and the
    trajectory no longer matches autograd's.

    Return ``(dw, db)``: ``dw`` a float64 array ``(D,)``, ``db`` a Python float.
    NumPy only: no torch, no autograd.
    """
    raise NotImplementedError("TODO: stage 1: the MSE gradient by hand")


def train_numpy(x: np.ndarray, y: np.ndarray, w0: np.ndarray, b0: float, lr: float, steps: int) -> tuple[np.ndarray, float, list[float]]:
    """Stage 1, gradient descent fully by hand in NumPy.

    ``x`` ``(N, D)``, ``y`` ``(N,)`` and the start ``w0`` ``(D,)`` are float64
    arrays, ``b0`` a Python float. Start from a COPY of ``w0`` (``w0.copy()``):
    ``w -= ...`` on the array you were given would change the caller's ``w0``
    in place. Then, ``steps`` times:

    1. prediction (``predict_np``), 2. loss (``mse_np``), record it,
    3. gradient (``gradient_np``), 4. update ``w = w - lr * dw`` and
    ``b = b - lr * db``.

    Return ``(w, b, losses)``: the final ``w`` (float64 array ``(D,)``), the
    final ``b`` (a Python float) and ``losses``, a list of ``steps`` Python
    floats, each the loss BEFORE that step's update.
    """
    raise NotImplementedError("TODO: stage 1: gradient descent fully by hand in NumPy")


# ---------------------------------------------------------------- stage 2: autograd computes the gradient


def train_autograd(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """Stage 2: the same gradient descent, with autograd computing the gradient.

    ``x`` ``(N, D)``, ``y`` ``(N,)``, ``w0`` ``(D,)`` and ``b0`` (0-D) are
    float64 tensors on one device. Make your own leaves that require grad,
    ``w`` and ``b``: copies of ``w0`` and ``b0`` cut off from any graph
    (``detach``, ``clone``, ``requires_grad_``), never ``w0`` itself. Then,
    ``steps`` times:

    1. the loss, the mean squared error of x·w + b against y; record it as
       a Python float;
    2. backpropagate it: autograd puts dL/dw in ``w.grad``, dL/db in ``b.grad``;
    3. the update, inside ``with torch.no_grad():`` (it must not be recorded,
       and an in-place change of a leaf that requires grad raises outside it):
       each of ``w`` and ``b`` moves in place by ``lr`` times its gradient;
    4. zero both gradients, in place.

    Step 4 matters: ``backward()`` ADDS into ``.grad``. Without zeroing, step k
    uses the sum of all gradients so far and the trajectory runs away from
    stage 1's. And it comes AFTER the update: zeroing between ``backward()``
    and the update throws the gradient away before it is used.

    No ``torch.optim``, no ``nn`` here. Return ``(w, b, losses)``: the final
    ``w`` ``(D,)`` and ``b`` (0-D), float64 on the input's device (``.detach()``
    them), and the list of ``steps`` losses (Python floats, before each update).
    """
    raise NotImplementedError("TODO: stage 2: autograd computes the gradient")


# ---------------------------------------------------------------- stage 3: nn.MSELoss and torch.optim.SGD


def train_optim(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """Stage 3: the same, with ``nn.MSELoss`` and ``torch.optim.SGD``.

    Inputs as in ``train_autograd`` (float64 tensors; ``w``, ``b`` your own
    leaves copied from ``w0``, ``b0``). Build an ``nn.MSELoss`` and a
    ``torch.optim.SGD`` over ``w`` and ``b`` with learning rate ``lr`` (plain
    SGD: no momentum, no weight decay). Then, ``steps`` times:

    1. the loss of the prediction x·w + b against y (both ``(N,)``); record
       it as a Python float;
    2. ``optimizer.zero_grad()``: clear the gradients of the previous step;
    3. ``loss.backward()``: compute this step's gradients;
    4. ``optimizer.step()``: ``p -= lr * p.grad`` for every parameter.

    The ORDER is zero_grad -> backward -> step. ``step()`` before
    ``backward()`` applies the previous iteration's gradient (the first step
    does nothing); ``zero_grad()`` between ``backward()`` and ``step()``
    throws the gradient away and nothing ever moves. And forgetting
    ``zero_grad()`` makes the gradients accumulate, as in stage 2.

    Return ``(w, b, losses)`` as in ``train_autograd``.
    """
    raise NotImplementedError("TODO: stage 3: nn.MSELoss and torch.optim.SGD")


# ---------------------------------------------------------------- stage 4: nn.Linear as the model


def train_linear(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, b0: torch.Tensor, lr: float, steps: int) -> tuple[nn.Linear, list[float]]:
    """Stage 4: the same, with ``nn.Linear(D, 1)`` as the model.

    Inputs as in ``train_autograd``. Build the layer in float64 on the data's
    device: ``nn.Linear(D, 1, dtype=x.dtype, device=x.device)``. Its weight is
    ``(1, D)`` (out, in) and its bias ``(1,)``: set them to the start, inside
    ``with torch.no_grad():``, with ``model.weight.copy_(w0.reshape(1, D))``
    and ``model.bias.copy_(b0.reshape(1))``; otherwise the layer starts from
    random weights and its trajectory is not the others'.

    The layer outputs ``(N, 1)`` but ``y`` is ``(N,)``: compare
    ``model(x)`` with ``y.reshape(-1, 1)`` (``nn.MSELoss`` on ``(N, 1)`` and
    ``(N,)`` silently broadcasts to ``(N, N)``). Use ``nn.MSELoss()`` and
    ``torch.optim.SGD(model.parameters(), lr=lr)``, and the loop of stage 3:
    loss, ``zero_grad()``, ``backward()``, ``step()``.

    Return ``(model, losses)``: the trained ``nn.Linear`` and the list of
    ``steps`` losses (Python floats, before each update).
    """
    raise NotImplementedError("TODO: stage 4: nn.Linear as the model")


# ---------------------------------------------------------------- all four from the same start


def run_all_stages(x: np.ndarray, y: np.ndarray, w0: np.ndarray, b0: float, lr: float, steps: int, device: str) -> dict[str, list[float]]:
    """Run the four stages from the same start with the same learning rate.

    ``x`` ``(N, D)``, ``y`` ``(N,)``, ``w0`` ``(D,)``: float64 NumPy arrays;
    ``b0`` a Python float; ``device`` a device string (``"cpu"``, ``"cuda"``)
    for the torch stages (honour it; do not hard-code one).

    Stage 1 takes the arrays as they are. For stages 2 to 4 make float64
    tensors on ``device``: ``torch.from_numpy(x).to(device)`` (keeps float64;
    ``torch.tensor(x, dtype=torch.float64, device=device)`` works too) and
    ``torch.tensor(b0, dtype=torch.float64, device=device)`` for the bias.

    Return a dict of the four loss histories (each a list of ``steps`` Python
    floats): ``{"numpy": ..., "autograd": ..., "optim": ..., "linear": ...}``.
    If your stages are right the four lists agree to about 1e-12.
    """
    raise NotImplementedError("TODO: same start, same learning rate, same trajectory")
