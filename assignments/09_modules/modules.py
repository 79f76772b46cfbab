"""Unit 09: nn.Module, the building block of every PyTorch model.

A model is a class that subclasses ``nn.Module``:

- ``__init__`` calls ``super().__init__()`` FIRST and then creates the layers
  and stores them as attributes (``self.fc1 = nn.Linear(4, 3)``). Assigning a
  module (or an ``nn.Parameter``) to an attribute *registers* it: from then
  on ``model.parameters()``, ``model.named_parameters()``, ``model.to(device)``,
  ``model.state_dict()``, ``model.train()`` and ``model.eval()`` all see it.
- ``forward(self, x)`` does the computation with those layers. Call the model
  as ``model(x)``, never ``model.forward(x)``: ``__call__`` runs the hooks and
  then ``forward``.

Layers used in this unit:

- ``nn.Linear(in_features, out_features)``: ``y = x @ W.T + b``, with
  ``weight`` of shape ``(out_features, in_features)`` (output first!) and
  ``bias`` of shape ``(out_features,)``.
- ``nn.Tanh()`` and ``nn.ReLU()`` (or ``torch.tanh``, ``torch.relu``): no
  parameters, applied element-wise.
- ``nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0)``:
  input ``(N, C_in, H, W)``, weight ``(C_out, C_in, k, k)``; each spatial size
  becomes ``(size + 2 * padding - kernel_size) // stride + 1``.
- ``nn.MaxPool2d(2, 2)``: halves each spatial size, rounding down.
- ``nn.Dropout(p)``: active only in training mode.

Use only torch here: no NumPy, no hand-written matrix products where a layer
is asked for. Never hard-code a device: a model is moved with
``model.to(device)`` and its layers follow.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: F401 (for F.dropout, F.relu ... if you want them)


class TwoLayerNet(nn.Module):
    """A two-layer network: Linear, then Tanh, then Linear.

    ``TwoLayerNet(in_features, hidden, out_features)`` holds exactly these
    attributes (use these names, the checks load weights by name):

    - ``fc1``: an ``nn.Linear`` from ``in_features`` to ``hidden``; weight ``(hidden, in_features)``
    - ``act``: an ``nn.Tanh``
    - ``fc2``: an ``nn.Linear`` from ``hidden`` to ``out_features``; weight ``(out_features, hidden)``

    so ``dict(model.named_parameters())`` has the four keys ``"fc1.weight"``,
    ``"fc1.bias"``, ``"fc2.weight"``, ``"fc2.bias"``.

    ``forward(x)`` maps ``x`` of shape ``(N, in_features)``, float32, to
    ``(N, out_features)``: ``fc2(tanh(fc1(x)))``.
    """

    def __init__(self, in_features: int, hidden: int, out_features: int) -> None:
        super().__init__()  # keep this line first: nn.Module must set itself up before layers are assigned
        raise NotImplementedError("TODO: subclass nn.Module: Linear, Tanh, Linear (__init__)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``fc2(tanh(fc1(x)))`` for ``x`` ``(N, in_features)``: shape ``(N, out_features)``.

        Use the layers made in ``__init__`` (``self.fc1(x)``, ``self.act(h)``,
        ``self.fc2(h)``); do not create layers here: a layer made in
        ``forward`` gets new random weights on every call and is never trained.
        """
        raise NotImplementedError("TODO: subclass nn.Module: Linear, Tanh, Linear (forward)")


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """The number of scalar parameters (weights and biases) in ``model``.

    Add up ``p.numel()`` for every ``p`` in ``model.parameters()`` (that walks
    every registered sub-module for you). ``nn.Linear(in, out)`` has
    ``out * in + out`` of them; ``nn.Conv2d(c_in, c_out, k)`` has
    ``c_out * c_in * k * k + c_out``; ``nn.ReLU`` has none.

    With ``trainable_only=True`` count only parameters with
    ``p.requires_grad`` (frozen ones, e.g. after
    ``layer.requires_grad_(False)``, are left out).

    Return a Python ``int``, not a tensor. Careful:
    ``len(list(model.parameters()))`` is the number of parameter TENSORS,
    not the number of values in them.
    """
    raise NotImplementedError("TODO: count a model's parameters")


def parameter_shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    """Map every parameter's name to its shape, as ``model.named_parameters()`` lists them.

    ``named_parameters()`` yields ``(name, parameter)`` pairs; names are
    dotted attribute paths: ``"fc1.weight"`` for ``self.fc1``'s weight,
    ``"0.bias"`` for the first layer of an ``nn.Sequential``,
    ``"layers.2.weight"`` inside an ``nn.ModuleList`` called ``layers``.

    Return a ``dict`` from each name (str) to ``tuple(p.shape)`` (a tuple of
    ints), e.g. ``{"0.weight": (3, 4), "0.bias": (3,)}`` for
    ``nn.Sequential(nn.Linear(4, 3))``.
    """
    raise NotImplementedError("TODO: parameter names and shapes from named_parameters()")


class MLP(nn.Module):
    """A multilayer perceptron with any number of layers, ending in raw logits.

    ``MLP(sizes)`` with ``sizes = [d0, d1, ..., dk]`` (at least two sizes)
    holds ``k`` linear layers ``nn.Linear(d0, d1)``, ``nn.Linear(d1, d2)``,
    ..., ``nn.Linear(d(k-1), dk)``, stored IN ORDER as ``self.layers``, an
    ``nn.ModuleList``.

    Why ``nn.ModuleList`` and not a plain Python list: ``nn.Module`` only
    registers modules assigned directly as attributes (or held in
    ``nn.ModuleList`` / ``nn.Sequential`` / ``nn.ModuleDict``). Layers kept in
    a plain ``[...]`` list still run in ``forward``, but they are invisible:
    ``model.parameters()`` does not list them (the optimizer never trains
    them), ``model.to(device)`` does not move them and ``state_dict()`` does
    not save them. With ``self.layers = nn.ModuleList(...)`` the parameters
    are named ``"layers.0.weight"``, ``"layers.0.bias"``, ``"layers.1.weight"``...

    ``forward(x)``: ``x`` ``(N, d0)`` float32 to ``(N, dk)``.
    """

    def __init__(self, sizes: list[int]) -> None:
        super().__init__()
        raise NotImplementedError("TODO: any number of layers: nn.ModuleList, ending in logits (__init__)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layers in order with a ReLU after every layer EXCEPT the last.

        The output is the last layer's output as it is: raw scores
        ("logits"), which may be negative. Do not put a ReLU, sigmoid or
        softmax after the last layer: losses such as ``nn.CrossEntropyLoss``
        expect logits and apply their own (log-)softmax, and a ReLU at the
        end would clip every negative score to 0.
        """
        raise NotImplementedError("TODO: any number of layers: nn.ModuleList, ending in logits (forward)")


def conv_feature_shape(height: int, width: int) -> tuple[int, int, int]:
    """The shape ``(C, H, W)`` of one image's features after ``SmallCNN``'s conv stack.

    For an input image of ``height`` x ``width`` (any number of input
    channels), the stack is:

    1. ``nn.Conv2d(in_channels, 6, kernel_size=5)`` (stride 1, no padding), then ReLU
    2. ``nn.MaxPool2d(2, 2)``
    3. ``nn.Conv2d(6, 16, kernel_size=3, stride=2, padding=1)``, then ReLU

    Use the formula ``(size + 2 * padding - kernel_size) // stride + 1`` for
    each convolution and ``size // 2`` for the pooling, separately for the
    height and the width (they differ!). ReLU keeps the shape. Return three
    Python ints ``(channels, height, width)``; the flattened feature size that
    the first linear layer needs is their product. Compute it with integer
    arithmetic; do not build the layers or run a tensor through them.
    """
    raise NotImplementedError("TODO: the output shape of a conv stack")


class SmallCNN(nn.Module):
    """A small convolutional classifier for images of a fixed size.

    ``SmallCNN(in_channels, num_classes, height, width)`` holds (use these names):

    - ``conv1``: an ``nn.Conv2d`` from ``in_channels`` to 6 channels, 5x5 kernel
    - ``pool``: an ``nn.MaxPool2d`` with a 2x2 window and stride 2
    - ``conv2``: an ``nn.Conv2d`` from 6 to 16 channels, 3x3 kernel, stride 2,
      padding 1
    - ``fc``: an ``nn.Linear`` from C·H·W features to ``num_classes``, where
      ``(C, H, W)`` is what ``conv_feature_shape(height, width)`` gives

    ``forward(x)``: ``x`` of shape ``(N, in_channels, height, width)``,
    float32. Compute ``relu(conv1)``, ``pool``, ``relu(conv2)``, flatten each
    image to one vector (``torch.flatten(x, 1)`` or ``x.reshape(x.shape[0], -1)``:
    keep the batch dimension!), then ``fc``. Return ``(N, num_classes)`` raw
    logits: no activation after ``fc``.
    """

    def __init__(self, in_channels: int, num_classes: int, height: int, width: int) -> None:
        super().__init__()
        raise NotImplementedError("TODO: a small CNN classifier: conv, pool, flatten, linear (__init__)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(N, in_channels, height, width)`` images to ``(N, num_classes)`` logits.

        conv1, ReLU, pool, conv2, ReLU, flatten from dimension 1, fc; nothing
        after fc (no softmax: the logits are the output).
        """
        raise NotImplementedError("TODO: a small CNN classifier: conv, pool, flatten, linear (forward)")


class DropoutMLP(nn.Module):
    """Linear, ReLU, Dropout, Linear: a network that behaves differently in training.

    ``DropoutMLP(in_features, hidden, out_features, p)`` holds (use these names):

    - ``fc1``: an ``nn.Linear`` from ``in_features`` to ``hidden``
    - ``drop``: an ``nn.Dropout`` with probability ``p``
    - ``fc2``: an ``nn.Linear`` from ``hidden`` to ``out_features``

    ``forward(x)`` for ``x`` ``(N, in_features)``: fc1, ReLU, dropout, fc2, in
    that order.

    Every module has a ``training`` flag: ``model.train()`` sets it (on the
    model and all its sub-modules), ``model.eval()`` clears it. In training
    mode ``nn.Dropout(p)`` zeroes each value with probability ``p`` and scales
    the rest by ``1 / (1 - p)`` (so the mean stays the same); in eval mode it
    does nothing. Use the ``nn.Dropout`` module: ``F.dropout(h, p)`` has
    ``training=True`` by default and would keep dropping in eval mode
    (you would have to pass ``training=self.training``).
    """

    def __init__(self, in_features: int, hidden: int, out_features: int, p: float) -> None:
        super().__init__()
        raise NotImplementedError("TODO: dropout: different in train() and eval() mode (__init__)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``fc2(drop(relu(fc1(x))))``: shape ``(N, out_features)``.

        Random in training mode, deterministic in eval mode (``self.drop``
        follows the mode by itself).
        """
        raise NotImplementedError("TODO: dropout: different in train() and eval() mode (forward)")


def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Inference: ``model``'s output for ``x`` in eval mode, without a graph.

    Remember whether the model was training (``model.training``), switch it
    to eval mode (``model.eval()``: dropout off, batch norm uses its running
    statistics), compute ``model(x)`` inside ``with torch.no_grad():`` (the
    result must not require grad), then put the model back in the mode it
    was in (``model.train(was_training)``) and return the output.

    Do not forget ``eval()``: with dropout left on, the same input gives a
    different prediction each call.
    """
    raise NotImplementedError("TODO: inference in eval mode, restoring the previous mode")
