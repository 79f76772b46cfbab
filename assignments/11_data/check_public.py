"""Public checks for unit 11 (data): run them with `torchgrade check 11_data`.

They use the real wine.csv next to this file. The hidden checks that grade
your work use other files of the same format (other rows, other order), other
batch sizes and other factors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from autograder.checks import as_tensor, check, expect_tensor, expect_value, fail, trap

WINE = Path(__file__).resolve().parent / "wine.csv"


@check("iterations_per_epoch", points=1, traps=["short_last_batch"])
def test_iterations_per_epoch_examples(student):
    expect_value(student.iterations_per_epoch(100, 20), 5, what="iterations_per_epoch(100, 20)")
    out = student.iterations_per_epoch(103, 20)
    if out == 5:
        trap("short_last_batch", "iterations_per_epoch(103, 20) returned 5: the 3 samples left over make a 6th batch")
    expect_value(out, 6, what="iterations_per_epoch(103, 20)")
    expect_value(student.iterations_per_epoch(103, 20, drop_last=True), 5, what="iterations_per_epoch(103, 20, drop_last=True)")


@check("WineDataset", points=1)
def test_wine_dataset_full_file(student, sandbox):
    sandbox.put_file("wine.csv", WINE.read_bytes())
    xy = np.loadtxt(WINE, delimiter=",", skiprows=1, dtype=np.float32)
    ds = student.WineDataset("wine.csv")
    expect_value(len(ds), 178, what="len(WineDataset('wine.csv'))")
    sample = ds[0]
    if type(sample) is not tuple or len(sample) != 2:
        fail(f"ds[0] should be the tuple (ds.x[0], ds.y[0]), got {sample!r}")
    x, y = sample
    if type(x) is not np.ndarray:
        fail(f"the features of ds[0] should be a NumPy array (without a transform), got {type(x).__name__}")
    expect_tensor(torch.from_numpy(np.array(x)), torch.from_numpy(xy[0, 1:]), what="the features of ds[0]")
    if np.asarray(y).shape != () or np.asarray(y).dtype != np.int64 or int(y) != 0:
        fail(f"the label of ds[0] should be the int64 label 0 (shape ()), got {y!r}")


@check("MulTransform", points=1, traps=["transform_mutates"])
def test_mul_transform_out_of_place(student):
    x = torch.tensor([1.0, -2.0, 3.5])
    label = torch.tensor(1)
    out = student.MulTransform(2.0)((x, label))
    if not torch.equal(x, torch.tensor([1.0, -2.0, 3.5])):
        trap("transform_mutates", "MulTransform(2.0) changed the inputs tensor it was given")
    if type(out) not in (tuple, list) or len(out) != 2:
        fail(f"MulTransform(2.0)((inputs, label)) should return the pair (inputs * 2.0, label), got {out!r}")
    expect_tensor(out[0], torch.tensor([2.0, -4.0, 7.0]), what="the inputs of MulTransform(2.0)((inputs, label))")
    expect_tensor(as_tensor(out[1], "the label"), label, what="the label (unchanged)")
