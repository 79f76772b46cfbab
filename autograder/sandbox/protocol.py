"""The wire format between the trusted grader and a sandbox.

A message is one frame (``frames``): a 4-byte big-endian length, a UTF-8 JSON
header, then the raw blobs that the header lists by length. Values inside the header are
tagged dicts (``{"t": "int", "v": 3}``); tensors and arrays carry their bytes
as blobs. Nothing here can execute code: no pickle, no ``torch.load``, no
``eval``. The decoder rebuilds only plain Python values, plain
``torch.Tensor``s (on the CPU, or on the faked ``fakegpu`` device: see
``fakegpu.py``) and ``numpy.ndarray``s, and checks every field it reads, so
a hostile sandbox can send wrong bytes but never a foreign type.

Objects that are not values (a Dataset, an ``nn.Module``, a tensor subclass)
are never encoded: the sandbox keeps them and sends a ``handle`` tag instead.
"""

from __future__ import annotations

import collections
import math
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from .fakegpu import DEVICE_TYPE, FakeGPUTensor, is_plain_tensor
from .frames import MAX_HEADER, ProtocolError, recv_frame, send_frame

__all__ = [
    "DTYPES",
    "ProtocolError",
    "TensorFacts",
    "encode",
    "decode",
    "send_frame",
    "recv_frame",
    "MAX_HEADER",
    "facts",
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
_NP_DTYPES = {k for k in DTYPES if k != "bfloat16"}

MAX_DEPTH = 32  # nesting cap for containers
MAX_FUNCTIONS = 256  # module entries a sandbox's ``load`` looks at for functions to send as handles


@dataclass(frozen=True)
class TensorFacts:
    """What the sandbox reported about a tensor it returned.

    A rebuilt tensor is a fresh leaf on the trusted side, so the facts of the
    original (leaf or not, ``grad_fn``, memory shared with an argument) travel
    beside it; ``facts(t)`` reads them.
    """

    requires_grad: bool = False
    is_leaf: bool = True
    grad_fn: str | None = None
    is_contiguous: bool = True
    shares: frozenset[str] = field(default_factory=frozenset)


def facts(value: Any) -> TensorFacts:
    """The facts the sandbox reported for a returned tensor or array."""
    if isinstance(value, np.ndarray):
        return _ARRAY_FACTS.get(id(value)) or TensorFacts()
    return getattr(value, "_torchgrade_facts", None) or TensorFacts()


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
    if kind is np.ndarray and value.dtype.name in _NP_DTYPES:
        ctx.blobs.append(memoryview(np.ascontiguousarray(value).reshape(-1)).cast("B"))
        return {
            "t": "ndarray",
            "dtype": value.dtype.name,
            "shape": list(value.shape),
            "b": len(ctx.blobs) - 1,
            "shares": ctx.shares(value),
        }
    if isinstance(value, np.generic) and type(value).__module__ == "numpy" and value.dtype.name in _NP_DTYPES:
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


# ---------------------------------------------------------------- decoding


@dataclass
class DecodeContext:
    """``blobs`` from the frame; ``handle`` rebuilds a handle tag (or refuses
    it); ``device`` maps a reported device to one that exists here."""

    blobs: list[bytearray]
    handle: Callable[[dict], Any] | None = None
    device: Callable[[str], str] = str
    #: bytes the decoded value may take, counted before anything is built: a
    #: tensor by its elements after any broadcast or expand (stride 0), not
    #: by the bytes sent, and every string and container item
    budget: int = 1 << 30

    def spend(self, n: int, what: str) -> None:
        self.budget -= n
        if self.budget < 0:
            raise ProtocolError(f"{what} would take more memory than the reply cap allows once rebuilt")


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise ProtocolError(what)


def _blob(tag: dict, ctx: DecodeContext) -> bytearray:
    i = tag.get("b")
    _need(type(i) is int and 0 <= i < len(ctx.blobs), "bad blob index")
    return ctx.blobs[i]


def _shape(tag: dict) -> list[int]:
    shape = tag.get("shape")
    _need(isinstance(shape, list) and len(shape) <= 64, "bad shape")
    _need(all(type(d) is int and d >= 0 for d in shape), "bad shape")
    return shape


def decode(tag: Any, ctx: DecodeContext, depth: int = 0) -> Any:
    """Rebuild a value from its tag; every field is checked, nothing runs."""
    _need(depth <= MAX_DEPTH, "value is nested too deeply")
    _need(isinstance(tag, dict) and isinstance(tag.get("t"), str), "value without a tag")
    t = tag["t"]
    v = tag.get("v")
    if t == "none":
        return None
    if t == "ellipsis":
        return Ellipsis
    if t == "bool":
        _need(type(v) is bool, "bad bool")
        return v
    if t == "int":
        _need(type(v) is str and len(v) < 5000, "bad int")
        try:
            return int(v)
        except ValueError:
            raise ProtocolError("bad int") from None
    if t == "float":
        _need(type(v) is str and len(v) < 64, "bad float")
        try:
            return float.fromhex(v)
        except ValueError:
            raise ProtocolError("bad float") from None
    ctx.spend(64, "the value")  # every item costs something, so no header unpacks into millions of objects
    if t == "str":
        _need(type(v) is str, "bad str")
        ctx.spend(len(v), "a string")
        return v
    if t == "bytes":
        return bytes(_blob(tag, ctx))
    if t in ("list", "tuple", "size", "slice"):
        _need(isinstance(v, list), f"bad {t}")
        items = [decode(x, ctx, depth + 1) for x in v] if t != "size" else v
        if t == "list":
            return items
        if t == "tuple":
            return tuple(items)
        if t == "slice":
            _need(len(items) == 3 and all(x is None or type(x) is int for x in items), "bad slice")
            return slice(*items)
        _need(all(type(d) is int and d >= 0 for d in items), "bad size")
        return torch.Size(items)
    if t == "dict":
        keys, vals = tag.get("k"), v
        _need(isinstance(keys, list) and isinstance(vals, list) and len(keys) == len(vals), "bad dict")
        out = {}
        for k, x in zip(keys, vals, strict=True):
            key = decode(k, ctx, depth + 1)
            _need(type(key) in (str, int, float, bool, tuple) or key is None, "bad dict key")
            out[key] = decode(x, ctx, depth + 1)
        return out
    if t == "dtype":
        _need(v in DTYPES, "bad dtype")
        return DTYPES[v]
    if t == "device":
        _need(type(v) is str and len(v) < 32, "bad device")
        try:
            return torch.device(v)
        except RuntimeError:
            raise ProtocolError("bad device") from None
    if t == "tensor":
        return _decode_tensor(tag, ctx, depth)
    if t == "ndarray":
        _need(tag.get("dtype") in _NP_DTYPES, "bad ndarray dtype")
        dtype = np.dtype(tag["dtype"])
        shape = _shape(tag)
        raw = _blob(tag, ctx)
        _need(len(raw) == math.prod(shape) * dtype.itemsize, "ndarray size does not match its bytes")
        ctx.spend(len(raw), "an array")
        arr = np.frombuffer(raw, dtype=dtype).reshape(shape)
        return _with_facts(arr, shares=tag.get("shares"))
    if t == "npscalar":
        _need(tag.get("dtype") in _NP_DTYPES, "bad numpy scalar")
        inner = decode(v, ctx, depth + 1)
        _need(type(inner) in (bool, int, float, complex), "bad numpy scalar")
        return np.dtype(tag["dtype"]).type(inner)
    if t in ("handle", "ref") and ctx.handle is not None:
        return ctx.handle(tag)
    raise ProtocolError(f"unknown value tag {t!r}")


def _with_facts(value: Any, **kw: Any) -> Any:
    shares = kw.pop("shares", None) or []
    _need(isinstance(shares, list) and all(type(s) is str for s in shares), "bad shares")
    found = TensorFacts(shares=frozenset(shares), **kw)
    if isinstance(value, np.ndarray):
        _ARRAY_FACTS[id(value)] = found
        weakref.finalize(value, _ARRAY_FACTS.pop, id(value), None)
    else:
        value._torchgrade_facts = found
    return value


# ndarrays take no attributes: their facts sit here, dropped with the array.
_ARRAY_FACTS: dict[int, TensorFacts] = {}


def _checked_span(tag: dict, shape: list[int]) -> int:
    """The span of a strided tensor, after checking every stride stays inside it."""
    stride, span = tag.get("stride"), tag.get("span")
    _need(isinstance(stride, list) and len(stride) == len(shape), "bad stride")
    _need(all(type(x) is int and 0 <= x < 2**40 for x in stride) and type(span) is int, "bad stride")
    _need(0 < math.prod(shape) and 1 + sum((n - 1) * st for n, st in zip(shape, stride)) <= span, "stride outside its span")
    return span


def _on(t: torch.Tensor, device: str) -> torch.Tensor:
    """``t`` (on the CPU) moved to ``device``; onto fakegpu by wrapping it, as ``.to`` would after a copy."""
    if device == "cpu":
        return t
    if device in (DEVICE_TYPE, f"{DEVICE_TYPE}:0"):
        return FakeGPUTensor(t)
    return t.to(device)


def _decode_tensor(tag: dict, ctx: DecodeContext, depth: int) -> torch.Tensor:
    _need(tag.get("dtype") in DTYPES, "bad tensor dtype")
    dtype = DTYPES[tag["dtype"]]
    shape = _shape(tag)
    device = tag.get("device")
    _need(type(device) is str and len(device) < 32, "bad device")
    for key in ("requires_grad", "is_leaf", "contiguous", "parameter"):
        _need(type(tag.get(key)) is bool, f"bad tensor field {key}")
    grad_fn = tag.get("grad_fn")
    _need(grad_fn is None or (type(grad_fn) is str and len(grad_fn) < 100), "bad grad_fn")
    itemsize = dtype.itemsize
    if device == "meta":
        out = torch.empty(shape, dtype=dtype, device="meta")
    else:
        # Its size once rebuilt, elements after any expand: bounded before it is built.
        ctx.spend(math.prod(shape) * itemsize, f"a tensor of shape {tuple(shape)}")
        raw = _blob(tag, ctx)
        stride = tag.get("stride")
        elements = math.prod(shape) if stride is None else _checked_span(tag, shape)
        _need(len(raw) == elements * itemsize, "tensor size does not match its bytes")
        carrier = {torch.bfloat16: torch.int16, torch.bool: torch.uint8}.get(dtype, dtype)
        if not len(raw):
            out = torch.empty(shape, dtype=dtype)
        elif stride is None:
            out = torch.frombuffer(raw, dtype=carrier).view(dtype).reshape(shape)
        else:
            out = torch.frombuffer(raw, dtype=carrier).view(dtype).as_strided(shape, stride)
        # detach: not an autograd view of the buffer, so errors read as they would locally
        out = _on(out.detach(), ctx.device(device))
    if tag["requires_grad"] and (dtype.is_floating_point or dtype.is_complex):
        out.requires_grad_(True)
    if tag.get("grad") is not None:
        grad = _decode_tensor(tag["grad"], ctx, depth + 1)
        _need(grad.shape == out.shape and grad.dtype == out.dtype, "bad grad")
        if out.requires_grad:
            out.grad = grad.to(out.device)
    return _with_facts(
        out,
        shares=tag.get("shares"),
        requires_grad=tag["requires_grad"],
        is_leaf=tag["is_leaf"],
        grad_fn=grad_fn,
        is_contiguous=tag["contiguous"],
    )
