"""Hidden checks for unit 11 (data): Dataset, DataLoader, transforms.

Every check that reads a CSV writes its own ``wine.csv`` into the sandbox's
working folder: a random subset of the real wine rows, in random order, so
neither N nor the values can be hard-coded. Expected values come from
``np.loadtxt`` of exactly those rows on the trusted side.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from autograder.checks import as_tensor, check, describe, expect_tensor, expect_value, fail, shares_memory, trap, is_plain_tensor
from autograder.remote import Remote, SandboxError

WINE = Path(__file__).resolve().parents[2] / "assignments" / "11_data" / "wine.csv"
N_FEATURES = 13
LOADER = "torch.utils.data.dataloader.DataLoader"


# --------------------------------------------------------------------------
# helpers (trusted side)


def _randint(gen: torch.Generator, lo: int, hi: int) -> int:
    """A random int in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (1,), generator=gen))


def _ragged_sizes(gen: torch.Generator, lo_n: int = 60, hi_n: int = 178) -> tuple[int, int]:
    """(n, b) with b not dividing n: the last batch is short."""
    while True:
        b, n = _randint(gen, 7, 16), _randint(gen, lo_n, hi_n)
        if n % b:
            return n, b


def _even_sizes(gen: torch.Generator) -> tuple[int, int]:
    """(n, b) with b dividing n: every batch is full."""
    b = _randint(gen, 7, 16)
    return b * _randint(gen, 4, 178 // b), b


def write_wine(sandbox, gen: torch.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Write n random wine rows (random order) as the sandbox's wine.csv; return (features, labels)."""
    header, *rows = WINE.read_text().splitlines()
    pick = torch.randperm(len(rows), generator=gen)[:n].tolist()
    chosen = [rows[i] for i in pick]
    sandbox.put_file("wine.csv", "\n".join([header, *chosen]) + "\n")
    xy = np.loadtxt(chosen, delimiter=",", dtype=np.float32)
    return xy[:, 1:].copy(), xy[:, 0].astype(np.int64)


def as_array(value, what: str) -> torch.Tensor:
    """Fail unless ``value`` is a NumPy array; return it as a tensor for expect_tensor."""
    if value is None:
        fail(f"{what} is None: returned None, the TODO is not done yet (or a return is missing)")
    if type(value) is not np.ndarray:
        fail(f"{what} should be a NumPy array (np.ndarray), got {describe(value)}")
    return torch.from_numpy(np.array(value))


def as_pair(value, what: str) -> tuple:
    if value is None:
        fail(f"{what} is None: returned None, the TODO is not done yet (or a return is missing)")
    if type(value) not in (tuple, list) or len(value) != 2:
        n = f" of length {len(value)}" if type(value) in (tuple, list) else ""
        fail(f"{what} should be a pair (inputs, label), got {describe(value)}{n}")
    return tuple(value)


def expect_loader(loader, what: str = "the result") -> None:
    if loader is None:
        fail(f"{what} is None: returned None, the TODO is not done yet (or a return is missing)")
    if not (isinstance(loader, Remote) and loader.is_instance(LOADER)):
        fail(f"{what} should be a torch.utils.data.DataLoader, got {describe(loader)}")


def one_epoch(loader, what: str) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Iterate ``loader`` once; return (inputs (M, 13), labels (M,), batch sizes), checking each batch's form."""
    xs, ys, sizes = [], [], []
    for k, batch in enumerate(loader):
        xb, yb = as_pair(batch, f"batch {k} of {what}")
        xb = as_tensor(xb, f"the inputs of batch {k}")
        yb = as_tensor(yb, f"the labels of batch {k}")
        if xb.dim() != 2 or xb.shape[1] != N_FEATURES:
            fail(f"the inputs of batch {k} have shape {tuple(xb.shape)}, expected (batch size, {N_FEATURES})")
        if xb.dtype != torch.float32:
            fail(f"the inputs of batch {k} have dtype {xb.dtype}, expected torch.float32")
        if yb.shape != (xb.shape[0],):
            fail(f"the labels of batch {k} have shape {tuple(yb.shape)}, expected ({xb.shape[0]},): one int64 label per sample")
        if yb.dtype != torch.int64:
            fail(f"the labels of batch {k} have dtype {yb.dtype}, expected torch.int64")
        xs.append(xb.cpu())
        ys.append(yb.cpu())
        sizes.append(int(xb.shape[0]))
    if not sizes:
        fail(f"{what} yielded no batches in an epoch")
    return torch.cat(xs), torch.cat(ys), sizes


def match_rows(x: torch.Tensor, y: torch.Tensor, ex: torch.Tensor, ey: torch.Tensor) -> torch.Tensor:
    """(M, N) bool: yielded row m equals expected row n (features within tolerance, same label)."""
    x64, e64 = x.double(), ex.double()
    close = ((x64[:, None, :] - e64[None]).abs() <= 1e-5 + 1e-5 * e64.abs()[None]).all(-1)
    return close & (y[:, None] == ey[None])


# --------------------------------------------------------------------------
# D1: read_wine_csv, WineDataset


@check("read_wine_csv", points=2)
def test_read_wine_csv(student, gen, sandbox):
    n = _randint(gen, 50, 178)
    ex, ey = write_wine(sandbox, gen, n)
    out = as_pair(student.read_wine_csv("wine.csv"), 'read_wine_csv("wine.csv")')
    expect_tensor(as_array(out[0], "features"), torch.from_numpy(ex), what=f"features (a {n}-row file)")
    expect_tensor(as_array(out[1], "labels"), torch.from_numpy(ey), what=f"labels (a {n}-row file)")


@check("WineDataset", points=2)
def test_wine_dataset_attributes(student, gen, sandbox):
    n = _randint(gen, 50, 178)
    ex, ey = write_wine(sandbox, gen, n)
    ds = student.WineDataset("wine.csv")
    expect_value(len(ds), n, what=f"len(ds) for a {n}-row file")
    expect_value(ds.n_samples, n, what=f"ds.n_samples for a {n}-row file")
    expect_tensor(as_array(ds.x, "ds.x"), torch.from_numpy(ex), what="ds.x")
    expect_tensor(as_array(ds.y, "ds.y"), torch.from_numpy(ey), what="ds.y")
    if ds.transform is not None:
        fail(f"ds.transform should be None when no transform is given, got {describe(ds.transform)}")


def _expect_label(value, expected: np.int64, what: str) -> None:
    if value is None:
        fail(f"{what} is None")
    if not isinstance(value, (np.integer, np.ndarray, int)):
        fail(f"{what} should be a NumPy int64 label (ds.y[i]), got {describe(value)}")
    arr = np.asarray(value)
    if arr.shape != ():
        fail(f"{what} has shape {arr.shape}, expected a single label (shape ()); store the labels as shape (N,), not (N, 1)")
    if arr.dtype != np.int64:
        fail(f"{what} has dtype {arr.dtype}, expected int64")
    if int(arr) != int(expected):
        fail(f"{what} is {int(arr)}, expected {int(expected)}")


@check("WineDataset", points=1)
def test_wine_dataset_getitem(student, gen, sandbox):
    n = _randint(gen, 50, 178)
    ex, ey = write_wine(sandbox, gen, n)
    ds = student.WineDataset("wine.csv")
    for i in [0, n - 1, *torch.randint(1, n - 1, (2,), generator=gen).tolist()]:
        x, y = as_pair(ds[i], f"ds[{i}]")
        expect_tensor(as_array(x, f"ds[{i}][0]"), torch.from_numpy(ex[i]), what=f"the features of ds[{i}]")
        _expect_label(y, ey[i], f"the label of ds[{i}]")


@check("WineDataset", points=1)
def test_wine_dataset_transform(student, gen, sandbox):
    n = _randint(gen, 50, 178)
    ex, ey = write_wine(sandbox, gen, n)
    ds = student.WineDataset("wine.csv", transform=student.ToTensor())
    for i in torch.randint(0, n, (3,), generator=gen).tolist():
        x, y = as_pair(ds[i], f"ds[{i}] with transform=ToTensor()")
        expect_tensor(x, torch.from_numpy(ex[i]), what=f"the features of ds[{i}] with transform=ToTensor() (is the transform applied in __getitem__?)")
        expect_tensor(y, torch.tensor(ey[i]), what=f"the label of ds[{i}] with transform=ToTensor()")
    if type(ds.x) is not np.ndarray:
        fail(f"with a transform, ds.x became {describe(ds.x)}: keep the stored data as loaded and apply the transform per sample in __getitem__")


# --------------------------------------------------------------------------
# D2: iterations, DataLoader, one epoch


@check("iterations_per_epoch", points=1, traps=["short_last_batch"])
def test_iterations_per_epoch(student, gen):
    cases = [(100, 20, False), (100, 20, True)]
    for drop_last in (False, True, False, True):
        n, b = _ragged_sizes(gen, 20, 500)
        cases.append((n, b, drop_last))
    b = _randint(gen, 7, 16)
    cases += [(b - 3, b, False), (b - 3, b, True)]
    for n, b, drop_last in cases:
        out = student.iterations_per_epoch(n, b, drop_last=drop_last)
        expected = n // b if drop_last else math.ceil(n / b)
        what = f"iterations_per_epoch({n}, {b}, drop_last={drop_last})"
        if not drop_last and n % b and out == n // b:
            trap("short_last_batch", f"{what} returned {out!r}: {n} samples in batches of {b} need {expected} batches, the last with {n % b} samples")
        expect_value(out, expected, what=what)
    n, b = _ragged_sizes(gen, 20, 500)  # drop_last left at its default, False
    expect_value(student.iterations_per_epoch(n, b), math.ceil(n / b), what=f"iterations_per_epoch({n}, {b}) (drop_last left at its default, False)")


@check("make_loader", points=1, traps=["short_last_batch"])
def test_make_loader_batches(student, gen, sandbox):
    n, b = _ragged_sizes(gen)
    ds = sandbox.make("torch.utils.data.TensorDataset", torch.arange(n))
    loader = student.make_loader(ds, b, False)
    expect_loader(loader, f"make_loader(dataset, {b}, False)")
    seen, sizes = [], []
    for k, batch in enumerate(loader):
        if type(batch) not in (list, tuple) or len(batch) != 1:
            fail(f"batch {k} should be what the DataLoader's default collation makes of TensorDataset samples, got {describe(batch)}")
        t = as_tensor(batch[0], f"batch {k}")
        seen.append(t)
        sizes.append(int(t.shape[0]) if t.dim() else 1)
    full, short = [b] * (n // b), n % b
    if sizes == full:
        trap("short_last_batch", f"{n} samples in batches of {b} gave {len(sizes)} batches of {b}; the last batch of {short} samples is missing")
    if sizes != full + [short]:
        fail(f"{n} samples in batches of {b}: expected batch sizes {full + [short]}, got {sizes}")
    n_loader = len(loader)
    if n_loader == n // b:
        trap("short_last_batch", f"len(loader) is {n_loader}, but the epoch has {n // b + 1} batches")
    expect_value(n_loader, n // b + 1, what="len(loader)")
    expect_tensor(torch.cat(seen), torch.arange(n), what="the indices of one epoch with shuffle=False (in order)")


@check("make_loader", points=2, traps=["shuffle_with_replacement"])
def test_make_loader_shuffle(student, gen, sandbox):
    n, b = _even_sizes(gen)
    ds = sandbox.make("torch.utils.data.TensorDataset", torch.arange(n))
    loader = student.make_loader(ds, b, True)
    expect_loader(loader, f"make_loader(dataset, {b}, True)")
    epochs = []
    for epoch in (1, 2):
        seen = []
        for k, batch in enumerate(loader):
            if type(batch) not in (list, tuple) or len(batch) != 1:
                fail(f"batch {k} should be what the DataLoader's default collation makes of TensorDataset samples, got {describe(batch)}")
            seen.append(as_tensor(batch[0], f"batch {k}").reshape(-1).cpu())
        idx = torch.cat(seen) if seen else torch.zeros(0, dtype=torch.int64)
        counts = torch.bincount(idx.clamp(0, n - 1), minlength=n) if idx.numel() else torch.zeros(n, dtype=torch.int64)
        if bool((counts > 1).any()):
            twice = int((counts > 1).sum())
            never = int((counts == 0).sum())
            trap("shuffle_with_replacement", f"in epoch {epoch} of {n} samples, {twice} indices came more than once and {never} never came")
        if not torch.equal(idx.sort().values, torch.arange(n)):
            fail(f"epoch {epoch} with shuffle=True should yield every index 0..{n - 1} exactly once, got {idx.numel()} indices: {idx.tolist()[:20]}...")
        if torch.equal(idx, torch.arange(n)):
            fail(f"epoch {epoch} with shuffle=True yielded the samples in order 0, 1, 2, ...: pass shuffle=shuffle to the DataLoader")
        epochs.append(idx)
    if torch.equal(epochs[0], epochs[1]):
        fail("two epochs with shuffle=True came in the same order: the DataLoader should reshuffle at the start of every epoch")


@check("class_counts", points=2, traps=["short_last_batch"])
def test_class_counts(student, gen, sandbox):
    n, b = _ragged_sizes(gen)
    c = _randint(gen, 3, 5)
    x = torch.randn(n, 4, generator=gen)
    y = torch.randint(0, c, (n,), generator=gen)
    ds = sandbox.make("torch.utils.data.TensorDataset", x, y)
    loader = sandbox.make(LOADER, ds, batch_size=b, shuffle=False)
    out = as_tensor(student.class_counts(loader, c), f"class_counts(loader, {c})")
    expected = torch.bincount(y, minlength=c)
    kept = (n // b) * b
    if out.shape == expected.shape and torch.equal(out.cpu().to(torch.int64), torch.bincount(y[:kept], minlength=c)):
        trap("short_last_batch", f"the counts add up to {kept}, not {n}: the last batch of {n % b} samples ({n} samples, batch size {b}) was not counted")
    expect_tensor(out, expected, what=f"class_counts over {n} samples in batches of {b}")
    # Labels in order: the first batches hold only the lowest classes, so each
    # batch's counts must still have one entry per class.
    ordered = sandbox.make(LOADER, sandbox.make("torch.utils.data.TensorDataset", x, torch.sort(y).values), batch_size=b, shuffle=False)
    out = as_tensor(student.class_counts(ordered, c), f"class_counts(loader, {c})")
    expect_tensor(out, expected, what=f"class_counts over {n} samples sorted by label (batches that miss some classes)")


# --------------------------------------------------------------------------
# D3: transforms


@check("ToTensor", points=1)
def test_to_tensor(student, gen):
    shape = (_randint(gen, 3, 6), _randint(gen, 7, 9))
    x = torch.randn(shape, generator=gen).numpy()
    label = np.int64(_randint(gen, 0, 2))
    out = as_pair(student.ToTensor()((x, label)), "ToTensor()((inputs, label))")
    expect_tensor(out[0], torch.from_numpy(x.copy()), what=f"the inputs of ToTensor()((inputs, label)) for a float32 array of shape {shape}")
    expect_tensor(out[1], torch.tensor(int(label)), what="the label of ToTensor()((inputs, label)) (an int64 tensor of shape ())")


@check("MulTransform", points=1, traps=["transform_mutates"])
def test_mul_transform(student, sandbox, gen, device):
    x = torch.randn(_randint(gen, 5, 9), N_FEATURES, generator=gen).to(device)
    label = torch.randint(0, 3, (x.shape[0],), generator=gen).to(device)
    factor = round(1.5 + 2 * float(torch.rand((), generator=gen)), 3)
    before = x.clone()
    out = as_pair(student.MulTransform(factor)((x, label)), f"MulTransform({factor})((inputs, label))")
    if not torch.equal(x, before):
        trap("transform_mutates", f"MulTransform({factor}) changed the inputs tensor it was given (in place)")
    if is_plain_tensor(out[0]) and shares_memory(sandbox, out[0], x, path="0.0"):
        trap("transform_mutates", "the inputs it returns share memory with the inputs it was given: return a new tensor")
    expect_tensor(out[0], before * factor, what=f"the inputs of MulTransform({factor})((inputs, label))")
    expect_tensor(out[1], label, what=f"the label of MulTransform({factor})((inputs, label)) (unchanged)")


@check("Compose", points=1, traps=["compose_order"])
def test_compose(student, gen, sandbox, device):
    x = (3 * torch.randn(_randint(gen, 3, 5), _randint(gen, 6, 8), generator=gen)).to(device)
    tanh = sandbox.make("torch.nn.Tanh")
    softmax = sandbox.make("torch.nn.Softmax", dim=1)
    out = student.Compose([tanh, softmax])(x)
    expected = torch.softmax(torch.tanh(x), dim=1)
    backwards = torch.tanh(torch.softmax(x, dim=1))
    if is_plain_tensor(out) and out.shape == x.shape and torch.allclose(out, backwards, rtol=1e-4, atol=1e-5):
        trap("compose_order", "Compose([nn.Tanh(), nn.Softmax(dim=1)])(x) gave tanh(softmax(x)), expected softmax(tanh(x))")
    expect_tensor(out, expected, what="Compose([nn.Tanh(), nn.Softmax(dim=1)])(x)")
    expect_tensor(student.Compose([])(x), x, what="Compose([])(x) (no transforms: x unchanged)")


# --------------------------------------------------------------------------
# D1 + D2 + D3: the pipeline


@check("make_wine_loader", points=1, traps=["short_last_batch", "shuffle_with_replacement"])
def test_make_wine_loader_epoch(student, gen, sandbox):
    n, b = _ragged_sizes(gen)
    ex, ey = write_wine(sandbox, gen, n)
    factor = round(0.2 + float(torch.rand((), generator=gen)), 3)
    loader = student.make_wine_loader("wine.csv", b, factor)
    what = f'make_wine_loader("wine.csv", {b}, {factor})'
    expect_loader(loader, what)
    x, y, sizes = one_epoch(loader, what)
    expected = torch.from_numpy(ex) * factor
    match = match_rows(x, y, expected, torch.from_numpy(ey))
    unknown = ~match.any(1)
    if bool(unknown.any()):
        m = int(unknown.nonzero()[0])
        fail(f"sample {m} of the epoch is no wine row times {factor} with its label: got {x[m].tolist()} (label {int(y[m])})")
    counts = match.sum(0)
    if bool((counts > 1).any()):
        trap("shuffle_with_replacement", f"one epoch of {n} samples yielded {int((counts > 1).sum())} samples more than once and left {int((counts == 0).sum())} out")
    if len(x) == (n // b) * b:
        trap("short_last_batch", f"one epoch of {n} samples in batches of {b} yielded {len(x)} samples: the last batch of {n % b} is missing")
    if bool((counts == 0).any()):
        fail(f"one epoch should yield all {n} samples once, got {len(x)}")
    expected_sizes = [b] * (n // b) + [n % b]
    if sizes != expected_sizes:
        fail(f"{n} samples in batches of {b}: expected batch sizes {expected_sizes}, got {sizes}")
    order = match.float().argmax(1)
    if torch.equal(order, torch.arange(n)):
        fail("the epoch came in file order: the loader should shuffle")


@check("make_wine_loader", points=2, traps=["transform_mutates"])
def test_make_wine_loader_two_epochs(student, gen, sandbox):
    n, b = _even_sizes(gen)
    ex, ey = write_wine(sandbox, gen, n)
    factor = round(1.5 + float(torch.rand((), generator=gen)), 3)
    loader = student.make_wine_loader("wine.csv", b, factor)
    what = f'make_wine_loader("wine.csv", {b}, {factor})'
    expect_loader(loader, what)
    expected, labels = torch.from_numpy(ex) * factor, torch.from_numpy(ey)
    for epoch in (1, 2):
        x, y, _ = one_epoch(loader, what)
        good = match_rows(x, y, expected, labels).any(1)
        if not bool(good.all()):
            m = int((~good).nonzero()[0])
            if epoch == 2 and bool(match_rows(x[m : m + 1], y[m : m + 1], expected * factor, labels).any()):
                trap("transform_mutates", f"in epoch 2 the samples came out multiplied by {factor} twice: the transform scaled the stored data in epoch 1")
            fail(f"in epoch {epoch}, sample {m} is no wine row times {factor} with its label: got {x[m].tolist()} (label {int(y[m])})")
        try:
            stored = loader.dataset.x
        except SandboxError:  # no .x: test_wine_dataset_attributes says so; epoch 2's values still catch a mutation
            stored = None
        if type(stored) is np.ndarray and stored.shape == ex.shape and not np.allclose(stored, ex, rtol=1e-5, atol=1e-5):
            scaled = np.allclose(stored, ex * factor, rtol=1e-5, atol=1e-5)
            trap("transform_mutates", f"after epoch {epoch} the dataset's stored features (loader.dataset.x) " + ("are the original values times the factor" if scaled else "have changed"))
