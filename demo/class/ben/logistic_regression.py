"""Unit 08: logistic regression, a linear model for two classes.

Logistic regression is linear regression with one more step: the linear
layer's output ``z = x @ W.T + b`` (a real number called the *logit*) goes
through the sigmoid ``p = 1 / (1 + exp(-z))``, a probability in (0, 1) that
the sample belongs to class 1. The loss is the binary cross entropy (BCE)::

    BCE(p, t) = -mean( t * log(p) + (1 - t) * log(1 - p) ),   t in {0, 1}

PyTorch offers it in two forms; use each for what it is meant for:

- ``nn.BCELoss()(probs, targets)`` takes PROBABILITIES, the output of a
  sigmoid;
- ``nn.BCEWithLogitsLoss()(logits, targets)`` takes raw LOGITS and applies
  the sigmoid itself, in a numerically stable way. It is the one to train
  with. Never put a sigmoid in front of it: the sigmoid would run twice.

Both losses want targets of the SAME SHAPE as the input and a FLOATING dtype:
labels read from a file are usually ``(N,)`` int64, while the model outputs
``(N, 1)`` float32. Convert them first (``prepare_labels``).

The last part is the data: split the samples into a training and a test set,
standardize the features with statistics computed on the TRAINING set only,
train, and report the accuracy on the test set, which the model never saw.

Use torch (and NumPy only to read the CSV); do not use scikit-learn. Never
hard-code ``"cpu"`` or ``"cuda"``: work on the device of the tensors you are
given (``x.device``), or the ``device`` argument where there is one.
"""

import numpy as np
import torch
import torch.nn as nn


class LogisticRegression(nn.Module):
    """A logistic regression model: ``p = sigmoid(x @ W.T + b)``.

    ``LogisticRegression(n_features)`` holds one layer, an ``nn.Linear``
    from ``n_features`` to 1 output, in an attribute named ``linear`` (use
    that name): its weight is ``(1, n_features)``, its bias ``(1,)``.

    ``forward(x)`` takes ``x`` ``(N, n_features)`` float32 and returns the
    probabilities ``(N, 1)``, every value in (0, 1): ``torch.sigmoid`` of the
    layer's output. Such a model is trained with ``nn.BCELoss``.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()  # keep this line first: nn.Module must set itself up
        raise NotImplementedError("TODO: a logistic regression model: nn.Linear then sigmoid (__init__)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``x`` ``(N, n_features)`` float32 to probabilities ``(N, 1)`` in (0, 1).

        Apply ``self.linear`` and then ``torch.sigmoid``. Do not write the
        sigmoid by hand (``1 / (1 + torch.exp(-z))`` overflows for large ``-z``).
        """
        raise NotImplementedError("TODO: a logistic regression model: nn.Linear then sigmoid (forward)")


def prepare_labels(y: torch.Tensor) -> torch.Tensor:
    """Turn class labels into targets for the BCE losses.

    ``y`` holds N labels 0 or 1 of shape ``(N,)`` and dtype int64 (as read
    from a file, or made by ``torch.tensor([0, 1, ...])``). Return them as
    ``(N, 1)`` float32 on the same device as ``y``, the shape and dtype of the
    model's output: ``nn.BCELoss`` and ``nn.BCEWithLogitsLoss`` raise for
    int64 targets ("Found dtype Long but expected Float") and for ``(N,)``
    targets against ``(N, 1)`` outputs ("target size ... different to the
    input size"). Both changes are needed: ``.float()`` alone keeps ``(N,)``,
    and ``reshape(-1, 1)`` alone keeps int64.
    """
    raise NotImplementedError("TODO: labels as BCE targets: (N,) int64 to (N, 1) float32")


def bce_loss(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross entropy of probabilities, with ``nn.BCELoss``.

    ``probs`` is ``(N, 1)`` float32, every value in (0, 1): the output of a
    sigmoid, e.g. of your ``LogisticRegression``. ``labels`` are the 0/1
    labels, either ``(N,)`` int64 (straight from the data) or already
    ``(N, 1)`` float32: bring them to ``(N, 1)`` float32 first (your
    ``prepare_labels`` does that for both). Return the 0-D loss tensor, the
    mean over the N samples. Do not apply another sigmoid: ``probs`` are
    probabilities already.
    """
    raise NotImplementedError("TODO: binary cross entropy of probabilities with nn.BCELoss")


def bce_with_logits_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross entropy of raw logits, with ``nn.BCEWithLogitsLoss``.

    ``logits`` is ``(N, 1)`` float32: raw outputs of a linear layer, any real
    numbers (NOT probabilities). ``targets`` is ``(N, 1)`` float32, 0.0 or 1.0.
    Return the 0-D mean loss.

    ``nn.BCEWithLogitsLoss`` applies the sigmoid ITSELF, so pass the logits
    unchanged: ``torch.sigmoid`` first would squash them into (0, 1) and the
    loss would apply a second sigmoid on top (the predictions could then never
    go below 0.5). Nor use ``torch.sigmoid`` + ``nn.BCELoss``: for a logit of
    30, ``sigmoid`` rounds to exactly 1.0 in float32 and ``log(1 - 1.0)`` is
    -inf (BCELoss clamps it to -100), while BCEWithLogitsLoss computes the
    exact value from the logit.
    """
    raise NotImplementedError("TODO: binary cross entropy of logits with nn.BCEWithLogitsLoss")


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of samples classified correctly, as a Python float.

    ``probs`` is ``(N, 1)`` float32: predicted probabilities of class 1. A
    sample is predicted as class 1 when its probability is ``>= 0.5``, else
    class 0. ``labels`` are the true 0/1 labels, ``(N,)`` int64 or ``(N, 1)``
    float32. Return (number correct) / N with ``.item()``.

    Flatten both to ``(N,)`` before comparing (``.reshape(-1)``): ``==``
    between ``(N, 1)`` and ``(N,)`` does not raise, it broadcasts to an
    ``(N, N)`` table comparing every prediction with every label, whose mean
    is not the accuracy.
    """
    raise NotImplementedError("TODO: accuracy: threshold the probabilities at 0.5")


def train_test_split(x: torch.Tensor, y: torch.Tensor, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split the samples at random into a training and a test set.

    ``x`` is ``(N, D)``, ``y`` ``(N,)``; row ``i`` of ``x`` belongs with
    ``y[i]``. Shuffle first (data files are often sorted, e.g. by class), in
    exactly this way so that the split is reproducible:

    - ``n_test = int(N * test_fraction)``;
    - ``perm = torch.randperm(N, generator=torch.Generator().manual_seed(seed))``;
    - the samples ``perm[:n_test]`` form the test set, ``perm[n_test:]`` the
      training set, in that order.

    Return ``(x_train, x_test, y_train, y_test)``, each indexed with the same
    permutation so rows and labels stay paired. Do not use scikit-learn.
    """
    raise NotImplementedError("TODO: a reproducible random train/test split")


def fit_scaler(x_train: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit a standard scaler: the mean and standard deviation of each feature.

    ``x_train`` is ``(N, D)`` float32. Return ``(mean, std)``, each ``(D,)``
    float32: the statistics of each column (``dim=0``, over the samples). Use
    the population standard deviation, as scikit-learn's ``StandardScaler``
    does: ``x_train.std(dim=0, correction=0)`` (torch's default,
    ``correction=1``, divides by N - 1). Do not change ``x_train``.
    """
    raise NotImplementedError("TODO: fit a standard scaler: per-feature mean and std")


def standardize(x_train: torch.Tensor, x_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Standardize both sets with statistics fitted on the TRAINING set only.

    ``x_train`` is ``(N, D)`` and ``x_test`` ``(M, D)``, float32. Fit the
    scaler on ``x_train`` (your ``fit_scaler``), then return
    ``((x_train - mean) / std, (x_test - mean) / std)``: both sets scaled
    with the SAME training statistics.

    The test set stands for data the model has never seen: its statistics must
    not influence anything, including the scaling. Do not fit on
    ``torch.cat([x_train, x_test])`` (the test data would leak into training)
    and do not fit the test set separately (its features would then be
    measured on another scale than the one the model learned). Return new
    tensors; do not modify the inputs in place.
    """
    raise NotImplementedError("TODO: standardize train and test with the training statistics")


def train_classifier(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int) -> tuple[nn.Module, list[float]]:
    """Train a logistic regression classifier on logits, full batch.

    ``x`` is ``(N, D)`` float32, ``y`` ``(N,)`` int64 labels 0 or 1, on the
    same device. Build:

    - the model ``nn.Linear(D, 1)`` on ``x.device``, with its weight and bias
      set to ZERO (``nn.init.zeros_``; the loss is convex, so zeros are a fine
      start and make the run reproducible). It outputs logits, not
      probabilities: no sigmoid in the model;
    - the loss ``nn.BCEWithLogitsLoss()``, which applies the sigmoid itself;
    - the optimizer ``torch.optim.SGD(model.parameters(), lr=lr)``.

    Convert ``y`` once with ``prepare_labels`` (``(N, 1)`` float32), then run
    ``epochs`` iterations of: forward, loss, backward, step, zero_grad.

    Return ``(model, losses)``: the trained ``nn.Linear`` (its outputs are
    logits: ``torch.sigmoid(model(x))`` gives the probabilities) and the list
    of ``epochs`` Python floats, the loss of each iteration before its update.
    """
    raise NotImplementedError("TODO: train on logits with BCEWithLogitsLoss and SGD")


def breast_cancer_accuracy(path: str, test_fraction: float, seed: int, lr: float, epochs: int, device: str) -> tuple[nn.Module, float]:
    """The whole pipeline on the breast-cancer data: test accuracy.

    ``path`` names a CSV file like ``breast_cancer.csv``: a header row, then
    one row per sample, the label first (0 malignant, 1 benign) and then the
    30 features. Steps:

    1. read it with ``np.loadtxt(path, delimiter=",", skiprows=1,
       dtype=np.float32)``; the features ``(N, 30)`` float32 and the labels
       ``(N,)`` int64 become tensors on ``device``;
    2. ``train_test_split(x, y, test_fraction, seed)``;
    3. ``standardize(x_train, x_test)`` (the features range from about 0.001
       to 4000: unscaled, gradient descent crawls or oscillates);
    4. ``train_classifier`` on the standardized training set with ``lr`` and
       ``epochs``;
    5. the test probabilities ``torch.sigmoid(model(x_test))`` under
       ``torch.no_grad()``, and their ``accuracy`` against ``y_test``.

    Return ``(model, test_accuracy)``: the trained model (logits) and the
    accuracy on the TEST set as a Python float.
    """
    raise NotImplementedError("TODO: the pipeline: breast-cancer data, split, scale, train, test accuracy")
