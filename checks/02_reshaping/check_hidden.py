"""Hidden checks for unit 02: reshaping and broadcasting.

Sizes are drawn from ``gen`` and distinct per dimension (never square), so a
swapped axis or a merged batch dimension changes the shape. Expected values
come from ``reference`` or from torch on the trusted side. Views made here
(``x.t()``, ``permute``) reach the submission with their strides, so ``view``
fails on them there as it would locally.
"""

import torch

from autograder.checks import distinct_sizes, expect_tuple, as_tensor, check, expect_tensor, fail, shares_memory, trap
from autograder.remote import StudentError


# ------------------------------------------------------------------ helpers




def shape_of(out, what: str) -> tuple[int, ...]:
    return tuple(as_tensor(out, what).shape)


# ------------------------------------------------------------------ R1 flatten_batch


@check("flatten_batch", points=1)
def test_flatten_batch_values(student, reference, device, gen):
    n, c, h, w = distinct_sizes(gen, 4, 2, 7)
    x = torch.randn(n, c, h, w, generator=gen).to(device)
    out = student.flatten_batch(x)
    if shape_of(out, "the flattened batch") == (n * c * h * w,):
        fail(f"the result has shape ({n * c * h * w},): the batch dimension was flattened too; keep it with x.view(x.size(0), -1)")
    expect_tensor(out, reference.flatten_batch(x), what="the flattened batch")


@check("flatten_batch", points=1)
def test_flatten_batch_single(student, reference, device, gen):
    c, h, w = distinct_sizes(gen, 3, 2, 7)
    x = torch.randn(1, c, h, w, generator=gen).to(device)
    out = student.flatten_batch(x)
    if shape_of(out, "the flattened batch of one") in ((c * h * w,), (c, h * w)):
        fail(f"a batch of one image (1, {c}, {h}, {w}) gave shape {shape_of(out, '')}, expected (1, {c * h * w}): keep the batch dimension")
    expect_tensor(out, reference.flatten_batch(x), what="the flattened batch of one")


@check("flatten_batch", points=1)
def test_flatten_batch_is_view(student, sandbox, reference, gen):
    n, c, h, w = distinct_sizes(gen, 4, 2, 7)
    x = torch.randn(n, c, h, w, generator=gen)
    out = expect_tensor(student.flatten_batch(x), reference.flatten_batch(x), what="the flattened batch")
    if not shares_memory(sandbox, out, x, view=lambda a: a.view(a.size(0), -1)):
        fail("the flattened batch is a copy that does not share x's memory: x.view(x.size(0), -1) reads the same memory, no clone or copy needed")


# ------------------------------------------------------------------ R1 add_dims


def _add_dims(student, gen, device):
    c, h, w = distinct_sizes(gen, 3, 2, 7)
    n = int(torch.randint(3, 9, (1,), generator=gen))
    image = torch.randn(c, h, w, generator=gen).to(device)
    values = torch.randn(n, generator=gen).to(device)
    batch, column = expect_tuple(student.add_dims(image, values), 2, "add_dims")
    return image, values, batch, column


@check("add_dims", points=1)
def test_add_dims_batch(student, reference, device, gen):
    image, values, batch, _ = _add_dims(student, gen, device)
    c, h, w = image.shape
    got = shape_of(batch, "batch")
    if got != (1, c, h, w) and sorted(got) == sorted((1, c, h, w)):
        fail(f"batch has shape {got}, expected (1, {c}, {h}, {w}): the new size-1 dimension goes first, unsqueeze(0)")
    expect_tensor(batch, reference.add_dims(image, values)[0], what="batch")


@check("add_dims", points=1)
def test_add_dims_column(student, reference, device, gen):
    image, values, _, column = _add_dims(student, gen, device)
    n = values.shape[0]
    if shape_of(column, "column") == (1, n):
        fail(f"column has shape (1, {n}): that is a row; unsqueeze(1) makes the column ({n}, 1)")
    expect_tensor(column, reference.add_dims(image, values)[1], what="column")


# ------------------------------------------------------------------ R1 drop_channel


@check("drop_channel", points=1)
def test_drop_channel(student, reference, device, gen):
    n, h, w = distinct_sizes(gen, 3, 2, 8)
    x = torch.randn(n, 1, h, w, generator=gen).to(device)
    expect_tensor(student.drop_channel(x), reference.drop_channel(x), what="the images without a channel dimension")


@check("drop_channel", points=1, traps=["squeeze_batch"])
def test_drop_channel_batch_of_one(student, reference, device, gen):
    h, w = distinct_sizes(gen, 2, 3, 9)
    x = torch.randn(1, 1, h, w, generator=gen).to(device)
    out = student.drop_channel(x)
    if shape_of(out, "the image without a channel dimension") == (h, w):
        trap("squeeze_batch", f"a batch of one image (1, 1, {h}, {w}) came back as ({h}, {w}): the batch dimension was squeezed away too; use x.squeeze(1)")
    expect_tensor(out, reference.drop_channel(x), what="the batch of one image without a channel dimension")


# ------------------------------------------------------------------ R2 flatten_any


@check("flatten_any", points=1)
def test_flatten_any_contiguous(student, reference, device, gen):
    a, b, c = distinct_sizes(gen, 3, 2, 7)
    x = torch.randn(a, b, c, generator=gen).to(device)
    expect_tensor(student.flatten_any(x), reference.flatten_any(x), what=f"flatten_any of a contiguous ({a}, {b}, {c}) tensor")


def _flatten_view(student, reference, view: torch.Tensor, base: torch.Tensor, made: str):
    """``flatten_any`` on a non-contiguous ``view`` of ``base``, built here: it arrives strided."""
    expected = reference.flatten_any(view)
    try:
        out = student.flatten_any(view)
    except StudentError as exc:
        if exc.type == "RuntimeError" and "view" in exc.detail and "stride" in exc.detail:
            trap("view_after_transpose", f"flatten_any({made}) raised RuntimeError: {exc.detail.splitlines()[0]} "
                 "The tensor is not contiguous; view cannot reorder memory: use reshape, or .contiguous() first")
        raise
    out = as_tensor(out, f"flatten_any({made})")
    if out.shape == expected.shape and torch.equal(out, base.reshape(-1)):
        fail(f"flatten_any({made}) gave the elements in memory order, not in the order of the transposed tensor")
    expect_tensor(out, expected, what=f"flatten_any({made})")


@check("flatten_any", points=1, traps=["view_after_transpose"])
def test_flatten_any_transposed(student, reference, device, gen):
    m, n = distinct_sizes(gen, 2, 3, 8)
    base = torch.randn(m, n, generator=gen).to(device)
    _flatten_view(student, reference, base.t(), base, f"m.t() for m of shape ({m}, {n})")


@check("flatten_any", points=1, traps=["view_after_transpose"])
def test_flatten_any_permuted(student, reference, device, gen):
    a, b, c = distinct_sizes(gen, 3, 2, 7)
    base = torch.randn(a, b, c, generator=gen).to(device)
    _flatten_view(student, reference, base.permute(2, 0, 1), base, f"x.permute(2, 0, 1) for x of shape ({a}, {b}, {c})")


# ------------------------------------------------------------------ R2 to_channels_first


@check("to_channels_first", points=1, traps=["reshape_swaps_axes"])
def test_to_channels_first_values(student, reference, device, gen):
    n, h, w, c = distinct_sizes(gen, 4, 2, 7)
    x = torch.randn(n, h, w, c, generator=gen).to(device)
    out = student.to_channels_first(x)
    got = as_tensor(out, "the channels-first batch")
    if got.shape == (n, c, h, w) and torch.equal(got, x.reshape(n, c, h, w)):
        trap("reshape_swaps_axes", f"the result equals x.reshape({n}, {c}, {h}, {w}): the right shape, but pixels and channels are mixed up; "
             "move the axes with x.permute(0, 3, 1, 2)")
    expect_tensor(got, reference.to_channels_first(x), what="the channels-first batch")


@check("to_channels_first", points=1)
def test_to_channels_first_contiguous(student, device, gen):
    n, h, w, c = distinct_sizes(gen, 4, 2, 7)
    x = torch.randn(n, h, w, c, generator=gen).to(device)
    out = as_tensor(student.to_channels_first(x), "the channels-first batch")
    if tuple(out.shape) != (n, c, h, w):
        fail(f"the channels-first batch has shape {tuple(out.shape)}, expected ({n}, {c}, {h}, {w})")
    if not out.is_contiguous():  # the layout as it came over the wire, not a reported fact
        fail("the channels-first batch is not contiguous: permute only changes the strides; call .contiguous() on the result")


# ------------------------------------------------------------------ R3 regression_errors


def _regression(student, gen, device):
    n = int(torch.randint(4, 10, (1,), generator=gen))
    pred = torch.randn(n, 1, generator=gen).to(device)
    target = torch.randn(n, generator=gen).to(device)
    residuals, mse = expect_tuple(student.regression_errors(pred, target), 2, "regression_errors")
    return n, pred, target, residuals, mse


@check("regression_errors", points=1, traps=["broadcast_column"])
def test_regression_residuals(student, reference, device, gen):
    n, pred, target, residuals, _ = _regression(student, gen, device)
    if shape_of(residuals, "residuals") == (n, n):
        trap("broadcast_column", f"residuals has shape ({n}, {n}): pred ({n}, 1) minus target ({n},) broadcast to every prediction "
             "minus every target; make pred (N,) first with pred.squeeze(1)")
    expect_tensor(residuals, reference.regression_errors(pred, target)[0], what="residuals")


@check("regression_errors", points=1, traps=["broadcast_column"])
def test_regression_mse(student, reference, device, gen):
    n, pred, target, _, mse = _regression(student, gen, device)
    mse = as_tensor(mse, "mse")
    wrong = ((pred - target) ** 2).mean()
    if mse.shape == wrong.shape and torch.allclose(mse.to(wrong.device), wrong, rtol=1e-5, atol=1e-6):
        trap("broadcast_column", f"mse is {mse.item():.4g}, the mean over the ({n}, {n}) matrix that (N, 1) - (N,) broadcasts to; "
             f"the true value is {reference.regression_errors(pred, target)[1].item():.4g}")
    expect_tensor(mse, reference.regression_errors(pred, target)[1], what="mse", rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ R3 pairwise_sq_dists


@check("pairwise_sq_dists", points=2)
def test_pairwise_sq_dists(student, reference, device, gen):
    m, k, d = distinct_sizes(gen, 3, 2, 9)
    a = torch.randn(m, d, generator=gen).to(device)
    b = torch.randn(k, d, generator=gen).to(device)
    out = student.pairwise_sq_dists(a, b)
    if shape_of(out, "the distance matrix") == (k, m):
        fail(f"the distance matrix has shape ({k}, {m}), expected ({m}, {k}): rows of a index the rows of the result")
    expect_tensor(out, reference.pairwise_sq_dists(a, b), what="the distance matrix", rtol=1e-4, atol=1e-4)


@check("pairwise_sq_dists", points=1)
def test_pairwise_sq_dists_one_row(student, reference, device, gen):
    k, d = distinct_sizes(gen, 2, 3, 9)
    a = torch.randn(1, d, generator=gen).to(device)
    b = torch.randn(k, d, generator=gen).to(device)
    out = student.pairwise_sq_dists(a, b)
    if shape_of(out, "the distance matrix") == (k,):
        fail(f"with a of shape (1, {d}) the result has shape ({k},), expected (1, {k}): do not squeeze the result")
    expect_tensor(out, reference.pairwise_sq_dists(a, b), what="the distance matrix", rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------ R3 batched_matmul


@check("batched_matmul", points=2)
def test_batched_matmul(student, reference, device, gen):
    bsz, n, m, p = distinct_sizes(gen, 4, 2, 8)
    a = torch.randn(bsz, n, m, generator=gen).to(device)
    b = torch.randn(bsz, m, p, generator=gen).to(device)
    expect_tensor(student.batched_matmul(a, b), reference.batched_matmul(a, b), what=f"({bsz}, {n}, {m}) @ ({bsz}, {m}, {p})", rtol=1e-5, atol=1e-5)


@check("batched_matmul", points=1)
def test_batched_matmul_shared(student, reference, device, gen):
    bsz, n, m, p = distinct_sizes(gen, 4, 2, 8)
    a = torch.randn(bsz, n, m, generator=gen).to(device)
    b = torch.randn(m, p, generator=gen).to(device)
    try:
        out = student.batched_matmul(a, b)
    except StudentError as exc:
        if "3D" in exc.detail or "3-D" in exc.detail or "batch1" in exc.detail:
            fail(f"batched_matmul(a of shape ({bsz}, {n}, {m}), b of shape ({m}, {p})) raised {exc.type}: {exc.detail} "
                 "torch.bmm needs two 3-D tensors; a @ b broadcasts a 2-D b over the batch")
        raise
    expect_tensor(out, reference.batched_matmul(a, b), what=f"({bsz}, {n}, {m}) @ ({m}, {p})", rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ R3 linear_forward


def _linear_inputs(gen, device, lead: tuple[int, ...], d_in: int, d_out: int):
    x = torch.randn(*lead, d_in, generator=gen).to(device)
    weight = torch.randn(d_out, d_in, generator=gen).to(device)
    bias = torch.randn(d_out, generator=gen).to(device)
    return x, weight, bias


@check("linear_forward", points=1)
def test_linear_forward(student, reference, device, gen):
    n, d_in, d_out = distinct_sizes(gen, 3, 2, 9)
    x, weight, bias = _linear_inputs(gen, device, (n,), d_in, d_out)
    expect_tensor(student.linear_forward(x, weight, bias), reference.linear_forward(x, weight, bias),
                  what=f"the layer output for x of shape ({n}, {d_in})", rtol=1e-5, atol=1e-5)


@check("linear_forward", points=1)
def test_linear_forward_batched(student, reference, device, gen):
    bsz, n, d_in, d_out = distinct_sizes(gen, 4, 2, 9)
    x, weight, bias = _linear_inputs(gen, device, (bsz, n), d_in, d_out)
    expect_tensor(student.linear_forward(x, weight, bias), reference.linear_forward(x, weight, bias),
                  what=f"the layer output for x of shape ({bsz}, {n}, {d_in})", rtol=1e-5, atol=1e-5)
