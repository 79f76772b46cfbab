"""Unit 02: reshaping and broadcasting.

A tensor is a flat block of memory plus a *shape* and *strides* that say how
to walk through it. Reshaping changes the shape the numbers are read in,
without changing the numbers; broadcasting lets tensors of different shapes
meet in one element-wise operation; matrix multiplication (``@``) combines
them along a shared dimension.

Fill in every function below; each body is a ``raise NotImplementedError``
that tells you what to do. Read the docstring first: it gives the shapes the
grader expects, what to use and what NOT to use. No Python loops anywhere in
this unit: every answer is one or two tensor operations.

Cheat sheet (``x`` has shape ``(2, 3, 4)``, 24 elements):

- ``x.view(6, 4)``, ``x.view(2, -1)``: the same 24 numbers read as another
  shape; ``-1`` means "whatever size makes the count come out right" (here
  12). Sizes must multiply to 24. A view SHARES memory with ``x``.
- ``x.reshape(...)``: like ``view``, but works on any tensor: it returns a
  view when it can and a copy when it must.
- ``x.flatten()`` is ``(24,)``; ``x.flatten(start_dim=1)`` is ``(2, 12)``.
- ``x.unsqueeze(d)`` inserts a new dimension of size 1 at position ``d``
  (``x.unsqueeze(0)`` is ``(1, 2, 3, 4)``); ``x[None]`` and ``x[:, None]``
  do the same with indexing.
- ``y.squeeze(d)`` removes dimension ``d`` if it has size 1; ``y.squeeze()``
  with no argument removes EVERY dimension of size 1 (dangerous, see
  ``drop_channel``).
- ``x.permute(2, 0, 1)`` reorders the axes (``(4, 2, 3)``); ``m.t()`` /
  ``m.T`` transposes a matrix. These change only the strides, so the result
  is NOT contiguous: its elements are not in row-major order in memory.
"""

from __future__ import annotations

import torch


# --------------------------------------------------------------------------
# R1: view with -1, flatten, unsqueeze, squeeze


def flatten_batch(x: torch.Tensor) -> torch.Tensor:
    """Flatten every sample of a batch into one feature vector.

    ``x`` is a contiguous float32 batch of images of shape ``(N, C, H, W)``
    (``N`` may be 1). Return a tensor of shape ``(N, C * H * W)``: row ``i``
    holds the pixels of image ``i`` in row-major order, exactly what
    ``x[i].flatten()`` would give. This is what you feed to a fully
    connected layer.

    Use ``x.view(x.size(0), -1)``: keep the batch size, let ``-1`` work out
    the rest. The result must be a VIEW of ``x`` (it shares ``x``'s memory;
    no ``.clone()``, no ``.contiguous()`` copy). ``x.flatten(start_dim=1)``
    is also fine.

    Do NOT use ``x.view(-1)`` or ``x.flatten()`` without ``start_dim``: they
    merge the batch dimension too and give ``(N * C * H * W,)``. Do not
    hard-code the sizes either: read them from ``x``.
    """
    raise NotImplementedError("TODO: flatten each sample of a batch with view(N, -1)")


def add_dims(image: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Add dimensions of size 1 with ``unsqueeze``.

    - ``image`` has shape ``(C, H, W)``: one image. Models expect a batch,
      so return it as a batch of one image, shape ``(1, C, H, W)``:
      ``image.unsqueeze(0)`` (or ``image[None]``).
    - ``values`` has shape ``(N,)``: N numbers. Return them as a column,
      shape ``(N, 1)``: ``values.unsqueeze(1)`` (or ``values[:, None]``),
      the shape a model with one output produces.

    Return ``(batch, column)``. The values must not change: only the shape.
    Use ``unsqueeze`` (it makes a view); do not rebuild the tensor with
    ``torch.tensor`` or copy element by element.
    """
    raise NotImplementedError("TODO: add size-1 dimensions with unsqueeze")


def drop_channel(x: torch.Tensor) -> torch.Tensor:
    """Remove the channel dimension of a batch of grayscale images.

    ``x`` has shape ``(N, 1, H, W)``: N images with one channel each. Return
    shape ``(N, H, W)`` with the same values.

    Remove exactly dimension 1: ``x.squeeze(1)`` (or ``x[:, 0]``).

    Do NOT call ``x.squeeze()`` without an argument: it removes EVERY
    dimension of size 1. That looks right in testing with N = 32, but the
    day a batch holds a single image (N = 1, e.g. the last batch of an
    epoch, or predicting one example) it also removes the batch dimension
    and returns ``(H, W)`` -- and the code after it breaks or, worse,
    silently treats rows as samples.
    """
    raise NotImplementedError("TODO: remove one size-1 dimension with squeeze(dim)")


# --------------------------------------------------------------------------
# R2: view vs reshape on non-contiguous tensors, .contiguous()


def flatten_any(x: torch.Tensor) -> torch.Tensor:
    """Flatten a tensor of any shape and any memory layout into 1-D.

    ``x`` has any shape, e.g. ``(M, N)`` or ``(A, B, C)``, and may be
    NON-CONTIGUOUS: it may be the result of ``m.t()``, ``m.T`` or
    ``m.permute(...)``, which reorder the axes by changing only the strides,
    not the memory. Return a 1-D tensor of shape ``(x.numel(),)`` holding
    the elements in row-major order of ``x`` as you see it (last index
    fastest), i.e. ``[x[0, 0], x[0, 1], ...]`` for a matrix.

    Use ``x.reshape(-1)`` (or ``x.flatten()``, or
    ``x.contiguous().view(-1)``): ``reshape`` returns a view when the
    memory layout allows it and a copy when it does not.

    Do NOT use ``x.view(-1)``: ``view`` never copies, so it only works when
    the new shape can be read straight from the existing memory. On a
    transposed matrix it raises ``RuntimeError: view size is not compatible
    with input tensor's size and stride ... Use .reshape(...) instead.``
    ``x.is_contiguous()`` tells you which case you are in; ``.contiguous()``
    makes a row-major copy when needed.
    """
    raise NotImplementedError("TODO: flatten a transposed or permuted tensor: reshape, not view")


def to_channels_first(x: torch.Tensor) -> torch.Tensor:
    """Reorder a channels-last image batch to channels-first, contiguously.

    ``x`` has shape ``(N, H, W, C)`` (how images come out of NumPy, PIL or
    matplotlib). PyTorch layers want ``(N, C, H, W)``. Return a CONTIGUOUS
    tensor of shape ``(N, C, H, W)`` with ``out[n, c, h, w] == x[n, h, w, c]``.

    Use ``x.permute(0, 3, 1, 2)`` -- axis ``i`` of the result is axis
    ``dims[i]`` of ``x`` -- then ``.contiguous()``: ``permute`` only swaps
    strides and gives a non-contiguous view (``.view`` on it would fail);
    ``.contiguous()`` copies it into row-major order.

    Do NOT use ``x.reshape(N, C, H, W)`` or ``x.view(N, C, H, W)``: they
    give the right shape but the wrong numbers, because they reread the
    memory in its old order instead of moving the axes.
    """
    raise NotImplementedError("TODO: move the channel axis with permute, then .contiguous()")


# --------------------------------------------------------------------------
# R3: broadcasting, torch.matmul / @, batched matmul


def regression_errors(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Residuals and mean squared error of a model with one output.

    ``pred`` has shape ``(N, 1)`` (what ``nn.Linear(d, 1)`` returns for N
    samples); ``target`` has shape ``(N,)`` (one label per sample), both
    float32. Return ``(residuals, mse)``:

    - ``residuals``: shape ``(N,)``, ``residuals[i] = pred[i, 0] - target[i]``.
    - ``mse``: a 0-D tensor, the mean of ``residuals ** 2``.

    Bring the shapes into agreement first: ``pred.squeeze(1)`` (or
    ``pred.view(-1)``) is ``(N,)``.

    Broadcasting rules: shapes are compared from the LAST dimension
    backwards; two sizes fit if they are equal or one of them is 1 (which
    is stretched), and missing leading dimensions count as 1. So ``(N, 1)``
    minus ``(N,)`` is read as ``(N, 1)`` minus ``(1, N)`` and broadcasts to
    ``(N, N)``: every prediction minus every target. No error is raised,
    and the mean of that matrix is a wrong loss. Do NOT subtract them as
    they come.
    """
    raise NotImplementedError("TODO: residuals of (N, 1) predictions against (N,) targets")


def pairwise_sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distance between every row of ``a`` and every row of ``b``.

    ``a`` has shape ``(M, D)``, ``b`` has shape ``(K, D)`` (``M`` may be 1).
    Return shape ``(M, K)`` with
    ``out[i, j] = ((a[i] - b[j]) ** 2).sum()``.

    Use broadcasting: ``a[:, None, :]`` is ``(M, 1, D)`` and
    ``b[None, :, :]`` is ``(1, K, D)``; their difference broadcasts to
    ``(M, K, D)``; square it and sum over the last dimension (``dim=-1``).
    (``unsqueeze(1)`` / ``unsqueeze(0)`` are the same as the ``None``
    indexing.)

    Do NOT loop over rows, do NOT use ``torch.cdist``, and do not
    ``squeeze`` anything: with ``M = 1`` the result must still be
    ``(1, K)``.
    """
    raise NotImplementedError("TODO: all pairwise squared distances by broadcasting")


def batched_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Multiply a batch of matrices by a batch of matrices, or by one matrix.

    ``a`` has shape ``(B, N, M)``: B matrices of shape ``(N, M)``. ``b`` has
    shape ``(B, M, P)`` (one matrix per batch element) or ``(M, P)`` (one
    matrix shared by the whole batch). Return shape ``(B, N, P)`` with
    ``out[i] = a[i] @ b[i]`` (or ``a[i] @ b`` when ``b`` is 2-D).

    Use ``a @ b`` (the same as ``torch.matmul(a, b)``): for 3-D inputs it
    multiplies the last two dimensions and treats the leading ones as a
    batch, and it broadcasts those batch dimensions like element-wise ops,
    so a 2-D ``b`` is used for every batch element.

    Do NOT use ``*`` (element-wise product, not a matrix product), do not
    loop over the batch, and do not use ``torch.mm`` (2-D only) or
    ``torch.bmm`` (3-D only, no broadcasting: fails for a 2-D ``b``).
    """
    raise NotImplementedError("TODO: batched matrix multiplication with @")


def linear_forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The forward pass of a fully connected layer, written by hand.

    ``x`` has shape ``(N, D_in)`` or, for a batch of sequences,
    ``(B, N, D_in)``; ``weight`` has shape ``(D_out, D_in)`` (the layout
    ``nn.Linear`` uses: one row per output); ``bias`` has shape ``(D_out,)``.
    Return ``x @ weight.T + bias``, shape ``(N, D_out)`` or
    ``(B, N, D_out)``.

    ``weight.T`` (or ``weight.t()``) is ``(D_in, D_out)``, so the inner
    sizes of the matrix product match; ``@`` treats any leading dimensions
    of ``x`` as a batch. The bias ``(D_out,)`` broadcasts over every row
    because trailing dimensions line up.

    Do NOT write ``x @ weight`` (the inner sizes do not match) and do not
    use ``torch.nn.functional.linear`` or ``nn.Linear``: the point is to do
    it with ``@`` and broadcasting.
    """
    raise NotImplementedError("TODO: a linear layer by hand: x @ W.T + b")
