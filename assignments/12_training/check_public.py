"""Public checks for unit 12 (training): run them with `torchgrade check 12_training`.

The hidden checks that grade your work use other models, other data, other
batch sizes, run on every device the grader has (and on "fakegpu", a second device it imitates on the CPU), and train
the CNN on the digits.
"""

from __future__ import annotations

import torch

from autograder.checks import as_tensor, check, describe, facts, fail, trap
from autograder.remote import Remote


def _linear(sandbox, device, weight, bias):
    model = sandbox.make("torch.nn.Linear", weight.shape[1], weight.shape[0], device=device)
    model.load_state_dict({"weight": weight.to(device), "bias": bias.to(device)})
    return model


def _loader(sandbox, x, y, batch_size, shuffle=False):
    ds = sandbox.make("torch.utils.data.TensorDataset", x, y)
    return sandbox.make("torch.utils.data.DataLoader", ds, batch_size=batch_size, shuffle=shuffle)


@check("model_device", points=1)
def test_model_device(student, sandbox, device):
    model = sandbox.make("torch.nn.Linear", 3, 2, device=device)
    out = student.model_device(model)
    if type(out) is not torch.device:
        fail(f"model_device(model) should return a torch.device, got {describe(out)}")
    if out.type != torch.device(device).type:
        fail(f"model_device(model) returned {out} for a model on {device}: do not hard-code a device")


@check("SmallCNN", points=1)
def test_cnn_output_shape(student, device):
    model = student.SmallCNN(10)
    if not (isinstance(model, Remote) and model.is_instance("torch.nn.modules.module.Module")):
        fail(f"SmallCNN(10) should be an nn.Module, got {describe(model)}")
    model.to(device)
    out = as_tensor(model(torch.zeros(4, 1, 8, 8, device=device)), "model(x) for x of shape (4, 1, 8, 8)")
    if tuple(out.shape) != (4, 10):
        fail(f"model(x) for x of shape (4, 1, 8, 8) should have shape (4, 10), got {tuple(out.shape)}")


@check("train_one_epoch", points=1, traps=["train_mode_not_restored"])
def test_train_after_eval(student, sandbox, device):
    model = _linear(sandbox, device, torch.tensor([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]]), torch.zeros(3))
    loss_fn = sandbox.make("torch.nn.CrossEntropyLoss")
    opt = sandbox.make("torch.optim.SGD", model.parameters(), lr=0.1)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0], [2.0, -1.0]], device=device)
    y = torch.tensor([0, 1, 2, 1, 0], device=device)
    model.eval()  # as an evaluation leaves it
    out = student.train_one_epoch(model, _loader(sandbox, x, y, 2), loss_fn, opt)
    if type(out) is not float:
        fail(f"train_one_epoch should return the mean loss as a Python float, got {describe(out)}")
    if not model.training:
        trap("train_mode_not_restored", "the model was in eval mode before train_one_epoch and still is after it")


@check("predict", points=1, traps=["eval_with_grad"])
def test_predict_no_grad(student, sandbox, device):
    weight, bias = torch.tensor([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]]), torch.tensor([0.1, 0.2, 0.3])
    model = _linear(sandbox, device, weight, bias)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0], [2.0, -1.0]], device=device)
    out = as_tensor(student.predict(model, _loader(sandbox, x, torch.zeros(5, dtype=torch.long, device=device), 2)), "predict(model, loader)")
    if facts(out).requires_grad or facts(out).grad_fn is not None:
        trap("eval_with_grad", f"the outputs require grad (grad_fn {facts(out).grad_fn})")
    expected = x @ weight.to(device).T + bias.to(device)
    if tuple(out.shape) != (5, 3) or not torch.allclose(out.detach(), expected, rtol=1e-5, atol=1e-5):
        fail(f"predict(model, loader) should be the model's outputs for all 5 samples, shape (5, 3); got shape {tuple(out.shape)}")
