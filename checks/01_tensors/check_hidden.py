"""Hidden checks for unit 01_tensors."""

import torch

from autograder.checks import distinct_sizes, expect_tuple, as_tensor, check, describe as describe_value, expect_tensor, expect_value, fail, shares_memory, trap


# ------------------------------------------------------------------ helpers




def on(device) -> torch.device:
    """The device a tensor created with ``device=device`` ends up on (cuda -> cuda:0)."""
    return torch.empty(0, device=device).device


def expect_meta_data(actual, shape: tuple, dtype: torch.dtype, device, what: str) -> torch.Tensor:
    """Shape, dtype and device only (for torch.empty and random tensors)."""
    out = as_tensor(actual, what)
    if tuple(out.shape) != tuple(shape):
        fail(f"{what} has shape {tuple(out.shape)}, expected {tuple(shape)}")
    if out.dtype != dtype:
        fail(f"{what} has dtype {str(out.dtype).removeprefix('torch.')}, expected {str(dtype).removeprefix('torch.')}")
    if out.device != on(device):
        fail(f"{what} is on device {out.device}, expected {on(device)}: create it with device=device")
    return out


# ------------------------------------------------------------------ T1 / T2 creation


@check("basic_tensors", points=2)
def test_basic_tensors(student, device, gen):
    rows, cols = distinct_sizes(gen, 2, 2, 10)
    zeros, ones, scratch = expect_tuple(student.basic_tensors(rows, cols, device=device), 3, "basic_tensors")
    expect_tensor(zeros, torch.zeros(rows, cols, device=device), what="zeros")
    expect_tensor(ones, torch.ones(cols, dtype=torch.int32, device=device), what="ones")
    expect_meta_data(scratch, (rows, cols), torch.float64, device, "scratch (torch.empty)")


@check("random_images", points=1)
def test_random_images(student, device, gen):
    n, c, h, w = distinct_sizes(gen, 4, 2, 9)
    out = student.random_images(n, c, h, w, device=torch.device(device))
    expect_meta_data(out, (n, c, h, w), torch.float32, device, "images")


@check("random_images", points=1)
def test_random_images_values(student, device, gen):
    n = [2, 4, 5][int(torch.randint(0, 3, (1,), generator=gen))]
    h, w = distinct_sizes(gen, 2, 10, 20)
    out = expect_meta_data(student.random_images(n, 3, h, w, device=device), (n, 3, h, w), torch.float32, device, "images")
    u = out.detach().cpu().double()
    if bool((u < 0).any()) or bool((u >= 1).any()):
        hint = " (negative values: did you use torch.randn instead of torch.rand?)" if bool((u < 0).any()) else ""
        fail(f"the images have values outside [0, 1): min {float(u.min()):.3g}, max {float(u.max()):.3g}{hint}")
    if abs(float(u.mean()) - 0.5) > 0.1 or float(u.std()) < 0.2:
        fail(f"the images do not look uniform on [0, 1): mean {float(u.mean()):.3g} (expected about 0.5), std {float(u.std()):.3g} (expected about 0.29)")


@check("add_noise", points=1)
def test_add_noise_statistics(student, device, gen):
    m, n = distinct_sizes(gen, 2, 30, 50)
    x = (torch.rand(m, n, generator=gen) * 4 - 2).to(device)
    std = 0.5 + float(torch.rand((), generator=gen))
    before = x.clone()
    out = expect_meta_data(student.add_noise(x, std), (m, n), torch.float32, device, "the noisy tensor")
    z = ((out.detach() - before) / std).cpu().double()
    if not bool((z < 0).any()):
        fail("the noise is never negative: use standard normal noise (torch.randn_like), not torch.rand")
    if abs(float(z.mean())) > 0.2 or not 0.8 < float(z.std()) < 1.2:
        fail(
            f"(result - x) / std should be standard normal, but has mean {float(z.mean()):.3g} (expected about 0) "
            f"and std {float(z.std()):.3g} (expected about 1): add std * torch.randn_like(x)"
        )


@check("add_noise", points=1, mutates=True)
def test_add_noise_new_tensor(student, sandbox, gen):
    m, n = distinct_sizes(gen, 2, 3, 9)
    x = torch.rand(m, n, generator=gen)
    before = x.clone()
    out = expect_meta_data(student.add_noise(x, 0.75), (m, n), torch.float32, "cpu", "the noisy tensor")
    if not torch.equal(x, before):
        fail("add_noise changed x in place: return a new tensor (x + std * noise), leave x as it was")
    if shares_memory(sandbox, out, x):
        fail("the result shares memory with x: return a new tensor, x + std * noise")
    if torch.equal(out, before):
        fail("the result equals x: no noise was added")


@check("from_python", points=1, traps=["int64_default"])
def test_from_python_vector(student, device, gen):
    k = int(torch.randint(3, 9, (1,), generator=gen))
    scores = [int(v) for v in torch.randint(0, 100, (k,), generator=gen)]
    count = int(torch.randint(10, 20, (1,), generator=gen))
    vector = as_tensor(expect_tuple(student.from_python(scores, count, device=device), 2, "from_python")[0], "vector")
    if vector.dtype == torch.int64:
        trap("int64_default", f"torch.tensor({scores}) gave an int64 tensor, expected float32")
    expect_tensor(vector, torch.tensor(scores, dtype=torch.float32, device=device), what="vector")


@check("from_python", points=1, traps=["tensor_vs_Tensor"])
def test_from_python_scalar(student, device, gen):
    k = int(torch.randint(3, 6, (1,), generator=gen))
    scores = [int(v) for v in torch.randint(0, 100, (k,), generator=gen)]
    count = int(torch.randint(6, 10, (1,), generator=gen))
    scalar = as_tensor(expect_tuple(student.from_python(scores, count, device=device), 2, "from_python")[1], "scalar")
    if scalar.dtype == torch.float32 and tuple(scalar.shape) in ((count,), (1,)):
        trap("tensor_vs_Tensor", f"the scalar for count={count} is a float32 tensor of shape {tuple(scalar.shape)}, expected a 0-D int64 tensor")
    expect_tensor(scalar, torch.tensor(count, device=device), what="scalar")


# ------------------------------------------------------------------ T2 / T3 attributes


def _check_describe(student, x: torch.Tensor, what: str) -> None:
    shape, ndim, dtype = expect_tuple(student.describe(x), 3, f"describe({what})")
    if type(shape) not in (tuple, torch.Size) or not all(type(d) is int for d in shape):
        fail(f"describe({what}): shape should be a tuple of ints, like tuple(x.shape); got {describe_value(shape)}")
    if tuple(shape) != tuple(x.shape):
        fail(f"describe({what}): shape is {tuple(shape)}, expected {tuple(x.shape)}")
    expect_value(ndim, x.dim(), what=f"describe({what}): ndim")
    if type(dtype) is not torch.dtype:
        fail(f"describe({what}): dtype should be a torch.dtype like x.dtype, got {describe_value(dtype)}")
    if dtype != x.dtype:
        fail(f"describe({what}): dtype is {dtype}, expected {x.dtype}")


@check("describe", points=1)
def test_describe_low_dims(student, gen):
    m, k = distinct_sizes(gen, 2, 2, 9)
    scalar = torch.randn((), generator=gen, dtype=torch.float64)
    vector = torch.randint(0, 50, (k,), generator=gen, dtype=torch.int32)
    matrix = torch.randn(m, k, generator=gen)
    _check_describe(student, scalar, "a 0-D float64 scalar")
    _check_describe(student, vector, "a 1-D int32 vector")
    _check_describe(student, matrix, "a 2-D float32 matrix")


@check("describe", points=1)
def test_describe_images(student, gen):
    n, c, h, w = distinct_sizes(gen, 4, 2, 9)
    images = torch.randint(0, 256, (n, c, h, w), generator=gen, dtype=torch.uint8)
    image = torch.rand(c, h, w, generator=gen).to(torch.float16)
    _check_describe(student, images, "a 4-D uint8 batch of images (N, C, H, W)")
    _check_describe(student, image, "a 3-D float16 image (C, H, W)")


@check("convert", points=1)
def test_convert(student, device, gen):
    m, n = distinct_sizes(gen, 2, 2, 9)
    x = (torch.rand(m, n, generator=gen) * 20 - 10).to(device)
    as_int, as_double = expect_tuple(student.convert(x), 2, "convert")
    expect_tensor(as_int, x.to(torch.int32), what="as_int")
    expect_tensor(as_double, x.to(torch.float64), what="as_double")


# ------------------------------------------------------------------ T4 arithmetic


def _check_arithmetic(student, a: torch.Tensor, b: torch.Tensor) -> None:
    got = expect_tuple(student.arithmetic(a, b), 4, "arithmetic")
    for out, name, expected in zip(got, ("a + b", "a - b", "a * b", "a / b"), (a + b, a - b, a * b, a / b)):
        expect_tensor(out, expected, what=name)


@check("arithmetic", points=1)
def test_arithmetic_float(student, device, gen):
    m, n = distinct_sizes(gen, 2, 2, 9)
    a = torch.randn(m, n, generator=gen)
    b = torch.sign(torch.randn(m, n, generator=gen)) * (torch.rand(m, n, generator=gen) + 0.5)
    _check_arithmetic(student, a.to(device), b.to(device))


@check("arithmetic", points=1)
def test_arithmetic_int(student, device, gen):
    m, n = distinct_sizes(gen, 2, 2, 9)
    a = torch.randint(-20, 21, (m, n), generator=gen)
    b = torch.randint(1, 10, (m, n), generator=gen) * (torch.randint(0, 2, (m, n), generator=gen) * 2 - 1)
    _check_arithmetic(student, a.to(device), b.to(device))


@check("add_inplace", points=1, mutates=True)
def test_add_inplace_changes_x(student, device, gen):
    m, n = distinct_sizes(gen, 2, 2, 9)
    x = torch.randn(m, n, generator=gen).to(device)
    y = torch.randn(m, n, generator=gen).to(device)
    before = x.clone()
    student.add_inplace(x, y)
    if torch.equal(x, before):
        fail("the caller's x did not change: add y to x in place with x.add_(y) (x = x + y only makes a new tensor)")
    expect_tensor(x, before + y, what="x after add_inplace(x, y)")


@check("add_inplace", points=1)
def test_add_inplace_returns_x(student, sandbox, gen):
    m, n = distinct_sizes(gen, 2, 2, 9)
    x = torch.randn(m, n, generator=gen)
    y = torch.randn(m, n, generator=gen)
    expected = x + y
    out = expect_tensor(student.add_inplace(x, y), expected, what="the returned tensor")
    if not shares_memory(sandbox, out, expected):
        fail("the returned tensor is a new tensor, not x itself: return the result of x.add_(y) (or x after it)")


# ------------------------------------------------------------------ T5 indexing


def _check_pick(student, x: torch.Tensor) -> None:
    row, col, corner = expect_tuple(student.pick(x), 3, "pick")
    expect_tensor(row, x[0], what="row (x[0])")
    expect_tensor(col, x[:, 0], what="col (x[:, 0])")
    expect_value(corner, x[0, 0].item(), what="corner (x[0, 0].item())")


@check("pick", points=1)
def test_pick_float(student, device, gen):
    m, n = distinct_sizes(gen, 2, 2, 9)
    _check_pick(student, torch.randn(m, n, generator=gen).to(device))


@check("pick", points=1)
def test_pick_int(student, device, gen):
    m, n = distinct_sizes(gen, 2, 2, 9)
    _check_pick(student, torch.randint(-50, 50, (m, n), generator=gen).to(device))


@check("slice_views", points=1, traps=["column_shape"])
def test_slice_column(student, device, gen):
    m, n = distinct_sizes(gen, 2, 3, 10)
    j = int(torch.randint(0, n - 1, (1,), generator=gen))  # not the last column: j:j+2 would look the same
    x = torch.randn(m, n, generator=gen).to(device)
    column = as_tensor(expect_tuple(student.slice_views(x, j), 2, "slice_views")[0], "column")
    if tuple(column.shape) == (m,):
        trap("column_shape", f"column has shape ({m},), expected ({m}, 1)")
    expect_tensor(column, x[:, j : j + 1], what="column")


@check("slice_views", points=1, traps=["view_vs_copy"])
def test_slice_evens_view(student, sandbox, gen):
    m = [5, 7, 9][int(torch.randint(0, 3, (1,), generator=gen))]
    n = int(torch.randint(3, 5, (1,), generator=gen))
    j = int(torch.randint(0, n, (1,), generator=gen))
    x = torch.randn(m, n, generator=gen)
    expected = x[::2]
    evens = as_tensor(expect_tuple(student.slice_views(x, j), 2, "slice_views")[1], "evens")
    shared = shares_memory(sandbox, evens, x, view=lambda a: a[::2])
    same = evens.shape == expected.shape and evens.dtype == expected.dtype and torch.equal(evens, expected)
    if same and not shared:
        trap("view_vs_copy", "evens holds the right rows but in a copy that does not share x's memory")
    expect_tensor(evens, expected, what="evens")
    if not shared:
        fail("evens does not share memory with x: return the slice x[::2] itself")
