"""Facts about a returned tensor, shown by behaviour rather than reported.

The sandbox reports facts beside each tensor it returns (``facts(t)``: leaf
or not, ``grad_fn``, memory shared with an argument), but the submission runs
in the same process as the code that reports them and can patch it. What a
grade depends on is therefore shown by behaviour the trusted side checks
against its own computation, which a forger would have to solve the
exercise to fake:

- ``shares_memory``: a pattern is written into the returned object in the
  sandbox, and the argument read back must have changed exactly as writing
  into ``view(argument)`` changes it here. The pattern is drawn afresh from
  the OS's randomness for each probe: a fixed one could be written into the
  argument ahead of the probe by a submission that returns a copy;
- ``gradients_through``: gradients are taken through the returned tensor in
  the sandbox, with respect to the call's arguments, and compared with the
  ones the check computes itself.

``docs/trust.md`` lists the facts that remain observations.
"""

from __future__ import annotations

import secrets
from typing import Any, Callable

import numpy as np
import torch

from autograder.remote import Sandbox, SandboxError
from autograder.sandbox.fakegpu import is_plain_tensor

__all__ = ["shares_memory", "gradients_through"]


def _as_tensor(x: Any) -> torch.Tensor:
    return torch.from_numpy(np.array(x)) if isinstance(x, np.ndarray) else x.detach().clone()


def shares_memory(sandbox: Sandbox, value: Any, arg: Any, *, view: Callable[[torch.Tensor], torch.Tensor] = lambda a: a,
                  path: str = "0") -> bool:  # fmt: skip
    """Whether ``value`` (just returned) is, in the sandbox, ``view`` of the argument at ``path``.

    ``arg`` is the check's own copy of that argument as the sandbox holds it
    now; ``view`` maps it to the part the returned object should lie over
    (the whole of it by default).
    """
    if not isinstance(value, (torch.Tensor, np.ndarray)):
        return False
    local = _as_tensor(arg)
    if local.device.type == "meta":
        return False
    target = view(local)
    if tuple(target.shape) != tuple(value.shape):
        return False
    pattern = _unforeseeable(target).to(target.device)
    with torch.no_grad():
        target.copy_(pattern)
    try:
        back = sandbox.write_through(value, path, pattern.cpu())
    except SandboxError:
        return False
    back = _as_tensor(back) if isinstance(back, (torch.Tensor, np.ndarray)) else None
    return back is not None and back.shape == local.shape and torch.equal(back.to(local.device, local.dtype), local)


def _unforeseeable(like: torch.Tensor) -> torch.Tensor:
    """Values of ``like``'s shape and dtype that no submission can know ahead
    of the probe, and not all equal to ``like``'s (else a copy would pass)."""
    gen = torch.Generator().manual_seed(secrets.randbits(63))
    shape, dtype = tuple(like.shape), like.dtype
    if dtype == torch.bool:
        out = torch.randint(0, 2, shape, generator=gen).bool()
    elif dtype.is_floating_point or dtype.is_complex:
        out = (torch.rand(shape, generator=gen, dtype=torch.float64) * 16 - 8).to(dtype)
    else:
        info = torch.iinfo(dtype)
        out = torch.randint(max(info.min, -1000), min(info.max, 1000) + 1, shape, generator=gen).to(dtype)
    current = like.detach().cpu()
    if out.numel() and torch.equal(out, current):
        flat = out.view(-1)
        flat[0] = ~flat[0] if dtype == torch.bool else flat[0] + 1
    return out


def gradients_through(sandbox: Sandbox, value: torch.Tensor, wrt: list[str], grad_output: torch.Tensor) -> tuple | None:
    """The gradients of ``(value * grad_output).sum()`` with respect to the call's
    arguments ``wrt``, taken through the graph in the sandbox; None where the
    value is not attached to them."""
    try:
        grads = sandbox.gradient(value, wrt, grad_output.detach().cpu())
    except SandboxError:
        return None
    if not isinstance(grads, tuple) or len(grads) != len(wrt) or not all(is_plain_tensor(g) for g in grads):
        return None
    return grads
