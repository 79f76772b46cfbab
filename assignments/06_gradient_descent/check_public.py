"""Public checks for unit 06: run them with `torchgrade check`. The hidden checks grade more.

All three use one tiny problem you can work out on paper:

    x = [[1, 0], [0, 1], [1, 1]]   y = [0.5, 1, 1]   w = [0.5, -1]   b = 0.5
    pred = x @ w + b = [1, -0.5, 0]        err = pred - y = [0.5, -1.5, -1]
    L = mean(err ** 2) = 3.5 / 3
    dL/dw = (2/3) * x.T @ err = [-1/3, -5/3]     dL/db = (2/3) * sum(err) = -4/3
"""

import numpy as np
import torch

from autograder.checks import as_tensor, check, describe, expect_close, expect_tensor, fail

X = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
Y = [0.5, 1.0, 1.0]
W = [0.5, -1.0]
B = 0.5


@check("gradient_np", points=1)
def test_gradient_np_by_hand(student):
    out = student.gradient_np(np.array(X), np.array(Y), np.array(W), B)
    if type(out) is not tuple or len(out) != 2:
        fail(f"gradient_np should return a tuple (dw, db), got {describe(out)}")
    dw, db = out
    if type(dw) is not np.ndarray or dw.dtype != np.float64:
        fail(f"dw should be a float64 NumPy array, got {describe(dw)}")
    expect_tensor(torch.from_numpy(dw), torch.tensor([-1 / 3, -5 / 3], dtype=torch.float64), what="dw", rtol=1e-10, atol=1e-12)
    expect_close(float(db), -4 / 3, what="db", rtol=1e-10, atol=1e-12)


@check("train_optim", points=2)
def test_train_optim_two_steps_by_hand(student, device):
    x = torch.tensor(X, dtype=torch.float64, device=device)
    y = torch.tensor(Y, dtype=torch.float64, device=device)
    w0 = torch.tensor(W, dtype=torch.float64, device=device)
    b0 = torch.tensor(B, dtype=torch.float64, device=device)
    out = student.train_optim(x, y, w0, b0, 0.3, 2)
    if type(out) is not tuple or len(out) != 3:
        fail(f"train_optim should return a tuple (w, b, losses), got {describe(out)}")
    w, b, losses = out
    # step 1: w1 = w0 - 0.3 * [-1/3, -5/3] = [0.6, -0.5], b1 = 0.5 + 0.4 = 0.9
    # step 2: err = [1.0, -0.6, 0.0], L = 1.36 / 3, dL/dw = [2/3, -0.4], dL/db = 0.8 / 3
    #         w2 = [0.4, -0.38], b2 = 0.82
    if type(losses) is not list or len(losses) != 2:
        fail(f"the losses should be a list of 2 Python floats, got {describe(losses)}")
    expect_close(losses[0], 3.5 / 3, what="the loss at the start", rtol=1e-10, atol=1e-12)
    expect_close(losses[1], 1.36 / 3, what="the loss after one step", rtol=1e-10, atol=1e-12)
    expect_tensor(as_tensor(w, "the final w"), torch.tensor([0.4, -0.38], dtype=torch.float64, device=device),
                  what="w after two steps (with zero_grad in between: otherwise the second step adds both gradients)", rtol=1e-10, atol=1e-12)
    expect_tensor(as_tensor(b, "the final b"), torch.tensor(0.82, dtype=torch.float64, device=device), what="b after two steps", rtol=1e-10, atol=1e-12)


@check("run_all_stages", points=1)
def test_stages_agree(student, device):
    out = student.run_all_stages(np.array(X), np.array(Y), np.array(W), B, 0.1, 5, device)
    stages = ["numpy", "autograd", "optim", "linear"]
    if type(out) is not dict or sorted(out) != sorted(stages):
        fail(f"run_all_stages should return a dict with keys {stages}, got {describe(out)}")
    hist = {s: torch.tensor([float(v) for v in out[s]], dtype=torch.float64) for s in stages}
    for s in stages:
        if hist[s].shape != (5,):
            fail(f"the {s!r} history should hold 5 losses, got {hist[s].numel()}")
        expect_close(float(hist[s][0]), 3.5 / 3, what=f"the {s!r} stage's first loss", rtol=1e-10, atol=1e-12)
        expect_tensor(hist[s], hist["numpy"], what=f"the {s!r} losses against the 'numpy' ones (same start, same lr: same trajectory)", rtol=1e-9, atol=1e-12)
    if not bool((hist["numpy"][1:] < hist["numpy"][:-1]).all()):
        fail(f"the loss should fall at every step at lr=0.1, got {hist['numpy'].tolist()}")
