"""Unit 01: tensors -- creation, attributes, arithmetic, indexing.

A tensor is PyTorch's n-dimensional array: every tensor has a shape
(``x.shape`` or ``x.size()``), a dtype (``x.dtype``, e.g. ``torch.float32``)
and a device (``x.device``: ``cpu``, ``cuda`` ...).

Fill in every function below; each body is a ``raise NotImplementedError``
that tells you what to do. Read the docstring first: it gives the shapes and
dtypes the grader expects, what to use and what NOT to use.

Functions that create tensors take a ``device`` argument (a string such as
``"cpu"`` or ``"cuda"``, or a ``torch.device``). Create the tensors there
directly with the ``device=`` keyword of the creation function -- never
hard-code ``"cpu"``: the grader also calls them with other devices.
Functions that take a tensor work on the device that tensor is on.
"""

from __future__ import annotations

import torch

Device = str | torch.device


# --------------------------------------------------------------------------
# T1 / T2: creating tensors, choosing their dtype


def basic_tensors(rows: int, cols: int, device: Device = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Create three tensors with the basic factory functions.

    Return ``(zeros, ones, scratch)``:

    - ``zeros``: shape ``(rows, cols)``, dtype ``torch.float32`` (the default
      floating dtype, also spelled ``torch.float``), every element 0.
      Use ``torch.zeros(rows, cols, device=device)``.
    - ``ones``: shape ``(cols,)`` -- a 1-D vector -- dtype ``torch.int32``
      (also spelled ``torch.int``), every element 1. Ask for the dtype at
      creation: ``torch.ones(..., dtype=torch.int, device=device)``; do not
      create floats and convert afterwards.
    - ``scratch``: shape ``(rows, cols)``, dtype ``torch.float64`` (also
      spelled ``torch.double``), made with ``torch.empty``. ``empty`` only
      reserves memory: its values are whatever was there before (garbage), so
      only its shape, dtype and device are graded. Use it when you are about
      to overwrite every element anyway.

    Sizes can be given as separate ints (``torch.zeros(2, 3)``) or as one
    tuple (``torch.zeros((2, 3))``). All three must be on ``device``.
    """
    raise NotImplementedError("TODO: create tensors with zeros, ones and empty")


def random_images(n: int, c: int, h: int, w: int, device: Device = "cpu") -> torch.Tensor:
    """Create a batch of random "images" in the (N, C, H, W) layout.

    Image batches in PyTorch are 4-D: N images, C channels (3 for RGB),
    H rows of pixels, W columns of pixels -- in exactly that order.

    Return a tensor of shape ``(n, c, h, w)``, dtype ``torch.float32``, on
    ``device``, filled by ``torch.rand``: values uniformly distributed in
    [0, 1), like pixel intensities.

    Keep the axis order N, C, H, W (not N, H, W, C), and use ``rand``
    (uniform), not ``randn`` (normal: it gives negative values).
    """
    raise NotImplementedError("TODO: a random image batch (N, C, H, W) with rand")


def add_noise(x: torch.Tensor, std: float) -> torch.Tensor:
    """Return ``x`` plus Gaussian noise of standard deviation ``std``.

    ``x`` is a float32 tensor of any shape on any device; ``std`` is a
    positive Python float. Draw standard normal noise (mean 0, standard
    deviation 1) of the same shape, dtype and device as ``x`` with
    ``torch.randn_like(x)`` (or ``torch.randn(x.shape, device=x.device)``),
    scale it by ``std`` and add it element-wise: ``x + std * noise``.

    Do not use ``torch.rand`` (uniform on [0, 1), not centred on 0), do not
    create the noise on a hard-coded device, and do not change ``x`` in place
    (no ``x.add_``, no ``x +=``): return a new tensor.
    """
    raise NotImplementedError("TODO: add Gaussian noise with randn")


def from_python(scores: list[int], count: int, device: Device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Turn Python data into tensors with ``torch.tensor``.

    Return ``(vector, scalar)``, both on ``device``:

    - ``vector``: ``scores`` is a list of N Python ints, e.g. ``[7, 3, 9]``.
      Return a 1-D tensor of shape ``(N,)`` and dtype ``torch.float32``
      holding the same numbers (``tensor([7., 3., 9.])``).
      ``torch.tensor(data, dtype=..., device=...)`` copies Python data into a
      new tensor and infers the dtype from the data unless you say
      otherwise. Careful: Python ints give an int64 tensor
      (``torch.tensor([1, 2]).dtype`` is ``torch.int64``), so ask for
      ``dtype=torch.float32`` explicitly.
    - ``scalar``: a 0-D tensor -- shape ``()``, ``x.dim() == 0`` -- of dtype
      ``torch.int64`` holding the number ``count``: ``torch.tensor(5)`` is
      ``tensor(5)``.

    Do NOT use ``torch.Tensor`` (capital T). That is the tensor *class*;
    called like a function it is a legacy constructor that always makes
    float32 tensors and reads ints as sizes: ``torch.Tensor(5)`` is an
    uninitialised float32 tensor of shape ``(5,)``, not the number 5, and
    ``torch.Tensor(2, 3)`` is an uninitialised (2, 3) matrix. Always create
    tensors from data with lower-case ``torch.tensor``.
    """
    raise NotImplementedError("TODO: tensors from Python data with torch.tensor")


# --------------------------------------------------------------------------
# T2 / T3: reading attributes, converting dtypes


def describe(x: torch.Tensor) -> tuple[tuple[int, ...], int, torch.dtype]:
    """Report a tensor's shape, number of dimensions and dtype.

    Return ``(shape, ndim, dtype)``:

    - ``shape``: the sizes of the dimensions, as a tuple of ints:
      ``tuple(x.shape)`` (``x.size()`` is the same ``torch.Size``).
    - ``ndim``: the number of dimensions as a Python int, ``x.dim()``
      (or ``x.ndim``): 0 for a scalar (shape ``()``), 1 for a vector
      (``(N,)``), 2 for a matrix (``(M, N)``), 4 for a batch of images
      (``(N, C, H, W)``).
    - ``dtype``: ``x.dtype``, e.g. ``torch.float32`` (a ``torch.dtype``
      object, not a string).

    Do not loop over the elements: everything here is an attribute.
    """
    raise NotImplementedError("TODO: read shape, number of dimensions and dtype")


def convert(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Convert a float32 tensor to other dtypes with ``.to()``.

    ``x`` is a float32 tensor of any shape. Return ``(as_int, as_double)``,
    both with the shape of ``x``:

    - ``as_int``: ``x.to(torch.int)`` -- dtype ``torch.int32``. Converting to
      an integer dtype drops the fraction, rounding toward zero
      (2.7 -> 2, -2.7 -> -2). Note ``torch.int`` is int32; ``torch.long`` is
      int64.
    - ``as_double``: ``x.to(torch.double)`` -- dtype ``torch.float64``.

    ``.to()`` returns a new tensor; ``x`` itself keeps its dtype. Do not
    rebuild the tensor from Python values (``torch.tensor(x.tolist())``).
    """
    raise NotImplementedError("TODO: convert dtypes with .to()")


# --------------------------------------------------------------------------
# T4: arithmetic, in-place operations


def arithmetic(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Element-wise sum, difference, product and quotient.

    ``a`` and ``b`` have the same shape ``(M, N)`` and the same dtype (float
    or integer; ``b`` has no zeros). Return ``(a + b, a - b, a * b, a / b)``,
    each of shape ``(M, N)``, computed element by element. The operators
    ``+ - * /`` are the same as ``torch.add``, ``torch.sub``, ``torch.mul``,
    ``torch.div``.

    ``*`` is the element-wise product, NOT matrix multiplication (that is
    ``@``). ``/`` is true division: for integer inputs it returns a float32
    tensor (``torch.tensor([7]) / torch.tensor([2])`` is ``tensor([3.5])``);
    do not use ``//`` (floor division, which stays integer).
    No Python loops.
    """
    raise NotImplementedError("TODO: element-wise + - * /")


def add_inplace(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Add ``y`` to ``x`` in place and return ``x``.

    ``x`` and ``y`` are float32 tensors of the same shape. Operations whose
    name ends in an underscore modify the tensor they are called on instead
    of making a new one: ``x.add_(y)`` changes the memory of ``x`` and
    returns ``x`` itself.

    After the call, the caller's ``x`` must hold ``x + y``, and the tensor
    you return must be ``x`` (the same memory), not a new tensor.
    ``x = x + y`` inside the function only rebinds your local name to a new
    tensor: the caller's ``x`` does not change. Use ``x.add_(y)``.
    """
    raise NotImplementedError("TODO: in-place addition with add_")


# --------------------------------------------------------------------------
# T5: indexing and slicing


def pick(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int | float]:
    """Index a 2-D tensor: a row, a column and one element.

    ``x`` has shape ``(M, N)``. Return ``(row, col, corner)``:

    - ``row``: the first row, ``x[0]``, shape ``(N,)``.
    - ``col``: the first column, ``x[:, 0]``, shape ``(M,)`` (``:`` means
      "every index along this dimension").
    - ``corner``: the top-left element ``x[0, 0]`` as a plain Python number.
      ``x[0, 0]`` is still a tensor (0-D); ``.item()`` turns a one-element
      tensor into a Python number: an ``int`` for integer tensors, a
      ``float`` for floating-point ones. Use ``.item()``, not ``float(...)``,
      so an integer tensor gives an ``int``.
    """
    raise NotImplementedError("TODO: index a row, a column and one element")


def slice_views(x: torch.Tensor, j: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Slice a 2-D tensor, keeping dimensions and sharing memory.

    ``x`` has shape ``(M, N)`` and ``0 <= j < N``. Return ``(column, evens)``:

    - ``column``: column ``j`` as an ``(M, 1)`` matrix, ``x[:, j:j+1]``.
      An integer index removes its dimension (``x[:, j]`` has shape
      ``(M,)``); a slice keeps it, even a slice of length 1.
    - ``evens``: rows 0, 2, 4, ... of ``x``, shape ``(ceil(M / 2), N)``, as a
      VIEW of ``x``: use the slice ``x[::2]``. Basic slicing returns a view
      that shares memory with ``x`` (writing into it changes ``x``).
      Indexing with a list or tensor of indices (``x[[0, 2]]``,
      ``x[torch.arange(0, M, 2)]``) is "advanced indexing": it gives the
      same values but always in a new copy -- not what is asked here.
      Do not ``.clone()`` either.
    """
    raise NotImplementedError("TODO: slices that keep dimensions and share memory")
