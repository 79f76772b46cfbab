"""Hidden checks for unit 12: training and evaluation.

Models are built in the sandbox (``sandbox.make("torch.nn.Linear", ...)``,
wrapped in ``torch.nn.Sequential``) and given weights drawn here with
``load_state_dict``; a copy of each model on the trusted side computes the
expected values. DataLoaders are built in the sandbox from tensors passed in
(``TensorDataset`` + ``DataLoader``), with batch sizes that leave a short
last batch.

Devices: the checks that use the ``device`` fixture put the model AND the
data on that device, so only the device checks are about moving batches. A
missing ``.to(device)`` is caught on a machine without a GPU by building the
model on ``fakegpu`` (a second device faked on the CPU, with real values) and
handing out CPU batches: an operation that mixes a fakegpu parameter with a
CPU tensor raises "Expected all tensors to be on the same device", exactly as
a CUDA model does with CPU batches, and the outputs must come back on fakegpu
with the right values.

Modes: ``train_one_epoch`` must leave the model in training mode even when it
comes back from an evaluation; ``fit`` is checked through a BatchNorm layer,
whose ``num_batches_tracked`` counts only the batches seen in training mode.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from autograder.checks import FAKE_GPU, as_tensor, check, describe, expect_close, expect_tensor, facts, fail, trap, is_plain_tensor
from autograder.remote import Remote, StudentError

DIGITS = Path(__file__).resolve().parents[2] / "assignments" / "12_training" / "digits.csv"
MODULE = "torch.nn.modules.module.Module"
_DEVICE_ERRORS = ("expected device", "same device", "Expected all tensors")


# --------------------------------------------------------------------------
# helpers (trusted side)


def build(sandbox, gen: torch.Generator, layers: list[tuple[str, tuple]], device: str, scale: float = 0.6):
    """The same nn.Sequential in the sandbox and here, with weights drawn from ``gen``.

    ``layers`` is a list of ``(class name in torch.nn, args)``. Returns
    ``(remote model on device, local model on the CPU)``.
    """
    local = nn.Sequential(*[getattr(nn, name)(*args) for name, args in layers])
    with torch.no_grad():
        for p in local.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * scale)
    parts = []
    for (name, args), layer in zip(layers, local, strict=True):
        kwargs = {"device": device} if any(True for _ in layer.parameters()) else {}
        parts.append(sandbox.make(f"torch.nn.{name}", *args, **kwargs))
    remote = sandbox.make("torch.nn.Sequential", *parts)
    remote.load_state_dict({k: v.to(device) for k, v in local.state_dict().items()})
    return remote, local


def loader(sandbox, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool):
    ds = sandbox.make("torch.utils.data.TensorDataset", x, y)
    return sandbox.make("torch.utils.data.DataLoader", ds, batch_size=batch_size, shuffle=shuffle)


def module(value, what: str):
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if not (isinstance(value, Remote) and value.is_instance(MODULE)):
        fail(f"{what} should be an nn.Module, got {describe(value)}")
    return value


def pair(value, what: str) -> tuple:
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if type(value) is not tuple or len(value) != 2:
        fail(f"{what} should be a tuple of two things, got {describe(value)}")
    return value


def params(model) -> dict[str, torch.Tensor]:
    """A remote model's parameters by name, as tensors here."""
    return {name: as_tensor(p, f"parameter {name}").detach() for name, p in model.named_parameters()}


def training_flags(model) -> dict[str, bool]:
    return {name or "the model": bool(m.training) for name, m in model.named_modules()}


def blobs(gen: torch.Generator, n: int, d: int, k: int, spread: float = 5.0) -> tuple[torch.Tensor, torch.Tensor]:
    """n points in d dimensions around k well separated centres (k <= d); int64 labels."""
    axes = torch.eye(d)[torch.randperm(d, generator=gen)[:k]]
    signs = torch.randint(0, 2, (k, 1), generator=gen) * 2 - 1
    centres = spread * signs * axes + 0.5 * torch.randn(k, d, generator=gen)
    y = torch.arange(n) % k
    y = y[torch.randperm(n, generator=gen)]
    x = centres[y] + torch.randn(n, d, generator=gen)
    return x, y


def device_error(exc: StudentError) -> bool:
    return exc.type == "RuntimeError" and any(s in exc.detail for s in _DEVICE_ERRORS)


def device_call(fn, *args, what: str):
    """Call ``fn`` with a model on fakegpu and CPU batches; name the trap on a device error."""
    try:
        return fn(*args)
    except StudentError as exc:
        if device_error(exc):
            trap("device_mismatch", f"{what} with the model on '{FAKE_GPU}' and CPU batches raised {exc.type}: {exc.detail}; move each batch to the model's device")
        raise


def conv_tol(device: str) -> dict[str, float]:
    """Tolerances for convolution outputs: cuDNN may run convolutions in TF32 on a GPU."""
    return {"rtol": 1e-4, "atol": 1e-5} if device in ("cpu", FAKE_GPU) else {"rtol": 5e-3, "atol": 5e-3}


def read_digits() -> tuple[torch.Tensor, torch.Tensor]:
    xy = np.loadtxt(DIGITS, delimiter=",", skiprows=1, dtype=np.float32)
    images = torch.from_numpy(xy[:, 1:] / 16.0).reshape(-1, 1, 8, 8)
    return images, torch.from_numpy(xy[:, 0]).long()


# --------------------------------------------------------------------------
# E3: model_device


@check("model_device", points=1)
def test_model_device(student, sandbox, gen, device):
    model, _ = build(sandbox, gen, [("Linear", (3, 4)), ("ReLU", ()), ("Linear", (4, 5))], device)
    out = student.model_device(model)
    if out is None:
        fail("model_device(model) is None: the TODO is not done yet (or a return is missing)")
    if type(out) is not torch.device:
        fail(f"model_device(model) should return a torch.device, got {describe(out)}")
    if out.type != torch.device(device).type:
        fail(f"model_device(model) returned {out} for a model whose parameters are on {device}: ask the parameters, do not hard-code a device")


# --------------------------------------------------------------------------
# E4: SmallCNN

CNN_SHAPES = {
    "conv1.weight": (16, 1, 3, 3),
    "conv1.bias": (16,),
    "conv2.weight": (32, 16, 3, 3),
    "conv2.bias": (32,),
    "fc.weight": (7, 128),
    "fc.bias": (7,),
}


@check("SmallCNN", points=1)
def test_cnn_layers(student):
    model = module(student.SmallCNN(7), "SmallCNN(7)")
    for name, kind in [("conv1", "Conv2d"), ("conv2", "Conv2d"), ("pool", "MaxPool2d"), ("fc", "Linear")]:
        layer = getattr(model, name)
        qual = {"Conv2d": "torch.nn.modules.conv.Conv2d", "MaxPool2d": "torch.nn.modules.pooling.MaxPool2d", "Linear": "torch.nn.modules.linear.Linear"}[kind]
        if not (isinstance(layer, Remote) and layer.is_instance(qual)):
            fail(f"self.{name} should be an nn.{kind}, got {describe(layer)}")
    for name in ("conv1", "conv2"):
        layer = getattr(model, name)
        if tuple(layer.padding) != (1, 1) or tuple(layer.kernel_size) != (3, 3):
            fail(f"self.{name} should have kernel_size=3 and padding=1, got kernel_size={tuple(layer.kernel_size)}, padding={layer.padding}")
    got = {name: tuple(p.shape) for name, p in params(model).items()}
    if got != CNN_SHAPES:
        fail(f"SmallCNN(7) should hold exactly the parameters {CNN_SHAPES}, got {got}")
    default = {name: tuple(p.shape) for name, p in params(module(student.SmallCNN(), "SmallCNN()")).items()}
    if default.get("fc.bias") != (10,):
        fail(f"SmallCNN() should have 10 classes by default (the digits), got an output layer of {default.get('fc.bias')}")


@check("SmallCNN", points=2)
def test_cnn_forward(student, reference, gen, device):
    model = module(student.SmallCNN(7), "SmallCNN(7)")
    got = {name: tuple(p.shape) for name, p in params(model).items()}
    if got != CNN_SHAPES:
        fail(f"SmallCNN(7) should hold exactly the parameters {CNN_SHAPES}, got {got}")
    local = reference.SmallCNN(7)
    with torch.no_grad():
        for p in local.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.4)
    model.load_state_dict({k: v.to(device) for k, v in local.state_dict().items()})
    model.to(device)
    for n in (5, 3):
        x = torch.rand(n, 1, 8, 8, generator=gen)
        out = as_tensor(model(x.to(device)), f"model(x) for x of shape ({n}, 1, 8, 8)")
        if tuple(out.shape) != (n, 7):
            fail(f"model(x) for x of shape ({n}, 1, 8, 8) should have shape ({n}, 7), got {tuple(out.shape)}")
        with torch.no_grad():
            expected = local(x)
        expect_tensor(out.detach(), expected.to(device), what=f"SmallCNN(7) on a batch of {n} images", **conv_tol(device))


# --------------------------------------------------------------------------
# E1 + E3: train_one_epoch


@check("train_one_epoch", points=2)
def test_train_one_epoch_updates(student, sandbox, gen, device):
    n, lr, batch = 13, 0.1, 5  # batches of 5, 5, 3
    model, local = build(sandbox, gen, [("Linear", (5, 3))], device)
    loss_fn = sandbox.make("torch.nn.CrossEntropyLoss")
    opt = sandbox.make("torch.optim.SGD", model.parameters(), lr=lr)
    x = torch.randn(n, 5, generator=gen)
    y = torch.randint(0, 3, (n,), generator=gen)
    data = loader(sandbox, x.to(device), y.to(device), batch, False)

    w0 = local[0].weight.detach().clone()
    # The same epoch here, by the book.
    losses, sizes = [], []
    for i in range(0, n, batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        loss = nn.functional.cross_entropy(local(xb), yb)
        local.zero_grad()
        loss.backward()
        with torch.no_grad():  # one plain SGD step
            for p in local.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
        sizes.append(len(yb))
    per_sample = sum(v * s for v, s in zip(losses, sizes)) / n
    per_batch = sum(losses) / len(losses)

    out = student.train_one_epoch(model, data, loss_fn, opt)
    if is_plain_tensor(out):
        fail(f"train_one_epoch returned a tensor ({describe(out)}): return a Python float (sum of loss.item() * batch size, divided by the number of samples)")
    if type(out) in (int, float) and math.isclose(out, per_batch, rel_tol=1e-5) and not math.isclose(out, per_sample, rel_tol=1e-5):
        fail(f"train_one_epoch returned {out:.6g}, the plain mean of the batch losses; the batches hold {sizes} samples: weight each batch's loss by its size (expected {per_sample:.6g})")
    expect_close(out, per_sample, what="the mean loss per sample train_one_epoch returned", rtol=1e-4, atol=1e-6)
    w = as_tensor(model[0].weight, "model.weight").detach()
    if torch.equal(w.cpu(), w0):
        fail("the model's weights did not change: call loss.backward() and optimizer.step() for every batch")
    expect_tensor(w, local[0].weight.detach().to(device), what=f"the weight after one epoch ({len(sizes)} SGD steps)", rtol=1e-4, atol=1e-5)
    expect_tensor(as_tensor(model[0].bias, "model.bias").detach(), local[0].bias.detach().to(device), what="the bias after one epoch", rtol=1e-4, atol=1e-5)


@check("train_one_epoch", points=1, traps=["train_mode_not_restored"])
def test_train_mode_restored(student, sandbox, gen, device):
    layers = [("Linear", (4, 6)), ("ReLU", ()), ("Dropout", (0.3,)), ("Linear", (6, 3))]
    model, _ = build(sandbox, gen, layers, device)
    loss_fn = sandbox.make("torch.nn.CrossEntropyLoss")
    opt = sandbox.make("torch.optim.SGD", model.parameters(), lr=0.05)
    x = torch.randn(11, 4, generator=gen)
    y = torch.randint(0, 3, (11,), generator=gen)
    data = loader(sandbox, x.to(device), y.to(device), 4, True)
    student.train_one_epoch(model, data, loss_fn, opt)
    model.eval()  # what an evaluation between two epochs leaves behind
    student.train_one_epoch(model, data, loss_fn, opt)
    flags = training_flags(model)
    off = [name for name, on in flags.items() if not on]
    if off:
        trap("train_mode_not_restored", f"after train -> eval -> train_one_epoch, these are still in eval mode: {off}; the second epoch trained without dropout")


@check("train_one_epoch", points=1, traps=["device_mismatch"])
def test_train_one_epoch_device(student, sandbox, gen):
    model, local = build(sandbox, gen, [("Linear", (5, 4)), ("ReLU", ()), ("Linear", (4, 3))], FAKE_GPU)
    loss_fn = sandbox.make("torch.nn.CrossEntropyLoss")
    opt = sandbox.make("torch.optim.SGD", model.parameters(), lr=0.1)
    x = torch.randn(10, 5, generator=gen)
    y = torch.randint(0, 3, (10,), generator=gen)
    device_call(student.train_one_epoch, model, loader(sandbox, x, y, 4, False), loss_fn, opt, what="train_one_epoch")
    local_opt = torch.optim.SGD(local.parameters(), lr=0.1)
    for i in range(0, 10, 4):
        local_opt.zero_grad()
        nn.functional.cross_entropy(local(x[i : i + 4]), y[i : i + 4]).backward()
        local_opt.step()
    for name, p in params(model).items():
        expect_tensor(p, local.state_dict()[name].to(FAKE_GPU), what=f"{name} after one epoch on {FAKE_GPU}", rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------
# E2 + E3: predict


def _dropout_model(sandbox, gen, device):
    return build(sandbox, gen, [("Linear", (5, 4)), ("ReLU", ()), ("Dropout", (0.5,)), ("Linear", (4, 3))], device)


@check("predict", points=1, traps=["eval_mode_missing"])
def test_predict_eval_mode(student, sandbox, gen, device):
    model, local = _dropout_model(sandbox, gen, device)  # fresh: in training mode
    x = torch.randn(14, 5, generator=gen)
    y = torch.randint(0, 3, (14,), generator=gen)
    out = as_tensor(student.predict(model, loader(sandbox, x.to(device), y.to(device), 4, False)), "predict(model, loader)")
    local.eval()
    with torch.no_grad():
        expected = local(x).to(device)
    training = bool(model.training)
    if out.shape == expected.shape and training and not torch.allclose(out.detach().cpu(), expected.cpu(), rtol=1e-4, atol=1e-5):
        trap("eval_mode_missing", "the outputs of a model with dropout differ from its eval-mode outputs and the model is still in training mode: call model.eval()")
    expect_tensor(out.detach(), expected, what="predict(model, loader) for 14 samples in batches of 4", rtol=1e-4, atol=1e-5)
    if training:
        fail("after predict the model is back in training mode: call model.eval() and leave it so")


@check("predict", points=1, traps=["eval_with_grad"])
def test_predict_no_grad(student, sandbox, gen, device):
    model, local = build(sandbox, gen, [("Linear", (5, 4)), ("ReLU", ()), ("Linear", (4, 3))], device)
    x = torch.randn(14, 5, generator=gen)
    y = torch.randint(0, 3, (14,), generator=gen)
    out = as_tensor(student.predict(model, loader(sandbox, x.to(device), y.to(device), 4, False)), "predict(model, loader)")
    f = facts(out)
    if f.requires_grad or f.grad_fn is not None:
        trap("eval_with_grad", f"the outputs require grad (grad_fn {f.grad_fn}): the forward passes recorded a graph")
    with torch.no_grad():
        expected = local(x).to(device)
    expect_tensor(out, expected, what="predict(model, loader) for 14 samples in batches of 4", rtol=1e-4, atol=1e-5)


@check("predict", points=1, traps=["device_mismatch"])
def test_predict_device(student, sandbox, gen):
    model, local = build(sandbox, gen, [("Linear", (5, 4)), ("ReLU", ()), ("Linear", (4, 3))], FAKE_GPU)
    x = torch.randn(14, 5, generator=gen)
    y = torch.randint(0, 3, (14,), generator=gen)
    out = device_call(student.predict, model, loader(sandbox, x, y, 4, False), what="predict")
    with torch.no_grad():
        expected = local(x).to(FAKE_GPU)
    expect_tensor(as_tensor(out, "predict(model, loader)").detach(), expected, what=f"predict(model, loader) for a model on {FAKE_GPU}", rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------
# E2: evaluate


def _labels_with_accuracy(gen, logits: torch.Tensor, right: int) -> torch.Tensor:
    """Labels that agree with argmax(logits) at exactly ``right`` random positions."""
    n, k = logits.shape
    pred = logits.argmax(dim=1)
    wrong = (pred + torch.randint(1, k, (n,), generator=gen)) % k
    keep = torch.zeros(n, dtype=torch.bool)
    keep[torch.randperm(n, generator=gen)[:right]] = True
    return torch.where(keep, pred, wrong)


@check("evaluate", points=1)
def test_evaluate_accuracy(student, sandbox, gen, device):
    model, local = build(sandbox, gen, [("Linear", (4, 3))], device)
    x = torch.randn(23, 4, generator=gen)
    with torch.no_grad():
        y = _labels_with_accuracy(gen, local(x), 17)
    out = student.evaluate(model, loader(sandbox, x.to(device), y.to(device), 5, True))
    if is_plain_tensor(out):
        fail(f"evaluate returned a tensor ({describe(out)}): return a Python float, correct / total")
    expect_close(out, 17 / 23, what="evaluate(model, loader): accuracy on 23 samples (17 right), shuffled batches of 5", rtol=0, atol=1e-9)


@check("evaluate", points=1)
def test_evaluate_mode(student, sandbox, gen, device):
    layers = [("Linear", (4, 6)), ("ReLU", ()), ("Dropout", (0.5,)), ("Linear", (6, 3))]
    model, local = build(sandbox, gen, layers, device)  # fresh: in training mode
    x = torch.randn(29, 4, generator=gen)
    local.eval()
    with torch.no_grad():
        y = _labels_with_accuracy(gen, local(x), 19)
    out = student.evaluate(model, loader(sandbox, x.to(device), y.to(device), 6, False))
    if bool(model.training):
        fail("after evaluate the model is still in training mode (dropout on): call model.eval() first")
    expect_close(out, 19 / 29, what="evaluate(model, loader) for a model with dropout (29 samples, 19 right in eval mode)", rtol=0, atol=1e-9)


# --------------------------------------------------------------------------
# E1 + E2: fit


@check("fit", points=2)
def test_fit_learns(student, sandbox, gen, device):
    epochs = 5
    x, y = blobs(gen, 135, 4, 3)
    xtr, ytr, xte, yte = x[:90], y[:90], x[90:], y[90:]
    model, _ = build(sandbox, gen, [("Linear", (4, 16)), ("ReLU", ()), ("Linear", (16, 3))], device, scale=0.25)
    loss_fn = sandbox.make("torch.nn.CrossEntropyLoss")
    opt = sandbox.make("torch.optim.Adam", model.parameters(), lr=0.02)
    train_data = loader(sandbox, xtr.to(device), ytr.to(device), 16, True)
    test_data = loader(sandbox, xte.to(device), yte.to(device), 20, False)
    losses, accs = pair(student.fit(model, train_data, test_data, loss_fn, opt, epochs), "fit(...)")
    for name, values in (("losses", losses), ("accuracies", accs)):
        if type(values) is not list or len(values) != epochs or not all(type(v) is float for v in values):
            fail(f"the {name} should be a list of {epochs} Python floats, one per epoch, got {describe(values)}"
                 + (f" of length {len(values)}" if type(values) is list else ""))
    if not all(math.isfinite(v) for v in losses) or not losses[-1] < 0.7 * losses[0]:
        fail(f"the training loss did not fall: {[round(v, 4) for v in losses]}")
    model.eval()
    pred = as_tensor(model(xte.to(device)), "model(x_test)").detach().argmax(dim=1).cpu()
    acc = (pred == yte).float().mean().item()
    # One sample of slack: batched and full-batch forward passes may round a near tie differently.
    expect_close(accs[-1], acc, what="the last test accuracy fit returned (against the trained model's accuracy on the test data)", rtol=0, atol=1.5 / len(yte))
    if acc < 0.9:
        fail(f"after {epochs} epochs on well separated classes the test accuracy is {acc:.3f}, expected at least 0.9")


@check("fit", points=1, traps=["train_mode_not_restored"])
def test_fit_train_mode(student, sandbox, gen, device):
    epochs = 3
    x, y = blobs(gen, 126, 4, 3)  # 84 training samples in batches of 16: 5 full and one of 4
    layers = [("Linear", (4, 6)), ("BatchNorm1d", (6,)), ("ReLU", ()), ("Linear", (6, 3))]
    model, _ = build(sandbox, gen, layers, device)
    loss_fn = sandbox.make("torch.nn.CrossEntropyLoss")
    opt = sandbox.make("torch.optim.SGD", model.parameters(), lr=0.05)
    train_data = loader(sandbox, x[:84].to(device), y[:84].to(device), 16, True)
    test_data = loader(sandbox, x[84:].to(device), y[84:].to(device), 21, False)
    pair(student.fit(model, train_data, test_data, loss_fn, opt, epochs), "fit(...)")
    tracked = int(as_tensor(model[1].num_batches_tracked, "num_batches_tracked").item())
    per_epoch = 6
    if tracked < epochs * per_epoch and tracked % per_epoch == 0 and tracked >= per_epoch:
        trap("train_mode_not_restored", f"the BatchNorm layer learned from {tracked // per_epoch} of {epochs} epochs ({tracked} batches, expected {epochs * per_epoch}): after the first evaluation the model trained on in eval mode")
    if tracked != epochs * per_epoch:
        fail(f"the BatchNorm layer saw {tracked} training batches, expected {epochs} epochs x {per_epoch} batches = {epochs * per_epoch}")


# --------------------------------------------------------------------------
# E5: save_model, load_model


@check("save_model", points=1)
def test_save_model(student, sandbox, gen):
    model, local = build(sandbox, gen, [("Linear", (5, 3))], "cpu")
    student.save_model(model, "saved_linear.pt")
    if not sandbox.has_file("saved_linear.pt"):
        fail("save_model(model, 'saved_linear.pt') wrote no file 'saved_linear.pt' in the working folder")
    try:  # read it in the sandbox, never here
        state = sandbox.make("torch.load", "saved_linear.pt", weights_only=True)
    except StudentError as exc:
        fail(f"the saved file cannot be read with torch.load(path, weights_only=True) ({exc.type}): save model.state_dict(), not the model object")
    fresh, _ = build(sandbox, gen, [("Linear", (5, 3))], "cpu")  # other weights
    try:
        fresh.load_state_dict(state)
    except StudentError as exc:
        fail(f"the saved file is not the model's state_dict: load_state_dict of it raised {exc.type}: {exc.detail[:300]}")
    expect_tensor(as_tensor(fresh[0].weight, "weight").detach(), local[0].weight.detach(), what="the weight loaded back from the file")
    expect_tensor(as_tensor(fresh[0].bias, "bias").detach(), local[0].bias.detach(), what="the bias loaded back from the file")


def _expect_loaded(loaded, expected: dict[str, torch.Tensor], device: str, what: str) -> None:
    got = params(loaded)
    if set(got) != set(expected):
        fail(f"{what} has parameters {sorted(got)}, expected {sorted(expected)}")
    for name, value in expected.items():
        expect_tensor(got[name], value.to(device), what=f"{what}: parameter {name}")
    if bool(loaded.training):
        fail(f"{what} is in training mode: call model.eval() before returning it")


@check("load_model", points=1)
def test_load_model_from_file(student, sandbox, reference, gen, device):
    local = reference.SmallCNN(7)
    with torch.no_grad():
        for p in local.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.4)
    saved = io.BytesIO()
    torch.save(local.state_dict(), saved)  # made here, handed over by content, read in the sandbox
    sandbox.put_file("digits_cnn.pt", saved.getvalue())
    loaded = module(student.load_model("digits_cnn.pt", 7, device), "load_model('digits_cnn.pt', 7, device)")
    _expect_loaded(loaded, dict(local.named_parameters()), device, "the loaded model")
    x = torch.rand(5, 1, 8, 8, generator=gen)
    with torch.no_grad():
        expected = local(x)
    expect_tensor(as_tensor(loaded(x.to(device)), "loaded(x)").detach(), expected.to(device), what="the loaded model's outputs", **conv_tol(device))


@check("load_model", points=1, fakegpu=False)
def test_load_model_gpu_checkpoint(student, sandbox, reference, gen):
    """A checkpoint saved on a GPU, loaded on a machine without one: only map_location gets it there."""
    local = reference.SmallCNN(4)
    with torch.no_grad():
        for p in local.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.4)
    saved = io.BytesIO()
    torch.save({k: v.to(FAKE_GPU) for k, v in local.state_dict().items()}, saved)
    sandbox.put_file("gpu_cnn.pt", saved.getvalue())
    set_available = sandbox.get(f"torch.{FAKE_GPU}.set_available")
    set_available(False)
    try:
        loaded = student.load_model("gpu_cnn.pt", 4, "cpu")
    except StudentError as exc:
        if "map_location" in exc.detail:
            fail(f"load_model('gpu_cnn.pt', 4, 'cpu') of a checkpoint saved on a GPU ({FAKE_GPU}), on a machine without one, raised "
                 f"{exc.type}: {exc.detail[:200]}; load with map_location=device so the tensors land on the device asked for")  # fmt: skip
        raise
    finally:
        set_available(True)
    _expect_loaded(module(loaded, "load_model('gpu_cnn.pt', 4, 'cpu')"), dict(local.named_parameters()), "cpu", "the model loaded from a GPU checkpoint")


@check("load_model", points=1)
def test_load_model_round_trip(student, sandbox, device):
    original = module(student.SmallCNN(6), "SmallCNN(6)").to(device)
    before = params(original)
    student.save_model(original, "round_trip.pt")
    loaded = module(student.load_model("round_trip.pt", 6, device), "load_model('round_trip.pt', 6, device)")
    _expect_loaded(loaded, before, device, "the model loaded back from save_model's file")


# --------------------------------------------------------------------------
# E4 + E1: train_digits


EPOCHS_DIGITS = 10


@check("train_digits", points=3)
def test_train_digits(student, sandbox, gen, device):
    images, labels = read_digits()
    perm = torch.randperm(len(labels), generator=gen)
    train, test = perm[:1437], perm[1437:]
    train_data = loader(sandbox, images[train].to(device), labels[train].to(device), 32, True)
    test_data = loader(sandbox, images[test].to(device), labels[test].to(device), 120, False)
    model, acc = pair(student.train_digits(train_data, test_data, device, EPOCHS_DIGITS), "train_digits(...)")
    model = module(model, "the model train_digits returned")
    if type(acc) is not float:
        fail(f"the test accuracy train_digits returned should be a Python float, got {describe(acc)}")
    model.eval()
    # in the test loader's own batches of 120: the same arithmetic as an evaluation over it
    batches = [as_tensor(model(images[test][i : i + 120].to(device)), "model(test images)").detach() for i in range(0, len(test), 120)]
    out = torch.cat(batches) if all(b.dim() == 2 for b in batches) else batches[0]
    if tuple(out.shape) != (len(test), 10):
        fail(f"the trained model maps the {len(test)} test images to {tuple(out.shape)}, expected ({len(test)}, 10)")
    measured = (out.argmax(dim=1).cpu() == labels[test]).float().mean().item()
    # The accuracy after the last epoch is the returned model's own, on the same batches: equal.
    expect_close(acc, measured, what="the test accuracy train_digits returned (against the returned model's accuracy on the test images after the last epoch)",
                 rtol=0, atol=0.5 / len(test))  # fmt: skip
    if measured <= 0.9:
        fail(f"the trained CNN reaches {measured:.3f} test accuracy after {EPOCHS_DIGITS} epochs; expected over 0.9")
