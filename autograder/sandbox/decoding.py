"""Values rebuilt from the wire (``protocol``): every field checked, nothing run.

A hostile sandbox can send wrong bytes but never a foreign type: the decoder
rebuilds only plain Python values, plain ``torch.Tensor``s (on the CPU, or
on ``fakegpu``), ``numpy.ndarray``s and handles, and counts what each one
will take once built against the reply's cap before building it. What the
sandbox says about a tensor beyond its values (a leaf? a view of an
argument?) travels beside it as ``TensorFacts``, a report, not a proof.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from .fakegpu import DEVICE_TYPE, FakeGPUTensor
from .frames import ProtocolError
from .protocol import DTYPES, MAX_DEPTH, NUMPY_DTYPES

__all__ = ["DecodeContext", "decode", "TensorFacts", "facts"]


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
        _need(tag.get("dtype") in NUMPY_DTYPES, "bad ndarray dtype")
        dtype = np.dtype(tag["dtype"])
        shape = _shape(tag)
        raw = _blob(tag, ctx)
        _need(len(raw) == math.prod(shape) * dtype.itemsize, "ndarray size does not match its bytes")
        ctx.spend(len(raw), "an array")
        arr = np.frombuffer(raw, dtype=dtype).reshape(shape)
        return _with_facts(arr, shares=tag.get("shares"))
    if t == "npscalar":
        _need(tag.get("dtype") in NUMPY_DTYPES, "bad numpy scalar")
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
