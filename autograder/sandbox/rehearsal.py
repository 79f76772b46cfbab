"""What the zygote runs once so that no sandbox pays torch's first use of an operator.

The first call of an operator in a process costs 0.1 to 1 ms more than the
next ones (torch builds its Python object for the operator, fills dispatch
caches, and on ``fakegpu`` registers how Python dispatch handles it); a
sandbox forked from a zygote that has run it inherits all of that. So the
zygote, when idle, runs the operators the units' checks and solutions use
most, on the CPU and on ``fakegpu``, and sends a few tensors through the
protocol's encoder and decoder as every call does. Values are thrown away
and the random generator is left as it was. The optimizers' part runs only
once the zygote has what ``EXTRA_IMPORTS`` imports for them. The trusted
side rehearses too, before it forks its workers.

Never backward() or autograd.grad() here: once a process has run autograd's
engine, torch refuses autograd in every child it forks ("Unable to handle
autograd's threading in combination with fork-based multiprocessing"), and
every sandbox would fail its students' backward(). Optimizers step on
gradients set by hand instead.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import decoding, protocol

__all__ = ["rehearse"]


def _tensors(device: str) -> None:
    x = torch.randn(4, 3, device=device, requires_grad=True)  # builds a graph: never run (see above)
    layer = torch.nn.Linear(3, 2).to(device)
    h = layer(x) + x @ torch.rand(3, 2, device=device)
    y = torch.cat([h.relu(), h.sigmoid(), h.tanh(), h.exp(), h.abs().sqrt(), h.pow(2), h.clamp(-1, 1)], dim=1)
    y = torch.stack([y, y * 2 - 1, y / 3]).permute(1, 0, 2).reshape(4, -1).t().contiguous().view(-1)
    _ = y.mean() + y.sum() * 0.5 + y.std() + F.mse_loss(h, torch.ones_like(h)) + (h.log_softmax(1) * 0.1).sum()
    _ = F.cross_entropy(h, torch.tensor([0, 1, 1, 0], device=device)) + F.binary_cross_entropy_with_logits(h, torch.zeros_like(h))
    with torch.no_grad():
        for p in layer.parameters():
            p -= 0.1 * torch.ones_like(p)
    z = torch.arange(12, device=device).float().unsqueeze(0).squeeze(0)
    z = torch.where(z > 5, z, torch.full_like(z, -1.0))
    z[z.argmax()] = z.max() + z.min() + z.sum()
    _ = (z.eq(z).all().item(), z.tolist(), torch.eye(3, device=device).diag(), torch.linspace(0, 1, 5, device=device).to(torch.float64).long())
    # what the protocol does to every value it sends and receives
    ctx = protocol.EncodeContext([])
    tags = [protocol.encode(v, ctx) for v in (z, x.detach().t(), torch.tensor(3), z.bool(), z.numpy(force=True) if device == "cpu" else z[:2])]
    _ = [decoding.decode(t, decoding.DecodeContext([bytearray(b) for b in ctx.blobs])) for t in tags]


def _optimizers(device: str) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).to(device)
    _ = torch.nn.MSELoss()(model(torch.randn(5, 3, device=device)), torch.zeros(5, 1, device=device))
    for make in (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.Adam(p, lr=0.01)):
        opt = make(model.parameters())
        for p in model.parameters():
            p.grad = torch.ones_like(p)
        opt.step()
        opt.zero_grad()


_PARTS = {"base": _tensors, "optimizers": _optimizers}


def rehearse(parts: tuple[str, ...] = ("base",)) -> None:
    """Run the common operators of ``parts`` once in this process; the CPU generator is left as it was."""
    with torch.random.fork_rng(devices=[]):
        for name in parts:
            if name not in _PARTS:
                continue
            for device in ("cpu", "fakegpu"):
                try:
                    _PARTS[name](device)
                except Exception:  # noqa: BLE001 - an optional speed-up, never a reason not to grade
                    pass
