"""Public checks for unit 08: run them with `torchgrade check 08_logistic_regression`.

The hidden checks that grade your work use other sizes and random values,
train on generated data and on a random part of breast_cancer.csv.
"""

import math

import torch

from autograder.checks import as_tensor, check, describe, expect_tensor, fail, trap
from autograder.remote import Remote


@check("LogisticRegression", points=1)
def test_model_outputs_probabilities(student):
    model = student.LogisticRegression(5)
    if not (isinstance(model, Remote) and model.is_instance("torch.nn.modules.module.Module")):
        fail(f"LogisticRegression(5) should be an nn.Module, got {describe(model)}")
    out = as_tensor(model(torch.randn(7, 5) * 10), "model(x) for x of shape (7, 5)")
    if tuple(out.shape) != (7, 1):
        fail(f"model(x) for x of shape (7, 5) should be (7, 1), got {tuple(out.shape)}")
    if not bool(((out >= 0) & (out <= 1)).all()):
        fail("model(x) has values outside [0, 1]: apply torch.sigmoid to the layer's output")


@check("prepare_labels", points=1, traps=["label_shape"])
def test_prepare_labels_example(student):
    out = as_tensor(student.prepare_labels(torch.tensor([0, 1, 1])), "prepare_labels(torch.tensor([0, 1, 1]))")
    if tuple(out.shape) != (3, 1) or not out.is_floating_point():
        trap("label_shape", f"got shape {tuple(out.shape)} and dtype {out.dtype}; BCE targets must be (3, 1) float32")
    expect_tensor(out, torch.tensor([[0.0], [1.0], [1.0]]), what="prepare_labels(torch.tensor([0, 1, 1]))")


@check("bce_with_logits_loss", points=1, traps=["sigmoid_twice"])
def test_bce_with_logits_example(student):
    logits = torch.tensor([[0.0], [2.0]])
    targets = torch.tensor([[1.0], [0.0]])
    # On the logits: (log(1 + e^0) + log(1 + e^2)) / 2. With a sigmoid first,
    # the loss sees 0.5 and sigmoid(2) = 0.8808 as if they were logits.
    right = (math.log(2.0) + math.log(1.0 + math.exp(2.0))) / 2
    s = 1.0 / (1.0 + math.exp(-2.0))
    twice = (math.log(1.0 + math.exp(-0.5)) + math.log(1.0 + math.exp(s))) / 2
    out = as_tensor(student.bce_with_logits_loss(logits, targets), "bce_with_logits_loss([[0], [2]], [[1], [0]])")
    if out.numel() == 1 and abs(out.item() - twice) < 1e-5:
        trap("sigmoid_twice", f"got {out.item():.6g}, the loss of sigmoid(logits); on the logits themselves it is {right:.6g}")
    expect_tensor(out, torch.tensor(right), what="bce_with_logits_loss([[0], [2]], [[1], [0]])", rtol=1e-5, atol=1e-6)


@check("standardize", points=1, traps=["scaler_leak"])
def test_standardize_example(student):
    x_train = torch.tensor([[0.0, 10.0], [2.0, 30.0]])  # mean [1, 20], std [1, 10]
    x_test = torch.tensor([[4.0, 0.0]])
    result = student.standardize(x_train, x_test)
    if type(result) is not tuple or len(result) != 2:
        fail(f"standardize should return a tuple (scaled x_train, scaled x_test), got {describe(result)}")
    a, b = as_tensor(result[0], "the scaled x_train"), as_tensor(result[1], "the scaled x_test")
    both = torch.cat([x_train, x_test])
    leaked = (x_test - both.mean(dim=0)) / both.std(dim=0, correction=0)
    if b.shape == leaked.shape and torch.allclose(b, leaked, atol=1e-5):
        trap("scaler_leak", "x_test was scaled with the statistics of train and test together")
    expect_tensor(a, torch.tensor([[-1.0, -1.0], [1.0, 1.0]]), what="the scaled x_train", rtol=1e-5, atol=1e-6)
    expect_tensor(b, torch.tensor([[3.0, -2.0]]), what="the scaled x_test (with the training mean and std)", rtol=1e-5, atol=1e-6)
