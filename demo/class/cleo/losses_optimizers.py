"""Unit 10: losses and optimizers.

A *loss* turns the model's outputs and the right answers into one number to
minimise; an *optimizer* uses the gradients that ``backward()`` left in each
parameter's ``.grad`` to change the parameters. This unit looks inside both:

- regression: ``nn.MSELoss``;
- classification: softmax and cross-entropy written by hand, then
  ``nn.CrossEntropyLoss``, which wants RAW logits and class INDICES;
- two classes (or many yes/no labels): ``nn.BCEWithLogitsLoss``;
- ``torch.optim.SGD`` and ``torch.optim.Adam``, one step written by hand so
  that it matches what the optimizer does.

How your functions are called: tensors that the grader passes in arrive as
the docstring says (leaves with ``requires_grad`` and ``.grad`` where it says
so). When your function returns, the grader also looks at what you did to
them: their values and their ``.grad``. So an optimizer step that updates the
parameters in place is graded by the parameters after the call, and by
whether their ``.grad`` is still what it was.

Every exercise says what to use and what not to use.
"""

from __future__ import annotations

import torch
import torch.nn as nn

__all__ = [
    "mse_loss",
    "softmax",
    "cross_entropy_by_hand",
    "cross_entropy",
    "make_targets",
    "bce_with_logits",
    "sgd_step",
    "adam_step",
    "fit_classifier",
]


# ---------------------------------------------------------------- O1: regression


def mse_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """The mean squared error between predictions and targets, with ``nn.MSELoss``.

    Args:
        pred: float32 predictions of shape ``(N, K)``.
        target: float32 targets of the same shape ``(N, K)``.
        reduction: how to combine the squared errors, as ``nn.MSELoss`` takes it:
            ``"mean"`` (the default: one 0-D tensor, the average over all
            ``N * K`` elements), ``"sum"`` (one 0-D tensor, their total) or
            ``"none"`` (no reduction: the ``(N, K)`` tensor of squared errors).

    Returns:
        A float32 tensor: 0-D for ``"mean"`` and ``"sum"``, ``(N, K)`` for ``"none"``.

    Use ``nn.MSELoss(reduction=reduction)``: a loss in ``torch.nn`` is an object
    that you build once and then call like a function, ``loss_fn(pred, target)``.
    Note the order: predictions first, targets second.
    """
    raise NotImplementedError("TODO: mean squared error with nn.MSELoss and its reductions")


# ---------------------------------------------------------------- O1: softmax and cross-entropy by hand


def softmax(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the classes, written by hand.

    Args:
        logits: float32 raw scores of shape ``(N, C)``: one row per sample, one
            column per class. Any real numbers, possibly large (like 1000).

    Returns:
        float32 probabilities of shape ``(N, C)``: each row is
        ``exp(logits[i]) / exp(logits[i]).sum()``, so every entry is in
        ``[0, 1]`` and every ROW sums to 1 (normalise over ``dim=1``, the
        classes, not over the samples).

    ``exp(1000.0)`` is ``inf`` in float32 and ``inf / inf`` is NaN. Softmax does
    not change when the same number is subtracted from a whole row, so
    subtract each row's maximum first (``logits.max(dim=1, keepdim=True).values``):
    then the largest exponent is ``exp(0) = 1`` and nothing overflows.

    Use ``torch.exp``, ``max`` and ``sum`` with ``keepdim=True`` so the (N, 1)
    row results broadcast against (N, C). Keep the result attached to the
    graph (no ``detach()``, no ``torch.no_grad()``): a loss built on it must
    be able to call ``backward()``. Do NOT use ``torch.softmax``,
    ``F.softmax`` or ``nn.Softmax``: the grader checks which operation made
    the result.
    """
    raise NotImplementedError("TODO: softmax by hand, numerically stable")


def cross_entropy_by_hand(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The cross-entropy loss of raw logits against class indices, by hand.

    Args:
        logits: float32 raw scores of shape ``(N, C)``.
        targets: int64 class indices of shape ``(N,)``, each in ``0 .. C-1``.

    Returns:
        A 0-D float32 tensor: the mean over the ``N`` samples of
        ``-log p[i, targets[i]]``, where ``p`` is the softmax of ``logits`` over
        the classes. This is what ``nn.CrossEntropyLoss()(logits, targets)``
        computes.

    Compute the log-probabilities directly with the log-sum-exp trick:
    ``log p = logits - m - log(exp(logits - m).sum(dim=1, keepdim=True))``
    with ``m`` the row maximum (``torch.logsumexp`` does the same in one call).
    Do NOT take ``torch.log`` of the softmax: when a probability underflows to
    0 (a wrong class 200 below the best one), its log is ``-inf`` and the loss
    is ``inf``, although the right loss is a finite 200 or so.

    Pick each row's entry at its target with ``log_p[torch.arange(N), targets]``
    (or ``log_p.gather(1, targets.unsqueeze(1))``). Do NOT use
    ``nn.CrossEntropyLoss``, ``F.cross_entropy``, ``F.nll_loss`` or
    ``log_softmax`` here: the grader checks which operation made the result.
    """
    raise NotImplementedError("TODO: cross-entropy by hand with the log-sum-exp trick")


# ---------------------------------------------------------------- O1: nn.CrossEntropyLoss


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The classification loss with ``nn.CrossEntropyLoss``.

    Args:
        logits: float32 raw scores of shape ``(N, C)``, straight from a model's
            last ``nn.Linear`` (they may require grad).
        targets: int64 class indices of shape ``(N,)``.

    Returns:
        A 0-D float32 tensor, the mean cross-entropy, still attached to the
        graph when ``logits`` requires grad (do not detach it: training calls
        ``backward()`` on it).

    ``nn.CrossEntropyLoss`` applies log-softmax ITSELF (it is log-softmax
    followed by the negative log-likelihood), so give it the raw logits. Do
    NOT apply ``softmax`` (or ``sigmoid``) first: the loss would then squash
    probabilities a second time, its value is wrong, it can never get near 0,
    and its gradients are small, so training crawls.
    """
    raise NotImplementedError("TODO: nn.CrossEntropyLoss on raw logits")


def make_targets(labels: list[str], classes: list[str], device: str = "cpu") -> torch.Tensor:
    """The target tensor ``nn.CrossEntropyLoss`` wants, from class names.

    Args:
        labels: the label of each of ``N`` samples, e.g. ``["dog", "cat", "dog"]``.
        classes: the ``C`` class names in order, e.g. ``["cat", "dog", "fish"]``:
            class ``k`` is ``classes[k]``.
        device: where the tensor must live (``"cpu"``, ``"cuda"``, ...).

    Returns:
        An int64 (``torch.long``) tensor of shape ``(N,)`` on ``device``
        holding each label's class INDEX: for the example, ``tensor([1, 0, 1])``.

    ``nn.CrossEntropyLoss`` takes class indices: one integer per sample, dtype
    ``torch.long``, shape ``(N,)``. Do NOT build one-hot rows of shape
    ``(N, C)`` (that is how some other libraries want them) and do NOT make
    the indices float: float targets mean something else to the loss (class
    probabilities, shaped like the logits), and float indices of shape
    ``(N,)`` raise an error.
    """
    raise NotImplementedError("TODO: class-index targets: int64 of shape (N,)")


# ---------------------------------------------------------------- O2: BCEWithLogitsLoss


def bce_with_logits(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on raw logits, with ``nn.BCEWithLogitsLoss``.

    Args:
        logits: float32 raw scores of shape ``(N,)``: one yes/no score per
            sample, any real number (large ones like 150 included).
        targets: float32 labels of shape ``(N,)``, each ``0.0`` or ``1.0``.
            (Binary losses take FLOAT targets, unlike ``nn.CrossEntropyLoss``.)

    Returns:
        A 0-D float32 tensor: the mean over the samples of
        ``-(y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x)))``. It must be
        finite for every finite logit: a confident wrong answer with logit 150
        costs about 150.

    Use ``nn.BCEWithLogitsLoss()``: it does the sigmoid and the log in one
    numerically stable formula. Do NOT apply ``torch.sigmoid`` and then
    ``nn.BCELoss`` or ``torch.log``: in float32 ``sigmoid(150.0)`` is exactly
    1.0, so ``log(1 - sigmoid(150.0))`` is ``-inf`` (``nn.BCELoss`` clamps it
    to -100, so the loss is silently wrong instead).
    """
    raise NotImplementedError("TODO: nn.BCEWithLogitsLoss: sigmoid and BCE in one stable formula")


# ---------------------------------------------------------------- O3: optimizer steps by hand


def sgd_step(
    params: list[torch.Tensor],
    buffers: list[torch.Tensor | None],
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> list[torch.Tensor | None]:
    """One step of ``torch.optim.SGD``, written by hand.

    Args:
        params: float32 parameters of any shapes; leaves with
            ``requires_grad=True`` whose ``.grad`` holds the gradient of the
            loss. Update THESE tensors in place.
        buffers: one momentum buffer per parameter, from the previous call:
            ``None`` on the first step (and always when ``momentum`` is 0).
        lr: the learning rate.
        momentum: the momentum factor (0 means plain SGD).
        weight_decay: the L2 penalty factor (0 means none).

    For each parameter ``p`` with gradient ``g = p.grad``, exactly as
    ``torch.optim.SGD(params, lr, momentum=momentum, weight_decay=weight_decay)``
    does it:

    1. ``d = g + weight_decay * p``
    2. if ``momentum != 0``: the buffer becomes ``b = d.clone()`` on the first
       step (buffer None) and ``b = momentum * b + d`` after that; then ``d = b``
    3. ``p -= lr * d``, in place, inside ``with torch.no_grad():``

    Returns:
        The new list of buffers, one per parameter (``None`` entries when
        ``momentum`` is 0), to pass back in on the next call.

    A step must NOT change ``p.grad``: the gradient belongs to ``backward()``
    and ``zero_grad()``, and a real optimizer leaves it as it found it (a
    training loop may still read or clip it after the step). So never update
    ``p.grad`` in place (``p.grad += ...``, ``p.grad.add_(...)``,
    ``p.grad.zero_()``): build ``d`` as a new tensor. Do NOT call
    ``torch.optim`` here: the point is to write its arithmetic yourself.
    """
    raise NotImplementedError("TODO: one torch.optim.SGD step by hand (momentum, weight decay)")


def adam_step(
    params: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_sqs: list[torch.Tensor],
    step: int,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> None:
    """One step of ``torch.optim.Adam``, written by hand, with bias correction.

    Args:
        params: float32 parameters; leaves with ``requires_grad=True`` whose
            ``.grad`` holds the gradient. Update THESE tensors in place.
        exp_avgs: one running average of the gradient (``m``) per parameter,
            shaped like it; all zeros before the first step. Update in place.
        exp_avg_sqs: one running average of the squared gradient (``v``) per
            parameter; all zeros before the first step. Update in place.
        step: the number of this step, counting from 1 (1 on the first call,
            2 on the second, ...).
        lr, beta1, beta2, eps: as ``torch.optim.Adam(params, lr, betas=(beta1, beta2), eps=eps)``.

    For each parameter ``p`` with gradient ``g = p.grad``, under ``torch.no_grad()``:

    1. ``m = beta1 * m + (1 - beta1) * g``            (in place: ``m.mul_(beta1).add_(...)``)
    2. ``v = beta2 * v + (1 - beta2) * g * g``        (in place)
    3. ``m_hat = m / (1 - beta1 ** step)``, ``v_hat = v / (1 - beta2 ** step)``
    4. ``p -= lr * m_hat / (sqrt(v_hat) + eps)``      (in place)

    Step 3 is the *bias correction*: ``m`` and ``v`` start at zero, so early on
    they are far too small (after step 1, ``m`` is only ``0.1 * g``). Dividing by
    ``1 - beta ** step`` undoes that; without it the first steps are the wrong
    size. Use ``step`` as given: with a 0-based count, ``1 - beta ** 0`` is 0.

    Returns:
        None: the results are the updated ``params``, ``exp_avgs`` and ``exp_avg_sqs``.

    As for SGD, the step must NOT change ``p.grad`` (no ``p.grad.zero_()``:
    zeroing is ``zero_grad()``'s job, not ``step()``'s). Do NOT call
    ``torch.optim`` here: write the arithmetic yourself.
    """
    raise NotImplementedError("TODO: one torch.optim.Adam step by hand, with bias correction")


# ---------------------------------------------------------------- O1/O3: put together


def fit_classifier(x: torch.Tensor, y: torch.Tensor, num_classes: int, lr: float, epochs: int) -> tuple[nn.Module, list[float]]:
    """Train a linear classifier with ``nn.CrossEntropyLoss`` and ``torch.optim.Adam``.

    Args:
        x: float32 features of shape ``(N, D)``.
        y: int64 class indices of shape ``(N,)``, in ``0 .. num_classes-1``.
        num_classes: ``C``, the number of classes.
        lr: Adam's learning rate.
        epochs: how many full-batch steps to take.

    Build the model, an ``nn.Linear`` from D features to C classes, on ``x``'s device. It outputs raw logits:
    do NOT end the model with ``nn.Softmax`` (``nn.CrossEntropyLoss`` does the
    softmax itself; to read probabilities later, apply ``torch.softmax`` to the
    outputs outside the model). Build an ``nn.CrossEntropyLoss`` and a
    ``torch.optim.Adam`` over the model's parameters with learning rate ``lr``.
    Then, ``epochs`` times, on the whole data set: forward, loss, zero the
    gradients, backward, the optimizer's step.

    Returns:
        ``(model, losses)``: the trained model and the loss of every epoch as a
        list of ``epochs`` Python floats (``loss.item()``), which should fall.
    """
    raise NotImplementedError("TODO: train a classifier with CrossEntropyLoss and Adam")
