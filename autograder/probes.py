"""Facts about a returned tensor, shown by behaviour rather than reported.

The sandbox reports facts beside each tensor it returns (``facts(t)``: leaf
or not, ``grad_fn``, memory shared with an argument), but the submission runs
in the same process as the code that reports them and can patch it. What a
grade depends on is therefore shown by behaviour the trusted side checks
against its own computation, which a forger would have to solve the
exercise to fake:

- ``shares_memory``: a pattern is written into the returned object in the
  sandbox, and the argument read back must have changed exactly as writing
  into ``view(argument)`` changes it here;
- ``gradients_through``: gradients are taken through the returned tensor in
  the sandbox, with respect to the call's arguments, and compared with the
  ones the check computes itself.

``docs/trust.md`` lists the facts that remain observations.
"""

from __future__ import annotations

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
    steps = torch.arange(target.numel(), dtype=torch.float64).reshape(target.shape)
    pattern = (steps + 7 if not target.dtype.is_floating_point else steps * 0.25 + 7).to(target.dtype).to(target.device)
    with torch.no_grad():
        target.copy_(pattern)
    try:
        back = sandbox.write_through(value, path, pattern.cpu())
    except SandboxError:
        return False
    back = _as_tensor(back) if isinstance(back, (torch.Tensor, np.ndarray)) else None
    return back is not None and back.shape == local.shape and torch.equal(back.to(local.device, local.dtype), local)


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
