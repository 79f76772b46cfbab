"""Mutation testing of a unit's hidden checks: do they catch real PyTorch mistakes?

Each mutant is the reference solution with one change of the kind students
make (a device dropped or hard-coded, ``.detach()`` or ``zero_grad()``
removed, sum and mean swapped, a dimension or ``keepdim`` changed, in-place
and copy swapped, a seed or an argument ignored, train and eval swapped, an
off-by-one, a shift or scale changed). The syntax work is libcst's: each
operator is a small transformer that changes the k-th site it matches.

All mutants of a unit are graded in one run, as a class, against the unit's
hidden checks. A mutant is *killed* when it loses any point; one that cannot
be told apart from the reference by any check that follows the stub's
contract is *equivalent*, listed with its reason in
``checks/<unit>/equivalent.toml``; the rest *survive*, shown with their diff.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import libcst as cst

from autograder.jobs import Job
from autograder.runner import private_tempdir, RunSettings, run_jobs
from autograder.scoring import score
from autograder.units import Course, Unit

__all__ = ["Mutant", "UnitMutation", "make_mutants", "mutate_unit", "OPERATORS"]


@dataclass(frozen=True)
class Mutant:
    id: str  # "<function>:<operator>:<k>", stable while the solution does not change
    operator: str
    function: str
    source: str
    diff: str


@dataclass
class UnitMutation:
    unit: str
    mutants: int = 0
    killed: int = 0
    equivalent: list[dict] = field(default_factory=list)
    survived: list[dict] = field(default_factory=list)

    @property
    def kill_rate(self) -> float:
        live = self.mutants - len(self.equivalent)
        return 1.0 if live == 0 else self.killed / live

    def as_dict(self) -> dict:
        return {"mutants": self.mutants, "killed": self.killed, "equivalent": len(self.equivalent),
                "kill_rate": round(self.kill_rate, 4), "survived": self.survived}  # fmt: skip


# ---------------------------------------------------------------- operators


def _attr_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return node.func.attr.value
    return None


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


class _Site(cst.CSTTransformer):
    """Change the ``target``-th site that ``change`` accepts; count all sites."""

    def __init__(self, target: int) -> None:
        super().__init__()
        self.target, self.seen = target, 0

    def hit(self) -> bool:
        self.seen += 1
        return self.seen - 1 == self.target


def _call_op(change: Callable[[cst.Call], cst.BaseExpression | None]) -> type[_Site]:
    class Op(_Site):
        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
            new = change(updated)
            if new is not None and self.hit():
                return new
            return updated

    return Op


def _drop_method(names: set[str]) -> Callable[[cst.Call], cst.BaseExpression | None]:
    """``x.detach()`` -> ``x`` for the method names given."""

    def change(call: cst.Call) -> cst.BaseExpression | None:
        if _attr_name(call) in names:
            return call.func.value
        return None

    return change


def _rename_method(pairs: dict[str, str]) -> Callable[[cst.Call], cst.BaseExpression | None]:
    def change(call: cst.Call) -> cst.BaseExpression | None:
        name = _attr_name(call)
        if name in pairs:
            return call.with_changes(func=call.func.with_changes(attr=cst.Name(pairs[name])))
        return None

    return change


def _device_hardcoded(call: cst.Call) -> cst.BaseExpression | None:
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == "device" and not isinstance(arg.value, cst.SimpleString):
            return call.with_changes(args=[*call.args[:i], arg.with_changes(value=cst.SimpleString('"cpu"')), *call.args[i + 1:]])
    if _attr_name(call) == "to" and call.args and not isinstance(call.args[0].value, cst.SimpleString):
        return call.with_changes(args=[call.args[0].with_changes(value=cst.SimpleString('"cpu"')), *call.args[1:]])
    return None


def _keyword_flip(call: cst.Call) -> cst.BaseExpression | None:
    """``dim=k`` -> another dim; ``keepdim=True`` -> False (and back)."""
    for i, arg in enumerate(call.args):
        if arg.keyword is None:
            continue
        key, value = arg.keyword.value, arg.value
        new = None
        if key == "keepdim" and isinstance(value, cst.Name) and value.value in ("True", "False"):
            new = cst.Name("False" if value.value == "True" else "True")
        elif key == "dim" and isinstance(value, cst.Integer):
            new = cst.Integer("0" if value.value != "0" else "1")
        elif key == "dim" and isinstance(value, cst.UnaryOperation) and isinstance(value.expression, cst.Integer):
            new = cst.Integer("0")
        if new is not None:
            return call.with_changes(args=[*call.args[:i], arg.with_changes(value=new), *call.args[i + 1:]])
    return None


def _seed_fixed(call: cst.Call) -> cst.BaseExpression | None:
    """``manual_seed(seed)`` -> ``manual_seed(0)``; a ``generator=`` argument dropped."""
    if _attr_name(call) == "manual_seed" and call.args and not isinstance(call.args[0].value, cst.Integer):
        return call.with_changes(args=[call.args[0].with_changes(value=cst.Integer("0"))])
    kept = [a for a in call.args if not (a.keyword is not None and a.keyword.value == "generator")]
    if len(kept) != len(call.args):
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return call.with_changes(args=kept)
    return None


def _range_short(call: cst.Call) -> cst.BaseExpression | None:
    """``range(n)`` -> ``range(n - 1)``: an off-by-one."""
    if isinstance(call.func, cst.Name) and call.func.value == "range" and len(call.args) == 1:
        arg = call.args[0]
        return call.with_changes(args=[arg.with_changes(value=cst.BinaryOperation(arg.value, cst.Subtract(), cst.Integer("1")))])
    return None


def _no_grad_off(call: cst.Call) -> cst.BaseExpression | None:
    """``torch.no_grad()`` -> ``contextlib.nullcontext()``: the graph is recorded after all."""
    if _dotted(call.func) in ("torch.no_grad", "torch.inference_mode"):
        return cst.parse_expression("__import__('contextlib').nullcontext()")
    return None


class _DropStatement(_Site):
    """``optimizer.zero_grad()`` (or ``w.grad.zero_()``) as a statement -> ``pass``."""

    def leave_SimpleStatementLine(self, original, updated):
        body = updated.body
        if len(body) == 1 and isinstance(body[0], cst.Expr) and _attr_name(body[0].value) in ("zero_grad", "zero_", "eval", "train", "step"):
            if self.hit():
                return updated.with_changes(body=[cst.Pass()])
        return updated


class _AugmentedToCopy(_Site):
    """``x += y`` (in place) -> ``x = x + y`` (a new object)."""

    _OPS = {cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply, cst.DivideAssign: cst.Divide}

    def leave_AugAssign(self, original, updated):
        op = self._OPS.get(type(updated.operator))
        # A running Python number (``total += loss.item()``) is no tensor: the same either way.
        scalar = any(isinstance(n, cst.Call) and (_attr_name(n) == "item" or _dotted(n.func) in ("len", "float", "int"))
                     for n in _walk(updated.value)) or isinstance(updated.value, (cst.Integer, cst.Float))  # fmt: skip
        if op is not None and not scalar and isinstance(updated.target, cst.Name) and self.hit():
            return cst.Assign([cst.AssignTarget(updated.target)], cst.BinaryOperation(updated.target, op(), updated.value))
        return updated


def _walk(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _walk(child)


class _Arithmetic(_Site):
    """``a - b`` <-> ``a + b``, ``a * b`` <-> ``a / b``: a shift or a scale changed."""

    _SWAP = {cst.Subtract: cst.Add, cst.Add: cst.Subtract, cst.Multiply: cst.Divide, cst.Divide: cst.Multiply}

    def leave_BinaryOperation(self, original, updated):
        swap = self._SWAP.get(type(updated.operator))
        if swap is not None and self.hit():
            return updated.with_changes(operator=swap())
        return updated


class _Constant(_Site):
    """A float literal scaled by 2: a changed shift, scale or epsilon."""

    def leave_Float(self, original, updated):
        if self.hit():
            return cst.Float(repr(float(updated.value) * 2))
        return updated


class _Integer(_Site):
    """An integer literal k -> k + 1: an off-by-one in a size, an index or a dimension."""

    def leave_Integer(self, original, updated):
        if self.hit():
            return cst.Integer(str(int(updated.value, 0) + 1))
        return updated


class _Bool(_Site):
    """``True`` <-> ``False``: a flag read the wrong way round (shuffle, keepdim, drop_last...)."""

    def leave_Name(self, original, updated):
        if updated.value in ("True", "False") and self.hit():
            return cst.Name("False" if updated.value == "True" else "True")
        return updated


class _Compare(_Site):
    """``<`` <-> ``<=``, ``>`` <-> ``>=``: a boundary moved by one."""

    _SWAP = {cst.LessThan: cst.LessThanEqual, cst.LessThanEqual: cst.LessThan,
             cst.GreaterThan: cst.GreaterThanEqual, cst.GreaterThanEqual: cst.GreaterThan}  # fmt: skip

    def leave_ComparisonTarget(self, original, updated):
        swap = self._SWAP.get(type(updated.operator))
        if swap is not None and self.hit():
            return updated.with_changes(operator=swap())
        return updated


class _Condition(_Site):
    """``if c:`` -> ``if not c:``, ``is None`` <-> ``is not None``: a test read the wrong way round."""

    def leave_If(self, original, updated):
        if self.hit():
            return updated.with_changes(test=cst.UnaryOperation(cst.Not(), _parenthesized(updated.test)))
        return updated

    def leave_ComparisonTarget(self, original, updated):
        swap = {cst.Is: cst.IsNot, cst.IsNot: cst.Is}.get(type(updated.operator))
        if swap is not None and self.hit():
            return updated.with_changes(operator=swap())
        return updated


def _parenthesized(expr: cst.BaseExpression) -> cst.BaseExpression:
    simple = isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.Subscript))
    return expr if simple else expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


class _Reversed(_Site):
    """``for t in seq:`` -> ``for t in reversed(seq):``: steps applied in the wrong order (transforms, layers)."""

    def leave_For(self, original, updated):
        # not a range (a counted loop) nor a loader (not reversible): an ordered sequence of steps
        if isinstance(updated.iter, (cst.Name, cst.Attribute)) and "loader" not in _dotted(updated.iter) and self.hit():
            return updated.with_changes(iter=cst.Call(cst.Name("reversed"), [cst.Arg(updated.iter)]))
        return updated


class _Rounding(_Site):
    """``ceil`` <-> ``floor``, ``a // b`` -> ``a / b``: a count rounded the wrong way (batches per epoch)."""

    def leave_Call(self, original, updated):
        name = _attr_name(updated)
        if name in ("ceil", "floor") and self.hit():
            return updated.with_changes(func=updated.func.with_changes(attr=cst.Name("floor" if name == "ceil" else "ceil")))
        return updated

    def leave_BinaryOperation(self, original, updated):
        if isinstance(updated.operator, cst.FloorDivide) and self.hit():
            return updated.with_changes(operator=cst.Divide())
        return updated


def _keyword_dropped(call: cst.Call) -> cst.BaseExpression | None:
    """One keyword argument left out: an argument ignored (``dtype=``, ``shuffle=``, ``reduction=``...)."""
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value not in ("device", "generator"):
            kept = [*call.args[:i], *call.args[i + 1:]]
            if kept:
                kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return call.with_changes(args=kept)
    return None


OPERATORS: dict[str, type[_Site]] = {
    "device_hardcoded": _call_op(_device_hardcoded),
    "detach_removed": _call_op(_drop_method({"detach", "contiguous", "clone", "cpu"})),
    "statement_removed": _DropStatement,
    "sum_mean_swapped": _call_op(_rename_method({"sum": "mean", "mean": "sum"})),
    "dim_changed": _call_op(_keyword_flip),
    "inplace_to_copy": _call_op(_rename_method({n + "_": n for n in ("add", "sub", "mul", "div", "clamp")})),
    "augmented_to_copy": _AugmentedToCopy,
    "seed_ignored": _call_op(_seed_fixed),
    "train_eval_swapped": _call_op(_rename_method({"train": "eval", "eval": "train"})),
    "no_grad_removed": _call_op(_no_grad_off),
    "off_by_one": _call_op(_range_short),
    "arithmetic_swapped": _Arithmetic,
    "constant_scaled": _Constant,
    "integer_shifted": _Integer,
    "flag_flipped": _Bool,
    "boundary_moved": _Compare,
    "argument_dropped": _call_op(_keyword_dropped),
    "condition_negated": _Condition,
    "order_reversed": _Reversed,
    "rounding_swapped": _Rounding,
    "conversion_dropped": _call_op(_drop_method({"float", "long", "double", "item", "numpy", "tolist", "squeeze", "unsqueeze", "t"})),
}


def make_mutants(source: str) -> list[Mutant]:
    """Every single-change mutant of the module ``source``, function by function."""
    module = cst.parse_module(source)
    out: list[Mutant] = []
    for index, stmt in enumerate(module.body):
        if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        name = stmt.name.value
        for op_name, op in OPERATORS.items():
            k = 0
            while True:
                transformer = op(k)
                changed = stmt.visit(transformer)
                if k >= transformer.seen:
                    break
                body = list(module.body)
                body[index] = changed
                mutated = module.with_changes(body=body).code
                if mutated != source:
                    diff = "".join(difflib.unified_diff(source.splitlines(True), mutated.splitlines(True), "reference", "mutant", n=1))
                    out.append(Mutant(f"{name}:{op_name}:{k}", op_name, name, mutated, diff))
                k += 1
    return out


def equivalents(unit: Unit) -> dict[str, str]:
    """Mutant ids the unit's author marked equivalent, with the reason (``checks/<unit>/equivalent.toml``)."""
    path = unit.hidden_checks.parent / "equivalent.toml"
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text())
    return {str(k): str(v.get("reason", "")) for k, v in data.get("mutants", {}).items()}


def mutate_unit(course: Course, unit: Unit, settings: RunSettings) -> UnitMutation:
    """Grade every mutant of ``unit``'s reference against its hidden checks."""
    mutants = make_mutants(unit.solution.read_text())
    marked = equivalents(unit)
    found = UnitMutation(unit.name, mutants=len(mutants))
    with private_tempdir("mutants") as tmp:
        jobs = []
        for i, m in enumerate(mutants):
            path = Path(tmp) / f"m{i:04d}" / unit.filename
            path.parent.mkdir()
            path.write_text(m.source)
            jobs.append(Job(f"m{i:04d}", unit, path))
        scores = score(jobs, run_jobs(course, jobs, settings))
    for i, m in enumerate(mutants):
        s = scores[f"m{i:04d}"][unit.name]
        if m.id in marked:
            found.equivalent.append({"id": m.id, "reason": marked[m.id]})
        elif s.score < s.max_score or s.problem:
            found.killed += 1
        else:
            found.survived.append({"id": m.id, "operator": m.operator, "function": m.function, "diff": m.diff})
    return found
