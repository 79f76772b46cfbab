"""Unit 04: autograd, PyTorch's automatic differentiation.

A tensor with ``requires_grad=True`` records every operation done with it in
a graph that is built as the code runs. ``backward()`` walks that graph
backwards (the chain rule) and leaves the gradients in the ``.grad`` of the
*leaves*: the tensors you created yourself, with ``requires_grad=True``.

How your functions are called: tensors that the grader passes in arrive as
leaves, with ``requires_grad`` (and any ``.grad``) as the docstring says.
When your function returns, the grader also looks at what you did to them:
their values and their ``.grad``. So ``backward()`` on a graph built from an
argument ``x`` is graded both by what you return and by ``x.grad``.

Every exercise says what to use and what not to use. Do not compute a
gradient by hand unless the exercise asks for it: let autograd do it.
"""

from __future__ import annotations

import torch

__all__ = [
    "make_leaf",
    "seed_derivative",
    "intermediate_grad",
    "reuse_gradient",
    "vector_jacobian",
    "backward_twice",
    "fresh_gradient",
    "sgd_step",
    "stop_gradient",
    "freeze_first",
]


# ---------------------------------------------------------------- A1: the graph


def make_leaf(values: list[float], device: str = "cpu") -> torch.Tensor:
    """A float32 tensor holding ``values`` that autograd will track.

    Args:
        values: a flat Python list of floats, e.g. ``[1.0, -2.5, 3.0]``.
        device: where the tensor must live (``"cpu"``, ``"cuda"``, ...).

    Returns:
        A 1-D float32 tensor of shape ``(len(values),)`` on ``device`` with
        ``requires_grad=True`` that is a *leaf* of the graph: ``is_leaf`` is
        True and ``grad_fn`` is None.

    Use ``torch.tensor(..., dtype=..., device=..., requires_grad=True)`` (or
    create it, then call ``.requires_grad_()`` on it). Do NOT create it on the
    CPU with ``requires_grad=True`` and then call ``.to(device)``: the copy is
    the result of an operation, so it has a ``grad_fn`` and is no leaf, and
    its ``.grad`` will never be filled.
    """
    raise NotImplementedError("TODO: create a leaf tensor that requires grad")


# ---------------------------------------------------------------- A2: backward() on a scalar


def seed_derivative(x0: float, device: str = "cpu") -> tuple[float, float]:
    """Value and derivative of y = x² + 3x + 5 at x = ``x0``, by autograd.

    Make ``x`` a 0-D float64 tensor holding ``x0`` on ``device`` with
    ``requires_grad=True``, compute ``y`` from it, call ``y.backward()`` and
    read the derivative from ``x.grad``.

    Example: at x0 = 2.0, y = 15.0 and dy/dx = 2*2 + 3 = 7.0.

    Returns:
        ``(y, dy_dx)`` as two Python floats (use ``.item()``), not tensors.

    Do NOT write the derivative formula ``2*x0 + 3`` yourself.
    """
    raise NotImplementedError("TODO: dy/dx of y = x**2 + 3x + 5 with backward()")


# ---------------------------------------------------------------- A1/A3: leaves and non-leaves


def intermediate_grad(x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient of a loss with respect to an intermediate (non-leaf) tensor.

    Args:
        x: float32 inputs of shape ``(N, D)``; does not require grad.
        w: float32 weights of shape ``(D, K)``; a leaf with ``requires_grad=True``
           and no ``.grad`` yet.

    Compute ``h``, the matrix product of ``x`` and ``w`` (shape ``(N, K)``),
    and the loss: the sum of tanh over every element of ``h``; then
    backpropagate from the loss.

    Returns:
        ``(h, dloss_dh)``: ``h`` itself (still attached to the graph: do not
        detach it) and the gradient of ``loss`` with respect to ``h``, a
        float32 tensor of shape ``(N, K)``. After the call ``w.grad`` must hold
        dloss/dw.

    ``h`` is not a leaf (it has a ``grad_fn``), and autograd does NOT keep the
    ``.grad`` of non-leaves: after ``backward()`` ``h.grad`` is None. Ask for
    it with ``h.retain_grad()`` *before* calling ``backward()``. Do NOT
    compute ``1 - tanh(h)**2`` by hand.
    """
    raise NotImplementedError("TODO: the gradient of an intermediate (non-leaf) tensor")


def reuse_gradient(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Check autograd against your own derivative, for a variable used twice.

    Args:
        x: float64 tensor of any shape; a leaf with ``requires_grad=True`` and
           no ``.grad`` yet.

    Let ``f(x) = (x * x + x).sum()``: ``x`` is used in two places (three
    times in fact: both factors of ``x * x``, and ``+ x``).

    Returns:
        ``(by_autograd, by_hand)``, both float64 tensors shaped like ``x``:
        ``by_autograd`` is ``x.grad`` after ``f(x).backward()``;
        ``by_hand`` is df/dx written out by you as a formula in ``x``
        (compute it from ``x.detach()`` so it is not part of the graph).

    Autograd adds up the contributions of every use of a tensor; your formula
    must do the same (product rule for ``x * x``, plus the ``+ x`` term).
    The two results must agree.
    """
    raise NotImplementedError("TODO: a variable used twice: autograd against your own formula")


# ---------------------------------------------------------------- A2: non-scalar outputs


def vector_jacobian(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """A vector-Jacobian product: gradients of a non-scalar output.

    Args:
        x: float64 tensor of shape ``(M, N)``; a leaf with ``requires_grad=True``
           and no ``.grad`` yet.
        v: float64 tensor of shape ``(M, N)``: the weights of the product.

    Let ``y = x ** 3`` (shape ``(M, N)``, not a scalar). ``y.backward()`` alone
    fails ("grad can be implicitly created only for scalar outputs"): autograd
    needs a vector ``v`` shaped like ``y`` and then computes ``v^T J``, the
    vector-Jacobian product, which here is ``v * 3 * x**2`` element by element.
    In PyTorch that is ``y.backward(gradient=v)``, and by definition it is the
    same as backpropagating the scalar ``(y * v).sum()``.

    Compute it with ``y.backward(gradient=v)`` and return what lands in
    ``x.grad``.

    Returns:
        ``x.grad``, float64 of shape ``(M, N)``.

    Do NOT use ``y.sum().backward()``: that is the product with a vector of
    ones, not with ``v``.
    """
    raise NotImplementedError("TODO: backward() on a non-scalar output: the vector-Jacobian product")


# ---------------------------------------------------------------- A3: accumulation and zeroing


def backward_twice(x: torch.Tensor) -> torch.Tensor:
    """Call ``backward()`` twice on the same graph and watch ``.grad`` add up.

    Args:
        x: float64 tensor of any shape; a leaf with ``requires_grad=True`` and
           no ``.grad`` yet.

    Build y, the sum over all elements of x² + 3x + 5, ONCE, then call
    ``backward`` two times on that same ``y`` (do not rebuild it in between). Gradients
    accumulate, so ``x.grad`` ends up twice dy/dx.

    Returns:
        ``x.grad`` after the two calls, float64 shaped like ``x``.

    ``backward()`` frees the graph's saved values to save memory, so a
    second call on the same graph raises ``RuntimeError: Trying to backward
    through the graph a second time``. Keep them for the second call with
    ``y.backward(retain_graph=True)`` the first time.
    """
    raise NotImplementedError("TODO: two backward() calls on one graph")


def fresh_gradient(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The gradient of this step only, with a stale ``.grad`` left over.

    Args:
        w: float64 weights of shape ``(D, K)``; a leaf with ``requires_grad=True``
           whose ``.grad`` already holds a gradient from an earlier step.
        x: float64 inputs of shape ``(N, D)``; does not require grad.

    The loss is the mean of the squares of the elements of the matrix product
    of ``x`` and ``w``; get its gradient with respect to ``w`` by
    backpropagation.

    Returns:
        ``w.grad`` holding dloss/dw of THIS loss only, float64 of shape
        ``(D, K)``.

    ``backward()`` adds into ``.grad``; it does not overwrite it. Zero the old
    gradient first with ``w.grad.zero_()`` (what ``optimizer.zero_grad()``
    does for every parameter), then call ``backward()``.
    """
    raise NotImplementedError("TODO: zero a stale gradient before backward()")


# ---------------------------------------------------------------- A4: stopping tracking


def sgd_step(w: torch.Tensor, x: torch.Tensor, target: torch.Tensor, lr: float) -> torch.Tensor:
    """One step of gradient descent on ``w``, done by hand, in place.

    Args:
        w: float32 weights of shape ``(D, K)``; a leaf with ``requires_grad=True``
           and no ``.grad`` yet. Update THIS tensor in place.
        x: float32 inputs of shape ``(N, D)``; does not require grad.
        target: float32 targets of shape ``(N, K)``.
        lr: the learning rate, a Python float.

    1. The loss: the mean squared difference between the matrix product of
       ``x`` and ``w`` and ``target``; backpropagate it.
    2. Without tracking (``torch.no_grad()``), move ``w`` in place by
       ``lr`` times its gradient, downhill.
    3. Zero the gradient for the next step, in place.

    Returns:
        The loss before the step as a 0-D float32 tensor that does not track
        gradients (cut off from the graph).

    An in-place change to a leaf that requires grad is refused outside
    ``torch.no_grad()`` (``RuntimeError: a leaf Variable that requires grad is
    being used in an in-place operation``): autograd would have to record the
    update itself. Do NOT write ``w = w - lr * w.grad`` either: that makes a
    new tensor named ``w`` and leaves the caller's weights untouched.
    """
    raise NotImplementedError("TODO: a gradient-descent step by hand, under torch.no_grad()")


def stop_gradient(x: torch.Tensor) -> torch.Tensor:
    """The gradient when part of the formula is treated as a constant.

    Args:
        x: float64 tensor of any shape; a leaf with ``requires_grad=True`` and
           no ``.grad`` yet.

    Let c be the square of ``x`` made from ``x.detach()``: ``detach()`` gives
    the same values cut off from the graph, so c is a constant for autograd.
    Then f, the sum over all elements of x times c, and backpropagate f.

    Returns:
        ``x.grad``, float64 shaped like ``x``: the derivative with ``c`` held
        fixed, which is ``c`` (that is ``x**2``), NOT ``3 * x**2`` as for
        ``(x ** 3).sum()``.
    """
    raise NotImplementedError("TODO: treat part of a formula as a constant with detach()")


def freeze_first(w1: torch.Tensor, w2: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
    """Freeze the first layer of a two-layer model and backpropagate.

    Args:
        w1: float64 first-layer weights ``(D, H)``; a leaf with
            ``requires_grad=True``, no ``.grad`` yet.
        w2: float64 second-layer weights ``(H, K)``; same.
        x: float64 inputs ``(N, D)``; does not require grad.

    Freeze ``w1`` with ``w1.requires_grad_(False)`` BEFORE the forward pass,
    then compute the loss: ReLU of the product of ``x`` and ``w1``, times
    ``w2``, summed over every element; and backpropagate it.

    Returns:
        ``(w1.grad, w2.grad)``: None for the frozen ``w1`` (autograd did not
        track it) and dloss/dw2, float64 of shape ``(H, K)``.

    Do NOT wrap the whole forward pass in ``torch.no_grad()``: then nothing
    is tracked, ``loss`` has no ``grad_fn`` and ``backward()`` fails.
    """
    raise NotImplementedError("TODO: freeze a layer with requires_grad_(False)")
