"""Unit 05: backpropagation, the chain rule by hand and with autograd.

The running example is the one from the seed tutorial: a model with a single
weight ``w`` that predicts ``y_hat = w * x`` and is scored by the mean squared
error. Written as a small computational graph, one node per operation::

    x ──┐
        ├─(*)── y_hat ──(-)── s ──(**2, mean)── loss
    w ──┘          y ─────┘

Backpropagation has three steps:

1. **Forward pass**: compute every node from left to right, up to ``loss``.
2. **Local gradients**: at each node, the derivative of its output with
   respect to its input, treating everything else as a constant.
3. **Backward pass**: multiply the local gradients from right to left (the
   chain rule) to get ``dloss/dw``.

``loss.backward()`` does steps 2 and 3 for you; in exercises 1 to 4 you do them
by hand, and the grader compares your numbers with autograd's. Exercises 6 and
7 then use the gradient: one gradient-descent update of ``w`` by hand, under
``torch.no_grad()``, followed by zeroing ``w.grad``.

How your functions are called: tensors that the grader passes in arrive as
leaves. When your function returns, the grader also looks at what you did to
them: their values and their ``.grad``.
"""

from __future__ import annotations

import torch

__all__ = [
    "forward_pass",
    "local_gradients",
    "backward_pass",
    "neuron_gradients",
    "seed_example",
    "manual_update",
    "train_by_hand",
]


# ---------------------------------------------------------------- B1: the chain rule by hand


def forward_pass(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Step 1, the forward pass: every node of the graph, left to right.

    Args:
        x: float64 inputs of shape ``(N,)``.
        y: float64 targets of shape ``(N,)``.
        w: the weight, a 0-D float64 tensor.

    Compute, element by element:

    - ``y_hat``, w·x_i for each point: the prediction, shape ``(N,)``
    - ``s``, ŷ_i − y_i: the error, shape ``(N,)``
    - ``loss``, the mean over the points of s_i²: the mean squared error, 0-D

    Returns:
        ``(y_hat, s, loss)``: float64 tensors on the device of ``x``.

    Use tensor operations only; do NOT loop over the points in Python and do
    NOT convert to Python numbers with ``.item()``.
    """
    raise NotImplementedError("TODO: step 1: the forward pass of y_hat = w * x and its mean squared error")


def local_gradients(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Step 2: the local gradient of each node, derived by hand.

    Args:
        x: float64 inputs of shape ``(N,)``.
        y: float64 targets of shape ``(N,)``.
        w: the weight, a 0-D float64 tensor (it does not require grad).

    With ŷ_i = w·x_i, s_i = ŷ_i − y_i and loss = (1/N) Σ s_i²
    (``N`` points), return three float64 tensors of shape ``(N,)``, entry ``i``
    being the derivative for point ``i``:

    - ``dloss_ds``: d loss / d s_i. The loss is (1/N) * sum_i s_i**2, so each
      s_i contributes 2 * s_i **divided by N** (the mean is part of the loss).
    - ``ds_dyhat``: d s_i / d y_hat_i, which is 1 for every point.
    - ``dyhat_dw``: d y_hat_i / d w, which is x_i.

    Returns:
        ``(dloss_ds, ds_dyhat, dyhat_dw)``, each float64 of shape ``(N,)`` on the
        device of ``x``.

    Do NOT call ``backward()`` or ``torch.autograd.grad``: derive the formulas.
    Create any new tensor (the ones) on ``x``'s device and with its dtype, e.g.
    with ``torch.ones_like(x)``; do NOT hard-code a device.
    """
    raise NotImplementedError("TODO: step 2: the local gradient of every node, by hand")


def backward_pass(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Step 3, the backward pass: chain the local gradients from the loss back to ``w``.

    Args:
        x: float64 inputs of shape ``(N,)``.
        y: float64 targets of shape ``(N,)``.
        w: the weight, a 0-D float64 tensor (it does not require grad).

    Same graph as ``local_gradients``. Multiply the local gradients along the
    path from ``loss`` back to each node (the chain rule):

    - ``dloss_dyhat = dloss_ds * ds_dyhat``, shape ``(N,)``: one entry per point.
    - ``dloss_dw``: ``w`` is shared by all N points, so each point sends back
      its own contribution ``dloss_dyhat[i] * x[i]`` and **they add up**: the
      gradient of ``w`` is their sum, a 0-D tensor (not a vector of N numbers,
      and not their mean: the 1/N is already inside ``dloss_ds``).

    Returns:
        ``(dloss_dyhat, dloss_dw)``: float64, shapes ``(N,)`` and ``()``, on the
        device of ``x``. They must equal what ``loss.backward()`` would put in
        ``y_hat.grad`` (after ``y_hat.retain_grad()``) and in ``w.grad``.

    Do NOT call ``backward()`` or ``torch.autograd.grad``.
    """
    raise NotImplementedError("TODO: step 3: the backward pass, chaining local gradients back to w")


def neuron_gradients(
    x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The chain rule through a bigger graph: one tanh neuron, by hand.

    Args:
        x: float64 inputs of shape ``(N, D)``: N points with D features.
        y: float64 targets of shape ``(N,)``.
        w: float64 weights of shape ``(D,)``.
        b: the bias, a 0-D float64 tensor.

    The graph (forward pass)::

        z = x @ w + b          shape (N,)
        a = torch.tanh(z)      shape (N,)
        loss = ((a - y) ** 2).mean()

    The local gradients, point by point: d loss / d a_i = 2 * (a_i - y_i) / N;
    d a_i / d z_i = 1 - a_i ** 2 (the derivative of tanh); d z_i / d w_j =
    x[i, j]; d z_i / d b = 1. Chain them into ``dloss_dz`` of shape ``(N,)``,
    then add up every point's contribution:

    - ``dloss_dw[j] = sum_i dloss_dz[i] * x[i, j]``: that is ``x.T @ dloss_dz``,
      shape ``(D,)``, the shape of ``w``.
    - ``dloss_db = sum_i dloss_dz[i]``, 0-D.

    Returns:
        ``(dloss_dw, dloss_db)``, float64, shapes ``(D,)`` and ``()``, equal to
        what autograd would put in ``w.grad`` and ``b.grad``.

    Do NOT call ``backward()`` or ``torch.autograd.grad``.
    """
    raise NotImplementedError("TODO: the chain rule through a tanh neuron: dloss/dw and dloss/db")


def seed_example(w0: float, device: str = "cpu") -> tuple[float, float]:
    """The seed tutorial's example, with autograd: loss and dloss/dw at ``w = w0``.

    Data: ``x = [1, 2, 3, 4]`` and ``y = 2 * x`` (so the best weight is 2), as
    float32 tensors on ``device``. Make ``w`` a 0-D float32 leaf holding ``w0``
    with ``requires_grad=True`` on ``device``; forward pass ``y_hat = w * x``,
    ``loss = ((y_hat - y) ** 2).mean()``; then ``loss.backward()`` and read
    ``w.grad``.

    Example: at ``w0 = 0.0`` the loss is 30.0 and dloss/dw is -30.0 (the weight
    must grow to reduce the loss).

    Returns:
        ``(loss, dloss_dw)`` as two Python floats (use ``.item()``).

    Let autograd compute the gradient here; do NOT type in the formula.
    """
    raise NotImplementedError("TODO: the seed example with autograd: x = 1..4, y = 2x, dLoss/dw at w0")


# ---------------------------------------------------------------- B2: one update by hand


def manual_update(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: float) -> torch.Tensor:
    """One gradient-descent step on ``w``, done by hand, in place; then zero the gradient.

    Args:
        w: the weight, a 0-D float32 leaf with ``requires_grad=True``. Its
           ``.grad`` is None or zero when you get it. Update THIS tensor.
        x: float32 inputs of shape ``(N,)``.
        y: float32 targets of shape ``(N,)``.
        lr: the learning rate, a Python float.

    1. Forward: the loss, the mean squared error of w·x against y; then
       backpropagate it.
    2. Without tracking (``torch.no_grad()``), move ``w`` in place by ``lr``
       times its gradient, downhill.
    3. Zero the gradient in place: the next ``backward()`` would otherwise
       ADD its gradient to this one.

    Returns:
        ``w`` itself (the same tensor, updated): still a leaf with
        ``requires_grad=True`` and ``grad_fn`` None, its ``.grad`` all zeros.

    Why ``no_grad``: outside it, ``w -= ...`` on a leaf that requires grad
    raises (``a leaf Variable that requires grad is being used in an in-place
    operation``), and ``w = w - lr * w.grad`` records the update in the graph:
    the new ``w`` is a non-leaf (``grad_fn=SubBackward0``) whose ``.grad`` stays
    None, and the caller's weight never changes. Do NOT use ``w.data`` or an
    optimizer here.
    """
    raise NotImplementedError("TODO: one manual weight update under torch.no_grad(), then zero the gradient")


def train_by_hand(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: float, steps: int) -> list[float]:
    """Gradient descent by hand: ``steps`` rounds of forward, backward, update, zero.

    Args:
        w: the weight, a 0-D float32 leaf with ``requires_grad=True`` and no
           ``.grad`` yet. Train THIS tensor in place.
        x: float32 inputs of shape ``(N,)``.
        y: float32 targets of shape ``(N,)``.
        lr: the learning rate, a Python float.
        steps: how many updates to make, an int.

    Each step: the loss (the mean squared error of w·x against y) and its
    backward pass; the in-place update under ``torch.no_grad()``; then zero
    the gradient.
    Without the zeroing, step k would use the SUM of the gradients of steps
    1..k and the weight would overshoot and oscillate.

    Returns:
        The loss of every step, measured before that step's update: a list of
        ``steps`` Python floats (``loss.item()``). After the call ``w`` holds
        the trained weight and ``w.grad`` is zero.

    Do NOT use ``torch.optim`` or ``w.data``.
    """
    raise NotImplementedError("TODO: repeat it: gradient descent by hand for several steps")
