"""Hidden checks for unit 09: nn.Module.

Models are compared through their parameters: names and shapes from
``named_parameters()``, then known weights loaded with ``load_state_dict``
and the forward pass compared with the same computation done here with
``torch.nn.functional``. Dropout is graded by behaviour: deterministic and
equal to the no-dropout output in eval mode, random with the right mean in
train mode.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from autograder.checks import (
    is_plain_tensor,
    as_tensor,
    distinct_sizes,
    check,
    describe,
    expect_tensor,
    expect_value,
    facts,
    fail,
    trap,
    gradients_through,
)
from autograder.remote import Remote, SandboxError

MODULE = "torch.nn.modules.module.Module"
MODULE_LIST = "torch.nn.modules.container.ModuleList"


# ---------------------------------------------------------------- helpers


def randint(gen: torch.Generator, lo: int, hi: int) -> int:
    """A random int in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (1,), generator=gen))



def module(value, what: str):
    if value is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if not (isinstance(value, Remote) and value.is_instance(MODULE)):
        fail(f"{what} should be an nn.Module, got {describe(value)}")
    return value


def named_params(model, what: str) -> dict[str, torch.Tensor]:
    """``dict(model.named_parameters())``, checked to be tensors."""
    out = {}
    for item in model.named_parameters():
        name, p = item
        out[name] = as_tensor(p, f"{what}'s parameter {name!r}")
    return out


def expect_shapes(got: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], what: str) -> None:
    """Fail unless the parameter names and shapes are exactly ``expected``."""
    shapes = {k: tuple(v.shape) for k, v in got.items()}
    missing = [k for k in expected if k not in shapes]
    extra = [k for k in shapes if k not in expected]
    if missing or extra:
        fail(
            f"{what}.named_parameters() should list {list(expected)}, got {list(shapes)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; unexpected {extra} (check the attribute names)" if extra else "")
        )
    for k, shape in expected.items():
        if shapes[k] != shape:
            hint = ""
            if len(shape) == 2 and shapes[k] == shape[::-1]:
                hint = ": nn.Linear(in_features, out_features) has a weight of shape (out_features, in_features)"
            fail(f"{what}'s parameter {k!r} has shape {shapes[k]}, expected {shape}{hint}")


def linear_weights(gen: torch.Generator, d_in: int, d_out: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    bound = 1.0 / math.sqrt(d_in)
    w = (torch.rand(d_out, d_in, generator=gen) * 2 - 1) * bound * 1.5
    b = (torch.rand(d_out, generator=gen) * 2 - 1) * 0.5
    return w.to(device), b.to(device)


def conv_weights(gen: torch.Generator, c_in: int, c_out: int, k: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    bound = 1.0 / math.sqrt(c_in * k * k)
    w = (torch.rand(c_out, c_in, k, k, generator=gen) * 2 - 1) * bound * 1.5
    b = (torch.rand(c_out, generator=gen) * 2 - 1) * 0.3
    return w.to(device), b.to(device)


def tol(device: str, rtol: float, atol: float, gpu_slack: float = 10.0) -> dict[str, float]:
    """Tolerances for a forward pass compared with the same ops here; looser on a GPU (other kernels, TF32 convolutions)."""
    slack = gpu_slack if torch.device(device).type == "cuda" else 1.0
    return {"rtol": rtol * slack, "atol": atol * slack}


def logits_trap(out, expected: torch.Tensor, what: str) -> None:
    """Name activation_after_logits when ``out`` is the right logits passed through an activation."""
    if not is_plain_tensor(out) or out.shape != expected.shape:
        return
    o, e = out.detach().double().cpu(), expected.detach().double().cpu()
    if not bool((e < 0).any()):
        return
    for name, f in (("a ReLU", torch.relu), ("a sigmoid", torch.sigmoid), ("a softmax", lambda t: torch.softmax(t, dim=-1))):
        if torch.allclose(o, f(e), rtol=1e-3, atol=1e-4):
            trap("activation_after_logits", f"{what} equals the right logits passed through {name}; return the last layer's output as it is (raw logits, negative values included)")
    if bool((o >= 0).all()) and not torch.allclose(o, e, rtol=1e-3, atol=1e-4):
        in01 = bool((o <= 1).all())
        trap(
            "activation_after_logits",
            f"every value of {what} is {'in [0, 1]' if in01 else '>= 0'} (smallest {float(o.min()):.3g}), "
            f"but the right logits include negative values down to {float(e.min()):.3g}: no activation after the last layer",
        )


# ---------------------------------------------------------------- TwoLayerNet (M1, M2)


def _two_layer_sizes(gen):
    return randint(gen, 5, 8), randint(gen, 9, 12), randint(gen, 2, 4)


@check("TwoLayerNet", points=1)
def test_two_layer_parameters(student, gen):
    d_in, hidden, d_out = _two_layer_sizes(gen)
    what = f"TwoLayerNet({d_in}, {hidden}, {d_out})"
    model = module(student.TwoLayerNet(d_in, hidden, d_out), what)
    expect_shapes(
        named_params(model, what),
        {"fc1.weight": (hidden, d_in), "fc1.bias": (hidden,), "fc2.weight": (d_out, hidden), "fc2.bias": (d_out,)},
        what,
    )
    act = model.act
    if not (isinstance(act, Remote) and act.is_instance("torch.nn.modules.activation.Tanh")):
        fail(f"{what}.act should be an nn.Tanh(), got {describe(act)}")


@check("TwoLayerNet", points=2)
def test_two_layer_forward(student, sandbox, gen, device):
    d_in, hidden, d_out = _two_layer_sizes(gen)
    what = f"TwoLayerNet({d_in}, {hidden}, {d_out})"
    model = module(student.TwoLayerNet(d_in, hidden, d_out), what).to(device)
    w1, b1 = linear_weights(gen, d_in, hidden, device)
    w2, b2 = linear_weights(gen, hidden, d_out, device)
    model.load_state_dict({"fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2, "fc2.bias": b2})
    n = randint(gen, 6, 9)
    x = (2 * torch.randn(n, d_in, generator=gen)).to(device).requires_grad_()
    out = model(x)
    xl = x.detach().requires_grad_()
    expected = torch.tanh(xl @ w1.T + b1) @ w2.T + b2
    if is_plain_tensor(out) and out.shape == expected.shape:
        if torch.allclose(out, torch.relu(x @ w1.T + b1) @ w2.T + b2, rtol=1e-4, atol=1e-5):
            fail(f"{what}(x) applied a ReLU between the layers: this network uses nn.Tanh")
        if torch.allclose(out, (x @ w1.T + b1) @ w2.T + b2, rtol=1e-4, atol=1e-5):
            fail(f"{what}(x) applied no activation between the layers: apply self.act (nn.Tanh) to fc1's output")
    expect_tensor(out, expected.detach(), what=f"{what}(x) for x of shape ({n}, {d_in}) with known weights", **tol(device, 1e-5, 1e-5))
    g = torch.randn(out.shape, generator=gen).to(device)
    grads = gradients_through(sandbox, out, ["0"], g)
    if grads is None or grads[0] is None:
        fail(f"{what}(x) is not attached to the graph: the forward pass should use the registered layers (with their parameters) and record a graph")
    (right,) = torch.autograd.grad(expected, xl, g)
    expect_tensor(grads[0], right, what=f"the gradient through {what}(x) with respect to x", **tol(device, 1e-4, 1e-5))


# ---------------------------------------------------------------- count_parameters (M3)


def _conv_then_linear(sandbox, gen):
    """nn.Sequential(Conv2d, ReLU, Flatten, Linear) built in the sandbox; returns (model, conv count, linear count, tensors)."""
    c_in, c_out = randint(gen, 2, 4), randint(gen, 5, 8)
    k = randint(gen, 2, 4)
    f_in, f_out = randint(gen, 10, 30), randint(gen, 3, 9)
    model = sandbox.make(
        "torch.nn.Sequential",
        sandbox.make("torch.nn.Conv2d", c_in, c_out, k),
        sandbox.make("torch.nn.ReLU"),
        sandbox.make("torch.nn.Flatten"),
        sandbox.make("torch.nn.Linear", f_in, f_out),
    )
    desc = f"nn.Sequential(nn.Conv2d({c_in}, {c_out}, {k}), nn.ReLU(), nn.Flatten(), nn.Linear({f_in}, {f_out}))"
    return model, c_out * c_in * k * k + c_out, f_out * f_in + f_out, desc


def _expect_count(out, expected: int, what: str) -> None:
    if is_plain_tensor(out):
        fail(f"{what} returned a tensor {describe(out)}: return a Python int (sum the p.numel() ints, or use .item())")
    if type(out) is int and out == 4 and expected != 4:
        fail(f"{what} is 4, the number of parameter tensors; count their values: sum of p.numel()")
    expect_value(out, expected, what=what)


@check("count_parameters", points=1)
def test_count_parameters_all(student, sandbox, gen):
    model, n_conv, n_lin, desc = _conv_then_linear(sandbox, gen)
    _expect_count(student.count_parameters(model), n_conv + n_lin, f"count_parameters({desc})")


@check("count_parameters", points=1)
def test_count_parameters_trainable(student, sandbox, gen):
    model, n_conv, n_lin, desc = _conv_then_linear(sandbox, gen)
    model[0].requires_grad_(False)
    what = f"count_parameters(model, trainable_only=True) with the Conv2d frozen, for {desc}"
    out = student.count_parameters(model, trainable_only=True)
    if out == n_conv + n_lin:
        fail(f"{what} counted the frozen Conv2d too ({out}); keep only parameters with p.requires_grad")
    _expect_count(out, n_lin, what)
    _expect_count(student.count_parameters(model), n_conv + n_lin, f"count_parameters(model) (all parameters, frozen ones too) for {desc}")


# ---------------------------------------------------------------- parameter_shapes (M3)


@check("parameter_shapes", points=1)
def test_parameter_shapes(student, sandbox, gen):
    a, b, c = distinct_sizes(gen, 3, 3, 10)
    ch, k = randint(gen, 2, 5), randint(gen, 2, 3)
    inner = sandbox.make("torch.nn.Sequential", sandbox.make("torch.nn.Linear", a, b), sandbox.make("torch.nn.Tanh"), sandbox.make("torch.nn.Linear", b, c, bias=False))
    model = sandbox.make("torch.nn.Sequential", sandbox.make("torch.nn.Conv2d", 1, ch, k), sandbox.make("torch.nn.Flatten"), inner)
    expected = {
        "0.weight": (ch, 1, k, k),
        "0.bias": (ch,),
        "2.0.weight": (b, a),
        "2.0.bias": (b,),
        "2.2.weight": (c, b),
    }
    desc = f"nn.Sequential(nn.Conv2d(1, {ch}, {k}), nn.Flatten(), nn.Sequential(nn.Linear({a}, {b}), nn.Tanh(), nn.Linear({b}, {c}, bias=False)))"
    out = student.parameter_shapes(model)
    if out is None:
        fail("parameter_shapes returned None: the TODO is not done yet (or a return is missing)")
    if type(out) is not dict:
        fail(f"parameter_shapes should return a dict, got {describe(out)}")
    if set(out) != set(expected):
        fail(f"parameter_shapes({desc}) has the names {sorted(map(str, out))}, expected {sorted(expected)} (the names named_parameters() gives)")
    for name, shape in expected.items():
        got = out[name]
        if not isinstance(got, tuple) or not all(type(d) is int for d in got):
            fail(f"parameter_shapes(...)[{name!r}] should be a tuple of ints (tuple(p.shape)), got {describe(got)}")
        expect_value(tuple(got), shape, what=f"parameter_shapes({desc})[{name!r}]")


# ---------------------------------------------------------------- MLP (M1, M3; traps unregistered_list, activation_after_logits)


def _mlp_expected(sizes: list[int]) -> dict[str, tuple[int, ...]]:
    out = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        out[f"layers.{i}.weight"], out[f"layers.{i}.bias"] = (b, a), (b,)
    return out


def _mlp_registered(model, sizes: list[int], what: str) -> dict[str, torch.Tensor]:
    """Name unregistered_list when the layers are not registered; return the named parameters."""
    n_layers = len(sizes) - 1
    try:
        layers = model.layers
    except SandboxError:
        layers = None  # no .layers attribute: the names below say so
    if type(layers) in (list, tuple):
        trap("unregistered_list", f"{what}.layers is a plain Python {type(layers).__name__} of {len(layers)} layers: nn.Module does not register modules in it, so named_parameters() does not list them; use nn.ModuleList")
    params = named_params(model, what)
    if len(params) < 2 * n_layers:
        trap("unregistered_list", f"{what}.named_parameters() lists {len(params)} parameters ({list(params)}), expected {2 * n_layers} for {n_layers} linear layers: layers kept in a plain list are not registered; use nn.ModuleList")
    if isinstance(layers, Remote) and not layers.is_instance(MODULE_LIST):
        fail(f"{what}.layers should be an nn.ModuleList, got {describe(layers)}")
    return params


@check("MLP", points=2, traps=["unregistered_list"])
def test_mlp_registered(student, gen):
    sizes = [randint(gen, 7, 9), randint(gen, 5, 6), randint(gen, 10, 12), randint(gen, 2, 4)]
    what = f"MLP({sizes})"
    model = module(student.MLP(sizes), what)
    params = _mlp_registered(model, sizes, what)
    expect_shapes(params, _mlp_expected(sizes), what)
    n = sum(1 for _ in model.parameters())
    if n != 2 * (len(sizes) - 1):
        fail(f"{what}.parameters() yields {n} tensors, expected {2 * (len(sizes) - 1)}")


@check("MLP", points=2, traps=["unregistered_list", "activation_after_logits"])
def test_mlp_forward(student, gen, device):
    for sizes in ([randint(gen, 5, 7), randint(gen, 8, 10), randint(gen, 11, 13), randint(gen, 3, 4)], [randint(gen, 4, 6), randint(gen, 2, 3)]):
        what = f"MLP({sizes})"
        model = module(student.MLP(sizes), what)
        _mlp_registered(model, sizes, what)
        model = model.to(device)
        weights = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            weights[f"layers.{i}.weight"], weights[f"layers.{i}.bias"] = linear_weights(gen, a, b, device)
        model.load_state_dict(weights)
        n = randint(gen, 6, 9)
        x = (2 * torch.randn(n, sizes[0], generator=gen)).to(device)
        h = x
        for i in range(len(sizes) - 1):
            h = h @ weights[f"layers.{i}.weight"].T + weights[f"layers.{i}.bias"]
            if i < len(sizes) - 2:
                h = torch.relu(h)
        out = model(x)
        logits_trap(out, h, f"{what}(x)")
        expect_tensor(out, h, what=f"{what}(x) for x of shape ({n}, {sizes[0]}) with known weights", **tol(device, 1e-5, 1e-5))


# ---------------------------------------------------------------- conv_feature_shape (M2)


def conv_stack_shape(height: int, width: int) -> tuple[int, int, int]:
    """Run the documented conv stack on a zero image here: the shapes torch itself gives."""
    x = torch.zeros(1, 1, height, width)
    x = F.max_pool2d(F.relu(F.conv2d(x, torch.zeros(1, 1, 5, 5))), 2, 2)
    x = F.relu(F.conv2d(x, torch.zeros(16, 1, 3, 3), stride=2, padding=1))
    return tuple(int(d) for d in x.shape[1:])


def _expect_shape_tuple(out, expected: tuple[int, int, int], what: str) -> None:
    if out is None:
        fail(f"{what} is None: the TODO is not done yet (or a return is missing)")
    if not isinstance(out, tuple) or not all(type(d) is int for d in out):
        fail(f"{what} should be a tuple of three Python ints (channels, height, width), got {describe(out)}" + (f" {out!r}" if isinstance(out, (list, tuple)) else ""))
    out = tuple(out)
    if len(out) == 3 and out == (expected[0], expected[2], expected[1]) and expected[1] != expected[2]:
        fail(f"{what} is {out}: height and width are swapped, expected {expected}")
    expect_value(out, expected, what=what)


@check("conv_feature_shape", points=1)
def test_conv_feature_shape_examples(student):
    for h, w in ((28, 20), (32, 17), (11, 14)):
        _expect_shape_tuple(student.conv_feature_shape(h, w), conv_stack_shape(h, w), f"conv_feature_shape({h}, {w})")


@check("conv_feature_shape", points=1)
def test_conv_feature_shape_random(student, gen):
    hs = distinct_sizes(gen, 5, 9, 71)
    ws = distinct_sizes(gen, 5, 9, 71)
    for h, w in zip(hs, ws):
        if h == w:
            w += 1
        _expect_shape_tuple(student.conv_feature_shape(h, w), conv_stack_shape(h, w), f"conv_feature_shape({h}, {w})")


# ---------------------------------------------------------------- SmallCNN (M1, M2; trap activation_after_logits)


def _cnn_sizes(gen):
    c_in = [1, 3][randint(gen, 0, 1)]
    classes = randint(gen, 4, 7)
    h, w = distinct_sizes(gen, 2, 14, 31)
    return c_in, classes, h, w


def _cnn_expected_shapes(c_in, classes, h, w):
    c, hh, ww = conv_stack_shape(h, w)
    return {
        "conv1.weight": (6, c_in, 5, 5),
        "conv1.bias": (6,),
        "conv2.weight": (16, 6, 3, 3),
        "conv2.bias": (16,),
        "fc.weight": (classes, c * hh * ww),
        "fc.bias": (classes,),
    }


@check("SmallCNN", points=1)
def test_cnn_output_shape(student, gen, device):
    c_in, classes, h, w = _cnn_sizes(gen)
    what = f"SmallCNN({c_in}, {classes}, {h}, {w})"
    model = module(student.SmallCNN(c_in, classes, h, w), what).to(device)
    n = randint(gen, 2, 4)
    x = torch.randn(n, c_in, h, w, generator=gen).to(device)
    out = as_tensor(model(x), f"{what}(x) for x of shape {(n, c_in, h, w)}")
    if tuple(out.shape) != (n, classes):
        fail(f"{what}(x) for x of shape {(n, c_in, h, w)} should have shape ({n}, {classes}), got {tuple(out.shape)} (flatten from dimension 1 to keep the batch)")
    if out.device.type != torch.device(device).type:
        fail(f"{what}(x) is on {out.device}, the input was on {device}: do not hard-code a device")


@check("SmallCNN", points=1)
def test_cnn_parameters(student, gen):
    c_in, classes, h, w = _cnn_sizes(gen)
    what = f"SmallCNN({c_in}, {classes}, {h}, {w})"
    model = module(student.SmallCNN(c_in, classes, h, w), what)
    expect_shapes(named_params(model, what), _cnn_expected_shapes(c_in, classes, h, w), what)


@check("SmallCNN", points=2, traps=["activation_after_logits"])
def test_cnn_forward(student, gen, device):
    c_in, classes, h, w = _cnn_sizes(gen)
    what = f"SmallCNN({c_in}, {classes}, {h}, {w})"
    model = module(student.SmallCNN(c_in, classes, h, w), what).to(device)
    w1, b1 = conv_weights(gen, c_in, 6, 5, device)
    w2, b2 = conv_weights(gen, 6, 16, 3, device)
    c, hh, ww = conv_stack_shape(h, w)
    w3, b3 = linear_weights(gen, c * hh * ww, classes, device)
    model.load_state_dict({"conv1.weight": w1, "conv1.bias": b1, "conv2.weight": w2, "conv2.bias": b2, "fc.weight": w3, "fc.bias": b3})
    n = randint(gen, 3, 5)
    x = torch.randn(n, c_in, h, w, generator=gen).to(device)
    z = F.max_pool2d(F.relu(F.conv2d(x, w1, b1)), 2, 2)
    z = F.relu(F.conv2d(z, w2, b2, stride=2, padding=1))
    expected = torch.flatten(z, 1) @ w3.T + b3
    out = model(x)
    logits_trap(out, expected, f"{what}(x)")
    expect_tensor(out, expected, what=f"{what}(x) for x of shape {(n, c_in, h, w)} with known weights", **tol(device, 1e-4, 1e-5, gpu_slack=100.0))


# ---------------------------------------------------------------- DropoutMLP (M4; trap dropout_ignores_eval)


P_DROP = 0.5


def _dropout_model(student, gen, device):
    d_in, hidden, d_out = randint(gen, 5, 8), randint(gen, 48, 64), randint(gen, 2, 4)
    what = f"DropoutMLP({d_in}, {hidden}, {d_out}, p={P_DROP})"
    model = module(student.DropoutMLP(d_in, hidden, d_out, P_DROP), what)
    expect_shapes(
        named_params(model, what),
        {"fc1.weight": (hidden, d_in), "fc1.bias": (hidden,), "fc2.weight": (d_out, hidden), "fc2.bias": (d_out,)},
        what,
    )
    model = model.to(device)
    w1, b1 = linear_weights(gen, d_in, hidden, device)
    w2, b2 = linear_weights(gen, hidden, d_out, device)
    model.load_state_dict({"fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2, "fc2.bias": b2})
    return model, what, d_in, (w1, b1, w2, b2)


@check("DropoutMLP", points=2, traps=["dropout_ignores_eval"])
def test_dropout_eval_mode(student, gen, device):
    model, what, d_in, (w1, b1, w2, b2) = _dropout_model(student, gen, device)
    model.eval()
    if model.training is not False:
        fail(f"after model.eval(), {what}.training is {model.training!r}, expected False")
    x = torch.randn(12, d_in, generator=gen).to(device)
    first = as_tensor(model(x), f"{what}(x) in eval mode").detach()
    second = as_tensor(model(x), f"{what}(x) in eval mode, called again").detach()
    if first.shape == second.shape and not torch.equal(first, second):
        trap("dropout_ignores_eval", f"in eval mode two calls of {what}(x) on the same x gave different outputs (largest difference {float((first - second).abs().max()):.3g}): dropout is still active")
    expected = torch.relu(x @ w1.T + b1) @ w2.T + b2
    expect_tensor(first, expected, what=f"{what}(x) in eval mode (dropout off) with known weights", **tol(device, 1e-5, 1e-5))


@check("DropoutMLP", points=1)
def test_dropout_train_mode(student, gen, device):
    model, what, d_in, (w1, b1, w2, b2) = _dropout_model(student, gen, device)
    model.train()
    if model.training is not True:
        fail(f"after model.train(), {what}.training is {model.training!r}, expected True")
    reps = 2000
    row = torch.randn(1, d_in, generator=gen).to(device)
    out = as_tensor(model(row.expand(reps, d_in).contiguous()), f"{what}(x) in train mode")
    hidden = torch.relu(row @ w1.T + b1)  # (1, hidden)
    expected = hidden @ w2.T + b2  # (1, d_out)
    if tuple(out.shape) != (reps, expected.shape[1]):
        fail(f"{what}(x) for x of shape ({reps}, {d_in}) should have shape ({reps}, {expected.shape[1]}), got {tuple(out.shape)}")
    out = out.detach()
    if torch.allclose(out, expected.expand_as(out), **tol(device, 1e-5, 1e-5)):
        fail(f"in train mode {what}(x) gave the no-dropout output for every row: dropout should be active in training mode (use self.drop = nn.Dropout(p) in forward)")
    if bool((out == out[:1]).all()):
        fail(f"in train mode {what}(x) gave {reps} identical rows for {reps} copies of one input: dropout should zero a different random set of units per row")
    # Inverted dropout keeps the mean: E[out] = no-dropout output. Var of each output = sum_j (w2_kj h_j)^2 * p / (1 - p).
    std = torch.sqrt(((w2 * hidden) ** 2).sum(1) * P_DROP / (1 - P_DROP) / reps)
    mean = out.mean(0)
    err = (mean - expected[0]).abs()
    if bool((err > 6 * std + 1e-4).any()):
        k = int((err - 6 * std).argmax())
        fail(
            f"in train mode the mean of {what}(x) over {reps} copies of one input is {float(mean[k]):.4g} at output {k}, "
            f"expected about {float(expected[0, k]):.4g} (the no-dropout output; tolerance {float(6 * std[k] + 1e-4):.2g}): "
            "dropout must scale the kept values by 1 / (1 - p), as nn.Dropout does"
        )


# ---------------------------------------------------------------- predict (M4)


def _dropout_sequential(sandbox, gen, device):
    d_in, hidden, d_out = randint(gen, 5, 8), randint(gen, 40, 60), randint(gen, 2, 4)
    model = sandbox.make(
        "torch.nn.Sequential",
        sandbox.make("torch.nn.Linear", d_in, hidden),
        sandbox.make("torch.nn.ReLU"),
        sandbox.make("torch.nn.Dropout", 0.5),
        sandbox.make("torch.nn.Linear", hidden, d_out),
    ).to(device)
    w1, b1 = linear_weights(gen, d_in, hidden, device)
    w2, b2 = linear_weights(gen, hidden, d_out, device)
    model.load_state_dict({"0.weight": w1, "0.bias": b1, "3.weight": w2, "3.bias": b2})
    x = torch.randn(10, d_in, generator=gen).to(device)
    return model, x, torch.relu(x @ w1.T + b1) @ w2.T + b2


def _expect_prediction(out, expected: torch.Tensor, what: str) -> None:
    out = as_tensor(out, what)
    if facts(out).requires_grad or facts(out).grad_fn is not None:
        fail(f"{what} requires grad (grad_fn {facts(out).grad_fn}): run the forward pass inside `with torch.no_grad():`")
    if out.shape == expected.shape and not torch.allclose(out, expected, rtol=1e-4, atol=1e-5):
        fail(f"{what} is not the no-dropout output (largest error {float((out - expected).abs().max()):.3g}): switch the model to eval mode (model.eval()) before the forward pass")
    expect_tensor(out, expected, what=what, **tol(expected.device.type, 1e-5, 1e-5))


@check("predict", points=1)
def test_predict_from_train_mode(student, sandbox, gen, device):
    model, x, expected = _dropout_sequential(sandbox, gen, device)
    model.train()
    _expect_prediction(student.predict(model, x), expected, "predict(model, x) for a model with dropout, given in train mode")
    if model.training is not True or model[2].training is not True:
        fail("after predict(model, x) the model (given in train mode) is still in eval mode: put it back in the mode it was in, model.train(was_training)")


@check("predict", points=1)
def test_predict_from_eval_mode(student, sandbox, gen, device):
    model, x, expected = _dropout_sequential(sandbox, gen, device)
    model.eval()
    _expect_prediction(student.predict(model, x), expected, "predict(model, x) for a model with dropout, given in eval mode")
    if model.training is not False or model[2].training is not False:
        fail("after predict(model, x) the model (given in eval mode) is in train mode: put it back in the mode it was in (model.train(was_training)), not always train mode")
