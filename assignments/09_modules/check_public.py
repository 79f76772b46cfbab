"""Public checks for unit 09: run them with `torchgrade check`. The hidden checks grade more."""

import torch

from autograder.checks import (
    as_tensor,
    check,
    describe,
    expect_tensor,
    expect_value,
    fail,
    trap,
)
from autograder.remote import Remote


def _params(model, what):
    if not (isinstance(model, Remote) and model.is_instance("torch.nn.modules.module.Module")):
        fail(f"{what} should be an nn.Module, got {describe(model)}")
    return {name: tuple(as_tensor(p, f"parameter {name!r}").shape) for name, p in model.named_parameters()}


@check("TwoLayerNet", points=1)
def test_two_layer_shapes_public(student):
    shapes = _params(student.TwoLayerNet(4, 6, 3), "TwoLayerNet(4, 6, 3)")
    expected = {"fc1.weight": (6, 4), "fc1.bias": (6,), "fc2.weight": (3, 6), "fc2.bias": (3,)}
    if shapes != expected:
        fail(f"TwoLayerNet(4, 6, 3).named_parameters() should give {expected} (nn.Linear's weight is (out, in)), got {shapes}")


@check("MLP", points=1, traps=["unregistered_list"])
def test_mlp_registers_layers_public(student):
    shapes = _params(student.MLP([5, 4, 3]), "MLP([5, 4, 3])")
    if not shapes:
        trap("unregistered_list", "MLP([5, 4, 3]).named_parameters() is empty: layers in a plain list are not registered; use nn.ModuleList")
    expected = {"layers.0.weight": (4, 5), "layers.0.bias": (4,), "layers.1.weight": (3, 4), "layers.1.bias": (3,)}
    if shapes != expected:
        fail(f"MLP([5, 4, 3]).named_parameters() should give {expected}, got {shapes}")


@check("conv_feature_shape", points=1)
def test_conv_feature_shape_public(student):
    # height 28: conv 5x5 -> 24, pool -> 12, conv 3x3 stride 2 padding 1 -> (12 + 2 - 3) // 2 + 1 = 6
    # width 20:  conv 5x5 -> 16, pool -> 8,  conv 3x3 stride 2 padding 1 -> (8 + 2 - 3) // 2 + 1 = 4
    out = student.conv_feature_shape(28, 20)
    expect_value(tuple(out) if isinstance(out, tuple) else out, (16, 6, 4), what="conv_feature_shape(28, 20)")


@check("DropoutMLP", points=1)
def test_dropout_eval_deterministic_public(student):
    model = student.DropoutMLP(5, 32, 3, 0.5)
    model.eval()
    x = torch.randn(8, 5)
    first = as_tensor(model(x), "model(x) in eval mode")
    expect_tensor(model(x), first, what="a second model(x) in eval mode (dropout is off: same output)")
