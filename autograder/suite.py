"""A unit's checks and reference, loaded once per process.

A check file is a module of plain pytest functions marked ``@check``. It is
imported as pytest imports a test module (its ``assert`` statements
rewritten by pytest's own rewriter, so a plain assert fails with the values
it compared), and each marked function becomes a ``Check``, once for each
device it runs on. Modules are kept for the life of the process and loaded
again only when their file changes: a worker grading many chunks, a warm
checker or ``watch`` reads a unit's checks once. The reference solution is
trusted code, loaded the same way.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable, Sequence

try:  # pytest's assertion rewriter (a private module: without it, asserts keep Python's bare message)
    from _pytest.assertion.rewrite import rewrite_asserts
except ImportError:  # pragma: no cover
    rewrite_asserts = None

from autograder.sandbox.fakegpu import DEVICE_TYPE as FAKE_GPU

__all__ = ["Check", "CheckFileError", "FIXTURES", "checks_in", "reference_module"]

#: The fixtures a check may take (docs/writing-units.md); built by ``session``.
FIXTURES = ("student", "sandbox", "device", "gen", "reference")


class CheckFileError(Exception):
    """A check file cannot be loaded or asks for what no check gets: the course's bug."""


@dataclass(frozen=True)
class Check:
    """One check function on one device (``device`` None: it takes no device)."""

    name: str  # the function's name, the check's id in results
    function: Callable
    fixtures: tuple[str, ...]
    exercise: str
    points: float
    traps: tuple[str, ...]
    device: str | None
    timeout: float | None  # seconds per call, overriding the unit's limit
    mutates: bool | str


def checks_in(path: Path, devices: Sequence[str]) -> list[Check]:
    """The checks of the file at ``path``, in file order, each on the run's ``devices``
    (and on fakegpu unless it opts out) when it takes a device."""
    found = []
    for fn, mark, fixtures in _loaded(path, _collect)[1]:
        on = [*devices, *([FAKE_GPU] if mark.get("fakegpu", True) else [])] if "device" in fixtures else [None]
        for device in on:
            found.append(Check(fn.__name__, fn, fixtures, mark["exercise"], float(mark["points"]), tuple(mark.get("traps", ())),
                               device, mark.get("timeout"), mark.get("mutates") or False))  # fmt: skip
    return found


def reference_module(path: Path) -> ModuleType:
    """The reference solution at ``path``, imported on the trusted side."""
    return _loaded(path, lambda module, path: None)[0]


# path -> (what its file was when loaded, the module, what was collected from it)
_LOADED: dict[Path, tuple[tuple[int, int], ModuleType, object]] = {}


def _loaded(path: Path, collect: Callable) -> tuple[ModuleType, object]:
    path = path.resolve()
    try:
        st = os.stat(path)
    except OSError as exc:
        raise CheckFileError(f"{path}: cannot be read: {exc.strerror}") from None
    stamp = (st.st_mtime_ns, st.st_size)
    kept = _LOADED.get(path)
    if kept is not None and kept[0] == stamp:
        return kept[1], kept[2]
    module = _import(path)
    collected = collect(module, path)
    _LOADED[path] = (stamp, module, collected)
    return module, collected


def _import(path: Path) -> ModuleType:
    # A name of its own per file, so that two courses' units never share a module.
    name = "torchgrade_loaded_" + hashlib.blake2b(str(path).encode(), digest_size=6).hexdigest()
    try:
        source = path.read_bytes()
        tree = ast.parse(source, filename=str(path))
        if rewrite_asserts is not None:
            rewrite_asserts(tree, source, str(path))
        code = compile(tree, str(path), "exec", dont_inherit=True)
        module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, path))
        sys.modules[name] = module  # dataclasses and pickling look modules up by name
        exec(code, module.__dict__)
    except Exception as exc:  # noqa: BLE001 - any failure is the course's, said with its traceback
        sys.modules.pop(name, None)
        tail = "".join(traceback.format_exception(exc)[-6:])
        raise CheckFileError(f"{path} cannot be loaded:\n{tail}") from None
    return module


def _collect(module: ModuleType, path: Path) -> list[tuple[Callable, dict, tuple[str, ...]]]:
    found = []
    for fn in list(vars(module).values()):
        mark = _check_mark(fn)
        if mark is None or getattr(fn, "__module__", None) != module.__name__:
            continue  # not a check, or one imported from elsewhere
        fixtures = tuple(
            p.name for p in inspect.signature(fn).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        )  # fmt: skip
        unknown = [f for f in fixtures if f not in FIXTURES]
        if unknown:
            raise CheckFileError(f"{path}: check {fn.__name__} asks for {', '.join(map(repr, unknown))}; "
                                 f"a check can take {', '.join(FIXTURES)}")  # fmt: skip
        found.append((fn, mark, fixtures))
    return found


def _check_mark(fn: object) -> dict | None:
    """The keyword arguments of ``fn``'s ``@check`` mark, if it has one."""
    if not inspect.isfunction(fn):
        return None
    for mark in getattr(fn, "pytestmark", ()):
        if getattr(mark, "name", None) == "check":
            return dict(mark.kwargs)
    return None
