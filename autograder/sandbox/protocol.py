"""The wire format between the trusted grader and a sandbox.

A message is one frame (``frames``): a 4-byte big-endian length, a UTF-8 JSON
header, then the raw blobs that the header lists by length. Values inside the header are
tagged dicts (``{"t": "int", "v": 3}``); tensors and arrays carry their bytes
as blobs. Nothing here can execute code: no pickle, no ``torch.load``, no
``eval``. This module says what may cross and encodes it; ``decoding``
rebuilds it on the other side, checking every field it reads, so a hostile
sandbox can send wrong bytes but never a foreign type.

Objects that are not values (a Dataset, an ``nn.Module``, a tensor subclass)
are never encoded: the sandbox keeps them and sends a ``handle`` tag instead.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from .fakegpu import FakeGPUTensor, is_plain_tensor
from .frames import MAX_HEADER, ProtocolError, recv_frame, send_frame

__all__ = [
    "DTYPES",
    "ProtocolError",
    "encode",
    "send_frame",
    "recv_frame",
    "MAX_HEADER",
    "arrays_in",
]

#: dtypes that may cross the boundary; anything else is refused.
DTYPES: dict[str, torch.dtype] = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_DTYPE_NAMES = {v: k for k, v in DTYPES.items()}
NUMPY_DTYPES = {k for k in DTYPES if k != "bfloat16"}

MAX_DEPTH = 32  # nesting cap for containers
MAX_FUNCTIONS = 256  # module entries a sandbox's ``load`` looks at for functions to send as handles


# ---------------------------------------------------------------- encoding


def _dtype_name(dtype: torch.dtype) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        raise ProtocolError(f"dtype {dtype} cannot be sent")
    return name


def tensor_bytes(t: torch.Tensor) -> memoryview:
    # A fakegpu tensor's values are its CPU tensor: read there, not through
    # two more operators on the device (what a lying wrapper claims of them
    # is checked against these bytes by the receiver).
    cpu = (t._data if type(t) is FakeGPUTensor else t).detach()
    if cpu.device.type != "cpu":
        cpu = cpu.to("cpu")
    if not cpu.is_contiguous():
        cpu = cpu.contiguous()
    carrier = _CARRIERS.get(cpu.dtype)
    if carrier is not None:
        cpu = cpu.view(carrier)
    return memoryview(cpu.numpy().reshape(-1)).cast("B")


_CARRIERS = {torch.bfloat16: torch.int16, torch.bool: torch.uint8}  # dtypes NumPy has no view of


Extent = tuple[int, int]


def extent(obj: Any) -> Extent | None:
    """The byte range of memory behind a tensor or array, to spot sharing."""
    if is_plain_tensor(obj):
        if obj.device.type != "cpu":
            return None
        storage = obj.untyped_storage()
        return (storage.data_ptr(), storage.data_ptr() + storage.nbytes())
    if type(obj) is np.ndarray:
        lo, hi = np.lib.array_utils.byte_bounds(obj)
        return (lo, hi)
    return None


def arrays_in(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Tensors and arrays inside call arguments, with their paths (``0``, ``x``, ``0.2``).

    Both sides name arguments this way: for memory shared with a result, and
    for in-place changes copied back.
    """
    if is_plain_tensor(value) or type(value) is np.ndarray:
        return [(path, value)]
    items = value.items() if type(value) is dict else enumerate(value) if type(value) in (list, tuple) else ()
    found: list[tuple[str, Any]] = []
    for key, item in items:
        found += arrays_in(item, f"{path}.{key}" if path else str(key))
    return found


@dataclass
class EncodeContext:
    """What the encoder needs besides the value.

    ``handle`` turns a non-value into a handle id (sandbox side only);
    ``args`` names the extents of the call's arguments, to report sharing.
    """

    blobs: list[memoryview | bytes] = field(default_factory=list)
    handle: Callable[[Any], dict] | None = None
    args: dict[str, Extent] = field(default_factory=dict)

    def shares(self, obj: Any) -> list[str]:
        if not self.args:
            return []
        ext = extent(obj)
        if ext is None or ext[0] == ext[1]:
            return []
        return sorted(p for p, (lo, hi) in self.args.items() if lo < ext[1] and ext[0] < hi)


def encode(value: Any, ctx: EncodeContext, depth: int = 0) -> dict:
    """Turn ``value`` into a tagged dict, its bytes appended to ``ctx.blobs``."""
    if depth > MAX_DEPTH:
        raise ProtocolError("value is nested too deeply")
    kind = type(value)
    if value is None:
        return {"t": "none"}
    if value is Ellipsis:
        return {"t": "ellipsis"}
    if kind is bool:
        return {"t": "bool", "v": value}
    if kind is int:
        return {"t": "int", "v": str(value)}
    if kind is float:
        return {"t": "float", "v": value.hex()}
    if kind is str:
        return {"t": "str", "v": value}
    if kind is bytes:
        ctx.blobs.append(value)
        return {"t": "bytes", "b": len(ctx.blobs) - 1}
    if kind in (list, tuple):
        return {"t": kind.__name__, "v": [encode(v, ctx, depth + 1) for v in value]}
    if kind is torch.Size:
        return {"t": "size", "v": [int(d) for d in value]}
    if kind is slice:
        return {"t": "slice", "v": [encode(x, ctx, depth + 1) for x in (value.start, value.stop, value.step)]}
    if kind in (dict, collections.OrderedDict):  # a state_dict is an OrderedDict
        return {
            "t": "dict",
            "k": [encode(k, ctx, depth + 1) for k in value],
            "v": [encode(v, ctx, depth + 1) for v in value.values()],
        }
    if kind is torch.dtype:
        return {"t": "dtype", "v": _dtype_name(value)}
    if kind is torch.device:
        return {"t": "device", "v": str(value)}
    if kind in (torch.Tensor, torch.nn.Parameter, FakeGPUTensor):
        return _encode_tensor(value, ctx, depth)
    if kind is np.ndarray and value.dtype.name in NUMPY_DTYPES:
        ctx.blobs.append(memoryview(np.ascontiguousarray(value).reshape(-1)).cast("B"))
        return {
            "t": "ndarray",
            "dtype": value.dtype.name,
            "shape": list(value.shape),
            "b": len(ctx.blobs) - 1,
            "shares": ctx.shares(value),
        }
    if isinstance(value, np.generic) and type(value).__module__ == "numpy" and value.dtype.name in NUMPY_DTYPES:
        return {"t": "npscalar", "dtype": value.dtype.name, "v": encode(value.item(), ctx, depth + 1)}
    if ctx.handle is None:
        raise ProtocolError(f"a {kind.__module__}.{kind.__qualname__} cannot be sent as a value")
    return ctx.handle(value)


def _span(t: torch.Tensor) -> int | None:
    """Elements of storage a strided tensor spans; None where sending it dense is better."""
    if t.numel() == 0:
        return None
    span = 1 + sum((n - 1) * st for n, st in zip(t.shape, t.stride(), strict=True))
    return span if span <= 4 * t.numel() + 64 else None


def _encode_tensor(t: torch.Tensor, ctx: EncodeContext, depth: int) -> dict:
    device, contiguous, grad_fn = t.device, t.is_contiguous(), t.grad_fn
    out = {
        "t": "tensor",
        "dtype": _dtype_name(t.dtype),
        "shape": list(t.shape),
        "device": "cpu" if device.type == "cpu" else str(device),
        "parameter": isinstance(t, torch.nn.Parameter),
        "requires_grad": bool(t.requires_grad),
        "is_leaf": grad_fn is None,  # what .is_leaf means
        "grad_fn": None if grad_fn is None else type(grad_fn).__name__,
        "contiguous": contiguous,
        "shares": ctx.shares(t),
        "b": None,
        "grad": None,
    }
    if device.type != "meta":
        if contiguous or (span := _span(t)) is None:
            ctx.blobs.append(tensor_bytes(t))
        else:
            # Keep the layout (a transpose, a permute, a strided slice): the
            # receiver must see the same non-contiguous tensor.
            ctx.blobs.append(tensor_bytes(t.as_strided((span,), (1,), t.storage_offset())))
            out["stride"] = [int(x) for x in t.stride()]
            out["span"] = span
        out["b"] = len(ctx.blobs) - 1
    if grad_fn is None and t.grad is not None:
        out["grad"] = _encode_tensor(t.grad, EncodeContext(ctx.blobs), depth + 1)
    return out
