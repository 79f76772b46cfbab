"""Unit 12: training and evaluation.

Units 07 to 11 built the pieces: a model, a loss, an optimizer, one training
step, Datasets and DataLoaders. Here they come together into the loop that
every PyTorch project runs::

    for epoch in range(epochs):
        model.train()                         # training mode (dropout on, batch norm learns)
        for inputs, labels in train_loader:   # one epoch = one pass over the batches
            inputs, labels = inputs.to(device), labels.to(device)
            loss = loss_fn(model(inputs), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()                          # evaluation mode (dropout off, batch norm frozen)
        with torch.no_grad():                 # no graph: faster, less memory
            ...                               # accuracy on data the model never trained on

Three rules run through the whole unit:

- **Devices.** A model's parameters live on one device (``"cpu"``,
  ``"cuda"``, ...). Every batch must be moved to that device before it goes
  into the model: ``inputs.to(device)``. Data loaders hand out CPU tensors,
  so a missing ``.to(device)`` fails as soon as the model is on a GPU. Never
  hard-code ``"cpu"`` or ``"cuda"``: ask the model where it is
  (``model_device``). The grader also runs your code on ``"fakegpu"``, a
  second device it imitates on the CPU, so a missing ``.to(device)`` fails
  there too, on any machine.
- **Modes.** ``model.train()`` and ``model.eval()`` switch layers such as
  ``nn.Dropout`` (random zeroing only in training) and ``nn.BatchNorm``
  (batch statistics and learning running averages only in training).
  Evaluation switches the model to eval mode, so training must switch it
  back, at the start of every epoch.
- **Gradients.** Evaluation needs no gradients: run it inside
  ``with torch.no_grad():`` so that no graph is recorded. ``model.eval()``
  does NOT turn gradients off; ``no_grad`` does NOT switch dropout off. You
  need both.

The image data set is ``digits.csv`` next to this file (see
DATA_LICENSE.md): 1797 handwritten digits, 8x8 grayscale pixels with values
0 to 16. Each row is the label (0 to 9) followed by the 64 pixels, row by
row. The grader passes you ready-made DataLoaders of it, images as float32
``(B, 1, 8, 8)`` scaled to [0, 1] and labels as int64 ``(B,)``.

Do not use anything beyond ``torch`` (no scikit-learn, no torchvision). Read
each docstring first: it gives the shapes and dtypes the grader expects.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.utils.data import DataLoader


# --------------------------------------------------------------------------
# E3: where does a model live?


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s parameters, as a ``torch.device``.

    A module has no ``.device`` attribute of its own; its parameters do. All
    parameters of the models here live on one device, so the first one
    tells: ``next(model.parameters()).device``.

    Do not return a string and do not hard-code ``"cpu"`` or ``"cuda"``: the
    grader builds models on ``cpu``, ``cuda`` and ``fakegpu`` and expects the
    device they are really on.
    """
    raise NotImplementedError("TODO: ask the model which device it lives on")


# --------------------------------------------------------------------------
# E4: a small convolutional network for 8x8 images


class SmallCNN(nn.Module):
    """A small CNN for 8x8 grayscale images: ``(N, 1, 8, 8)`` -> ``(N, num_classes)``.

    Build exactly these layers in ``__init__`` (use these attribute names,
    the grader loads weights by them):

    - ``conv1``: an ``nn.Conv2d`` from 1 input channel to 16, 3x3 kernel,
      padding 1 (which keeps 8x8);
    - ``conv2``: an ``nn.Conv2d`` from 16 channels to 32, 3x3 kernel, padding 1;
    - ``pool``: an ``nn.MaxPool2d`` with a 2x2 window: halves height and width
      (used twice; it has no parameters, so one object serves both places);
    - ``fc``: an ``nn.Linear`` from the 32·2·2 features left to ``num_classes``.

    ``forward`` runs, with the shapes for a batch of N images::

        x (N, 1, 8, 8) -> conv1 -> relu -> pool -> (N, 16, 4, 4)
                       -> conv2 -> relu -> pool -> (N, 32, 2, 2)
                       -> flatten from dim 1    -> (N, 128)
                       -> fc                    -> (N, num_classes)

    The output is raw scores (logits): no softmax, ``nn.CrossEntropyLoss``
    applies log-softmax itself. Flatten with ``torch.flatten(x, 1)`` (or
    ``x.reshape(x.shape[0], -1)``): it keeps the batch dimension, whatever N
    is; never hard-code the batch size.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()  # keep this line first: nn.Module must set itself up
        raise NotImplementedError("TODO: a small CNN: Conv2d, pooling, flatten, Linear (__init__)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map float32 images ``(N, 1, 8, 8)`` to logits ``(N, num_classes)``.

        conv1, ReLU (``torch.relu``), pool; conv2, ReLU, pool;
        ``torch.flatten(x, 1)``; fc.
        """
        raise NotImplementedError("TODO: a small CNN: Conv2d, pooling, flatten, Linear (forward)")


# --------------------------------------------------------------------------
# E1 + E3: one epoch of training


def train_one_epoch(model: nn.Module, loader: DataLoader, loss_fn: nn.Module, optimizer: torch.optim.Optimizer) -> float:
    """Train ``model`` for one epoch: one pass over every batch of ``loader``.

    ``loader`` yields pairs ``(inputs, labels)``: float32 inputs ``(B, ...)``
    and int64 class labels ``(B,)`` (B is smaller for the last batch), as
    CPU tensors or already on some device. ``loss_fn`` is a loss such as
    ``nn.CrossEntropyLoss()``; ``optimizer`` (SGD, Adam, ...) already holds
    ``model.parameters()``.

    1. ``model.train()`` FIRST: the model may come back from an evaluation
       still in eval mode, and then dropout stays off and batch norm stops
       learning its statistics. Training must switch training mode back on
       itself, every epoch.
    2. Find the model's device (``model_device``).
    3. For each batch: move ``inputs`` AND ``labels`` to that device; the
       loss of the model's output on the inputs against the labels; zero the
       gradients; backward; the optimizer's step.

    Return the epoch's mean loss per SAMPLE as a Python float: add up
    ``loss.item() * len(labels)`` over the batches and divide by the number
    of samples (``loss`` is the mean over its batch, and the last batch may
    be shorter, so the plain mean of the batch losses is not quite it).

    Do not build a new optimizer or loss here, do not move the model (move
    the data to the model), and iterate ``loader`` exactly once.
    """
    raise NotImplementedError("TODO: one epoch over a DataLoader: train mode, batches on the model's device")


# --------------------------------------------------------------------------
# E2 + E3: evaluation


def predict(model: nn.Module, loader: DataLoader) -> torch.Tensor:
    """The model's outputs for every batch of ``loader``, concatenated.

    ``loader`` yields ``(inputs, labels)`` (ignore the labels) in a fixed
    order (no shuffling). Return ``torch.cat`` of ``model(inputs)`` over
    the batches: shape ``(N, num_classes)``, on the model's device.

    This is evaluation, so:

    - call ``model.eval()`` first (dropout off: the same inputs always give
      the same outputs) and leave the model in eval mode;
    - run the forward passes inside ``with torch.no_grad():`` so that no
      graph is recorded: the result must not require grad and has no
      ``grad_fn``. (``model.eval()`` alone does not do this.)
    - move each batch of inputs to ``model_device(model)``.
    """
    raise NotImplementedError("TODO: outputs for a whole loader, under eval() and no_grad()")


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    """Classification accuracy of ``model`` on the data of ``loader``.

    ``loader`` yields ``(inputs, labels)`` with int64 labels ``(B,)``; it may
    be shuffled, so compare each batch's predictions with that same batch's
    labels. The predicted class of a sample is the index of its largest
    output: ``model(inputs).argmax(dim=1)`` (dim 1, the class dimension, not
    dim 0, the batch).

    Return ``correct / total`` over all samples as a Python float in
    ``[0, 1]`` (use ``.sum().item()`` to count the correct ones). As in
    ``predict``: ``model.eval()`` first, everything inside
    ``with torch.no_grad():``, and batches (inputs and labels) moved to
    ``model_device(model)``.
    """
    raise NotImplementedError("TODO: accuracy on unseen data")


# --------------------------------------------------------------------------
# E1 + E2: the whole loop


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    test_loader: DataLoader,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs: int,
) -> tuple[list[float], list[float]]:
    """Train for ``epochs`` epochs, evaluating on unseen data after each.

    Each epoch: ``train_one_epoch`` on ``train_loader``, then ``evaluate``
    on ``test_loader`` (data the model never trains on: how well it
    generalises). Return ``(losses, accuracies)``: two lists of ``epochs``
    Python floats, the training loss and the test accuracy of each epoch.

    Note the rhythm train, evaluate, train, evaluate, ...: each evaluation
    leaves the model in eval mode, and the next epoch must train in training
    mode again (your ``train_one_epoch`` switches it back).
    """
    raise NotImplementedError("TODO: the full loop: train and evaluate, epoch after epoch")


# --------------------------------------------------------------------------
# E5: saving and loading


def save_model(model: nn.Module, path: str) -> None:
    """Save ``model``'s weights to the file ``path`` (e.g. ``"cnn.pt"``).

    Save the ``state_dict`` (a dict from parameter names such as
    ``"conv1.weight"`` to tensors), not the model object:
    ``torch.save(model.state_dict(), path)``. A pickled model object ties the
    file to your class and its source file; a state_dict is just tensors,
    loadable with ``torch.load(path, weights_only=True)``. Write to
    ``path`` as given (a relative path: your working folder). Return nothing.
    """
    raise NotImplementedError("TODO: save a state_dict")


def load_model(path: str, num_classes: int, device: str | torch.device) -> SmallCNN:
    """Load a ``SmallCNN`` whose ``state_dict`` was saved to ``path``.

    1. Build a fresh ``SmallCNN(num_classes)`` (random weights, soon replaced).
    2. ``torch.load(path, map_location=device, weights_only=True)``: the
       state_dict, its tensors put on ``device`` whatever device they were
       saved from; ``weights_only=True`` refuses to run code from the file.
    3. ``model.load_state_dict(state_dict)``: copies the tensors into the
       model's parameters (names and shapes must match).
    4. ``model.to(device)`` and ``model.eval()``: the loaded model is ready
       for inference. Return it.
    """
    raise NotImplementedError("TODO: load a state_dict into a fresh model")


# --------------------------------------------------------------------------
# E4: train the CNN on the digits


def train_digits(train_loader: DataLoader, test_loader: DataLoader, device: str | torch.device, epochs: int) -> tuple[SmallCNN, float]:
    """Train a ``SmallCNN`` on the digits; return ``(model, test_accuracy)``.

    The loaders yield float32 images ``(B, 1, 8, 8)`` in [0, 1] and int64
    labels ``(B,)`` 0 to 9 (CPU tensors, or tensors on ``device``); the
    training loader shuffles. Build ``SmallCNN(10)`` on ``device``
    (``.to(device)``), ``nn.CrossEntropyLoss()`` and
    ``torch.optim.Adam(model.parameters(), lr=0.01)``, run your ``fit`` for
    ``epochs`` epochs and return the model with the test accuracy of the
    last epoch (a Python float).

    The grader asks for a few epochs and expects over 90% test accuracy;
    this takes a few seconds on one CPU thread.
    """
    raise NotImplementedError("TODO: train the CNN on handwritten digits: over 90% test accuracy")
