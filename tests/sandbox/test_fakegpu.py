"""fakegpu behaves as a second device should where grading depends on it.

Each test states one behaviour a device check relies on; each would fail if
fakegpu quietly fell back to the CPU or refused ordinary training code.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from autograder.sandbox import fakegpu
from autograder.sandbox.fakegpu import DEVICE_TYPE, FakeGPUTensor, is_plain_tensor
from autograder.sandbox.decoding import DecodeContext, decode
from autograder.sandbox.protocol import EncodeContext, ProtocolError, encode

ROOT = Path(__file__).resolve().parents[2]

DEV = torch.device(DEVICE_TYPE, 0)


def test_factories_land_on_the_device_with_values():
    for made in (torch.zeros(2, 3, device=DEVICE_TYPE), torch.arange(6.0, device=DEV), torch.tensor([1, 2], device=DEVICE_TYPE),
                 torch.as_tensor([1.0], device=DEVICE_TYPE), torch.full((2,), 3.0, device=DEVICE_TYPE)):  # fmt: skip
        assert made.device == DEV and is_plain_tensor(made)
    assert torch.arange(6.0, device=DEVICE_TYPE).sum().item() == 15.0
    assert torch.tensor([1, 2], device=DEVICE_TYPE).dtype == torch.int64


def test_results_stay_on_the_device_and_match_the_cpu():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 3, generator=gen), torch.randn(3, 5, generator=gen)
    out = torch.softmax(a.to(DEVICE_TYPE) @ b.to(DEVICE_TYPE), dim=1)
    assert out.device == DEV
    assert torch.equal(out.cpu(), torch.softmax(a @ b, dim=1))


def test_mixing_with_cpu_tensors_raises_as_cuda_does():
    x = torch.ones(3, device=DEVICE_TYPE)
    with pytest.raises(RuntimeError, match="same device"):
        x + torch.ones(3)
    with pytest.raises(RuntimeError, match="same device"):
        nn.Linear(3, 2).to(DEVICE_TYPE)(torch.ones(1, 3))
    assert (x + torch.tensor(2.0)).device == DEV  # a 0-d CPU tensor is a scalar, as on CUDA
    with pytest.raises(RuntimeError, match="same device"):
        torch.tensor(2.0).add_(x.sum())  # ... but is never written with device values


def test_a_hard_coded_cpu_result_is_on_the_cpu():
    x = torch.ones(3, device=DEVICE_TYPE)
    assert torch.zeros_like(x).device == DEV
    assert torch.zeros(3).device.type == "cpu"
    assert torch.zeros_like(x, device="cpu").device.type == "cpu"
    assert x.cpu().device.type == "cpu" and type(x.cpu()) is torch.Tensor


def test_numpy_needs_cpu_first():
    x = torch.ones(2, device=DEVICE_TYPE)
    with pytest.raises(TypeError, match="can't convert fakegpu:0 device type tensor to numpy"):
        x.numpy()
    assert x.cpu().numpy().tolist() == [1.0, 1.0]


def test_in_place_work_and_views_reach_the_original():
    x = torch.zeros(2, 3, device=DEVICE_TYPE)
    x[0].add_(1)
    x.mul_(2)
    assert x.cpu().tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.t().view(-1)


def test_a_training_step_runs_there():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    twin = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    twin.load_state_dict(model.state_dict())
    model.to(DEVICE_TYPE)
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    for net, xs, ys in ((model, x.to(DEVICE_TYPE), y.to(DEVICE_TYPE)), (twin, x, y)):
        opt = torch.optim.Adam(net.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            nn.functional.cross_entropy(net(xs), ys).backward()
            opt.step()
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        assert p.device == DEV and isinstance(p, nn.Parameter) and p.grad.device == DEV
        assert torch.allclose(p.detach().cpu(), q.detach(), atol=1e-6)


def test_a_checkpoint_comes_back_on_the_device_unless_map_location_moves_it():
    state = nn.Linear(3, 2).to(DEVICE_TYPE).state_dict()
    buf = io.BytesIO()
    torch.save({"model": state, "epoch": 3}, buf)

    def load(**kw):
        buf.seek(0)
        return torch.load(buf, **kw)["model"]["weight"]

    assert load().device == DEV  # as a CUDA checkpoint loads onto CUDA
    for where in ("cpu", torch.device("cpu"), {f"{DEVICE_TYPE}:0": "cpu"}, lambda storage, loc: storage):
        w = load(map_location=where)
        assert w.device.type == "cpu" and torch.equal(w, state["weight"].cpu())


def test_work_on_the_device_is_counted():
    count = torch.fakegpu.activity  # what unit 03 asks the sandbox
    before = count()
    torch.ones(2).numpy()
    assert count() == before
    torch.ones(2, device=DEVICE_TYPE).sum()
    assert count() > before


def test_the_protocol_carries_fakegpu_tensors_as_values():
    x = torch.randn(3, 4).to(DEVICE_TYPE).t()  # non-contiguous too
    ctx = EncodeContext()
    tag = json.loads(json.dumps(encode(x, ctx)))
    out = decode(tag, DecodeContext([bytearray(bytes(b)) for b in ctx.blobs]))
    assert type(out) is FakeGPUTensor and out.device == DEV and torch.equal(out.cpu(), x.cpu())


def test_a_forged_fakegpu_tensor_is_checked_like_any_other():
    """The sandbox can build a FakeGPUTensor whose values lie about its shape: the bytes decide."""
    ctx = EncodeContext()
    tag = json.loads(json.dumps(encode(torch.ones(2, 2, device=DEVICE_TYPE), ctx)))
    tag["shape"] = [4, 4]
    with pytest.raises(ProtocolError, match="does not match"):
        decode(tag, DecodeContext([bytearray(bytes(b)) for b in ctx.blobs]))


def test_a_subclass_of_it_is_not_a_value():
    class Sneaky(FakeGPUTensor):
        pass

    sneaky = Sneaky(torch.ones(2))
    assert not is_plain_tensor(sneaky)
    with pytest.raises(ProtocolError, match="cannot be sent as a value"):
        encode(sneaky, EncodeContext())


def test_installing_twice_is_harmless():
    fakegpu.install()
    fakegpu.install()
    assert torch.ones(1, device=DEVICE_TYPE).device == DEV
    assert np.asarray(torch.ones(1, device=DEVICE_TYPE).cpu()).tolist() == [1.0]


def test_no_fakegpu_operator_imports_the_dtensor_package():
    """torch imports torch.distributed.tensor (and sympy: most of a second) at the first
    operator on a tensor subclass, only to learn that it is no DTensor; ``warm`` spares
    that import, and code that does import the package still gets the real one."""
    script = (
        "import sys, torch\n"
        "from autograder.sandbox import fakegpu\n"
        "fakegpu.warm()\n"
        "x = torch.randn(3, 4, device='fakegpu', requires_grad=True)\n"
        "(x @ torch.ones(4, 2, device='fakegpu')).relu().sum().backward()\n"
        "print(x.grad.cpu().shape, sorted(m for m in ('torch.distributed.tensor', 'sympy') if m in sys.modules))\n"
        "import torch.distributed.tensor as dt\n"
        "print(hasattr(dt, 'distribute_tensor'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["torch.Size([3, 4]) []", "True"]
