"""Unit 11: data -- Dataset, DataLoader, transforms.

Real training data rarely arrives as one ready-made tensor. PyTorch splits
the work of feeding a model into three small pieces:

- a **Dataset** knows how many samples there are (``__len__``) and how to
  fetch sample number ``i`` (``__getitem__``);
- a **DataLoader** wraps a Dataset and hands out *batches*: it picks the
  indices (in order, or shuffled once per epoch), fetches the samples and
  stacks them into batch tensors;
- **transforms** are small callable objects that the Dataset applies to each
  sample as it is fetched (convert to tensors, scale, ...).

Vocabulary: one **epoch** is one full pass over the data set; the **batch
size** B is the number of samples per batch; with N samples an epoch has
``ceil(N / B)`` **iterations** (batches) -- the last batch is shorter when B
does not divide N (100 samples, batch 20 -> 5 iterations; 103 samples,
batch 20 -> 6 iterations, the last with 3 samples).

The data is the classic Wine data set in ``wine.csv`` next to this file
(see DATA_LICENSE.md): a header row, then 178 rows of 14 comma-separated
numbers. Column 0 is the class label (0, 1 or 2: which of three cultivars the
wine came from), columns 1 to 13 are chemical measurements (alcohol, malic
acid, ..., proline)::

    class,alcohol,malic_acid,ash,...,proline
    0,14.23,1.71,2.43,...,1065
    ...

The grader calls your code with its own CSV files in the same format (other
rows, in another order), so never hard-code the number of rows.

Fill in every function and class below; each body is a ``raise
NotImplementedError`` that tells you what to do. Read the docstrings first:
they give the shapes and dtypes the grader expects, what to use and what NOT
to use. The grader's data loaders use ``num_workers=0`` (the default): keep it
that way.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

# A sample is a pair (inputs, label).
Sample = tuple[Any, Any]


# --------------------------------------------------------------------------
# D1: a custom Dataset over a CSV file


def read_wine_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a wine CSV file into NumPy arrays.

    ``path`` is the file's name, e.g. ``"wine.csv"``. The file has one header
    row, then N rows of 14 comma-separated numbers: the class label, then 13
    features.

    Return ``(features, labels)``:

    - ``features``: a ``np.ndarray`` of shape ``(N, 13)`` and dtype
      ``np.float32`` -- columns 1 to 13;
    - ``labels``: a ``np.ndarray`` of shape ``(N,)`` (one dimension, not
      ``(N, 1)``) and dtype ``np.int64`` -- column 0 as whole numbers, the
      form ``nn.CrossEntropyLoss`` wants class indices in.

    Use ``np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)``:
    ``skiprows=1`` skips the header (without it loadtxt fails on the word
    "class"). Then slice the columns and convert the labels with
    ``.astype(np.int64)``. Do not use pandas (the grader may not have it),
    do not hard-code N.
    """
    raise NotImplementedError("TODO: read the wine CSV into NumPy arrays")


class WineDataset(Dataset):
    """The wine data as a ``torch.utils.data.Dataset``.

    A map-style Dataset needs exactly three methods: ``__init__`` loads (or
    locates) the data, ``__len__`` says how many samples there are and
    ``__getitem__`` returns one sample by index. The DataLoader calls
    ``len(dataset)`` and ``dataset[i]`` -- nothing else.

    After ``ds = WineDataset("wine.csv")``:

    - ``ds.x``: the features, ``np.ndarray`` ``(N, 13)`` ``float32``;
    - ``ds.y``: the labels, ``np.ndarray`` ``(N,)`` ``int64``;
    - ``ds.n_samples``: N, a Python ``int``;
    - ``ds.transform``: the ``transform`` argument (``None`` by default);
    - ``len(ds)`` is N;
    - ``ds[i]`` is the pair ``(ds.x[i], ds.y[i])`` -- a ``(13,)`` float32
      array and an int64 label -- passed through ``ds.transform`` first when
      it is not ``None``: ``ds[i] == transform((ds.x[i], ds.y[i]))``.

    Load the file once, in ``__init__``, with your ``read_wine_csv`` -- not
    again in every ``__getitem__``. Store the arrays as they are: the
    transform runs per sample in ``__getitem__``, never on the stored data.
    """

    def __init__(self, path: str, transform: Callable[[Sample], Any] | None = None) -> None:
        """Load ``path`` with ``read_wine_csv``; set ``self.x``, ``self.y``, ``self.n_samples``, ``self.transform``."""
        raise NotImplementedError("TODO: a custom Dataset: __init__, __len__, __getitem__ (__init__)")

    def __len__(self) -> int:
        """The number of samples N (a Python ``int``)."""
        raise NotImplementedError("TODO: a custom Dataset: __init__, __len__, __getitem__ (__len__)")

    def __getitem__(self, index: int) -> Any:
        """Sample ``index``: ``(self.x[index], self.y[index])``, through ``self.transform`` if it is set."""
        raise NotImplementedError("TODO: a custom Dataset: __init__, __len__, __getitem__ (__getitem__)")


# --------------------------------------------------------------------------
# D2: DataLoader: batches, shuffling, iterations per epoch


def iterations_per_epoch(n_samples: int, batch_size: int, drop_last: bool = False) -> int:
    """How many batches a DataLoader yields in one epoch, as a Python ``int``.

    ``n_samples`` = N samples, ``batch_size`` = B. With ``drop_last=False``
    (the DataLoader's default) the last, shorter batch is kept: ``ceil(N / B)``
    batches (100 and 20 -> 5; 103 and 20 -> 6). With ``drop_last=True`` an
    incomplete last batch is thrown away: ``floor(N / B)`` batches (103 and 20
    -> 5).

    Use ``math.ceil`` and ``//``; return an ``int``, not a float. This is
    exactly ``len(loader)`` for ``DataLoader(dataset, batch_size, drop_last=...)``
    -- but compute it, do not build a loader.
    """
    raise NotImplementedError("TODO: iterations per epoch: ceil(N / B)")


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool) -> DataLoader:
    """Wrap ``dataset`` in a ``torch.utils.data.DataLoader``.

    Batches of ``batch_size`` samples; with ``shuffle=True`` the order of the
    samples is reshuffled at the start of every epoch, and every sample still
    appears exactly once per epoch (a random *permutation*, not random draws).
    Every sample must be used: keep the last, shorter batch (the default
    ``drop_last=False``).

    Use ``DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)``. Do not
    pass ``drop_last=True``, do not build your own sampler, keep
    ``num_workers`` at its default 0.
    """
    raise NotImplementedError("TODO: a DataLoader with batching and shuffling")


def class_counts(loader: DataLoader, num_classes: int) -> torch.Tensor:
    """Count the labels of one epoch of ``loader``.

    Every batch of ``loader`` is a pair ``(inputs, labels)``: ``labels`` is an
    int64 tensor of shape ``(b,)`` with values in ``0 .. num_classes - 1``,
    where b is the batch size -- smaller for the last batch.

    Return an int64 tensor of shape ``(num_classes,)`` on the CPU:
    ``counts[c]`` = how many samples of the epoch have label c (so the counts
    add up to ``len(loader.dataset)``).

    Iterate the loader directly: ``for inputs, labels in loader:``, and add up
    ``torch.bincount(labels, minlength=num_classes)`` per batch. Do not count
    batches yourself with ``range(len(dataset) // batch_size)``: that misses
    the last, shorter batch.
    """
    raise NotImplementedError("TODO: one epoch over a DataLoader: count the labels")


# --------------------------------------------------------------------------
# D3: transforms


class ToTensor:
    """A transform: convert a NumPy sample to tensors.

    ``ToTensor()((inputs, label))`` takes ``inputs`` (``np.ndarray``, any
    shape, float32) and ``label`` (a NumPy int64 scalar, e.g. ``ds.y[i]``) and
    returns the tuple ``(torch.Tensor, torch.Tensor)``: the inputs as a
    float32 tensor of the same shape, the label as an int64 tensor of shape
    ``()`` (a 0-d tensor: the DataLoader stacks B of them into a ``(B,)``
    batch of labels).

    Use ``torch.from_numpy(inputs)`` (no copy: the tensor shares the array's
    memory) and ``torch.as_tensor(label)``. Do not wrap the label in a list
    (that gives shape ``(1,)``), do not change the dtypes.
    """

    def __call__(self, sample: Sample) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(torch.from_numpy(inputs), torch.as_tensor(label))``."""
        raise NotImplementedError("TODO: a transform class: NumPy sample to tensors (__call__)")


class MulTransform:
    """A transform: multiply the inputs of a sample by ``factor``.

    ``MulTransform(2.0)((inputs, label))`` returns the tuple
    ``(inputs * 2.0, label)``: a new inputs tensor (same shape, dtype and
    device), the label passed through unchanged.

    The result must be a NEW tensor: write ``inputs * self.factor``, never
    ``inputs *= self.factor`` or ``inputs.mul_(...)``. The inputs you receive
    may share memory with the Dataset's stored data (``torch.from_numpy`` in
    ``ToTensor`` does not copy), so an in-place multiply would scale the
    stored sample itself, again in every epoch.
    """

    def __init__(self, factor: float) -> None:
        """Remember ``factor`` as ``self.factor``."""
        raise NotImplementedError("TODO: a transform class: multiply the inputs, out of place (__init__)")

    def __call__(self, sample: Sample) -> Sample:
        """Return ``(inputs * self.factor, label)`` without changing ``inputs``."""
        raise NotImplementedError("TODO: a transform class: multiply the inputs, out of place (__call__)")


class Compose:
    """A transform made of other transforms, applied one after the other.

    ``Compose([t1, t2, t3])(sample)`` is ``t3(t2(t1(sample)))``: the FIRST
    transform of the list runs first, its result goes into the second, and so
    on (``Compose([ToTensor(), MulTransform(2)])`` converts, then
    multiplies). ``Compose([])`` returns the sample unchanged.

    The transforms can be any callables (your transform objects, or torch
    modules such as ``nn.Tanh()``); Compose itself knows nothing about
    samples. Keep the transforms in ``self.transforms`` (a list) and loop over
    them in order -- do not reverse the list.
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        """Keep the transforms, in order, as ``self.transforms``."""
        raise NotImplementedError("TODO: compose transforms in order (__init__)")

    def __call__(self, sample: Any) -> Any:
        """Apply every transform in order, each to the result of the one before."""
        raise NotImplementedError("TODO: compose transforms in order (__call__)")


# --------------------------------------------------------------------------
# D1 + D2 + D3: the whole input pipeline


def make_wine_loader(path: str, batch_size: int, factor: float) -> DataLoader:
    """A shuffled DataLoader of scaled wine samples, ready for training.

    Build ``WineDataset(path, transform=Compose([ToTensor(), MulTransform(factor)]))``
    and wrap it with your ``make_loader(dataset, batch_size, shuffle=True)``.

    Iterating it yields pairs ``(inputs, labels)``: inputs float32 ``(b, 13)``
    (the features times ``factor``), labels int64 ``(b,)``, with b =
    ``batch_size`` except for a shorter last batch. Every epoch visits every
    sample exactly once, in a new order, and every epoch sees the same values
    (the stored data never changes).

    Use your own classes and functions from above; do not read the CSV here.
    """
    raise NotImplementedError("TODO: the whole pipeline: Dataset + transforms + DataLoader")
