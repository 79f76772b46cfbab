"""``fakegpu``: a second device, faked on the CPU, so device mistakes show on any machine.

A check that runs only on the CPU cannot tell ``torch.zeros(n)`` from
``torch.zeros(n, device=x.device)``, nor a batch left on the CPU from one
moved to the model's device. On a laptop there is no GPU to tell them apart,
and ``meta`` tensors carry no values, so a training loop cannot run on them.

``fakegpu`` is torch's PrivateUse1 backend, renamed, with every operator run
on the CPU. Its tensors carry real values and behave as a GPU's do where it
matters for grading: results stay on ``fakegpu:0``; mixing them with CPU
tensors (other than 0-d ones) raises as CUDA does; ``.numpy()`` refuses them;
``torch.save`` records their device and ``torch.load`` restores them there
unless told otherwise with ``map_location``. It lives beside student code (the
sandbox needs it) and is imported by the trusted side to build the tensors a
check sends and to rebuild the ones that come back.

A ``fakegpu`` tensor is a ``FakeGPUTensor`` (a wrapper subclass over a CPU
tensor, as torch's own FakeTensor is over a meta one); :func:`is_plain_tensor`
is how the protocol and the checks accept it as an ordinary tensor.
"""

from __future__ import annotations

import functools
import sys
import types
import weakref
from typing import Any, Callable

import torch

__all__ = ["DEVICE_TYPE", "FakeGPUTensor", "install", "is_plain_tensor", "warm"]

DEVICE_TYPE = "fakegpu"
_CPU = torch.device("cpu")

_aten = torch.ops.aten
# Operators that move data between devices, or index a GPU tensor with CPU
# indices: CUDA accepts a CPU operand in these.
_CROSSING = {
    _aten._to_copy.default,
    _aten.copy_.default,
    _aten._copy_from.default,
    _aten._copy_from_and_resize.default,
    _aten.index.Tensor,
    _aten.index_put_.default,
    _aten.index_put.default,
    _aten._index_put_impl_.default,
}


class FakeGPUTensor(torch.Tensor):
    """A tensor that says it is on ``fakegpu:0`` and keeps its values in a CPU tensor."""

    _data: torch.Tensor
    __slots__ = ["_data"]
    __torch_function__ = torch._C._disabled_torch_function_impl

    @staticmethod
    def __new__(cls, data: torch.Tensor, requires_grad: bool = False) -> "FakeGPUTensor":
        out = torch.Tensor._make_wrapper_subclass(
            cls, data.size(), strides=data.stride(), storage_offset=data.storage_offset(),
            dtype=data.dtype, layout=data.layout, device=torch.device(DEVICE_TYPE, 0), requires_grad=requires_grad,
        )
        out._data = data
        return out

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        inner = repr(self._data.detach())
        return inner[:-1] + f", device='{DEVICE_TYPE}:0')" if inner.endswith(")") else inner

    def numpy(self, *, force: bool = False) -> Any:
        if force:
            return self.detach().cpu().numpy()
        raise TypeError(f"can't convert {DEVICE_TYPE}:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.")

    def tolist(self) -> Any:
        return self._data.tolist()

    def __reduce_ex__(self, protocol: int) -> tuple:
        # Saved as its CPU values plus a one-byte marker storage tagged with
        # the device: torch.load passes the marker through map_location, so a
        # checkpoint comes back on fakegpu unless map_location moves it (as a
        # CUDA checkpoint does).
        marker = torch.UntypedStorage(1)
        _SAVING[marker._cdata] = marker
        return (_rebuild, (self.detach()._data.clone(), bool(self.requires_grad), marker))

    @classmethod
    def __torch_dispatch__(cls, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        return _run(func, args, kwargs or {})


_SAVING: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # markers of tensors being saved
_LOADED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # markers torch.load left on fakegpu


def _rebuild(data: torch.Tensor, requires_grad: bool, marker: Any) -> torch.Tensor:
    if _LOADED.pop(_cdata(marker), None) is not None:
        data = data.to(DEVICE_TYPE)
    return data.requires_grad_(requires_grad) if requires_grad else data


_rebuild.__module__ = f"torch.{DEVICE_TYPE}"


def _tag(storage: Any) -> str | None:
    return f"{DEVICE_TYPE}:0" if _cdata(storage) in _SAVING else None


def _restore(storage: Any, location: str) -> Any:
    if not location.startswith(DEVICE_TYPE):
        return None
    if not _available[0]:
        raise RuntimeError(
            f"Attempting to deserialize object on a {DEVICE_TYPE} device but torch.{DEVICE_TYPE}.is_available() is False. "
            "If you are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') "
            "to map your storages to the CPU."
        )
    untyped = getattr(storage, "_untyped_storage", storage)
    _LOADED[untyped._cdata] = untyped
    return storage


def _cdata(storage: Any) -> int | None:
    return getattr(getattr(storage, "_untyped_storage", storage), "_cdata", None)


def is_plain_tensor(x: Any) -> bool:
    """A tensor the protocol sends as values: a plain tensor, a Parameter, or a fakegpu one."""
    return type(x) in (torch.Tensor, torch.nn.Parameter, FakeGPUTensor)


def _is_fake_device(d: Any) -> bool:
    if isinstance(d, torch.device):
        return d.type == DEVICE_TYPE
    return isinstance(d, str) and d.split(":")[0] == DEVICE_TYPE


_activity = [0]  # operators run on fakegpu in this process
_available = [True]  # False: play a machine without this device, for torch.load


def _run(func: Any, args: tuple, kwargs: dict) -> Any:
    _activity[0] += 1
    fakes: list[FakeGPUTensor] = []
    others: list[torch.Tensor] = []
    cpu_args = _unwrap(args, fakes, others)
    cpu_kwargs = {k: _unwrap(v, fakes, others) for k, v in kwargs.items()}
    if fakes and others and func not in _CROSSING:
        # As on CUDA: a 0-d CPU tensor may join in as a scalar, but never be
        # written to, and no other CPU tensor may take part.
        written = _written(func, args, kwargs)
        for x in others:
            if x.dim() > 0 or any(x is w for w in written):
                raise RuntimeError(
                    f"Expected all tensors to be on the same device, but found at least two devices, "
                    f"{DEVICE_TYPE}:0 and {x.device}! (in {func.__name__})"
                )
    target = kwargs.get("device")
    on_fake = _is_fake_device(target) if target is not None else bool(fakes)
    out = func(*cpu_args, **cpu_kwargs)
    # in place and out=: the caller's own tensor is the result
    return _wrap(out, {id(x._data): x for x in fakes}, on_fake)


def _unwrap(x: Any, fakes: list, others: list) -> Any:
    """``x`` with fakegpu tensors replaced by their CPU values and fakegpu devices by the CPU.

    Hand-written rather than torch's pytree: operators take tensors, scalars,
    devices and flat lists or tuples of them, and this runs on every operator.
    """
    kind = type(x)
    if kind is FakeGPUTensor:
        fakes.append(x)
        return x._data
    if kind is tuple or kind is list:
        return kind(_unwrap(v, fakes, others) for v in x)
    if isinstance(x, torch.Tensor):
        others.append(x)
    elif kind is torch.device and x.type == DEVICE_TYPE:
        return _CPU
    elif kind is str and _is_fake_device(x):
        return _CPU
    return x


def _wrap(r: Any, mine: dict, on_fake: bool) -> Any:
    kind = type(r)
    if kind is torch.Tensor:
        found = mine.get(id(r))
        if found is not None:
            return found
        return FakeGPUTensor(r) if on_fake else r
    if kind is tuple or kind is list:
        return kind(_wrap(v, mine, on_fake) for v in r)
    if isinstance(r, tuple) and hasattr(r, "_fields"):  # torch.return_types (max, sort, topk...)
        return kind(*(_wrap(v, mine, on_fake) for v in r))
    return r


@functools.cache
def _writes(func: Any) -> tuple[tuple[int, str, bool], ...]:
    return tuple((i, a.name, a.kwarg_only) for i, a in enumerate(func._schema.arguments) if a.alias_info is not None and a.alias_info.is_write)


def _written(func: Any, args: tuple, kwargs: dict) -> list:
    """The tensors an operator writes to (self of an in-place op, out=)."""
    found: list = []
    for i, name, kwarg_only in _writes(func):
        value = args[i] if i < len(args) and not kwarg_only else kwargs.get(name)
        found += value if isinstance(value, (list, tuple)) else [value]
    return [v for v in found if isinstance(v, torch.Tensor)]


def _factory(op: Any, *args: Any, **kwargs: Any) -> Any:
    """Operators that reach the fakegpu backend itself: factories such as ``torch.zeros(device="fakegpu")``."""
    return _run(op, args, kwargs)


def _from_data(make: Callable, name: str) -> Callable:
    """``torch.tensor`` and its kin, able to build straight onto fakegpu.

    Building from Python data runs torch's copy with Python dispatch off,
    which a Python backend cannot serve; the data goes to the CPU first here.
    """

    @functools.wraps(make)
    def build(data: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        if not _is_fake_device(kwargs.get("device")):
            return make(data, *args, **kwargs)
        device, requires_grad = kwargs.pop("device"), kwargs.pop("requires_grad", False)
        out = make(data, *args, **kwargs).to(device)
        return out.requires_grad_(True) if requires_grad else out

    build.__qualname__ = name
    return build


def _new_tensor(make: Callable) -> Callable:
    @functools.wraps(make)
    def new_tensor(self: torch.Tensor, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kwargs: Any) -> torch.Tensor:
        device = self.device if device is None else device
        if not _is_fake_device(device):
            return make(self, data, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)
        return torch.tensor(data, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)

    return new_tensor


class _Backend:
    """``torch.fakegpu``: what torch asks of a device module, and a work counter."""

    def is_initialized(self) -> bool:
        return True

    def is_available(self) -> bool:
        return _available[0]

    def set_available(self, available: bool) -> None:
        """``False`` plays a machine without the device: a checkpoint saved
        there loads only through ``map_location``, as a CUDA one on a laptop."""
        _available[0] = bool(available)

    def current_device(self) -> int:
        return 0

    def device_count(self) -> int:
        return 1

    def _is_in_bad_fork(self) -> bool:
        return False

    def manual_seed_all(self, seed: int) -> None:
        pass  # fakegpu draws from the CPU generator

    def activity(self) -> int:
        """How many operators have run on fakegpu in this process: a check can
        tell work done on the device from work done on the CPU and moved."""
        return _activity[0]

    # torch.save names the rebuild function by its module: the same name on
    # the trusted side and in the sandbox, where this package is renamed.
    _rebuild = staticmethod(_rebuild)


@functools.cache
def install() -> None:
    """Register the ``fakegpu`` device in this process (once; cheap)."""
    from torch.utils.backend_registration import _setup_privateuseone_for_python_backend

    _setup_privateuseone_for_python_backend(DEVICE_TYPE, backend_module=_Backend())
    lib = torch.library.Library("_", "IMPL")
    lib.fallback(_factory, dispatch_key="PrivateUse1")
    install.library = lib  # kept alive: the registration lasts as long as the Library object
    torch.serialization.add_safe_globals([_rebuild])
    torch.serialization.register_package(5, _tag, _restore)
    for name in ("tensor", "as_tensor", "asarray"):
        setattr(torch, name, _from_data(getattr(torch, name), f"torch.{name}"))
    torch.Tensor.new_tensor = _new_tensor(torch.Tensor.new_tensor)


_DTENSOR = "torch.distributed.tensor"


@functools.cache
def warm() -> None:
    """Make the first fakegpu operator as cheap as the others.

    At the first operator on a tensor subclass, torch asks from C++ whether
    the tensor is a DTensor, and imports torch.distributed.tensor (sympy
    with it: 0.3 to 0.7 s, more than a whole check) to learn that class,
    which it keeps. No fakegpu tensor is a DTensor: where that package is
    not loaded yet, the question is answered with a class of no instances,
    for one operator, and the package's name is then left free, so that
    code which does import it gets the real one.
    """
    if _DTENSOR in sys.modules:
        _run_one()
        return
    standin = types.ModuleType(_DTENSOR)
    standin.DTensor = type("DTensor", (), {})  # what torch keeps: nothing is an instance of it
    sys.modules[_DTENSOR] = standin
    try:
        _run_one()
    finally:
        if sys.modules.get(_DTENSOR) is standin:
            del sys.modules[_DTENSOR]


def _run_one() -> None:
    FakeGPUTensor(torch.zeros(1)).add_(1)


install()
