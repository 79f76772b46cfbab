"""Unit 03: the NumPy bridge and devices.

PyTorch tensors and NumPy arrays convert into each other cheaply. On the CPU
the conversion does not copy anything: ``t.numpy()`` and
``torch.from_numpy(a)`` give a new *view* of the same memory, so writing
through one changes the other. ``torch.tensor(a)`` (and ``np.array(t)``)
make a *copy* instead.

A tensor also lives on a device: ``cpu``, ``cuda`` (an NVIDIA GPU), or
another accelerator. The grader also uses ``fakegpu``, a second device that
it imitates on the CPU, to test device handling on machines without a GPU:
it behaves as a GPU does for everything below. Operations
run on the device their tensors are on, and every tensor of one operation
must be on the same device. NumPy only knows the CPU's memory, so a tensor
must come back to the CPU (``.cpu()`` or ``.to("cpu")``) before
``.numpy()``, and it must not be tracked by autograd (``.detach()``).

Fill in every function below; each body is a ``raise NotImplementedError``
that tells you what to do. Read the docstring first: it gives the shapes and
dtypes the grader expects, what to use and what NOT to use.

Functions that take a ``device`` argument (a string such as ``"cpu"``,
``"cuda"`` or ``"fakegpu"``, or a ``torch.device``) must put their tensors on
exactly that device. Never hard-code ``"cpu"`` or ``"cuda"``: the grader
calls them with other devices, on machines with and without a GPU.
"""

from __future__ import annotations

import numpy as np
import torch

Device = str | torch.device


# --------------------------------------------------------------------------
# N1: the NumPy bridge shares memory on the CPU; torch.tensor copies


def tensor_to_numpy(t: torch.Tensor) -> np.ndarray:
    """Return a NumPy view of the CPU tensor ``t``, sharing its memory.

    ``t`` is a CPU tensor of any shape and dtype (float32, int64, ...) that
    does not require grad. Return ``t.numpy()``: a NumPy array with the same
    shape, the matching dtype (float32 -> ``np.float32``, int64 ->
    ``np.int64``) and the same values -- and no copy: the array and the
    tensor use the same memory, so ``a[0, 0] = 5`` also changes ``t[0, 0]``
    (and ``t.add_(1)`` changes the array).

    Do NOT use ``np.array(t)``, ``t.clone().numpy()`` or
    ``np.array(t.tolist())``: they give the right values in a *copy*, and the
    grader checks that the array shares the tensor's memory.
    """
    raise NotImplementedError("TODO: a NumPy view of a tensor with .numpy()")


def scale_with_numpy(t: torch.Tensor, factor: float) -> None:
    """Multiply the CPU tensor ``t`` by ``factor`` in place, using NumPy only.

    ``t`` is a float32 CPU tensor of any shape that does not require grad;
    ``factor`` is a Python float. Get a NumPy view with ``a = t.numpy()`` and
    scale the array in place: ``a *= factor`` (or
    ``np.multiply(a, factor, out=a)``). Because ``a`` shares ``t``'s memory,
    the caller's ``t`` is scaled too. Return nothing.

    Use NumPy, not tensor methods (no ``t.mul_``, no ``t *= ...``): the point
    is to see one memory change through two names. ``a = a * factor`` does
    NOT work: it builds a new array and leaves ``t`` as it was. Neither does
    scaling a copy (``np.array(t)``).
    """
    raise NotImplementedError("TODO: change a tensor through its NumPy view")


def numpy_to_tensors(a: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Make a sharing tensor and a copied tensor from ``a``, then change ``a``.

    ``a`` is a float64 NumPy array of any shape. Return ``(shared, copied)``:

    - ``shared``: a tensor on the CPU that uses ``a``'s memory (the one
      conversion from NumPy that shares instead of copying). It keeps ``a``'s dtype (float64 -> ``torch.float64``; do not
      convert it, that would copy).
    - ``copied``: a new tensor holding a copy of ``a``'s values, also
      float64 (the constructor that always copies its data).

    Then, after making both, add 1 to every element of ``a`` in place with
    ``a += 1``. ``shared`` sees the change (same memory), ``copied`` does
    not: it still holds the old values. The caller's ``a`` changes as well.

    Do not write ``a = a + 1``: that makes a new array, and neither ``a`` nor
    ``shared`` would change.
    """
    raise NotImplementedError("TODO: torch.from_numpy shares, torch.tensor copies")


# --------------------------------------------------------------------------
# N2: devices -- choosing one, creating and moving tensors, coming back to NumPy


def pick_device(prefer_gpu: bool) -> torch.device:
    """Choose the device to compute on.

    Return ``torch.device("cuda")`` when ``prefer_gpu`` is True and a GPU is
    usable, which ``torch.cuda.is_available()`` tells you; otherwise return
    ``torch.device("cpu")``. Return a ``torch.device`` object, not a string.

    Call ``torch.cuda.is_available()`` (spelled exactly so) inside this
    function each time it runs: the grader imitates machines with and
    without a GPU by replacing ``torch.cuda.is_available`` while it calls
    you. Do not assume a GPU exists (``torch.device("cuda")`` when
    ``prefer_gpu`` is True without asking) and do not always return the CPU.
    """
    raise NotImplementedError("TODO: choose a device with torch.cuda.is_available()")


def make_on_device(rows: int, cols: int, device: Device = "cpu") -> torch.Tensor:
    """Create a counting matrix directly on ``device``.

    Return a float32 tensor of shape ``(rows, cols)`` holding
    ``0, 1, 2, ..., rows * cols - 1`` row by row, created on ``device``:
    ``torch.arange(rows * cols, dtype=torch.float32, device=device)``
    reshaped to ``(rows, cols)``.

    Pass ``device=device`` to the creation function, so the tensor is born
    there (creating it on the CPU and moving it costs a copy). Never write
    ``device="cpu"`` or ``device="cuda"``: use the ``device`` you are given.
    """
    raise NotImplementedError("TODO: create a tensor directly on a device")


def move_and_compute(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, device: Device = "cpu") -> torch.Tensor:
    """Move the inputs to ``device`` and compute ``x @ w + b`` there.

    ``x`` is float32 ``(N, K)``, ``w`` is float32 ``(K, M)`` and ``b`` is
    float32 ``(M,)``, all on the CPU. Move each of them with
    ``.to(device)`` -- every tensor of one operation must be on the same
    device, or PyTorch raises "Expected all tensors to be on the same
    device" -- then compute the affine map ``x @ w + b`` on that device.
    Return the float32 ``(N, M)`` result, left on ``device`` (do not move it
    back).

    Use the ``device`` argument, never a hard-coded ``"cpu"``, ``"cuda"``,
    ``.cuda()`` or ``.cpu()``.
    """
    raise NotImplementedError("TODO: move tensors with .to(device) and compute there")


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """Turn any tensor into a NumPy array: ``t.detach().cpu().numpy()``.

    ``t`` may be on any device and may require grad. ``.numpy()`` alone
    fails in both cases:

    - on a tensor that requires grad it raises "Can't call numpy() on Tensor
      that requires grad": NumPy cannot track gradients, so first take
      ``t.detach()`` (the same data, cut from the autograd graph);
    - on a tensor that is not on the CPU (``cuda``, ``fakegpu``) it raises
      "can't convert cuda:0 device type tensor to numpy": NumPy only reads
      CPU memory, so first bring the data back with ``.cpu()`` (or
      ``.to("cpu")``). On the CPU, ``.cpu()`` does nothing and costs nothing.

    Return an array with the shape, dtype and values of ``t``. Do not test
    the device yourself: on the CPU, ``.cpu()`` costs nothing.
    """
    raise NotImplementedError("TODO: any tensor to NumPy: detach, cpu, numpy")


def round_trip(a: np.ndarray, device: Device = "cpu") -> np.ndarray:
    """Standardise the columns of ``a`` on ``device`` and bring the result back.

    ``a`` is a float32 NumPy array of shape ``(N, M)`` (N samples, M
    features). Do the whole trip:

    1. into PyTorch and onto the device:
       a tensor ``x`` sharing ``a``'s memory, moved to ``device``;
    2. compute there, with torch operations on ``x``: subtract each column's
       mean and divide by each column's standard deviation (the statistics
       over the samples, dim 0), so that each column gets mean 0
       and standard deviation 1 (``x.std`` is torch's unbiased standard
       deviation, dividing by N - 1; NumPy's ``a.std()`` divides by N);
    3. back to the CPU, then to NumPy.

    Return the float32 ``(N, M)`` array. Step 3 must move the data to the
    CPU before ``.numpy()``; step 1 must use ``device``, not a hard-coded
    device: the grader checks that the computation of step 2 ran on the
    device asked for, not on the CPU.
    """
    raise NotImplementedError("TODO: numPy to the device and back")
